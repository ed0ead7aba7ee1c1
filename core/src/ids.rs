//! Blob ids and the mapping of sliver pairs to shards.
//!
//! A blob id is `keccak256(abi.encodePacked(uint8 encodingType, uint64 unencodedLength, bytes32 root))`,
//! exactly what the blob registry derives on-chain, so the size paid for is bound to the blob.

use std::{fmt, str::FromStr};

use sha3::{Digest, Keccak256};

/// Encoding type of Red Stuff (two-dimensional Reed–Solomon over GF(2^16)); 0 is reserved.
pub const ENCODING_RED_STUFF: u8 = 1;

/// The 32-byte id of a blob.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct BlobId(pub [u8; 32]);

/// A blob id string that is not 32 bytes of hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid blob id {0:?}: expected 64 hex digits, optionally prefixed by 0x")]
pub struct ParseBlobIdError(pub String);

impl BlobId {
    /// Derives the blob id from its parts, as the contract does.
    pub fn from_parts(encoding_type: u8, unencoded_length: u64, root: &[u8; 32]) -> Self {
        let mut h = Keccak256::new();
        h.update([encoding_type]);
        h.update(unencoded_length.to_be_bytes());
        h.update(root);
        Self(h.finalize().into())
    }

    /// The rotation applied to pair indices for this blob: `uint256(blobId) mod n`.
    pub fn rotation(&self, n_shards: u16) -> u16 {
        let n = u32::from(n_shards.max(1));
        // Big-endian 256-bit number modulo n, by Horner's rule.
        let r = self
            .0
            .iter()
            .fold(0u32, |acc, b| ((acc << 8) | u32::from(*b)) % n);
        r as u16
    }

    /// The shard holding sliver pair `pair`: `(pair + rotation) mod n`.
    pub fn shard_for_pair(&self, pair: u16, n_shards: u16) -> u16 {
        ((u32::from(pair) + u32::from(self.rotation(n_shards))) % u32::from(n_shards.max(1))) as u16
    }

    /// The sliver pair a shard holds: the inverse of [`BlobId::shard_for_pair`].
    pub fn pair_for_shard(&self, shard: u16, n_shards: u16) -> u16 {
        let n = u32::from(n_shards.max(1));
        ((u32::from(shard) + n - u32::from(self.rotation(n_shards))) % n) as u16
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}

impl FromStr for BlobId {
    type Err = ParseBlobIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).map_err(|_| ParseBlobIdError(s.to_owned()))?;
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_round_trips() {
        let id = BlobId::from_parts(ENCODING_RED_STUFF, 12345, &[7u8; 32]);
        for n in [4u16, 10, 100, 1000] {
            let mut seen = vec![false; n as usize];
            for pair in 0..n {
                let shard = id.shard_for_pair(pair, n);
                assert_eq!(id.pair_for_shard(shard, n), pair);
                assert!(!seen[shard as usize], "shard {shard} used twice");
                seen[shard as usize] = true;
            }
        }
    }

    #[test]
    fn parses_and_prints() {
        let id = BlobId([0xab; 32]);
        let s = id.to_string();
        assert_eq!(s.parse::<BlobId>(), Ok(id));
        assert_eq!(s[2..].parse::<BlobId>(), Ok(id));
        assert!("0x12".parse::<BlobId>().is_err());
    }
}
