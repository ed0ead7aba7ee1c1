//! The node's shared state: its keys, its store, its view of the current epoch and committee,
//! and the way it asks the chain about blobs it has not seen yet.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use floe_chain::{
    BlobStatusRecord, Chain, ChainError, Committee, RegistrationRecord, RegistrationState,
    alloy::primitives::Address,
};
use floe_core::{
    bls::{PublicKey, SecretKey},
    encoding::{EncodingConfig, SliverKind},
    ids::BlobId,
    protocol::WireLimits,
};
use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use crate::{
    api::ApiError,
    liveness::{Liveness, registration_is_live},
    metrics::Metrics,
    storage::{BlobEntry, KnownRegistration, Put, Store, StoreError},
    supervisor::Services,
};

/// Where the node asks about blobs and registrations it has no entry for (the writer just
/// registered and the follower has not caught up). [`Chain`] implements it; handler tests use
/// a fake.
pub trait BlobSource: Send + Sync + 'static {
    /// The blob id's status over all its registrations (`blobStatus`).
    fn blob_status(&self, id: BlobId) -> BoxFuture<'static, Result<BlobStatusRecord, ChainError>>;
    /// One registration (`registration`; state `None` if there is no such id).
    fn registration(
        &self,
        registration_id: u64,
    ) -> BoxFuture<'static, Result<RegistrationRecord, ChainError>>;
}

impl BlobSource for Chain {
    fn blob_status(&self, id: BlobId) -> BoxFuture<'static, Result<BlobStatusRecord, ChainError>> {
        let chain = self.clone();
        Box::pin(async move { chain.blob_status(&id).await })
    }

    fn registration(
        &self,
        registration_id: u64,
    ) -> BoxFuture<'static, Result<RegistrationRecord, ChainError>> {
        let chain = self.clone();
        Box::pin(async move { chain.registration(registration_id).await })
    }
}

/// What a "not on-chain" answer was about (blob ids and registration ids are cached apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Absent {
    Blob(BlobId),
    Registration(u64),
}

/// The epoch the node works in: its committee (which carries the epoch number). Handlers and
/// tasks read it once ([`NodeState::view`]) and use that one snapshot throughout, so a check
/// and a signature never straddle an epoch change.
#[derive(Debug, Clone)]
pub struct EpochView {
    /// The current epoch's committee.
    pub committee: Arc<Committee>,
}

impl EpochView {
    /// The view of `committee`'s epoch.
    pub fn new(committee: Committee) -> Self {
        EpochView {
            committee: Arc::new(committee),
        }
    }

    /// The current epoch.
    pub fn epoch(&self) -> u32 {
        self.committee.epoch
    }
}

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest metadata body (an operator cap on top of the exact size).
    pub max_metadata_bytes: usize,
    /// Largest sliver body (an operator cap on top of the exact size).
    pub max_sliver_bytes: usize,
    /// Largest inconsistency proof body (an operator cap on top of the exact size).
    pub max_proof_bytes: usize,
    /// How long an upload, read or CPU-heavy request waits for a slot.
    pub upload_wait: Duration,
    /// GETs of metadata and slivers loaded at the same time.
    pub max_concurrent_reads: usize,
    /// CPU-heavy requests at the same time (recovery symbols, proof checks).
    pub cpu_slots: usize,
    /// Slowest accepted body, bytes per second.
    pub body_min_rate: u64,
    /// Time any body gets on top of its size at the minimum rate.
    pub body_min_time: Duration,
    /// Chain lookups of blobs the node has no entry for, per second (sustained).
    pub chain_lookups_per_sec: u32,
    /// Chain lookups allowed in a burst.
    pub chain_lookup_burst: u32,
    /// How long "not registered" answers are remembered.
    pub negative_cache_ttl: Duration,
    /// Most ids remembered as not registered.
    pub negative_cache_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        use crate::config::defaults as d;
        Limits {
            max_metadata_bytes: d::max_metadata_bytes(),
            max_sliver_bytes: d::max_sliver_bytes(),
            max_proof_bytes: d::max_proof_bytes(),
            upload_wait: Duration::from_millis(d::upload_wait_ms()),
            max_concurrent_reads: d::max_concurrent_reads(),
            cpu_slots: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            body_min_rate: d::body_min_rate(),
            body_min_time: Duration::from_millis(d::body_min_time_ms()),
            chain_lookups_per_sec: d::chain_lookups_per_sec(),
            chain_lookup_burst: d::chain_lookup_burst(),
            negative_cache_ttl: Duration::from_millis(d::negative_cache_ttl_ms()),
            negative_cache_size: d::negative_cache_size(),
        }
    }
}

/// Bounds the chain lookups strangers can cause: a token bucket over all lookups of ids the
/// node has no entry for, and a bounded cache of recent "not registered" answers.
#[derive(Debug)]
struct ChainLookups {
    bucket: Mutex<(f64, Instant)>,
    negative: Mutex<HashMap<Absent, Instant>>,
}

impl ChainLookups {
    fn new(limits: &Limits) -> Self {
        ChainLookups {
            bucket: Mutex::new((f64::from(limits.chain_lookup_burst), Instant::now())),
            negative: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token, or says how many seconds until one is there.
    fn take(&self, limits: &Limits) -> Result<(), u64> {
        let rate = f64::from(limits.chain_lookups_per_sec.max(1));
        let burst = f64::from(limits.chain_lookup_burst.max(1));
        let mut g = match self.bucket.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        let (tokens, last) = *g;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(burst);
        if tokens >= 1.0 {
            *g = (tokens - 1.0, now);
            Ok(())
        } else {
            *g = (tokens, now);
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    fn is_known_absent(&self, id: &Absent, ttl: Duration) -> bool {
        let g = match self.negative.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.get(id).is_some_and(|at| at.elapsed() < ttl)
    }

    fn remember_absent(&self, id: Absent, limits: &Limits) {
        let mut g = match self.negative.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if g.len() >= limits.negative_cache_size {
            let ttl = limits.negative_cache_ttl;
            g.retain(|_, at| at.elapsed() < ttl);
            if g.len() >= limits.negative_cache_size
                && let Some(oldest) = g.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k)
            {
                g.remove(&oldest);
            }
        }
        if limits.negative_cache_size > 0 {
            g.insert(id, Instant::now());
        }
    }

    fn forget(&self, id: &Absent) {
        if let Ok(mut g) = self.negative.lock() {
            g.remove(id);
        }
    }
}

/// Everything handlers and background tasks share.
pub struct NodeState {
    /// The database.
    pub store: Store,
    /// The encoding parameters (`n` from the chain).
    pub encoding: EncodingConfig,
    /// The BLS key confirmations are signed with.
    pub key: SecretKey,
    /// Its public key.
    pub public_key: PublicKey,
    /// The operator address (node id).
    pub node: Address,
    /// The chain id signed into confirmations.
    pub chain_id: u64,
    /// The registry signed into confirmations.
    pub registry: Address,
    /// Request limits.
    pub limits: Limits,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Exact wire sizes for this deployment's encoding.
    pub wire: WireLimits,
    /// The background services' health.
    pub services: Arc<Services>,
    view: RwLock<EpochView>,
    source: Arc<dyn BlobSource>,
    uploads: Semaphore,
    reads: Semaphore,
    cpu: Semaphore,
    lookups: ChainLookups,
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeState")
            .field("node", &self.node)
            .field("view", &self.view())
            .finish()
    }
}

/// Unix time in seconds.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl NodeState {
    /// Builds the state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        encoding: EncodingConfig,
        key: SecretKey,
        node: Address,
        chain_id: u64,
        registry: Address,
        limits: Limits,
        max_concurrent_uploads: usize,
        view: EpochView,
        source: Arc<dyn BlobSource>,
    ) -> Self {
        let metrics = Metrics::default();
        metrics.epoch.store(
            u64::from(view.epoch()),
            std::sync::atomic::Ordering::Relaxed,
        );
        NodeState {
            wire: WireLimits::new(encoding),
            services: Arc::new(Services::default()),
            reads: Semaphore::new(limits.max_concurrent_reads.max(1)),
            cpu: Semaphore::new(limits.cpu_slots.max(1)),
            lookups: ChainLookups::new(&limits),
            store,
            encoding,
            public_key: key.public_key(),
            key,
            node,
            chain_id,
            registry,
            limits,
            metrics,
            view: RwLock::new(view),
            source,
            uploads: Semaphore::new(max_concurrent_uploads),
        }
    }

    /// The current epoch and committee.
    pub fn view(&self) -> EpochView {
        match self.view.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the current epoch and committee.
    pub fn set_view(&self, view: EpochView) {
        self.metrics.epoch.store(
            u64::from(view.epoch()),
            std::sync::atomic::Ordering::Relaxed,
        );
        match self.view.write() {
            Ok(mut v) => *v = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
    }

    /// The sliver pairs of `id` this node holds in `view`'s epoch.
    pub fn my_pairs(&self, view: &EpochView, id: &BlobId) -> Vec<u16> {
        view.committee.pairs_of(self.node, id)
    }

    /// A slot for one upload, waiting up to the configured time. Taken before the body is
    /// read, so the slots bound the memory uploads hold.
    pub async fn upload_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.limits.upload_wait, self.uploads.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }

    /// Upload slots free now.
    pub fn free_upload_slots(&self) -> usize {
        self.uploads.available_permits()
    }

    /// A slot for loading a stored value to serve it (metadata, sliver).
    pub async fn read_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.limits.upload_wait, self.reads.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }

    /// A slot for CPU-heavy work on behalf of a request (expanding a sliver for recovery
    /// symbols, checking an inconsistency proof): one per core, waiting up to the upload wait.
    pub async fn cpu_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.limits.upload_wait, self.cpu.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }

    /// The blob id's status on-chain now (bypassing the store).
    pub async fn chain_status(&self, id: &BlobId) -> Result<BlobStatusRecord, ChainError> {
        Metrics::inc(&self.metrics.chain_lookups);
        self.source.blob_status(*id).await
    }

    /// A registration on-chain now (bypassing the store).
    pub async fn chain_registration(
        &self,
        registration_id: u64,
    ) -> Result<RegistrationRecord, ChainError> {
        Metrics::inc(&self.metrics.chain_lookups);
        self.source.registration(registration_id).await
    }

    /// Rate-limits and negative-caches a chain lookup a request causes: over all requests
    /// (503 with `Retry-After` beyond the rate); "not on-chain" answers are remembered for
    /// `negative_cache_ttl`, so repeated unknown ids cost no RPC.
    async fn request_lookup<T>(
        &self,
        key: Absent,
        lookup: impl std::future::Future<Output = Result<T, ChainError>>,
        absent: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, ApiError> {
        if self
            .lookups
            .is_known_absent(&key, self.limits.negative_cache_ttl)
        {
            return Ok(None);
        }
        self.lookups
            .take(&self.limits)
            .map_err(|retry_after_secs| ApiError::ChainBusy { retry_after_secs })?;
        let record = lookup
            .await
            .map_err(|e| ApiError::ChainUnavailable(e.to_string()))?;
        if absent(&record) {
            self.lookups.remember_absent(key, &self.limits);
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// The blob's status on behalf of a request (`None`: never registered).
    async fn request_status(&self, id: &BlobId) -> Result<Option<BlobStatusRecord>, ApiError> {
        self.request_lookup(Absent::Blob(*id), self.chain_status(id), |s| !s.is_known())
            .await
    }

    /// A registration on behalf of a request (`None`: no such registration).
    async fn request_registration(
        &self,
        registration_id: u64,
    ) -> Result<Option<RegistrationRecord>, ApiError> {
        self.request_lookup(
            Absent::Registration(registration_id),
            self.chain_registration(registration_id),
            |r| r.state == RegistrationState::None,
        )
        .await
    }

    /// Forgets a cached "not registered" of a blob id (the follower saw a registration).
    pub fn forget_absent(&self, id: &BlobId) {
        self.lookups.forget(&Absent::Blob(*id));
    }

    /// Forgets a cached "no such registration" (the follower saw it).
    pub fn forget_absent_registration(&self, registration_id: u64) {
        self.lookups.forget(&Absent::Registration(registration_id));
    }

    /// What the node knows of `id`, asking the chain if it has no entry yet (and remembering
    /// the answer). A blob the chain does not know is [`ApiError::NotRegistered`].
    pub async fn blob_entry(&self, id: &BlobId) -> Result<BlobEntry, ApiError> {
        if let Some(e) = self.store.blob(id)? {
            return Ok(e);
        }
        let status = self
            .request_status(id)
            .await?
            .ok_or(ApiError::NotRegistered(*id))?;
        let (store, id) = (self.store.clone(), *id);
        let fresh = BlobEntry::from_status(&status);
        let kept = blocking(move || store.put_blob_if_unchanged(&id, None, fresh.clone())).await?;
        kept.ok_or_else(|| ApiError::Internal(format!("the entry of blob {id} vanished")))
    }

    /// Like [`NodeState::blob_entry`], but only for blobs that accept data now: some
    /// registration lives; anything else is [`ApiError::Gone`].
    pub async fn live_blob(&self, view: &EpochView, id: &BlobId) -> Result<BlobEntry, ApiError> {
        let entry = self.blob_entry(id).await?;
        let epoch = view.epoch();
        if Liveness::of(&entry).is_live(epoch) {
            return Ok(entry);
        }
        // The follower may lag (a new registration or an extension): ask the chain once
        // (rate-limited like any lookup a request causes). Written only if the follower did
        // not write meanwhile.
        if let Ok(Some(status)) = self.request_status(id).await
            && status.is_live(epoch)
        {
            let mut fresh = entry.clone();
            fresh.set_status(&status, epoch);
            let (store, id, seen) = (self.store.clone(), *id, entry.rev);
            let kept =
                blocking(move || store.put_blob_if_unchanged(&id, Some(seen), fresh)).await?;
            if let Some(kept) = kept
                && Liveness::of(&kept).is_live(epoch)
            {
                return Ok(kept);
            }
        }
        Err(ApiError::Gone {
            id: *id,
            reason: Liveness::of(&entry).gone_reason(epoch),
        })
    }

    /// Registration `registration_id` of blob `id`, if it lives at `view`'s epoch: from the
    /// blob's entry, else from the chain (rate-limited, "no such registration" cached). Fails
    /// with [`ApiError::NotRegistered`] (blob or registration unknown),
    /// [`ApiError::RegistrationMismatch`] (it is another blob's) or
    /// [`ApiError::RegistrationGone`] (deleted, expired or the blob invalid).
    pub async fn live_registration(
        &self,
        view: &EpochView,
        id: &BlobId,
        registration_id: u64,
    ) -> Result<KnownRegistration, ApiError> {
        let entry = self.blob_entry(id).await?;
        let epoch = view.epoch();
        let gone = |reason| ApiError::RegistrationGone {
            id: *id,
            registration_id,
            reason,
        };
        if let Some(k) = entry.known(registration_id) {
            return if registration_is_live(&entry, k, epoch) {
                Ok(*k)
            } else if entry.invalid {
                Err(gone("invalid"))
            } else {
                Err(gone("expired"))
            };
        }
        let record = self
            .request_registration(registration_id)
            .await?
            .ok_or(ApiError::UnknownRegistration(registration_id))?;
        if record.blob_id != *id {
            return Err(ApiError::RegistrationMismatch {
                id: *id,
                registration_id,
                actual: record.blob_id,
            });
        }
        if !record.is_live(epoch) {
            return Err(gone(if record.invalid {
                "invalid"
            } else if record.state == RegistrationState::Deleted {
                "deleted"
            } else {
                "expired"
            }));
        }
        let known = KnownRegistration {
            id: registration_id,
            deletable: record.deletable,
            certified: record.state == RegistrationState::Certified,
            end_epoch: record.end_epoch,
        };
        // Remember it (unless the follower wrote meanwhile: its view is newer).
        let (store, id, seen) = (self.store.clone(), *id, entry.rev);
        blocking(move || {
            store.modify_blob(
                &id,
                Box::new(move |old| {
                    let old = old.filter(|o| o.rev == seen)?;
                    let mut e = old.clone();
                    e.merge_registration(&record, epoch);
                    Some(e)
                }),
            )
        })
        .await?;
        Ok(known)
    }

    /// Stores an upload's metadata or sliver, if the blob still accepts writes: checked in
    /// the write transaction, so a write racing garbage collection never leaves orphan data.
    pub async fn store_if_live(&self, id: BlobId, put: Put) -> Result<(), ApiError> {
        let store = self.store.clone();
        match blocking(move || store.put_checked(put)).await {
            Err(ApiError::Storage(StoreError::NotAccepting(reason))) => {
                Err(ApiError::Gone { id, reason })
            }
            r => r,
        }
    }

    /// How many of the slivers of `id` this node must hold in `view`'s epoch it holds:
    /// `(held, needed)`.
    pub fn holds_all(&self, view: &EpochView, id: &BlobId) -> Result<(usize, usize), ApiError> {
        let pairs = self.my_pairs(view, id);
        let held = self.store.held_slivers(id)?;
        let have = pairs
            .iter()
            .map(|&p| {
                [SliverKind::Primary, SliverKind::Secondary]
                    .iter()
                    .filter(|&&k| held.contains(&(p, k)))
                    .count()
            })
            .sum();
        Ok((have, 2 * pairs.len()))
    }
}

/// Runs blocking store work (redb reads and writes, fsync) off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => Ok(r?),
        Err(e) => Err(ApiError::Storage(StoreError::Db(format!(
            "storage task failed: {e}"
        )))),
    }
}

/// Why a blob no longer accepts data.
pub fn gone_reason(entry: &BlobEntry, epoch: u32) -> &'static str {
    Liveness::of(entry).gone_reason(epoch)
}
