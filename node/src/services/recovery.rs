//! Rebuilds missing slivers of certified blobs from peers' recovery symbols. Several blobs
//! are recovered at once (`recovery_parallelism`), and a freed slot goes to the next queued
//! blob at once, so one slow blob never blocks the queue;
//! a blob that cannot be completed yet is retried with a delay doubling per attempt.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Mutex as StdMutex,
    time::Duration,
};

use floe_chain::{ChainError, Committee};
use floe_core::{
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    messages::invalid_message,
    metadata::{BlobMetadata, MetadataError},
    recovery::{InconsistencyProof, RecoveryError, RecoverySymbol},
    wire::Wire,
};
use futures::StreamExt as _;
use tokio::sync::watch;

use super::{
    Ctx, lock,
    signatures::{SignatureError, collect_sigs},
};
use crate::{
    api::{ApiError, load_metadata},
    metrics::Metrics,
    peers::symbol_list_limit,
    state::{EpochView, blocking},
    storage::Put,
    supervisor::ServiceResult,
};

/// The service's name in health and metrics.
pub const NAME: &str = "recovery";

/// Peer requests in flight at once while recovering one blob.
const RECOVERY_CONCURRENCY: usize = 32;

/// Recovering one blob failed (it is retried later).
#[derive(Debug, thiserror::Error)]
pub enum RecoveryTaskError {
    /// The store or a storage worker failed.
    #[error("storage: {0}")]
    Storage(#[from] ApiError),
    /// The chain could not be asked.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The stored metadata is unusable.
    #[error("metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// Collecting attestations failed.
    #[error("attestations: {0}")]
    Signatures(#[from] SignatureError),
    /// A worker task failed.
    #[error("worker: {0}")]
    Worker(String),
}

impl From<crate::storage::StoreError> for RecoveryTaskError {
    fn from(e: crate::storage::StoreError) -> Self {
        RecoveryTaskError::Storage(ApiError::Storage(e))
    }
}

/// First delay before retrying an incomplete recovery; it doubles up to [`RECOVERY_MAX_DELAY`].
const RECOVERY_FIRST_DELAY: Duration = Duration::from_secs(2);
/// Longest delay between recovery attempts of one blob.
const RECOVERY_MAX_DELAY: Duration = Duration::from_secs(60);

/// Works through the recovery queue, `recovery_parallelism` blobs at a time: a slot freed by
/// one blob is given at once to the next ready one, also to a blob queued while others are
/// still being recovered, so a blob whose peers stall never holds up the rest. Blobs that
/// could not be completed are retried later, with a delay doubling per attempt.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) -> ServiceResult {
    type Task = futures::future::BoxFuture<'static, (BlobId, Result<bool, RecoveryTaskError>)>;
    let mut retry: HashMap<BlobId, (tokio::time::Instant, Duration)> = HashMap::new();
    let mut running: futures::stream::FuturesUnordered<Task> = Default::default();
    let mut in_flight: HashSet<BlobId> = HashSet::new();
    let parallelism = ctx.recovery_parallelism.max(1);
    loop {
        if running.len() < parallelism {
            let mut q = lock(&ctx.recovery_queue);
            let now = tokio::time::Instant::now();
            let ready: Vec<BlobId> = q
                .iter()
                .copied()
                .filter(|id| !in_flight.contains(id))
                .filter(|id| retry.get(id).is_none_or(|(at, _)| *at <= now))
                .take(parallelism - running.len())
                .collect();
            for id in ready {
                q.remove(&id);
                in_flight.insert(id);
                let ctx = ctx.clone();
                running.push(Box::pin(async move {
                    let outcome = recover_blob(&ctx, &id).await;
                    (id, outcome)
                }));
            }
        }
        let done = tokio::select! {
            Some(done) = running.next(), if !running.is_empty() => Some(done),
            _ = tokio::time::sleep(ctx.poll) => None,
            _ = ctx.recovery_wake.notified() => None,
            _ = shutdown.changed() => return Ok(()),
        };
        if let Some((id, outcome)) = done {
            in_flight.remove(&id);
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
                lock(&ctx.recovery_queue).insert(id);
            }
        }
        ctx.state.services.ok(NAME);
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
pub async fn recover_blob(ctx: &Ctx, id: &BlobId) -> Result<bool, RecoveryTaskError> {
    let state = &ctx.state;
    let view = state.view();
    let Some(entry) = state.store.blob(id)? else {
        return Ok(true);
    };
    if !crate::liveness::Liveness::of(&entry).is_certified(view.epoch()) {
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
    let mut metadata = load_metadata(state, id)?;
    if targets.is_empty() && metadata.is_some() {
        return Ok(true);
    }
    if metadata.is_none() {
        for m in committee.members.iter().filter(|m| m.node != state.node) {
            match ctx.peers.metadata(m, id, &state.encoding).await {
                Ok((bytes, meta)) => {
                    let id = *id;
                    state.store_if_live(id, Put::metadata(&id, bytes)).await?;
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
            .map_err(|e| RecoveryTaskError::Worker(e.to_string()))?;
        match rebuilt {
            Ok(sliver) => {
                let id = *id;
                state
                    .store_if_live(id, Put::sliver(&id, p, kind, sliver.to_wire()))
                    .await?;
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

/// Collects signatures over `invalid_message` from peers that check `proof` (f+1 shards)
/// and submits `invalidateBlob`. Returns true once the blob is invalid on-chain.
async fn attest_invalid(
    ctx: &Ctx,
    view: &EpochView,
    id: &BlobId,
    proof: &InconsistencyProof,
) -> Result<bool, RecoveryTaskError> {
    let state = &ctx.state;
    if ctx.chain.blob_status(id).await?.invalid {
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
