//! Follows the contracts' events from the persisted cursor, `confirmation_depth` blocks
//! behind the head, applying each batch's blob entries and the cursor in one transaction.

use std::collections::BTreeMap;

use floe_chain::{ChainError, EventRecord, FloeEvent};
use floe_core::ids::BlobId;
use tokio::sync::watch;

use super::{Ctx, lock, refresh_view, until_shutdown};
use crate::{
    api::ApiError,
    metrics::Metrics,
    state::blocking,
    storage::{Modify, StoreError},
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
    // Per blob, its registry events in chain order.
    let mut touched: BTreeMap<BlobId, Vec<FloeEvent>> = BTreeMap::new();
    let mut registrations = Vec::new();
    let mut epoch_changed = false;
    let mut nodes_changed = false;
    // Certified or extended blobs: this node must hold its slivers (again).
    let mut to_recover = Vec::new();
    for EventRecord { event, block, .. } in &events {
        Metrics::inc(&state.metrics.events);
        tracing::debug!(block, ?event, "event");
        let blob = match event {
            FloeEvent::EpochAdvanced { .. } => {
                epoch_changed = true;
                None
            }
            FloeEvent::NodeRegistered { .. } | FloeEvent::NodeUpdated { .. } => {
                nodes_changed = true;
                None
            }
            FloeEvent::BlobRegistered {
                blob_id,
                registration_id,
                ..
            } => {
                registrations.push(*registration_id);
                Some(*blob_id)
            }
            FloeEvent::BlobDeleted { blob_id, .. } | FloeEvent::BlobInvalidated { blob_id, .. } => {
                Some(*blob_id)
            }
            FloeEvent::BlobCertified { blob_id, .. } | FloeEvent::BlobExtended { blob_id, .. } => {
                to_recover.push(*blob_id);
                Some(*blob_id)
            }
            FloeEvent::Other(_) => None,
        };
        if let Some(id) = blob {
            touched.entry(id).or_default().push(event.clone());
        }
    }
    // The view is refreshed before the cursor moves past the events, so a failure here
    // replays the batch instead of losing an epoch change.
    if epoch_changed || nodes_changed {
        refresh_view(ctx).await?;
    }
    let epoch = state.view().epoch();
    // Each touched blob's aggregates over all its registrations, read from the chain
    // (converges whatever the event order); its registrations from the events.
    let mut updates: Vec<(BlobId, Modify)> = Vec::with_capacity(touched.len());
    for (id, events) in &touched {
        let status = state.chain_status(id).await?;
        let events = events.clone();
        updates.push((
            *id,
            Box::new(move |old| {
                let mut e = old.cloned().unwrap_or_default();
                for ev in &events {
                    e.apply_event(ev);
                }
                e.set_status(&status, epoch);
                e.prune(epoch);
                e.rev += 1;
                Some(e)
            }),
        ));
    }
    let store = state.store.clone();
    let ids: Vec<BlobId> = touched.keys().copied().collect();
    let entries = blocking(move || {
        store.apply(updates, Some(to + 1))?;
        ids.into_iter()
            .map(|id| Ok((id, store.blob(&id)?)))
            .collect::<Result<Vec<_>, StoreError>>()
    })
    .await?;
    state
        .metrics
        .cursor
        .store(to + 1, std::sync::atomic::Ordering::Relaxed);
    for r in registrations {
        state.forget_absent_registration(r);
    }
    {
        let mut pending = lock(&ctx.pending);
        for (id, e) in &entries {
            state.forget_absent(id);
            if e.as_ref()
                .is_some_and(|e| e.pending(epoch).next().is_some())
            {
                pending.insert(*id);
            } else {
                pending.remove(id);
            }
        }
    }
    // An epoch change may expire blobs; a batch may have deleted a blob's last registration
    // or invalidated it: garbage collection (which asks the chain again) removes their data.
    let died = entries.iter().any(|(_, e)| {
        e.as_ref()
            .is_some_and(|e| !e.collected && !e.is_live(epoch))
    });
    if epoch_changed || died {
        ctx.gc_wake.notify_one();
    }
    ctx.queue_recovery(to_recover);
    Ok(to < head)
}
