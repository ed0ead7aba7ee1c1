//! The node's background work: following the chain's events (cursor persisted), keeping the
//! epoch and committee current, garbage collection at epoch change, recovering missing
//! slivers, certifying blobs their writer left uncertified, and advancing epochs.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use floe_chain::{BlobState, Chain, ChainError, EventRecord, FloeEvent};
use floe_core::{
    bls::CertificateBuilder,
    encoding::{Sliver, SliverKind},
    ids::BlobId,
    messages::{certify_message, invalid_message},
    recovery::{InconsistencyProof, RecoveryError, RecoverySymbol},
    wire::Wire,
};
use tokio::sync::{Mutex, watch};

use crate::{
    api::load_metadata,
    metrics::Metrics,
    peers::Peers,
    state::{EpochView, NodeState, now_secs},
    storage::BlobEntry,
};

/// Peer requests in flight at once while recovering one blob.
const RECOVERY_CONCURRENCY: usize = 32;

/// What the background tasks need besides the state.
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
    /// Certification grace.
    pub grace: Duration,
    /// Whether to advance epochs.
    pub advance_epochs: bool,
    /// Blobs to check for missing slivers.
    pub recovery_queue: Arc<Mutex<HashSet<BlobId>>>,
}

async fn until_shutdown(shutdown: &mut watch::Receiver<bool>, d: Duration) -> bool {
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
    let changed = old.epoch != epoch;
    if changed || *old.committee != committee {
        tracing::info!(
            epoch,
            shards = committee.shards_of(ctx.state.node).len(),
            "epoch view updated"
        );
        ctx.state.set_view(EpochView {
            epoch,
            committee: Arc::new(committee),
        });
    }
    Ok(changed)
}

/// Follows the contracts' events from the persisted cursor.
pub async fn follow(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    let start = ctx.chain.deployment().start_block;
    loop {
        match follow_once(&ctx, start).await {
            Ok(true) => continue, // more blocks to catch up on
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "following the chain failed; retrying"),
        }
        if until_shutdown(&mut shutdown, ctx.poll).await {
            return;
        }
    }
}

/// One getLogs step; returns true if it did not reach the chain head.
async fn follow_once(
    ctx: &Ctx,
    start: u64,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let state = &ctx.state;
    let cursor = state.store.cursor()?.unwrap_or(start);
    let head = ctx.chain.block_number().await?;
    if cursor > head {
        return Ok(false);
    }
    let to = head.min(cursor.saturating_add(ctx.max_log_range - 1));
    let events = ctx.chain.events(cursor, to).await?;
    let mut touched: BTreeSet<BlobId> = BTreeSet::new();
    let mut epoch_changed = false;
    let mut nodes_changed = false;
    let mut certified = Vec::new();
    for EventRecord { event, block, .. } in &events {
        Metrics::inc(&state.metrics.events);
        tracing::debug!(block, ?event, "event");
        match event {
            FloeEvent::EpochAdvanced { .. } => epoch_changed = true,
            FloeEvent::NodeRegistered { .. } | FloeEvent::NodeUpdated { .. } => {
                nodes_changed = true
            }
            FloeEvent::BlobRegistered { blob_id, .. }
            | FloeEvent::BlobExtended { blob_id, .. }
            | FloeEvent::BlobDeleted { blob_id, .. }
            | FloeEvent::BlobInvalidated { blob_id, .. } => {
                touched.insert(*blob_id);
            }
            FloeEvent::BlobCertified { blob_id, .. } => {
                touched.insert(*blob_id);
                certified.push(*blob_id);
            }
            FloeEvent::Other(_) => {}
        }
    }
    // Record each touched blob's current registration (converges whatever the event order).
    let mut entries = Vec::with_capacity(touched.len());
    for id in &touched {
        let record = ctx.chain.blob(id).await?;
        let old = state.store.blob(id)?;
        let mut entry = BlobEntry::from_record(&record);
        if let Some(old) = old
            && old.registered_epoch == entry.registered_epoch
            && old.state != BlobState::Deleted
        {
            entry.seen_at = old.seen_at;
        }
        entries.push((*id, entry));
    }
    // The view is refreshed before the cursor moves past the events, so a failure here
    // replays the batch instead of losing an epoch change.
    if epoch_changed || nodes_changed {
        refresh_view(ctx).await?;
    }
    state.store.apply(&entries, Some(to + 1))?;
    state
        .metrics
        .cursor
        .store(to + 1, std::sync::atomic::Ordering::Relaxed);
    if epoch_changed {
        on_epoch_change(ctx).await;
    }
    if !certified.is_empty() {
        ctx.recovery_queue.lock().await.extend(certified);
    }
    Ok(to < head)
}

/// At an epoch change: garbage-collect expired, deleted and invalid blobs; queue certified
/// blobs for recovery (shards may have moved to this node).
pub async fn on_epoch_change(ctx: &Ctx) {
    let epoch = ctx.state.view().epoch;
    let blobs = match ctx.state.store.blobs() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list blobs for garbage collection");
            return;
        }
    };
    let mut queue = Vec::new();
    for (id, entry) in blobs {
        if entry.is_live(epoch) {
            if entry.state == BlobState::Certified {
                queue.push(id);
            }
            continue;
        }
        match ctx.state.store.remove_data(&id) {
            Ok(n) if n > 0 || ctx.state.store.metadata(&id).ok().flatten().is_none() => {
                if n > 0 {
                    Metrics::inc(&ctx.state.metrics.blobs_collected);
                    tracing::info!(blob = %id, slivers = n, epoch, "garbage-collected");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(blob = %id, error = %e, "garbage collection failed"),
        }
    }
    ctx.recovery_queue.lock().await.extend(queue);
}

/// First delay before retrying an incomplete recovery; it doubles up to [`RECOVERY_MAX_DELAY`].
const RECOVERY_FIRST_DELAY: Duration = Duration::from_secs(2);
/// Longest delay between recovery attempts of one blob.
const RECOVERY_MAX_DELAY: Duration = Duration::from_secs(60);

/// Works through the recovery queue; blobs that could not be completed are retried later,
/// with a delay doubling per attempt.
pub async fn recover(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    let mut retry: HashMap<BlobId, (tokio::time::Instant, Duration)> = HashMap::new();
    loop {
        let batch: Vec<BlobId> = {
            let mut q = ctx.recovery_queue.lock().await;
            let now = tokio::time::Instant::now();
            let ready: Vec<BlobId> = q
                .iter()
                .copied()
                .filter(|id| retry.get(id).is_none_or(|(at, _)| *at <= now))
                .collect();
            for id in &ready {
                q.remove(id);
            }
            ready
        };
        for id in batch {
            let outcome = recover_blob(&ctx, &id).await;
            if let Err(e) = &outcome {
                tracing::warn!(blob = %id, error = %e, "recovery failed; will retry");
            }
            if matches!(outcome, Ok(true)) {
                retry.remove(&id);
            } else {
                let delay = retry.get(&id).map_or(RECOVERY_FIRST_DELAY, |(_, d)| {
                    (*d * 2).min(RECOVERY_MAX_DELAY)
                });
                retry.insert(id, (tokio::time::Instant::now() + delay, delay));
                ctx.recovery_queue.lock().await.insert(id);
            }
        }
        if until_shutdown(&mut shutdown, ctx.poll).await {
            return;
        }
    }
}

/// Makes sure this node holds the metadata and all its slivers of certified blob `id`.
/// Returns true when complete (or nothing is to be done), false if peers did not yet give
/// enough to finish.
pub async fn recover_blob(
    ctx: &Ctx,
    id: &BlobId,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let state = &ctx.state;
    let epoch = state.view().epoch;
    let Some(entry) = state.store.blob(id)? else {
        return Ok(true);
    };
    if entry.state != BlobState::Certified || !entry.is_live(epoch) {
        return Ok(true);
    }
    let view = state.view();
    let committee = view.committee.clone();
    let my_pairs = committee.pairs_of(state.node, id);
    if my_pairs.is_empty() {
        return Ok(true);
    }
    let held = state.store.held_slivers(id)?;
    let mut targets: Vec<(SliverKind, u16)> = Vec::new();
    for &p in &my_pairs {
        for kind in [SliverKind::Primary, SliverKind::Secondary] {
            if !held.contains(&(p, kind)) {
                targets.push((kind, p));
            }
        }
    }
    let mut metadata = load_metadata(state, id).map_err(|e| e.to_string())?;
    if targets.is_empty() && metadata.is_some() {
        return Ok(true);
    }
    if metadata.is_none() {
        for m in committee.members.iter().filter(|m| m.node != state.node) {
            match ctx.peers.metadata(m, id, &state.encoding).await {
                Ok((bytes, meta)) => {
                    state.store.put_metadata(id, &bytes)?;
                    metadata = Some(meta);
                    break;
                }
                Err(e) => tracing::debug!(blob = %id, error = %e, "metadata not fetched"),
            }
        }
    }
    let Some(metadata) = metadata else {
        return Ok(false);
    };
    if targets.is_empty() {
        return Ok(true);
    }
    tracing::info!(blob = %id, missing = targets.len(), "recovering slivers from peers");
    let enc = &state.encoding;
    // Which symbol index each target needs from every source of the other kind.
    let mut by_index: HashMap<(SliverKind, u16), (SliverKind, u16)> = HashMap::new();
    for &(kind, p) in &targets {
        let (_, index) = enc.recovery_request(kind, p, 0);
        by_index.insert((kind.other(), index), (kind, p));
    }
    let primary_idx: Vec<u16> = by_index
        .keys()
        .filter(|(k, _)| *k == SliverKind::Secondary)
        .map(|(_, i)| *i)
        .collect();
    let secondary_idx: Vec<u16> = by_index
        .keys()
        .filter(|(k, _)| *k == SliverKind::Primary)
        .map(|(_, i)| *i)
        .collect();
    let mut symbols: HashMap<(SliverKind, u16), Vec<RecoverySymbol>> = HashMap::new();
    let mut add = |syms: Vec<RecoverySymbol>| {
        for s in syms {
            if let Some(target) = by_index.get(&(s.source_kind, s.index))
                && s.verify(&metadata, enc).is_ok()
            {
                symbols.entry(*target).or_default().push(s);
            }
        }
    };
    // Local sources first (slivers this node already holds), then every peer's pairs.
    for &(p, kind) in &held {
        let idx = if kind == SliverKind::Secondary {
            &primary_idx
        } else {
            &secondary_idx
        };
        if idx.is_empty() {
            continue;
        }
        if let Some(bytes) = state.store.sliver(id, p, kind)?
            && let Ok(s) = Sliver::from_wire(&bytes)
            && let Ok(syms) = enc.recovery_symbols(&s, idx)
        {
            add(syms);
        }
    }
    let mut requests = Vec::new();
    for m in committee.members.iter().filter(|m| m.node != state.node) {
        for q in committee.pairs_of(m.node, id) {
            for (kind, idx) in [
                (SliverKind::Secondary, &primary_idx),
                (SliverKind::Primary, &secondary_idx),
            ] {
                if !idx.is_empty() {
                    requests.push((m.clone(), q, kind, idx.clone()));
                }
            }
        }
    }
    use futures::StreamExt as _;
    let results: Vec<_> = futures::stream::iter(requests.into_iter().map(|(m, q, kind, idx)| {
        let peers = ctx.peers.clone();
        let id = *id;
        async move { peers.symbols(&m, &id, q, kind, &idx).await }
    }))
    .buffer_unordered(RECOVERY_CONCURRENCY)
    .collect()
    .await;
    for r in results {
        match r {
            Ok(syms) => add(syms),
            Err(e) => tracing::debug!(blob = %id, error = %e, "symbols not fetched"),
        }
    }
    let mut complete = true;
    for (kind, p) in targets {
        let syms = symbols.remove(&(kind, p)).unwrap_or_default();
        let need = enc.sliver_len(kind.other());
        if syms.len() < usize::from(need) {
            tracing::debug!(blob = %id, pair = p, %kind, have = syms.len(), need, "not enough symbols yet");
            complete = false;
            continue;
        }
        match enc.recover_sliver(&metadata, kind, p, syms) {
            Ok(sliver) => {
                state.store.put_sliver(id, p, kind, &sliver.to_wire())?;
                Metrics::inc(&state.metrics.slivers_recovered);
                tracing::debug!(blob = %id, pair = p, %kind, "sliver recovered");
            }
            Err(RecoveryError::Inconsistent(proof)) => {
                tracing::warn!(blob = %id, pair = p, %kind, "blob is inconsistently encoded: attesting it invalid");
                return attest_invalid(ctx, id, &proof).await;
            }
            Err(e) => {
                tracing::warn!(blob = %id, pair = p, %kind, error = %e, "recovery failed");
                complete = false;
            }
        }
    }
    if complete {
        tracing::info!(blob = %id, "all slivers held");
    }
    Ok(complete)
}

/// Collects signatures over `invalid_message` from peers that check `proof` (f+1 shards)
/// and submits `invalidateBlob`. Returns true once the blob is invalid on-chain.
async fn attest_invalid(
    ctx: &Ctx,
    id: &BlobId,
    proof: &InconsistencyProof,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let state = &ctx.state;
    if ctx.chain.blob(id).await?.state == BlobState::Invalid {
        return Ok(true);
    }
    let view = state.view();
    let committee = &view.committee;
    let Some(my_index) = committee.index_of(state.node) else {
        return Ok(true);
    };
    let msg = invalid_message(
        state.chain_id,
        state.registry.into_array(),
        view.epoch,
        id.0,
    );
    let mut builder = CertificateBuilder::new(view.epoch, committee.members.len());
    builder.add(my_index, state.key.sign(&msg))?;
    let wire = proof.to_wire();
    let others = committee
        .members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != my_index);
    let answers = futures::future::join_all(others.map(|(i, member)| {
        let peers = ctx.peers.clone();
        let wire = wire.clone();
        async move { (i, peers.attest_invalid(member, id, wire, &msg).await) }
    }))
    .await;
    for (i, r) in answers {
        match r {
            Ok((epoch, sig)) if epoch == view.epoch => builder.add(i, sig)?,
            Ok(_) => {}
            Err(e) => tracing::debug!(blob = %id, error = %e, "no invalidity attestation"),
        }
    }
    let weight = builder.weight(&committee.shard_counts());
    if !committee.is_validity(weight) {
        tracing::info!(blob = %id, weight, "not enough attestations to invalidate yet");
        return Ok(false);
    }
    let tx = ctx.chain.invalidate_blob(id, &builder.finish()?).await?;
    tracing::warn!(blob = %id, %tx, "blob marked invalid on-chain");
    Ok(true)
}

/// Certifies blobs that stay registered but uncertified past the grace period, when this
/// node holds all its slivers (nodes take turns by rank so they rarely race).
pub async fn certify(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    let mut timers = CertifyTimers::default();
    loop {
        if until_shutdown(&mut shutdown, ctx.poll.max(Duration::from_secs(1))).await {
            return;
        }
        if let Err(e) = certify_once(&ctx, &mut timers).await {
            tracing::warn!(error = %e, "certifying pending blobs failed");
        }
    }
}

/// When this node first held all its slivers of a pending blob, and when it last tried.
#[derive(Debug, Default)]
struct CertifyTimers {
    complete_since: HashMap<BlobId, tokio::time::Instant>,
    last_attempt: HashMap<BlobId, tokio::time::Instant>,
}

async fn certify_once(
    ctx: &Ctx,
    timers: &mut CertifyTimers,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let state = &ctx.state;
    let view = state.view();
    let committee = &view.committee;
    let Some(my_index) = committee.index_of(state.node) else {
        return Ok(());
    };
    let m = committee.members.len();
    let now = tokio::time::Instant::now();
    for (id, entry) in state.store.blobs()? {
        if entry.state != BlobState::Registered || !entry.is_live(view.epoch) {
            timers.complete_since.remove(&id);
            timers.last_attempt.remove(&id);
            continue;
        }
        let (have, need) = state.holds_all(&id).map_err(|e| e.to_string())?;
        if need == 0 || have < need || state.store.metadata(&id)?.is_none() {
            timers.complete_since.remove(&id);
            continue;
        }
        // Nodes take turns: rank 0 after the grace period, rank 1 after twice that, ...
        let since = *timers.complete_since.entry(id).or_insert(now);
        let rank = (my_index + m - usize::from(id.0[31]) % m) % m;
        let wait = ctx
            .grace
            .checked_mul(1 + rank as u32)
            .and_then(|w| since.checked_add(w));
        if wait.is_none_or(|due| now < due) {
            continue;
        }
        if let Some(last) = timers.last_attempt.get(&id)
            && last
                .checked_add(ctx.grace.max(Duration::from_secs(1)))
                .is_none_or(|next| now < next)
        {
            continue;
        }
        timers.last_attempt.insert(id, now);
        // The registration may have been certified meanwhile.
        let record = ctx.chain.blob(&id).await?;
        if record.state != BlobState::Registered {
            state.store.put_blob(
                &id,
                &BlobEntry {
                    seen_at: entry.seen_at,
                    ..BlobEntry::from_record(&record)
                },
            )?;
            continue;
        }
        let msg = certify_message(
            state.chain_id,
            state.registry.into_array(),
            view.epoch,
            &[(id.0, entry.deletable)],
        );
        let mut builder = CertificateBuilder::new(view.epoch, m);
        builder.add(my_index, state.key.sign(&msg))?;
        let others = committee
            .members
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != my_index);
        let answers = futures::future::join_all(others.map(|(i, member)| {
            let peers = ctx.peers.clone();
            async move { (i, peers.confirmation(member, &id, &msg).await) }
        }))
        .await;
        for (i, r) in answers {
            match r {
                Ok((epoch, sig)) if epoch == view.epoch => builder.add(i, sig)?,
                Ok(_) => {}
                Err(e) => tracing::debug!(blob = %id, error = %e, "no confirmation"),
            }
        }
        let counts = committee.shard_counts();
        if !committee.is_quorum(builder.weight(&counts)) {
            tracing::info!(blob = %id, weight = builder.weight(&counts), "not enough confirmations to certify yet");
            continue;
        }
        let cert = builder.finish()?;
        match ctx.chain.certify_blob(&id, &cert).await {
            Ok(tx) => {
                Metrics::inc(&state.metrics.blobs_certified);
                tracing::info!(blob = %id, %tx, "certified a blob its writer left uncertified");
            }
            Err(e) => tracing::info!(blob = %id, error = %e, "certification not submitted"),
        }
    }
    Ok(())
}

/// Advances the epoch once its time is up (the chain's clock decides; a revert because
/// another node was first is fine).
pub async fn advance(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    loop {
        if until_shutdown(&mut shutdown, ctx.poll.max(Duration::from_secs(1))).await {
            return;
        }
        let timing = match ctx.chain.epoch_timing().await {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read epoch timing");
                continue;
            }
        };
        if timing.epoch == 0 {
            continue; // the deployer starts epoch 1 once nodes are staked
        }
        let chain_now = ctx
            .chain
            .block_timestamp()
            .await
            .unwrap_or(0)
            .max(now_secs());
        if chain_now < timing.next_advance_at() {
            continue;
        }
        match ctx.chain.advance_epoch().await {
            Ok(tx) => tracing::info!(from = timing.epoch, %tx, "advanced the epoch"),
            Err(e) => tracing::debug!(error = %e, "epoch not advanced (another node may have)"),
        }
    }
}
