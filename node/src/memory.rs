//! The node's worst-case memory, as a formula over its config and the deployment's encoding.
//!
//! Every request class holds a bounded number of slots and each slot a bounded number of
//! bytes, derived from the exact wire sizes (`floe_core::protocol::limits`):
//!
//! ```text
//! B_s = min(max_sliver_bytes, exact size of the largest sliver)      (the largest blob)
//! B_p = min(max_proof_bytes, exact size of the largest proof)        (n-f symbols + proofs)
//! B_l = exact size of a batch of n recovery symbols
//! uploads   = max_concurrent_uploads · max(4·B_s, 3·B_p)   body, decoded copy, expansion
//!                                                          while verifying, re-encoded write
//! reads     = max_concurrent_reads · B_s                   one loaded value each
//! cpu       = cpu_slots · (B_s + 2·B_s·n/(n-2f) + B_l)     sliver, its expansion, the answer
//! recovery  = recovery_parallelism · 2·s·(n-f)·(S + 32·d + 64)   the symbols kept for the
//!             s shards held (S = symbol size, d = Merkle depth), plus 32 answers in flight
//!             of at most B_l each
//! store     = REDB_CACHE_BYTES
//! total     = uploads + reads + cpu + recovery + store
//! ```
//!
//! Connections beyond these slots wait holding only their headers (hyper's buffer, ~16 KiB
//! each, at most `max_connections`).

use floe_core::{encoding::EncodingConfig, protocol::WireLimits};

use crate::NodeConfig;

/// redb's page cache, set when the store is opened.
pub const REDB_CACHE_BYTES: u64 = 64 << 20;
/// hyper's read buffer per connection (the largest header block it buffers).
pub const CONNECTION_BUFFER_BYTES: u64 = 24 << 10;
/// Peer answers in flight while recovering one blob.
pub const RECOVERY_REQUESTS_IN_FLIGHT: u64 = 32;

/// The worst case, by request class, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Upload bodies being read, decoded and verified.
    pub uploads: u64,
    /// Stored values loaded to be served.
    pub reads: u64,
    /// Recovery symbols being computed.
    pub cpu: u64,
    /// Slivers being recovered.
    pub recovery: u64,
    /// Connections waiting for a slot.
    pub connections: u64,
    /// The database cache.
    pub store: u64,
}

impl MemoryBudget {
    /// The total.
    pub fn total(&self) -> u64 {
        self.uploads
            .saturating_add(self.reads)
            .saturating_add(self.cpu)
            .saturating_add(self.recovery)
            .saturating_add(self.connections)
            .saturating_add(self.store)
    }
}

/// The worst-case memory of a node with `config` for `encoding`, holding `shards_held`
/// shards and with `cpu_slots` CPU slots (one per core).
pub fn worst_case_memory(
    config: &NodeConfig,
    encoding: &EncodingConfig,
    shards_held: u16,
    cpu_slots: usize,
) -> MemoryBudget {
    let w = WireLimits::new(*encoding);
    let max_blob = encoding.max_blob_size();
    let n = u64::from(encoding.n_shards());
    let b_s = w.max_sliver().min(config.max_sliver_bytes as u64);
    let b_p = w
        .max_inconsistency_proof()
        .min(config.max_proof_bytes as u64);
    let b_l = w.symbol_list(max_blob, usize::from(encoding.n_shards()));
    let s = u64::from(w.symbol_size(max_blob));
    let depth = floe_core::merkle::depth(usize::from(encoding.n_shards())) as u64;
    let expansion = 2 * b_s * n / u64::from(encoding.secondary_len()).max(1);
    let per_upload = (4 * b_s).max(3 * b_p).max(2 * w.metadata());
    let symbols_kept =
        2 * u64::from(shards_held) * u64::from(encoding.primary_len()) * (s + 32 * depth + 64);
    MemoryBudget {
        uploads: config.max_concurrent_uploads as u64 * per_upload,
        reads: config.max_concurrent_reads as u64 * b_s,
        cpu: cpu_slots as u64 * (b_s + expansion + b_l),
        recovery: config.recovery_parallelism as u64
            * (symbols_kept + RECOVERY_REQUESTS_IN_FLIGHT * b_l),
        connections: config.max_connections as u64 * CONNECTION_BUFFER_BYTES,
        store: REDB_CACHE_BYTES,
    }
}
