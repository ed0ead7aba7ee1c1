//! Follows the contracts' events from the persisted cursor, `confirmation_depth` blocks
//! behind the head, applying each batch's blob entries and the cursor in one transaction.

use std::collections::BTreeSet;

use floe_chain::{BlobState, ChainError, EventRecord, FloeEvent};
use floe_core::ids::BlobId;
use tokio::sync::watch;

use super::{Ctx, lock, refresh_view, until_shutdown};
use crate::{
    api::ApiError,
    metrics::Metrics,
    state::blocking,
    storage::{BlobEntry, StoreError},
    supervisor::ServiceResult,
};

/// The service's name in health and metrics.
pub const NAME: &str = "follower";

/// A failed follower round.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The chain could not be read.
    #[error("reading the chain: {0}")]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error("storing the chain's state: {0}")]
    Store(#[from] StoreError),
    /// A storage worker failed.
    #[error("storing the chain's state: {0}")]
    Worker(#[from] ApiError),
}

/// Runs until shutdown; returns the first failed round's error to the supervisor.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) -> ServiceResult {
    let start = ctx.chain.deployment().start_block;
    loop {
        let more = step(&ctx, start).await?;
        ctx.state.services.ok(NAME);
        // More blocks to catch up on: go on at once, unless asked to stop.
        if more && !*shutdown.borrow() {
            continue;
        }
        if until_shutdown(&mut shutdown, ctx.poll).await {
            return Ok(());
        }
    }
}

/// One getLogs step; returns true if it did not reach the followed head.
pub async fn step(ctx: &Ctx, start: u64) -> Result<bool, FollowError> {
    let state = &ctx.state;
    let cursor = state.store.cursor()?.unwrap_or(start);
    let head = ctx
        .chain
        .block_number()
        .await?
        .saturating_sub(ctx.confirmation_depth);
    if cursor > head {
        return Ok(false);
    }
    let to = head.min(cursor.saturating_add(ctx.max_log_range.saturating_sub(1)));
    let events = ctx.chain.events(cursor, to).await?;
    let mut touched: BTreeSet<BlobId> = BTreeSet::new();
    let mut epoch_changed = false;
    let mut nodes_changed = false;
    // Certified or extended blobs: this node must hold its slivers (again).
    let mut to_recover = Vec::new();
    for EventRecord { event, block, .. } in &events {
        Metrics::inc(&state.metrics.events);
        tracing::debug!(block, ?event, "event");
        match event {
            FloeEvent::EpochAdvanced { .. } => epoch_changed = true,
            FloeEvent::NodeRegistered { .. } | FloeEvent::NodeUpdated { .. } => {
                nodes_changed = true
            }
            FloeEvent::BlobRegistered { blob_id, .. }
            | FloeEvent::BlobDeleted { blob_id, .. }
            | FloeEvent::BlobInvalidated { blob_id, .. } => {
                touched.insert(*blob_id);
            }
            FloeEvent::BlobCertified { blob_id, .. } | FloeEvent::BlobExtended { blob_id, .. } => {
                touched.insert(*blob_id);
                to_recover.push(*blob_id);
            }
            FloeEvent::Other(_) => {}
        }
    }
    // Record each touched blob's current registration (converges whatever the event order).
    let mut entries = Vec::with_capacity(touched.len());
    for id in &touched {
        let record = ctx.state.chain_record(id).await?;
        entries.push((*id, BlobEntry::from_record(&record)));
    }
    // The view is refreshed before the cursor moves past the events, so a failure here
    // replays the batch instead of losing an epoch change.
    if epoch_changed || nodes_changed {
        refresh_view(ctx).await?;
    }
    let store = state.store.clone();
    let applied = entries.clone();
    blocking(move || store.apply(&applied, Some(to + 1))).await?;
    state
        .metrics
        .cursor
        .store(to + 1, std::sync::atomic::Ordering::Relaxed);
    {
        let mut pending = lock(&ctx.pending);
        for (id, e) in &entries {
            state.forget_absent(id);
            if e.state == BlobState::Registered {
                pending.insert(*id);
            } else {
                pending.remove(id);
            }
        }
    }
    if epoch_changed {
        ctx.gc_wake.notify_one();
    }
    ctx.queue_recovery(to_recover);
    Ok(to < head)
}
