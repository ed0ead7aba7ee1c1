//! Garbage collection at epoch change, when a blob's last registration is deleted or it is
//! invalidated, and at start-up: deletes the data of blobs no registration of which lives,
//! after asking the chain, and queues live certified blobs for recovery (shards may have
//! moved to this node).

use floe_core::ids::BlobId;
use tokio::sync::watch;

use super::Ctx;
use crate::{
    api::ApiError,
    liveness::Liveness,
    metrics::Metrics,
    state::{NodeState, blocking},
    supervisor::ServiceResult,
};

/// The service's name in health and metrics.
pub const NAME: &str = "gc";

/// A failed collection round.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// The blob list could not be read.
    #[error("listing blobs for garbage collection: {0}")]
    List(#[from] ApiError),
}

/// Runs a collection at start and after every epoch change, until shutdown.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) -> ServiceResult {
    loop {
        let queue = collect_garbage(&ctx.state).await?;
        ctx.state.services.ok(NAME);
        ctx.queue_recovery(queue);
        tokio::select! {
            _ = ctx.gc_wake.notified() => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// Deletes the data of blobs no longer live in the current epoch and returns the live
/// certified blobs (to check for missing slivers).
///
/// The store's entries only reflect events up to the follower's cursor (and at startup this
/// runs before the follower), so an entry that looks dead may be stale: before deleting
/// anything the chain is asked. A blob the chain says is live keeps its data, its entry is
/// updated and, if certified, it is returned for recovery. A blob whose data was collected
/// is not checked again until the follower records a new registration or an extension.
/// Deleting marks the entry collected in the same transaction, and uploads and recovery write
/// only to entries not collected (checked in their transaction), so nothing is orphaned.
pub async fn collect_garbage(state: &NodeState) -> Result<Vec<BlobId>, GcError> {
    let epoch = state.view().epoch();
    let store = state.store.clone();
    let blobs = blocking(move || store.blobs()).await?;
    let mut live_certified = Vec::new();
    for (id, entry) in blobs {
        let liveness = Liveness::of(&entry);
        if liveness.is_live(epoch) {
            if liveness.is_certified(epoch) {
                live_certified.push(id);
            }
            continue;
        }
        if entry.collected {
            continue;
        }
        let status = match state.chain_status(&id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(blob = %id, error = %e, "cannot check the blob on-chain; not collecting it now");
                continue;
            }
        };
        let store = state.store.clone();
        if status.is_live(epoch) {
            tracing::info!(blob = %id, end_epoch = status.end_epoch, "a registration of the blob still lives on-chain; keeping its data");
            let mut fresh = entry.clone();
            fresh.set_status(&status, epoch);
            let seen = entry.rev;
            match blocking(move || store.put_blob_if_unchanged(&id, Some(seen), fresh)).await {
                Ok(Some(kept)) if Liveness::of(&kept).is_certified(epoch) => {
                    live_certified.push(id)
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(blob = %id, error = %e, "cannot update the blob's entry"),
            }
            continue;
        }
        match blocking(move || store.remove_data(&id)).await {
            Ok(0) => {}
            Ok(n) => {
                Metrics::inc(&state.metrics.blobs_collected);
                tracing::info!(blob = %id, slivers = n, epoch, "garbage-collected");
            }
            Err(e) => tracing::warn!(blob = %id, error = %e, "garbage collection failed"),
        }
    }
    Ok(live_certified)
}
