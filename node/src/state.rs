//! The node's shared state: its keys, its store, its view of the current epoch and committee,
//! and the way it asks the chain about blobs it has not seen yet.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use floe_chain::{BlobRecord, BlobState, Chain, ChainError, Committee, alloy::primitives::Address};
use floe_core::{
    bls::{PublicKey, SecretKey},
    encoding::{EncodingConfig, SliverKind},
    ids::BlobId,
};
use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use crate::{
    api::ApiError,
    metrics::Metrics,
    storage::{BlobEntry, Store, StoreError},
};

/// Where the node asks about a blob it has no entry for (the writer just registered it and
/// the follower has not caught up). [`Chain`] implements it; handler tests use a fake.
pub trait BlobSource: Send + Sync + 'static {
    /// The blob's registration on-chain.
    fn blob(&self, id: BlobId) -> BoxFuture<'static, Result<BlobRecord, ChainError>>;
}

impl BlobSource for Chain {
    fn blob(&self, id: BlobId) -> BoxFuture<'static, Result<BlobRecord, ChainError>> {
        let chain = self.clone();
        Box::pin(async move { chain.blob(&id).await })
    }
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
    /// Largest metadata body.
    pub max_metadata_bytes: usize,
    /// Largest sliver body.
    pub max_sliver_bytes: usize,
    /// How long an upload waits for a slot.
    pub upload_wait: Duration,
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
    view: RwLock<EpochView>,
    source: Arc<dyn BlobSource>,
    uploads: Semaphore,
    cpu: Semaphore,
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

impl BlobEntry {
    /// The entry for an on-chain record (not collected).
    pub fn from_record(r: &BlobRecord) -> Self {
        BlobEntry {
            state: r.state,
            size: r.size,
            deletable: r.deletable,
            registered_epoch: r.registered_epoch,
            end_epoch: r.end_epoch,
            collected: false,
        }
    }
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
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        NodeState {
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
            cpu: Semaphore::new(cpus),
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

    /// A slot for CPU-heavy work on behalf of a request (expanding a sliver for recovery
    /// symbols, checking an inconsistency proof): one per core, waiting up to the upload wait.
    pub async fn cpu_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.limits.upload_wait, self.cpu.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }

    /// The blob's registration on-chain now (bypassing the store).
    pub async fn chain_record(&self, id: &BlobId) -> Result<BlobRecord, ChainError> {
        self.source.blob(*id).await
    }

    /// What the node knows of `id`, asking the chain if it has no entry yet (and remembering
    /// the answer). A blob the chain does not know is [`ApiError::NotRegistered`].
    pub async fn blob_entry(&self, id: &BlobId) -> Result<BlobEntry, ApiError> {
        if let Some(e) = self.store.blob(id)? {
            return Ok(e);
        }
        let record = self
            .source
            .blob(*id)
            .await
            .map_err(|e| ApiError::ChainUnavailable(e.to_string()))?;
        if record.state == BlobState::None {
            return Err(ApiError::NotRegistered(*id));
        }
        let entry = BlobEntry::from_record(&record);
        let (store, id) = (self.store.clone(), *id);
        blocking(move || store.put_blob(&id, &entry)).await?;
        Ok(entry)
    }

    /// Like [`NodeState::blob_entry`], but only for blobs that accept data now: registered or
    /// certified and unexpired; anything else is [`ApiError::Gone`].
    pub async fn live_blob(&self, view: &EpochView, id: &BlobId) -> Result<BlobEntry, ApiError> {
        let entry = self.blob_entry(id).await?;
        let epoch = view.epoch();
        if !entry.is_live(epoch) {
            // The follower may lag (a re-registration or an extension): ask the chain once.
            if let Ok(record) = self.source.blob(*id).await
                && record.is_live(epoch)
            {
                let entry = BlobEntry::from_record(&record);
                let (store, id) = (self.store.clone(), *id);
                blocking(move || store.put_blob(&id, &entry)).await?;
                return Ok(entry);
            }
            return Err(ApiError::Gone {
                id: *id,
                reason: gone_reason(&entry, epoch),
            });
        }
        Ok(entry)
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
    match entry.state {
        BlobState::Deleted => "deleted",
        BlobState::Invalid => "invalid",
        BlobState::None => "not registered",
        _ if epoch >= entry.end_epoch => "expired",
        _ => "unavailable",
    }
}
