//! Counters exported on `GET /metrics` in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};

/// The node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Current epoch.
    pub epoch: AtomicU64,
    /// Next block the follower reads.
    pub cursor: AtomicU64,
    /// Metadata uploads stored.
    pub metadata_stored: AtomicU64,
    /// Slivers stored from uploads.
    pub slivers_stored: AtomicU64,
    /// Uploads rejected (any 4xx).
    pub uploads_rejected: AtomicU64,
    /// Slivers served.
    pub slivers_served: AtomicU64,
    /// Confirmations signed.
    pub confirmations: AtomicU64,
    /// Recovery symbols served.
    pub symbols_served: AtomicU64,
    /// Slivers rebuilt from peers' symbols.
    pub slivers_recovered: AtomicU64,
    /// Blobs this node certified itself.
    pub blobs_certified: AtomicU64,
    /// Blobs whose data was garbage-collected.
    pub blobs_collected: AtomicU64,
    /// Chain events applied.
    pub events: AtomicU64,
    /// Reorgs of followed blocks undone.
    pub reorgs: AtomicU64,
    /// Blob lookups sent to the chain (by requests, the follower and GC).
    pub chain_lookups: AtomicU64,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 14] = [
            ("floe_node_epoch", "gauge", "Current epoch.", &self.epoch),
            (
                "floe_node_chain_cursor",
                "gauge",
                "Next block the event follower reads.",
                &self.cursor,
            ),
            (
                "floe_node_metadata_stored_total",
                "counter",
                "Metadata uploads stored.",
                &self.metadata_stored,
            ),
            (
                "floe_node_slivers_stored_total",
                "counter",
                "Slivers stored from uploads.",
                &self.slivers_stored,
            ),
            (
                "floe_node_uploads_rejected_total",
                "counter",
                "Uploads rejected.",
                &self.uploads_rejected,
            ),
            (
                "floe_node_slivers_served_total",
                "counter",
                "Slivers served.",
                &self.slivers_served,
            ),
            (
                "floe_node_confirmations_total",
                "counter",
                "Confirmations signed.",
                &self.confirmations,
            ),
            (
                "floe_node_symbols_served_total",
                "counter",
                "Recovery symbols served.",
                &self.symbols_served,
            ),
            (
                "floe_node_slivers_recovered_total",
                "counter",
                "Slivers rebuilt from peers.",
                &self.slivers_recovered,
            ),
            (
                "floe_node_blobs_certified_total",
                "counter",
                "Blobs this node certified.",
                &self.blobs_certified,
            ),
            (
                "floe_node_blobs_collected_total",
                "counter",
                "Blobs garbage-collected.",
                &self.blobs_collected,
            ),
            (
                "floe_node_events_total",
                "counter",
                "Chain events applied.",
                &self.events,
            ),
            (
                "floe_node_reorgs_total",
                "counter",
                "Reorgs of followed blocks undone.",
                &self.reorgs,
            ),
            (
                "floe_node_chain_lookups_total",
                "counter",
                "Blob lookups sent to the chain.",
                &self.chain_lookups,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, v) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
