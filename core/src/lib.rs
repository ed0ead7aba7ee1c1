//! floe-core: the pure heart of floe (no I/O, no chain).
//!
//! Layout:
//! - [`encoding`]: Red Stuff, the two-dimensional Reed–Solomon code over GF(2^16):
//!   [`EncodingConfig`] (parameters for `n` shards, sizes, encode, decode), [`Sliver`],
//!   [`SliverPair`], [`EncodedBlob`].
//! - [`merkle`]: BLAKE3 Merkle trees with domain-separated leaves and inner nodes, proofs.
//! - [`metadata`]: [`BlobMetadata`] (encoding type, length, pair hashes), its root and blob id.
//! - [`recovery`]: recovery symbols with proofs, rebuilding lost slivers, inconsistency proofs.
//! - [`wire`]: the stable, versioned binary format of metadata, slivers, symbols and proofs.
//! - [`ids`]: blob ids (keccak, as the contract derives them) and the pair-to-shard rotation.
//! - `bls`: BLS12-381 min-pk keys, signatures, proofs of possession, aggregation, certificates,
//!   EIP-2537 encodings for the contracts.
//! - `messages`: the exact 65-byte messages nodes sign and the contracts hash to G2.
//! - [`manifest`]: large files as chunk blobs and a manifest blob listing them ([`manifest::Manifest`]).
//! - [`quilt`]: many small files packed into one blob with an index up front, each readable by a
//!   range read ([`quilt::QuiltBuilder`], [`quilt::QuiltIndex`]).
//! - [`protocol`]: the node ↔ client HTTP contract: routes, JSON bodies, error codes, wire
//!   size limits, the symbol-list format, node address parsing and the quorum thresholds.

pub mod bls;
pub mod encoding;
pub mod ids;
pub mod manifest;
pub mod merkle;
pub mod messages;
pub mod metadata;
pub mod protocol;
pub mod quilt;
pub mod recovery;
mod rs;
pub mod wire;

pub use encoding::{
    DecodeError, EncodeError, EncodedBlob, EncodingConfig, EncodingConfigError, Sliver,
    SliverError, SliverKind, SliverPair,
};
pub use ids::{BlobId, ENCODING_RED_STUFF};
pub use merkle::MerkleProof;
pub use metadata::{BlobMetadata, MetadataError, SliverPairHashes};
pub use recovery::{InconsistencyError, InconsistencyProof, RecoveryError, RecoverySymbol};
pub use rs::CodecError;
pub use wire::{Wire, WireError};
