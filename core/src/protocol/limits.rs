//! Exact wire sizes, derived from a blob's encoding, and the caps of the small JSON bodies.
//!
//! A node sizes the body it reads for a request from what that request can legitimately
//! carry (the blob's on-chain size fixes its symbol size, so its slivers' and proofs' sizes);
//! a client caps what it reads from a node the same way. Every function here is exact for the
//! largest valid value (tests compare them with real encodings) and never overflows.

use crate::{
    encoding::{EncodingConfig, MAX_SYMBOL_SIZE, SliverKind},
    merkle,
};

/// Cap on a JSON answer that is a confirmation or an upload acknowledgement, and on an
/// error body.
pub const MAX_SMALL_BODY: u64 = 4 * 1024;
/// Cap on the JSON of `/v1/health` and `/v1/blobs/{id}/status` (a status lists pairs).
pub const MAX_STATUS_BODY: u64 = 64 * 1024;
/// Wire header: version and type tag.
pub const WIRE_HEADER: u64 = 2;
/// Wire bytes of metadata besides the 64 bytes per shard: header, encoding type, unencoded
/// length (u64) and the pair count (u32).
pub const METADATA_WIRE_HEADER: u64 = WIRE_HEADER + 1 + 8 + 4;
/// Wire bytes of a sliver besides its data: header, kind, pair, symbol size, length.
pub const SLIVER_WIRE_HEADER: u64 = WIRE_HEADER + 1 + 2 + 2 + 4;
/// Wire bytes of an inconsistency proof besides its symbols: header, kind, pair, count.
pub const PROOF_WIRE_HEADER: u64 = WIRE_HEADER + 1 + 2 + 4;
/// Bytes of one recovery symbol's body besides the symbol and its path: kind, pair, index,
/// length, depth.
const SYMBOL_BODY_FIXED: u64 = 1 + 2 + 2 + 4 + 1;

/// The wire size of the metadata of a blob on `n_shards` shards.
pub fn metadata_wire_len(n_shards: u16) -> u64 {
    METADATA_WIRE_HEADER + 64 * u64::from(n_shards)
}

/// The wire size of a sliver of `symbols` symbols of `symbol_size` bytes.
pub fn sliver_wire_len(symbol_size: u16, symbols: u16) -> u64 {
    SLIVER_WIRE_HEADER + u64::from(symbol_size) * u64::from(symbols)
}

/// The body of one recovery symbol (inside a proof) for `n_shards` shards.
fn symbol_body_len(n_shards: u16, symbol_size: u16) -> u64 {
    let depth = merkle::depth(usize::from(n_shards)) as u64;
    SYMBOL_BODY_FIXED + u64::from(symbol_size) + 32 * depth
}

/// The wire size of one recovery symbol of `symbol_size` bytes with its Merkle proof.
pub fn recovery_symbol_wire_len(n_shards: u16, symbol_size: u16) -> u64 {
    WIRE_HEADER + symbol_body_len(n_shards, symbol_size)
}

/// The size of a batch answer of `count` recovery symbols (`u32` count, then per symbol a
/// `u32` length and its wire bytes).
pub fn symbol_list_wire_len(n_shards: u16, symbol_size: u16, count: usize) -> u64 {
    let per = 4 + recovery_symbol_wire_len(n_shards, symbol_size);
    4u64.saturating_add((count as u64).saturating_mul(per))
}

/// The largest inconsistency proof: as many symbols as rebuilding a primary sliver takes
/// (`n-f`, the larger of the two kinds).
pub fn inconsistency_proof_wire_len(n_shards: u16, primary_len: u16, symbol_size: u16) -> u64 {
    PROOF_WIRE_HEADER + u64::from(primary_len) * symbol_body_len(n_shards, symbol_size)
}

/// The wire limits of one deployment (its encoding), per blob size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    encoding: EncodingConfig,
}

impl WireLimits {
    /// The limits for `encoding`.
    pub fn new(encoding: EncodingConfig) -> Self {
        WireLimits { encoding }
    }

    /// The encoding.
    pub fn encoding(&self) -> &EncodingConfig {
        &self.encoding
    }

    /// The symbol size of a blob of `blob_len` bytes; a length above the largest blob gets
    /// the largest symbol (callers reject such blobs elsewhere; a limit never fails).
    pub fn symbol_size(&self, blob_len: u64) -> u16 {
        self.encoding
            .symbol_size(blob_len)
            .unwrap_or(MAX_SYMBOL_SIZE)
    }

    /// Exact size of the metadata.
    pub fn metadata(&self) -> u64 {
        metadata_wire_len(self.encoding.n_shards())
    }

    /// Exact size of a `kind` sliver of a blob of `blob_len` bytes.
    pub fn sliver(&self, blob_len: u64, kind: SliverKind) -> u64 {
        sliver_wire_len(self.symbol_size(blob_len), self.encoding.sliver_len(kind))
    }

    /// Exact size of the larger sliver kind (primary) of a blob of `blob_len` bytes.
    pub fn largest_sliver(&self, blob_len: u64) -> u64 {
        self.sliver(blob_len, SliverKind::Primary)
            .max(self.sliver(blob_len, SliverKind::Secondary))
    }

    /// Exact size of one recovery symbol of a blob of `blob_len` bytes.
    pub fn recovery_symbol(&self, blob_len: u64) -> u64 {
        recovery_symbol_wire_len(self.encoding.n_shards(), self.symbol_size(blob_len))
    }

    /// Largest batch answer of `count` symbols of a blob of `blob_len` bytes.
    pub fn symbol_list(&self, blob_len: u64, count: usize) -> u64 {
        symbol_list_wire_len(self.encoding.n_shards(), self.symbol_size(blob_len), count)
    }

    /// Largest inconsistency proof for a blob of `blob_len` bytes.
    pub fn inconsistency_proof(&self, blob_len: u64) -> u64 {
        inconsistency_proof_wire_len(
            self.encoding.n_shards(),
            self.encoding.primary_len(),
            self.symbol_size(blob_len),
        )
    }

    /// The largest sliver of any blob this deployment can store.
    pub fn max_sliver(&self) -> u64 {
        self.largest_sliver(self.encoding.max_blob_size())
    }

    /// The largest inconsistency proof of any blob.
    pub fn max_inconsistency_proof(&self) -> u64 {
        self.inconsistency_proof(self.encoding.max_blob_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_values_fit_in_u64_and_are_monotone() {
        for n in [4u16, 10, 100, 1000, crate::encoding::MAX_SHARDS] {
            let Ok(cfg) = EncodingConfig::new(n) else {
                continue;
            };
            let l = WireLimits::new(cfg);
            assert!(l.max_sliver() >= l.sliver(0, SliverKind::Primary));
            assert!(l.max_inconsistency_proof() > l.max_sliver());
            assert_eq!(l.symbol_size(u64::MAX), MAX_SYMBOL_SIZE);
            assert!(l.symbol_list(u64::MAX, usize::MAX) > 0);
        }
    }
}
