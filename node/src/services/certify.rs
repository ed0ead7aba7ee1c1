//! Certifies blobs that stay registered but uncertified past the grace period, when this
//! node holds all its slivers (nodes take turns by rank so they rarely race). Only the
//! pending (registered) blobs the follower indexed are looked at, not every entry.

use std::{collections::HashMap, time::Duration};

use floe_chain::{BlobState, ChainError, Committee};
use floe_core::{ids::BlobId, messages::certify_message};
use tokio::sync::watch;

use super::{
    Ctx, lock,
    signatures::{SignatureError, collect_sigs},
    until_shutdown,
};
use crate::{
    api::ApiError,
    metrics::Metrics,
    state::{EpochView, blocking},
    storage::{BlobEntry, StoreError},
    supervisor::ServiceResult,
};

/// The service's name in health and metrics.
pub const NAME: &str = "certify";

/// Certifying one blob failed (retried on a later round).
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] ApiError),
    /// The chain could not be asked.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// Building the certificate failed.
    #[error("certificate: {0}")]
    Signatures(#[from] SignatureError),
}

impl From<StoreError> for CertifyError {
    fn from(e: StoreError) -> Self {
        CertifyError::Storage(ApiError::Storage(e))
    }
}

/// Runs until shutdown.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) -> ServiceResult {
    let mut timers = CertifyTimers::default();
    loop {
        if until_shutdown(&mut shutdown, ctx.poll.max(Duration::from_secs(1))).await {
            return Ok(());
        }
        certify_once(&ctx, &mut timers).await?;
        ctx.state.services.ok(NAME);
    }
}

/// When this node first held all its slivers of a pending blob, and when it last tried.
#[derive(Debug, Default)]
struct CertifyTimers {
    complete_since: HashMap<BlobId, tokio::time::Instant>,
    last_attempt: HashMap<BlobId, tokio::time::Instant>,
}

/// One pass over the registered blobs; a failure on one blob is logged and the pass goes on.
async fn certify_once(ctx: &Ctx, timers: &mut CertifyTimers) -> Result<(), CertifyError> {
    let view = ctx.state.view();
    let Some(my_index) = view.committee.index_of(ctx.state.node) else {
        return Ok(());
    };
    let pending: Vec<BlobId> = lock(&ctx.pending).iter().copied().collect();
    timers.complete_since.retain(|id, _| pending.contains(id));
    timers.last_attempt.retain(|id, _| pending.contains(id));
    for id in pending {
        let entry = ctx.state.store.blob(&id)?;
        let Some(entry) =
            entry.filter(|e| e.state == BlobState::Registered && e.is_live(view.epoch()))
        else {
            lock(&ctx.pending).remove(&id);
            timers.complete_since.remove(&id);
            timers.last_attempt.remove(&id);
            continue;
        };
        if let Err(e) = certify_if_due(ctx, &view, my_index, timers, id, entry).await {
            tracing::warn!(blob = %id, error = %e, "certifying the blob failed; will retry");
        }
    }
    Ok(())
}

/// Certifies registered blob `id` if this node holds all its slivers and its turn has come.
async fn certify_if_due(
    ctx: &Ctx,
    view: &EpochView,
    my_index: usize,
    timers: &mut CertifyTimers,
    id: BlobId,
    entry: BlobEntry,
) -> Result<(), CertifyError> {
    let state = &ctx.state;
    let m = view.committee.members.len();
    let now = tokio::time::Instant::now();
    let (have, need) = state.holds_all(view, &id)?;
    if need == 0 || have < need || !state.store.has_metadata(&id)? {
        timers.complete_since.remove(&id);
        return Ok(());
    }
    // Nodes take turns: rank 0 after the grace period, rank 1 after twice that, ...
    let since = *timers.complete_since.entry(id).or_insert(now);
    let rank = (my_index + m - usize::from(id.0[31]) % m) % m;
    let wait = ctx
        .grace
        .checked_mul(1 + rank as u32)
        .and_then(|w| since.checked_add(w));
    if wait.is_none_or(|due| now < due) {
        return Ok(());
    }
    if let Some(last) = timers.last_attempt.get(&id)
        && last
            .checked_add(ctx.grace.max(Duration::from_secs(1)))
            .is_none_or(|next| now < next)
    {
        return Ok(());
    }
    timers.last_attempt.insert(id, now);
    // The registration may have been certified meanwhile.
    let record = ctx.chain.blob(&id).await?;
    if record.state != BlobState::Registered {
        let (store, fresh) = (state.store.clone(), BlobEntry::from_record(&record));
        blocking(move || store.merge_blob(&id, &fresh)).await?;
        lock(&ctx.pending).remove(&id);
        return Ok(());
    }
    let msg = certify_message(
        state.chain_id,
        state.registry.into_array(),
        view.epoch(),
        &[(id.0, entry.deletable)],
    );
    let cert = collect_sigs(
        ctx,
        view,
        my_index,
        &id,
        &msg,
        Committee::is_quorum,
        |member| {
            let peers = ctx.peers.clone();
            async move { peers.confirmation(member, &id, &msg).await }
        },
    )
    .await?;
    let cert = match cert {
        Ok(cert) => cert,
        Err(weight) => {
            tracing::info!(blob = %id, weight, "not enough confirmations to certify yet");
            return Ok(());
        }
    };
    match ctx.chain.certify_blob(&id, &cert).await {
        Ok(tx) => {
            Metrics::inc(&state.metrics.blobs_certified);
            tracing::info!(blob = %id, %tx, "certified a blob its writer left uncertified");
        }
        Err(e) => tracing::info!(blob = %id, error = %e, "certification not submitted"),
    }
    Ok(())
}
