//! Follows the contracts' events from the persisted cursor, `confirmation_depth` blocks
//! behind the head, applying each batch's blob entries and the cursor in one transaction.

use std::collections::BTreeMap;

use floe_chain::{ChainError, EventRecord, FloeEvent};
use floe_core::ids::BlobId;
use tokio::sync::watch;

use super::{Ctx, refresh_view, until_shutdown};
use crate::{
    api::ApiError,
    metrics::Metrics,
    state::blocking,
    storage::{BlobEntry, FollowedBatch, KnownRegistration, Modify, StoreError},
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

/// One getLogs step; returns true if it did not reach the followed head (or undid a reorg).
pub async fn step(ctx: &Ctx, start: u64) -> Result<bool, FollowError> {
    let state = &ctx.state;
    if undo_reorg(ctx, start).await? {
        return Ok(true);
    }
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
    // The batch's last block hash, read before and after its logs: if they differ, a reorg
    // happened meanwhile and the logs may be of either branch, so the batch is read again.
    let Some(hash) = ctx.chain.block_hash(to).await? else {
        return Ok(false);
    };
    let events = ctx.chain.events(cursor, to).await?;
    if ctx.chain.block_hash(to).await? != Some(hash) {
        tracing::warn!(
            block = to,
            "the chain reorganized while reading a batch; reading it again"
        );
        return Ok(true);
    }
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
    let batch = FollowedBatch {
        from: cursor,
        to,
        hash,
        touched: ids.clone(),
    };
    let entries = blocking(move || {
        store.apply_batch(updates, &batch)?;
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
    for (id, e) in &entries {
        state.forget_absent(id);
        ctx.index_pending(*id, e.as_ref(), epoch);
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

/// Detects a reorg of the blocks the follower applied (the last applied batch's block hash
/// differs from the chain's now) and undoes it: walks back the remembered batches to the
/// newest one still on the chain (the fork point), re-derives every blob the undone batches
/// touched from the chain as it is now, and moves the cursor back after the fork point, so
/// the new branch's events are read next. If no remembered batch is still on the chain (a
/// reorg deeper than the window), every blob the node knows is re-derived and the follower
/// goes back to the oldest remembered batch. Returns true if it undid a reorg.
///
/// Re-deriving comes first and the cursor moves last: a crash in between finds the same
/// mismatch at the next start and does it again (re-deriving is idempotent).
pub async fn undo_reorg(ctx: &Ctx, start: u64) -> Result<bool, FollowError> {
    let state = &ctx.state;
    let store = state.store.clone();
    let batches = blocking(move || store.followed()).await?;
    let Some(newest) = batches.first() else {
        return Ok(false);
    };
    if ctx.chain.block_hash(newest.to).await? == Some(newest.hash) {
        return Ok(false);
    }
    let mut fork = None;
    let mut touched = std::collections::BTreeSet::new();
    for b in &batches {
        if ctx.chain.block_hash(b.to).await? == Some(b.hash) {
            fork = Some(b.to);
            break;
        }
        touched.extend(b.touched.iter().copied());
    }
    let (fork_block, cursor) = match fork {
        Some(f) => (f, f + 1),
        None => {
            let oldest = batches.last().map_or(start, |b| b.from);
            let store = state.store.clone();
            let all = blocking(move || store.blobs()).await?;
            touched.extend(all.into_iter().map(|(id, _)| id));
            (oldest.saturating_sub(1), oldest.max(start))
        }
    };
    tracing::warn!(
        applied = newest.to,
        fork = ?fork,
        blobs = touched.len(),
        "the chain reorganized under the follower: undoing the blocks after the fork point"
    );
    Metrics::inc(&state.metrics.reorgs);
    refresh_view(ctx).await?;
    let epoch = state.view().epoch();
    for id in touched {
        rederive(ctx, &id, epoch).await?;
    }
    let store = state.store.clone();
    blocking(move || store.rewind(fork_block, cursor)).await?;
    state
        .metrics
        .cursor
        .store(cursor, std::sync::atomic::Ordering::Relaxed);
    Ok(true)
}

/// Replaces blob `id`'s entry by what the chain says now: a blob never registered on this
/// branch is forgotten with its data; one no registration of which lives loses its data; its
/// kept registrations are re-read (an id may name another blob's registration on this branch).
async fn rederive(ctx: &Ctx, id: &BlobId, epoch: u32) -> Result<(), FollowError> {
    let state = &ctx.state;
    let status = state.chain_status(id).await?;
    let id = *id;
    if !status.is_known() {
        let store = state.store.clone();
        let removed = blocking(move || store.forget_blob(&id)).await?;
        ctx.index_pending(id, None, epoch);
        tracing::warn!(blob = %id, slivers = removed, "the blob's registration vanished in a reorg: its data is removed");
        return Ok(());
    }
    let old = state.store.blob(&id)?.unwrap_or_default();
    let mut known = Vec::new();
    for k in &old.known {
        let r = state.chain_registration(k.id).await?;
        if r.blob_id == id && r.is_live(epoch) {
            known.push(KnownRegistration {
                id: k.id,
                deletable: r.deletable,
                certified: r.state == floe_chain::RegistrationState::Certified,
                end_epoch: r.end_epoch,
            });
        }
    }
    let mut fresh = BlobEntry {
        known,
        collected: old.collected,
        rev: old.rev + 1,
        ..BlobEntry::default()
    };
    fresh.set_status(&status, epoch);
    let live = fresh.is_live(epoch);
    let store = state.store.clone();
    let entry = fresh.clone();
    blocking(move || {
        store.put_blob(&id, &entry)?;
        if !live {
            store.remove_data(&id)?;
        }
        Ok(())
    })
    .await?;
    ctx.index_pending(id, Some(&fresh), epoch);
    Ok(())
}
