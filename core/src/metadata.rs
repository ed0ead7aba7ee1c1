//! Blob metadata: what a blob id commits to.
//!
//! Metadata = {encoding type, unencoded length, the `n` sliver pair hashes}, listed by pair
//! index. Its root is the Merkle root (see [`crate::merkle`]) over the leaves
//! `primary hash ‖ secondary hash`, and the blob id is
//! `keccak256(abi.encodePacked(uint8 encodingType, uint64 unencodedLength, bytes32 root))`
//! ([`BlobId::from_parts`]), what the blob registry derives on-chain.

use serde::{Deserialize, Serialize};

use crate::{
    encoding::EncodingConfig,
    ids::{BlobId, ENCODING_RED_STUFF},
    merkle::{self, Hash},
};

/// The hashes of one sliver pair: each a Merkle root over the sliver's fully expanded symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SliverPairHashes {
    /// Hash of the primary sliver of the pair (row `pair` of the expanded matrix).
    pub primary: Hash,
    /// Hash of the secondary sliver of the pair (column `n - 1 - pair`).
    pub secondary: Hash,
}

impl SliverPairHashes {
    /// The pair's leaf in the metadata tree: `leaf(primary ‖ secondary)`.
    pub fn leaf(&self) -> Hash {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(&self.primary);
        buf[32..].copy_from_slice(&self.secondary);
        merkle::leaf_hash(&buf)
    }
}

/// Everything a blob id commits to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMetadata {
    /// Encoding type ([`ENCODING_RED_STUFF`]).
    pub encoding_type: u8,
    /// Length of the blob in bytes before encoding.
    pub unencoded_length: u64,
    /// Hashes of the `n` sliver pairs, by pair index.
    pub hashes: Vec<SliverPairHashes>,
}

/// Metadata that does not fit the encoding or the blob id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The encoding type is not one this version knows.
    #[error(
        "unsupported encoding type {encoding_type}: only {supported} (Red Stuff) is known; upgrade floe"
    )]
    UnsupportedEncoding {
        /// The metadata's encoding type.
        encoding_type: u8,
        /// The one supported.
        supported: u8,
    },
    /// The metadata lists a number of pairs other than the number of shards.
    #[error(
        "metadata lists {got} sliver pairs but the system has {expected} shards; fetch metadata from a node of this network"
    )]
    WrongPairCount {
        /// Pairs listed.
        got: usize,
        /// Shards of the system.
        expected: u16,
    },
    /// The unencoded length exceeds the maximum blob size.
    #[error("unencoded length {len} exceeds the maximum blob size of {max} bytes")]
    TooLarge {
        /// The metadata's length.
        len: u64,
        /// The maximum for this number of shards.
        max: u64,
    },
    /// The metadata hashes to another blob id.
    #[error(
        "metadata hashes to blob id {computed}, not {expected}; it belongs to another blob or was tampered with"
    )]
    IdMismatch {
        /// The blob id asked for.
        expected: BlobId,
        /// The blob id of the metadata.
        computed: BlobId,
    },
}

impl BlobMetadata {
    /// Merkle root over the pair leaves.
    pub fn root(&self) -> Hash {
        let leaves: Vec<Hash> = self.hashes.iter().map(SliverPairHashes::leaf).collect();
        merkle::root(&leaves)
    }

    /// The blob id: `keccak256(encodingType ‖ unencodedLength ‖ root)`.
    pub fn blob_id(&self) -> BlobId {
        BlobId::from_parts(self.encoding_type, self.unencoded_length, &self.root())
    }

    /// Checks that the metadata fits the configuration (encoding type, pair count, length).
    pub fn check(&self, cfg: &EncodingConfig) -> Result<(), MetadataError> {
        if self.encoding_type != ENCODING_RED_STUFF {
            return Err(MetadataError::UnsupportedEncoding {
                encoding_type: self.encoding_type,
                supported: ENCODING_RED_STUFF,
            });
        }
        if self.hashes.len() != usize::from(cfg.n_shards()) {
            return Err(MetadataError::WrongPairCount {
                got: self.hashes.len(),
                expected: cfg.n_shards(),
            });
        }
        if self.unencoded_length > cfg.max_blob_size() {
            return Err(MetadataError::TooLarge {
                len: self.unencoded_length,
                max: cfg.max_blob_size(),
            });
        }
        Ok(())
    }

    /// Checks the metadata against the configuration and that it hashes to `expected`.
    pub fn verify(&self, expected: &BlobId, cfg: &EncodingConfig) -> Result<(), MetadataError> {
        self.check(cfg)?;
        let computed = self.blob_id();
        if computed != *expected {
            return Err(MetadataError::IdMismatch {
                expected: *expected,
                computed,
            });
        }
        Ok(())
    }

    /// The symbol size of this blob's slivers (after [`BlobMetadata::check`]).
    pub fn symbol_size(&self, cfg: &EncodingConfig) -> Result<u16, MetadataError> {
        cfg.symbol_size(self.unencoded_length)
            .map_err(|_| MetadataError::TooLarge {
                len: self.unencoded_length,
                max: cfg.max_blob_size(),
            })
    }
}
