//! The node's background services, one module each, run under [`crate::supervisor`]:
//!
//! - [`follower`]: follows the contracts' events from the persisted cursor; keeps the epoch
//!   and committee current; queues blobs for recovery and garbage collection.
//! - [`gc`]: at epoch change (and start-up) deletes the data of blobs no longer live,
//!   re-checking the chain first.
//! - [`recovery`]: rebuilds missing slivers of certified blobs from peers' symbols, several
//!   blobs at a time.
//! - [`certify`]: certifies fully uploaded blobs their writer left uncertified.
//! - [`advance`]: advances the epoch when its time is up.
//!
//! Each has its own error type; a failed round is returned to the supervisor, which logs it,
//! shows it in `/v1/health` and `/metrics` and restarts the service with backoff.

pub mod advance;
pub mod certify;
pub mod follower;
pub mod gc;
pub mod recovery;
mod signatures;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use floe_chain::{Chain, ChainError};
use floe_core::ids::BlobId;
use tokio::sync::{Notify, watch};

use crate::{
    peers::Peers,
    state::{EpochView, NodeState},
    storage::BlobEntry,
};

/// The blobs of `entries` with a pending registration at `epoch`: the certify service's
/// index at start-up (the follower keeps it current with [`Ctx::index_pending`]).
pub fn pending_index<'a>(
    entries: impl IntoIterator<Item = &'a (BlobId, BlobEntry)>,
    epoch: u32,
) -> HashSet<BlobId> {
    entries
        .into_iter()
        .filter(|(_, e)| e.pending(epoch).next().is_some())
        .map(|(id, _)| *id)
        .collect()
}

/// What the background services need besides the state.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Shared state.
    pub state: Arc<NodeState>,
    /// The chain, with the operator wallet.
    pub chain: Chain,
    /// Peer client.
    pub peers: Peers,
    /// Poll interval.
    pub poll: Duration,
    /// Blocks per getLogs.
    pub max_log_range: u64,
    /// Blocks behind the head the follower stays (0: follow the head).
    pub confirmation_depth: u64,
    /// Certification grace.
    pub grace: Duration,
    /// Blobs recovered at the same time.
    pub recovery_parallelism: usize,
    /// Blobs to check for missing slivers.
    pub recovery_queue: Arc<Mutex<HashSet<BlobId>>>,
    /// Wakes the recovery service.
    pub recovery_wake: Arc<Notify>,
    /// Registered (uncertified) blobs: what the certify service looks at.
    pub pending: Arc<Mutex<HashSet<BlobId>>>,
    /// Wakes garbage collection (set at epoch change).
    pub gc_wake: Arc<Notify>,
}

impl Ctx {
    /// Keeps the certify service's index current for blob `id`, whose entry is now `entry`
    /// (`None`: forgotten): in the index while it has a pending registration at `epoch`,
    /// out of it once none is (certified, deleted, expired, invalidated or forgotten).
    pub fn index_pending(&self, id: BlobId, entry: Option<&BlobEntry>, epoch: u32) {
        let mut p = lock(&self.pending);
        if entry.is_some_and(|e| e.pending(epoch).next().is_some()) {
            p.insert(id);
        } else {
            p.remove(&id);
        }
    }

    /// Queues blobs for recovery and wakes the recovery service.
    pub fn queue_recovery(&self, ids: impl IntoIterator<Item = BlobId>) {
        let mut q = lock(&self.recovery_queue);
        let before = q.len();
        q.extend(ids);
        if q.len() != before {
            self.recovery_wake.notify_one();
        }
    }
}

/// Locks `m`, recovering from poisoning (the sets stay consistent: single inserts/removes).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Sleeps `d`; returns true if shutdown was asked meanwhile.
pub(crate) async fn until_shutdown(shutdown: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.changed() => true,
    }
}

/// Refreshes the epoch and committee from the chain; returns true if the epoch changed.
pub async fn refresh_view(ctx: &Ctx) -> Result<bool, ChainError> {
    let epoch = ctx.chain.current_epoch().await?;
    let old = ctx.state.view();
    let committee = ctx.chain.committee(epoch).await?;
    let changed = old.epoch() != epoch;
    if changed || *old.committee != committee {
        tracing::info!(
            epoch,
            shards = committee.shards_of(ctx.state.node).len(),
            "epoch view updated"
        );
        ctx.state.set_view(EpochView::new(committee));
    }
    Ok(changed)
}
