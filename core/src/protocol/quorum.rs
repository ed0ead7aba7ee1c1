//! The quorum thresholds, in one place: what certificates must weigh (the contracts check
//! the same numbers), what the client waits for and what the node collects.

use serde::{Deserialize, Serialize};

/// `f = floor((n-1)/3)`: the most shards that may be Byzantine.
pub fn max_faulty(n_shards: u16) -> u16 {
    n_shards.saturating_sub(1) / 3
}

/// The share of the `n` shards a certificate's signers must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quorum {
    /// Availability: `3w ≥ 2n + 1` (at least `2f+1` shards).
    Certify,
    /// Validity (inconsistency): `3w ≥ n + 1`, as `BlobRegistry` checks it. This is `f+1`
    /// shards when `n ≢ 0 (mod 3)` (the deployments floe makes: `n = 3f+1`); when `3 | n`
    /// the contract asks for `f+2`.
    Invalidate,
}

impl Quorum {
    /// True if `weight` shards of `n` meet this quorum.
    pub fn is_met(self, weight: u64, n: u16) -> bool {
        let n = u64::from(n);
        match self {
            Quorum::Certify => weight.saturating_mul(3) > 2 * n,
            Quorum::Invalidate => weight.saturating_mul(3) > n,
        }
    }

    /// The least weight meeting this quorum out of `n` shards.
    pub fn required(self, n: u16) -> u64 {
        let n = u64::from(n);
        match self {
            Quorum::Certify => (2 * n) / 3 + 1,
            Quorum::Invalidate => n / 3 + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_for_small_committees() {
        // n = 10: f = 3, 2f+1 = 7, f+1 = 4.
        assert_eq!(max_faulty(10), 3);
        assert_eq!(Quorum::Certify.required(10), 7);
        assert!(!Quorum::Certify.is_met(6, 10));
        assert!(Quorum::Certify.is_met(7, 10));
        assert_eq!(Quorum::Invalidate.required(10), 4);
        assert!(!Quorum::Invalidate.is_met(3, 10));
        assert!(Quorum::Invalidate.is_met(4, 10));
        // n = 12 (3 | n): the contract asks 3w ≥ 13, i.e. 5 = f + 2.
        assert_eq!(Quorum::Invalidate.required(12), 5);
        assert_eq!(max_faulty(0), 0);
        assert!(Quorum::Certify.is_met(u64::MAX, u16::MAX));
    }
}
