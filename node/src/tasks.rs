//! The node's background work: following the chain's events (cursor persisted), keeping the
//! epoch and committee current, garbage collection at epoch change, recovering missing
//! slivers, certifying blobs their writer left uncertified, and advancing epochs.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::{Arc, Mutex as StdMutex},
    time::Duration,
};

use floe_chain::{BlobState, Chain, ChainError, Committee, EventRecord, FloeEvent, Member};
use floe_core::{
    bls::{Certificate, CertificateBuilder, Signature},
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    messages::{certify_message, invalid_message},
    metadata::BlobMetadata,
    recovery::{InconsistencyProof, RecoveryError, RecoverySymbol},
    wire::Wire,
};
use tokio::sync::{Mutex, watch};

use crate::{
    api::load_metadata,
    metrics::Metrics,
    peers::{PeerError, Peers, symbol_list_limit},
    state::{EpochView, NodeState, blocking, now_secs},
    storage::BlobEntry,
};

/// Peer requests in flight at once while recovering one blob.
const RECOVERY_CONCURRENCY: usize = 32;

type TaskResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

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

/// Follows the contracts' events from the persisted cursor.
pub async fn follow(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    let start = ctx.chain.deployment().start_block;
    loop {
        match follow_once(&ctx, start).await {
            // More blocks to catch up on: go on at once, unless asked to stop.
            Ok(true) if !*shutdown.borrow() => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "following the chain failed; retrying"),
        }
        if *shutdown.borrow() || until_shutdown(&mut shutdown, ctx.poll).await {
            return;
        }
    }
}

/// One getLogs step; returns true if it did not reach the chain head.
async fn follow_once(ctx: &Ctx, start: u64) -> TaskResult<bool> {
    let state = &ctx.state;
    let cursor = state.store.cursor()?.unwrap_or(start);
    let head = ctx.chain.block_number().await?;
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
        let record = ctx.chain.blob(id).await?;
        entries.push((*id, BlobEntry::from_record(&record)));
    }
    // The view is refreshed before the cursor moves past the events, so a failure here
    // replays the batch instead of losing an epoch change.
    if epoch_changed || nodes_changed {
        refresh_view(ctx).await?;
    }
    let store = state.store.clone();
    blocking(move || store.apply(&entries, Some(to + 1))).await?;
    state
        .metrics
        .cursor
        .store(to + 1, std::sync::atomic::Ordering::Relaxed);
    if epoch_changed {
        on_epoch_change(ctx).await;
    }
    if !to_recover.is_empty() {
        ctx.recovery_queue.lock().await.extend(to_recover);
    }
    Ok(to < head)
}

/// At an epoch change (and at startup): garbage-collects expired, deleted and invalid blobs;
/// queues certified blobs for recovery (shards may have moved to this node).
pub async fn on_epoch_change(ctx: &Ctx) {
    let queue = collect_garbage(&ctx.state).await;
    ctx.recovery_queue.lock().await.extend(queue);
}

/// Deletes the data of blobs no longer live in the current epoch and returns the live
/// certified blobs (to check for missing slivers).
///
/// The store's entries only reflect events up to the follower's cursor (and at startup this
/// runs before the follower), so an entry that looks dead may be stale: before deleting
/// anything the chain is asked. A blob the chain says is live keeps its data, its entry is
/// updated and, if certified, it is returned for recovery. A blob whose data was collected
/// is not checked again until the follower records a new registration or an extension.
pub async fn collect_garbage(state: &NodeState) -> Vec<BlobId> {
    let epoch = state.view().epoch();
    let store = state.store.clone();
    let blobs = match blocking(move || store.blobs()).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list blobs for garbage collection");
            return Vec::new();
        }
    };
    let mut live_certified = Vec::new();
    for (id, entry) in blobs {
        if entry.is_live(epoch) {
            if entry.state == BlobState::Certified {
                live_certified.push(id);
            }
            continue;
        }
        if entry.collected {
            continue;
        }
        let record = match state.chain_record(&id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(blob = %id, error = %e, "cannot check the blob on-chain; not collecting it now");
                continue;
            }
        };
        let store = state.store.clone();
        if record.is_live(epoch) {
            let fresh = BlobEntry::from_record(&record);
            tracing::info!(blob = %id, end_epoch = fresh.end_epoch, "blob is still live on-chain; keeping its data");
            if let Err(e) = blocking(move || store.put_blob(&id, &fresh)).await {
                tracing::warn!(blob = %id, error = %e, "cannot update the blob's entry");
            }
            if fresh.state == BlobState::Certified {
                live_certified.push(id);
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
    live_certified
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

/// Recovery symbols gathered for the missing slivers of one blob: verified, at most one per
/// source pair and target, and no more than each target needs.
#[derive(Debug)]
pub struct SymbolSets {
    /// For each (source kind, symbol index): the target it serves.
    by_index: HashMap<(SliverKind, u16), (SliverKind, u16)>,
    /// For each target (kind, pair): its symbols by source pair.
    symbols: HashMap<(SliverKind, u16), BTreeMap<u16, RecoverySymbol>>,
    encoding: EncodingConfig,
}

impl SymbolSets {
    /// Empty sets for `targets` ((kind, pair) of each missing sliver).
    pub fn new(encoding: EncodingConfig, targets: &[(SliverKind, u16)]) -> Self {
        let mut by_index = HashMap::new();
        for &(kind, p) in targets {
            let source = encoding.recovery_request(kind, p, 0);
            by_index.insert(source, (kind, p));
        }
        SymbolSets {
            by_index,
            symbols: targets.iter().map(|t| (*t, BTreeMap::new())).collect(),
            encoding,
        }
    }

    /// Symbols a target of `kind` needs.
    fn need(&self, kind: SliverKind) -> usize {
        usize::from(self.encoding.sliver_len(kind))
    }

    /// Adds the symbols that serve a target still short of symbols, verify against
    /// `metadata` and come from a source pair not seen yet for that target; returns how many
    /// were kept.
    pub fn add(&mut self, metadata: &BlobMetadata, syms: Vec<RecoverySymbol>) -> usize {
        let mut kept = 0;
        for s in syms {
            let Some(&target) = self.by_index.get(&(s.source_kind, s.index)) else {
                continue;
            };
            let need = self.need(target.0);
            let Some(set) = self.symbols.get_mut(&target) else {
                continue;
            };
            if set.len() >= need || set.contains_key(&s.source_pair) {
                continue;
            }
            if s.verify(metadata, &self.encoding).is_ok() {
                set.insert(s.source_pair, s);
                kept += 1;
            }
        }
        kept
    }

    /// The symbol indices still wanted from source slivers of `source_kind`, ascending.
    pub fn wanted(&self, source_kind: SliverKind) -> Vec<u16> {
        let mut out: Vec<u16> = self
            .by_index
            .iter()
            .filter(|((k, _), target)| {
                *k == source_kind
                    && self
                        .symbols
                        .get(target)
                        .is_some_and(|set| set.len() < self.need(target.0))
            })
            .map(|((_, i), _)| *i)
            .collect();
        out.sort_unstable();
        out
    }

    /// True once every target has the symbols it needs.
    pub fn complete(&self) -> bool {
        self.symbols
            .iter()
            .all(|((kind, _), set)| set.len() >= self.need(*kind))
    }

    /// The symbols gathered for `target`.
    pub fn take(&mut self, target: (SliverKind, u16)) -> Vec<RecoverySymbol> {
        self.symbols
            .remove(&target)
            .map(|set| set.into_values().collect())
            .unwrap_or_default()
    }
}

/// Makes sure this node holds the metadata and all its slivers of certified blob `id`.
/// Returns true when complete (or nothing is to be done), false if peers did not yet give
/// enough to finish.
pub async fn recover_blob(ctx: &Ctx, id: &BlobId) -> TaskResult<bool> {
    let state = &ctx.state;
    let view = state.view();
    let Some(entry) = state.store.blob(id)? else {
        return Ok(true);
    };
    if entry.state != BlobState::Certified || !entry.is_live(view.epoch()) {
        return Ok(true);
    }
    let committee = &view.committee;
    let my_pairs = state.my_pairs(&view, id);
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
                    let (store, id) = (state.store.clone(), *id);
                    blocking(move || store.put_metadata(&id, &bytes)).await?;
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
    let enc = state.encoding;
    let symbol_size = metadata.symbol_size(&enc)?;
    let mut sets = SymbolSets::new(enc, &targets);

    // Local sources first (slivers this node holds, maybe of pairs it held in an earlier
    // epoch), expanded off the async workers.
    let local = {
        let (store, id, held) = (state.store.clone(), *id, held.clone());
        let wanted = [
            (SliverKind::Primary, sets.wanted(SliverKind::Primary)),
            (SliverKind::Secondary, sets.wanted(SliverKind::Secondary)),
        ];
        blocking(move || {
            let mut out = Vec::new();
            for (p, kind) in held {
                let Some((_, idx)) = wanted.iter().find(|(k, _)| *k == kind) else {
                    continue;
                };
                if idx.is_empty() {
                    continue;
                }
                if let Some(bytes) = store.sliver(&id, p, kind)?
                    && let Ok(s) = Sliver::from_wire(&bytes)
                    && let Ok(syms) = enc.recovery_symbols(&s, idx)
                {
                    out.extend(syms);
                }
            }
            Ok(out)
        })
        .await?
    };
    sets.add(&metadata, local);

    // Then peers' slivers, until every target has enough: each request asks only for the
    // indices still wanted when it is sent, and none is sent once all targets are complete.
    let wanted = [
        (
            SliverKind::Primary,
            StdMutex::new(sets.wanted(SliverKind::Primary)),
        ),
        (
            SliverKind::Secondary,
            StdMutex::new(sets.wanted(SliverKind::Secondary)),
        ),
    ];
    let wanted_now = |kind: SliverKind| -> Vec<u16> {
        wanted
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, w)| w.lock().ok().map(|w| w.clone()))
            .unwrap_or_default()
    };
    let mut requests = Vec::new();
    for m in committee.members.iter().filter(|m| m.node != state.node) {
        for q in committee.pairs_of(m.node, id) {
            for kind in [SliverKind::Secondary, SliverKind::Primary] {
                requests.push((m.clone(), q, kind));
            }
        }
    }
    if !sets.complete() {
        use futures::StreamExt as _;
        let mut answers = futures::stream::iter(requests.into_iter().map(|(m, q, kind)| {
            let idx = wanted_now(kind);
            let (peers, id) = (ctx.peers.clone(), *id);
            let limit = symbol_list_limit(enc.n_shards(), symbol_size, idx.len());
            async move {
                if idx.is_empty() {
                    return Ok(Vec::new());
                }
                peers.symbols(&m, &id, q, kind, &idx, limit).await
            }
        }))
        .buffer_unordered(RECOVERY_CONCURRENCY);
        while let Some(r) = answers.next().await {
            match r {
                Ok(syms) => {
                    sets.add(&metadata, syms);
                }
                Err(e) => tracing::debug!(blob = %id, error = %e, "symbols not fetched"),
            }
            if sets.complete() {
                break;
            }
            for (kind, w) in &wanted {
                if let Ok(mut w) = w.lock() {
                    *w = sets.wanted(*kind);
                }
            }
        }
    }

    let mut complete = true;
    for target @ (kind, p) in targets {
        let syms = sets.take(target);
        let need = enc.sliver_len(kind);
        if syms.len() < usize::from(need) {
            tracing::debug!(blob = %id, pair = p, %kind, have = syms.len(), need, "not enough symbols yet");
            complete = false;
            continue;
        }
        let m = metadata.clone();
        let rebuilt = tokio::task::spawn_blocking(move || enc.recover_sliver(&m, kind, p, syms))
            .await
            .map_err(|e| format!("recovery task failed: {e}"))?;
        match rebuilt {
            Ok(sliver) => {
                let (store, id) = (state.store.clone(), *id);
                blocking(move || store.put_sliver(&id, p, kind, &sliver.to_wire())).await?;
                Metrics::inc(&state.metrics.slivers_recovered);
                tracing::debug!(blob = %id, pair = p, %kind, "sliver recovered");
            }
            Err(RecoveryError::Inconsistent(proof)) => {
                tracing::warn!(blob = %id, pair = p, %kind, "blob is inconsistently encoded: attesting it invalid");
                return attest_invalid(ctx, &view, id, &proof).await;
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

/// Signs `msg` as this node (member `my_index` of `view`'s committee), asks every other
/// member with `ask`, and keeps the signatures made for `view`'s epoch. Returns the
/// certificate if their shards pass `enough` (quorum or validity), else the weight reached.
async fn collect_sigs<'a, F, Fut>(
    ctx: &Ctx,
    view: &'a EpochView,
    my_index: usize,
    id: &BlobId,
    msg: &[u8],
    enough: fn(&Committee, u64) -> bool,
    ask: F,
) -> TaskResult<Result<Certificate, u64>>
where
    F: Fn(&'a Member) -> Fut,
    Fut: std::future::Future<Output = Result<(u32, Signature), PeerError>>,
{
    let committee = &view.committee;
    let mut builder = CertificateBuilder::new(view.epoch(), committee.members.len());
    builder.add(my_index, ctx.state.key.sign(msg))?;
    let others = committee
        .members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != my_index);
    let answers = futures::future::join_all(others.map(|(i, member)| {
        let asked = ask(member);
        async move { (i, asked.await) }
    }))
    .await;
    for (i, r) in answers {
        match r {
            Ok((epoch, sig)) if epoch == view.epoch() => builder.add(i, sig)?,
            Ok((epoch, _)) => {
                tracing::debug!(blob = %id, epoch, "signature for another epoch ignored")
            }
            Err(e) => tracing::debug!(blob = %id, error = %e, "no signature"),
        }
    }
    let weight = builder.weight(&committee.shard_counts());
    if !enough(committee, weight) {
        return Ok(Err(weight));
    }
    Ok(Ok(builder.finish()?))
}

/// Collects signatures over `invalid_message` from peers that check `proof` (f+1 shards)
/// and submits `invalidateBlob`. Returns true once the blob is invalid on-chain.
async fn attest_invalid(
    ctx: &Ctx,
    view: &EpochView,
    id: &BlobId,
    proof: &InconsistencyProof,
) -> TaskResult<bool> {
    let state = &ctx.state;
    if ctx.chain.blob(id).await?.state == BlobState::Invalid {
        return Ok(true);
    }
    let Some(my_index) = view.committee.index_of(state.node) else {
        return Ok(true);
    };
    let msg = invalid_message(
        state.chain_id,
        state.registry.into_array(),
        view.epoch(),
        id.0,
    );
    let wire = proof.to_wire();
    let cert = collect_sigs(
        ctx,
        view,
        my_index,
        id,
        &msg,
        Committee::is_validity,
        |member| {
            let (peers, wire) = (ctx.peers.clone(), wire.clone());
            async move { peers.attest_invalid(member, id, wire, &msg).await }
        },
    )
    .await?;
    let cert = match cert {
        Ok(cert) => cert,
        Err(weight) => {
            tracing::info!(blob = %id, weight, "not enough attestations to invalidate yet");
            return Ok(false);
        }
    };
    let tx = ctx.chain.invalidate_blob(id, &cert).await?;
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
            tracing::warn!(error = %e, "listing pending blobs failed");
        }
    }
}

/// When this node first held all its slivers of a pending blob, and when it last tried.
#[derive(Debug, Default)]
struct CertifyTimers {
    complete_since: HashMap<BlobId, tokio::time::Instant>,
    last_attempt: HashMap<BlobId, tokio::time::Instant>,
}

/// One pass over the registered blobs; a failure on one blob is logged and the pass goes on.
async fn certify_once(ctx: &Ctx, timers: &mut CertifyTimers) -> TaskResult<()> {
    let view = ctx.state.view();
    let Some(my_index) = view.committee.index_of(ctx.state.node) else {
        return Ok(());
    };
    let store = ctx.state.store.clone();
    let blobs = blocking(move || store.blobs()).await?;
    for (id, entry) in blobs {
        if entry.state != BlobState::Registered || !entry.is_live(view.epoch()) {
            timers.complete_since.remove(&id);
            timers.last_attempt.remove(&id);
            continue;
        }
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
) -> TaskResult<()> {
    let state = &ctx.state;
    let m = view.committee.members.len();
    let now = tokio::time::Instant::now();
    let (have, need) = state.holds_all(view, &id).map_err(|e| e.to_string())?;
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
        blocking(move || store.put_blob(&id, &fresh)).await?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn symbol_sets_keep_one_verified_symbol_per_source_and_stop_at_need() {
        let enc = EncodingConfig::new(10).unwrap();
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
        let blob = enc.encode(&data).unwrap();
        let target = (SliverKind::Primary, 4);
        let (source_kind, index) = enc.recovery_request(target.0, target.1, 0);
        assert_eq!(source_kind, SliverKind::Secondary);
        let from = |q: usize| {
            enc.recovery_symbols(&blob.pairs[q].secondary, &[index])
                .unwrap()
        };
        let mut sets = SymbolSets::new(enc, &[target]);
        assert_eq!(sets.wanted(SliverKind::Secondary), vec![index]);
        assert!(sets.wanted(SliverKind::Primary).is_empty());

        // A tampered symbol is dropped; the same source twice counts once.
        let mut bad = from(0);
        bad[0].symbol[0] ^= 1;
        assert_eq!(sets.add(&blob.metadata, bad), 0);
        assert_eq!(sets.add(&blob.metadata, from(0)), 1);
        assert_eq!(sets.add(&blob.metadata, from(0)), 0);
        // A symbol no target asked for is ignored.
        let other = enc
            .recovery_symbols(&blob.pairs[1].secondary, &[(index + 1) % 10])
            .unwrap();
        assert_eq!(sets.add(&blob.metadata, other), 0);

        // Sources past the need (n - f = 7 for a primary) are not kept.
        let need = usize::from(enc.sliver_len(SliverKind::Primary));
        let mut kept = 1;
        for q in 1..10 {
            kept += sets.add(&blob.metadata, from(q));
            kept += sets.add(&blob.metadata, from(q));
        }
        assert_eq!(kept, need);
        assert!(sets.complete());
        assert!(sets.wanted(SliverKind::Secondary).is_empty());

        let syms = sets.take(target);
        assert_eq!(syms.len(), need);
        let rebuilt = enc
            .recover_sliver(&blob.metadata, target.0, target.1, syms)
            .unwrap();
        assert_eq!(rebuilt, blob.pairs[4].primary);
    }
}
