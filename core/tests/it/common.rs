//! Helpers shared by the test modules.

use floe_core::{EncodedBlob, EncodingConfig};

/// A deterministic pseudo-random blob (xorshift), so failures reproduce.
pub(crate) fn blob(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The configuration for `n` shards.
pub(crate) fn cfg(n: u16) -> EncodingConfig {
    EncodingConfig::new(n).expect("valid shard count")
}

/// Encodes `blob` at `n` shards.
pub(crate) fn encode(n: u16, blob: &[u8]) -> (EncodingConfig, EncodedBlob) {
    let cfg = cfg(n);
    let encoded = cfg.encode(blob).expect("encodes");
    (cfg, encoded)
}

/// Random blob lengths worth testing at `n` shards: 0, 1, odd, small, near the maximum.
pub(crate) fn interesting_len(cfg: &EncodingConfig, pick: u8, raw: usize) -> usize {
    let max = cfg.max_blob_size() as usize;
    match pick % 6 {
        0 => 0,
        1 => 1,
        2 => (raw % 4096) | 1,
        3 => raw % 20_000,
        4 => max - (raw % 64),
        _ => max,
    }
}
