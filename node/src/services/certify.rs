//! Certifies registrations left uncertified past the grace period, when this node holds all
//! its slivers of their blob (nodes take turns by rank so they rarely race). Each
//! registration is certified on its own (a certificate certifies one registration, and
//! peers confirm one registration per request), also when the blob is already certified
//! through another registration, as long as it lives. Only the blobs with pending
//! registrations the follower indexed are looked at, not every entry, and at most
//! [`MAX_CERTIFICATIONS_PER_ROUND`] registrations per round.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use floe_chain::{ChainError, Committee, RegistrationState};
use floe_core::{
    ids::BlobId,
    messages::{CertifyEntry, certify_message},
};
use tokio::sync::watch;

use super::{
    Ctx, lock,
    signatures::{SignatureError, collect_sigs},
    until_shutdown,
};
use crate::{
    api::ApiError,
    liveness::Liveness,
    metrics::Metrics,
    state::{EpochView, blocking},
    storage::{KnownRegistration, StoreError},
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

/// Most registrations one round tries to certify (each costs peer requests and a
/// transaction); the rest wait for the next round.
pub const MAX_CERTIFICATIONS_PER_ROUND: usize = 8;

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

/// When this node first held all its slivers of a blob, when it first saw each pending
/// registration, and when it last tried to certify one.
#[derive(Debug, Default)]
pub struct CertifyTimers {
    complete_since: HashMap<BlobId, tokio::time::Instant>,
    first_seen: HashMap<u64, tokio::time::Instant>,
    last_attempt: HashMap<u64, tokio::time::Instant>,
}

/// One pass over the blobs with pending registrations (the index `ctx.pending`; no other
/// entry is read); a failure on one registration is logged and the pass goes on. At most
/// [`MAX_CERTIFICATIONS_PER_ROUND`] attempts.
pub async fn certify_once(ctx: &Ctx, timers: &mut CertifyTimers) -> Result<(), CertifyError> {
    let view = ctx.state.view();
    let Some(my_index) = view.committee.index_of(ctx.state.node) else {
        return Ok(());
    };
    let epoch = view.epoch();
    let blobs: Vec<BlobId> = lock(&ctx.pending).iter().copied().collect();
    let mut work = Vec::new();
    for id in &blobs {
        let entry = ctx.state.store.blob(id)?;
        let regs: Vec<KnownRegistration> = entry
            .as_ref()
            .filter(|e| Liveness::of(e).is_live(epoch))
            .map(|e| e.pending(epoch).copied().collect())
            .unwrap_or_default();
        if regs.is_empty() {
            lock(&ctx.pending).remove(id);
            continue;
        }
        work.push((*id, regs));
    }
    timers
        .complete_since
        .retain(|id, _| work.iter().any(|(b, _)| b == id));
    let live: HashSet<u64> = work
        .iter()
        .flat_map(|(_, r)| r.iter().map(|r| r.id))
        .collect();
    timers.first_seen.retain(|r, _| live.contains(r));
    timers.last_attempt.retain(|r, _| live.contains(r));
    let mut budget = MAX_CERTIFICATIONS_PER_ROUND;
    for (id, regs) in work {
        if budget == 0 {
            break;
        }
        certify_blob_if_due(ctx, &view, my_index, timers, id, &regs, &mut budget).await?;
    }
    Ok(())
}

/// Certifies the pending registrations `regs` of blob `id` whose turn has come, if this node
/// holds all its slivers of the blob.
async fn certify_blob_if_due(
    ctx: &Ctx,
    view: &EpochView,
    my_index: usize,
    timers: &mut CertifyTimers,
    id: BlobId,
    regs: &[KnownRegistration],
    budget: &mut usize,
) -> Result<(), CertifyError> {
    let state = &ctx.state;
    let m = view.committee.members.len();
    let now = tokio::time::Instant::now();
    let (have, need) = state.holds_all(view, &id)?;
    if need == 0 || have < need || !state.store.has_metadata(&id)? {
        timers.complete_since.remove(&id);
        return Ok(());
    }
    let complete = *timers.complete_since.entry(id).or_insert(now);
    // Nodes take turns: rank 0 after the grace period, rank 1 after twice that, ...
    let rank = (my_index + m - usize::from(id.0[31]) % m) % m;
    for r in regs {
        if *budget == 0 {
            return Ok(());
        }
        // The grace runs from when the data was complete here and the registration seen,
        // whichever is later: a second registration of a stored blob gets its writer's grace.
        let seen = *timers.first_seen.entry(r.id).or_insert(now);
        let due = ctx
            .grace
            .checked_mul(1 + rank as u32)
            .and_then(|w| complete.max(seen).checked_add(w));
        if due.is_none_or(|due| now < due) {
            continue;
        }
        if let Some(last) = timers.last_attempt.get(&r.id)
            && last
                .checked_add(ctx.grace.max(Duration::from_secs(1)))
                .is_none_or(|next| now < next)
        {
            continue;
        }
        timers.last_attempt.insert(r.id, now);
        *budget -= 1;
        if let Err(e) = certify_registration(ctx, view, my_index, id, r.id).await {
            tracing::warn!(blob = %id, registration = r.id, error = %e, "certifying the registration failed; will retry");
        }
    }
    Ok(())
}

/// Collects peers' confirmations of registration `registration_id` of `id` and submits
/// `certifyRegistration`, unless the chain says it is no longer pending.
async fn certify_registration(
    ctx: &Ctx,
    view: &EpochView,
    my_index: usize,
    id: BlobId,
    registration_id: u64,
) -> Result<(), CertifyError> {
    let state = &ctx.state;
    let epoch = view.epoch();
    // It may have been certified or deleted meanwhile.
    let record = ctx.chain.registration(registration_id).await?;
    if record.blob_id != id
        || record.state != RegistrationState::Registered
        || !record.is_live(epoch)
    {
        let store = state.store.clone();
        blocking(move || {
            store.modify_blob(
                &id,
                Box::new(move |old| {
                    let mut e = old?.clone();
                    if record.blob_id == id {
                        e.merge_registration(&record, epoch);
                    } else {
                        e.known.retain(|k| k.id != registration_id);
                    }
                    Some(e)
                }),
            )
        })
        .await?;
        return Ok(());
    }
    let msg = certify_message(
        state.chain_id,
        state.registry.into_array(),
        epoch,
        &[CertifyEntry {
            blob_id: id.0,
            registration_id,
            deletable: record.deletable,
        }],
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
            async move { peers.confirmation(member, &id, registration_id, &msg).await }
        },
    )
    .await?;
    let cert = match cert {
        Ok(cert) => cert,
        Err(weight) => {
            tracing::info!(blob = %id, registration = registration_id, weight, "not enough confirmations to certify yet");
            return Ok(());
        }
    };
    match ctx.chain.certify_registration(registration_id, &cert).await {
        Ok(tx) => {
            Metrics::inc(&state.metrics.blobs_certified);
            tracing::info!(blob = %id, registration = registration_id, %tx, "certified a registration its writer left uncertified");
        }
        Err(e) => {
            tracing::info!(blob = %id, registration = registration_id, error = %e, "certification not submitted")
        }
    }
    Ok(())
}
