//! [`FakeBackend`]: an in-memory [`Backend`] for tests (this crate's and those above it, with
//! the `test-support` feature). Blobs are inserted directly or stored through the gateway;
//! reads stream in small chunks so that streaming is exercised; stores can be held at a gate
//! so that tests can fill the upload slots; the whole backend can be made unavailable.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Range,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use floe_core::ids::{BlobId, ENCODING_RED_STUFF};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::{
    backend::{
        AlreadyCertified, Backend, BlobHead, BlobInfo, BlobObject, BlobState, ByteStream,
        CommitteeMember, EvmAddress, NetworkStatus, NewlyCreated, NodeHealth, Phase, PhaseSink,
        PhaseUpdate, PublisherInfo, RecentBlob, RegistrationInfo, StoreRequest, StoreResponse,
        TxRecord,
    },
    error::BackendError,
};

/// Bytes per chunk of a fake read stream.
pub const CHUNK: usize = 5;

/// The fake publisher's address.
pub const PUBLISHER: EvmAddress = EvmAddress([0x11; 20]);

/// The `Retry-After` of the fake's unavailability.
pub const RETRY_AFTER: Duration = Duration::from_secs(7);

/// One registration of a fake blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRegistration {
    /// Its id.
    pub id: u64,
    /// Its owner.
    pub owner: EvmAddress,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// Its deletable flag.
    pub deletable: bool,
}

/// A fake blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeBlob {
    /// Its bytes.
    pub data: Bytes,
    /// Its state.
    pub state: BlobState,
    /// Seconds until its certified end epoch.
    pub secs_until_certified_end: u64,
    /// Its registrations, oldest first.
    pub registrations: Vec<FakeRegistration>,
}

/// Holds stores until released, and tells when one arrived.
#[derive(Debug)]
pub struct StoreGate {
    entered: Semaphore,
    release: Semaphore,
}

impl Default for StoreGate {
    fn default() -> Self {
        Self {
            entered: Semaphore::new(0),
            release: Semaphore::new(0),
        }
    }
}

impl StoreGate {
    /// Waits until a store has arrived at the gate.
    pub async fn wait_entered(&self) {
        if let Ok(p) = self.entered.acquire().await {
            p.forget();
        }
    }

    /// Lets `n` held stores through.
    pub fn release(&self, n: usize) {
        self.release.add_permits(n);
    }
}

#[derive(Debug, Default)]
struct Inner {
    blobs: Mutex<HashMap<BlobId, FakeBlob>>,
    next_registration: AtomicU64,
    stores: AtomicUsize,
    reads: Mutex<Vec<Range<u64>>>,
    unavailable: AtomicBool,
    gate: Mutex<Option<Arc<StoreGate>>>,
}

/// An in-memory backend.
#[derive(Debug, Clone, Default)]
pub struct FakeBackend {
    inner: Arc<Inner>,
}

/// The blob id the fake gives `data`.
pub fn fake_blob_id(data: &[u8]) -> BlobId {
    let root: [u8; 32] = Sha256::digest(data).into();
    BlobId::from_parts(ENCODING_RED_STUFF, data.len() as u64, &root)
}

impl FakeBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    fn blobs(&self) -> std::sync::MutexGuard<'_, HashMap<BlobId, FakeBlob>> {
        self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Inserts `data` in `state` with one registration carrying `attributes`, cached for an
    /// hour; returns its id.
    pub fn insert(&self, data: &[u8], state: BlobState, attributes: &[(&str, &str)]) -> BlobId {
        let id = fake_blob_id(data);
        let reg = self.registration(PUBLISHER, attributes, false);
        self.blobs().insert(
            id,
            FakeBlob {
                data: Bytes::copy_from_slice(data),
                state,
                secs_until_certified_end: 3600,
                registrations: vec![reg],
            },
        );
        id
    }

    fn registration(
        &self,
        owner: EvmAddress,
        attributes: &[(&str, &str)],
        deletable: bool,
    ) -> FakeRegistration {
        FakeRegistration {
            id: self.inner.next_registration.fetch_add(1, Ordering::Relaxed) + 1,
            owner,
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            deletable,
        }
    }

    /// Adds a registration with `attributes` to a blob; returns its id.
    pub fn add_registration(&self, blob_id: BlobId, attributes: &[(&str, &str)]) -> Option<u64> {
        let reg = self.registration(PUBLISHER, attributes, false);
        let id = reg.id;
        self.blobs().get_mut(&blob_id)?.registrations.push(reg);
        Some(id)
    }

    /// A copy of a blob.
    pub fn blob(&self, blob_id: &BlobId) -> Option<FakeBlob> {
        self.blobs().get(blob_id).cloned()
    }

    /// Changes a blob's seconds until its certified end.
    pub fn set_secs_until_certified_end(&self, blob_id: &BlobId, secs: u64) {
        if let Some(b) = self.blobs().get_mut(blob_id) {
            b.secs_until_certified_end = secs;
        }
    }

    /// Makes every call fail with `Unavailable` (or not).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.inner.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// How many stores were called.
    pub fn store_calls(&self) -> usize {
        self.inner.stores.load(Ordering::SeqCst)
    }

    /// The ranges read so far, in order.
    pub fn reads(&self) -> Vec<Range<u64>> {
        self.inner
            .reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Holds every later store at the returned gate.
    pub fn hold_stores(&self) -> Arc<StoreGate> {
        let gate = Arc::new(StoreGate::default());
        *self.inner.gate.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&gate));
        gate
    }

    fn check_available(&self) -> Result<(), BackendError> {
        if self.inner.unavailable.load(Ordering::SeqCst) {
            return Err(BackendError::unavailable(
                "too few storage nodes answered; retry later",
                RETRY_AFTER,
            ));
        }
        Ok(())
    }

    fn find(&self, blob_id: &BlobId) -> Result<FakeBlob, BackendError> {
        self.blob(blob_id)
            .ok_or_else(|| BackendError::not_found(format!("blob {blob_id} was never registered")))
    }
}

fn blob_object(id: &BlobId, blob: &FakeBlob, reg: &FakeRegistration) -> BlobObject {
    BlobObject {
        blob_id: id.to_string(),
        registration_id: reg.id,
        owner: reg.owner.to_string(),
        size: blob.data.len() as u64,
        deletable: reg.deletable,
        end_epoch: 12,
        shared: false,
    }
}

fn tx(action: &str, n: u8) -> TxRecord {
    TxRecord {
        action: action.to_owned(),
        hash: format!("0x{}", hex::encode([n; 32])),
    }
}

impl Backend for FakeBackend {
    async fn blob_head(
        &self,
        blob_id: BlobId,
        registration: Option<u64>,
    ) -> Result<BlobHead, BackendError> {
        self.check_available()?;
        let blob = self.find(&blob_id)?;
        let reg = match registration {
            Some(n) => blob
                .registrations
                .iter()
                .find(|r| r.id == n)
                .ok_or_else(|| {
                    BackendError::not_found(format!(
                        "registration {n} is not a registration of blob {blob_id}"
                    ))
                })?,
            None => blob
                .registrations
                .first()
                .ok_or_else(|| BackendError::not_found("no registration"))?,
        };
        Ok(BlobHead {
            state: blob.state,
            size: blob.data.len() as u64,
            certified_end_epoch: 12,
            secs_until_certified_end: blob.secs_until_certified_end,
            registration_id: reg.id,
            attributes: reg.attributes.clone(),
        })
    }

    async fn read_range(
        &self,
        blob_id: BlobId,
        range: Range<u64>,
    ) -> Result<ByteStream, BackendError> {
        self.check_available()?;
        let blob = self.find(&blob_id)?;
        if range.start >= range.end || range.end > blob.data.len() as u64 {
            return Err(BackendError::internal(format!("bad range {range:?}")));
        }
        self.inner
            .reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(range.clone());
        let part = blob.data.slice(range.start as usize..range.end as usize);
        let chunks: Vec<Result<Bytes, BackendError>> = (0..part.len())
            .step_by(CHUNK)
            .map(|i| Ok(part.slice(i..(i + CHUNK).min(part.len()))))
            .collect();
        Ok(Box::pin(futures::stream::iter(chunks)))
    }

    async fn store(
        &self,
        request: StoreRequest,
        on_phase: PhaseSink,
    ) -> Result<StoreResponse, BackendError> {
        self.inner.stores.fetch_add(1, Ordering::SeqCst);
        let gate = self
            .inner
            .gate
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(gate) = gate {
            gate.entered.add_permits(1);
            if let Ok(p) = gate.release.acquire().await {
                p.forget();
            }
        }
        self.check_available()?;
        let id = fake_blob_id(&request.data);
        if let Some(blob) = self.blob(&id)
            && blob.state == BlobState::Certified
            && let Some(reg) = blob.registrations.first()
        {
            return Ok(StoreResponse::AlreadyCertified(AlreadyCertified {
                blob_object: blob_object(&id, &blob, reg),
                transactions: vec![],
            }));
        }
        for phase in [Phase::Encode, Phase::Register] {
            on_phase(PhaseUpdate::enter(phase));
        }
        for done in 1..=3 {
            on_phase(PhaseUpdate {
                phase: Phase::Upload,
                done: Some(done),
                total: Some(3),
            });
        }
        on_phase(PhaseUpdate::enter(Phase::Certify));
        let attrs: Vec<(&str, &str)> = request
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut reg = self.registration(PUBLISHER, &attrs, request.deletable);
        let mut transactions = vec![tx("register", 1), tx("certify", 2)];
        if let Some(owner) = request.owner {
            on_phase(PhaseUpdate::enter(Phase::Transfer));
            reg.owner = owner;
            transactions.push(tx("transfer", 3));
        }
        let blob = FakeBlob {
            data: request.data.clone(),
            state: BlobState::Certified,
            secs_until_certified_end: 3600 * u64::from(request.epochs),
            registrations: vec![reg.clone()],
        };
        let object = blob_object(&id, &blob, &reg);
        self.blobs().insert(id, blob);
        Ok(StoreResponse::NewlyCreated(NewlyCreated {
            blob_object: object,
            cost_frost: (request.data.len() as u64 * u64::from(request.epochs)).to_string(),
            transactions,
        }))
    }

    async fn blob_info(&self, blob_id: BlobId) -> Result<BlobInfo, BackendError> {
        self.check_available()?;
        let blob = self.find(&blob_id)?;
        let first = blob.registrations.first();
        Ok(BlobInfo {
            blob_id: blob_id.to_string(),
            state: blob.state,
            size: blob.data.len() as u64,
            current_epoch: 7,
            end_epoch: 12,
            certified_end_epoch: 12,
            primary_registration_id: first.map(|r| r.id),
            attributes: first.map(|r| r.attributes.clone()).unwrap_or_default(),
            download_url: String::new(),
            registrations: blob
                .registrations
                .iter()
                .rev()
                .map(|r| RegistrationInfo {
                    registration_id: r.id,
                    owner: r.owner.to_string(),
                    state: blob.state,
                    deletable: r.deletable,
                    shared: false,
                    registered_epoch: 5,
                    certified_epoch: 5,
                    end_epoch: 12,
                    attributes: r.attributes.clone(),
                    register_tx: Some(tx("register", 1).hash),
                    certify_tx: None,
                })
                .collect(),
        })
    }

    async fn network(&self) -> Result<NetworkStatus, BackendError> {
        self.check_available()?;
        Ok(NetworkStatus {
            chain_id: 31337,
            epoch: 7,
            now: 1_700_000_000,
            epoch_started_at: 1_699_999_000,
            epoch_duration_secs: 3600,
            next_epoch_at: 1_700_002_600,
            n_shards: 4,
            f: 1,
            quorum: 3,
            max_blob_size: 1 << 20,
            storage_price_per_mib_epoch: "1000".into(),
            write_price_per_mib: "100".into(),
            committee: vec![CommitteeMember {
                node: EvmAddress([0x22; 20]).to_string(),
                address: "127.0.0.1:4001".into(),
                shards: 4,
                stake: "1000000".into(),
                commission_bps: 100,
                health: NodeHealth {
                    ok: true,
                    latency_ms: Some(3),
                    epoch: Some(7),
                    error: None,
                },
            }],
            publisher: PublisherInfo {
                open: false,
                address: PUBLISHER.to_string(),
                max_body_bytes: 0,
            },
        })
    }

    async fn recent(
        &self,
        limit: usize,
        _window_blocks: u64,
    ) -> Result<Vec<RecentBlob>, BackendError> {
        self.check_available()?;
        let blobs = self.blobs();
        let mut all: Vec<RecentBlob> = blobs
            .iter()
            .flat_map(|(id, b)| {
                b.registrations.iter().map(move |r| RecentBlob {
                    blob_id: id.to_string(),
                    registration_id: r.id,
                    owner: r.owner.to_string(),
                    size: b.data.len() as u64,
                    deletable: r.deletable,
                    epoch: 5,
                    block_number: 100 + r.id,
                    tx_hash: tx("register", 1).hash,
                    certified: b.state == BlobState::Certified,
                })
            })
            .collect();
        all.sort_by_key(|b| std::cmp::Reverse(b.registration_id));
        all.truncate(limit);
        Ok(all)
    }
}
