//! [`SdkBackend`]: the [`Backend`] of a real gateway, on a `floe_client::Client` (its wallet
//! pays for what the publisher stores).
//!
//! Chain reads are bounded per request: a head is four calls (epoch, status, registration,
//! attributes) and one for the epoch timing; an info page at most [`INFO_REGISTRATIONS`]
//! registrations with three calls each. Opened readers (verified metadata) are cached for
//! [`READER_TTL`], at most [`READER_CACHE`] of them, so ranged reads of one blob (a video
//! player seeking) fetch its metadata once. The network view with its node probes is cached
//! for [`NETWORK_TTL`].

use std::{
    collections::{BTreeMap, HashMap},
    ops::Range,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::primitives::Address;
use floe_chain::{BlobStatusRecord, RegistrationState};
use floe_client::{
    BlobReader, Client, ClientError, ErrorClass as ClientClass, QuiltReader, StoreEvent,
    StoreObserver, StoreOptions, StoreOutcome,
    node_api::{NodeClient, http_client},
};
use floe_core::{
    encoding::EncodingConfig,
    ids::BlobId,
    manifest::{MANIFEST_HEADER_LEN, MANIFEST_MAGIC, MAX_MANIFEST_LEN, Manifest, is_manifest},
    protocol::quorum::Quorum,
    quilt::QuiltIndex,
};
use futures::{StreamExt, TryStreamExt, future::join_all};
use sha2::{Digest, Sha256};

use crate::{
    backend::{
        AlreadyCertified, Backend, BlobHead, BlobInfo, BlobObject, BlobState, ByteStream,
        CommitteeMember, NetworkStatus, NewlyCreated, NodeHealth, Phase, PhaseSink, PhaseUpdate,
        PublisherInfo, RecentBlob, RegistrationInfo, StoreRequest, StoreResponse, TxRecord,
    },
    error::BackendError,
};

/// Registrations an info answer lists at most.
pub const INFO_REGISTRATIONS: usize = 50;
/// How long an opened reader is reused.
pub const READER_TTL: Duration = Duration::from_secs(30);
/// How many opened readers are kept.
pub const READER_CACHE: usize = 128;
/// How long the network view (with node health) is reused.
pub const NETWORK_TTL: Duration = Duration::from_secs(3);
/// How long a node health probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Blocks searched for a registration's transactions.
pub const TX_SEARCH_BLOCKS: u64 = 50_000;
/// The `Retry-After` of an unavailable answer.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Longest `Cache-Control` lifetime handed to the gateway (it caps it again).
const MAX_CACHE_SECS: u64 = 365 * 24 * 3600;

/// A manifest lookup: `Some` for a large file's manifest, `None` for any other blob.
type ManifestLookup = Option<Arc<Manifest>>;

/// The SDK-backed [`Backend`].
#[derive(Debug, Clone)]
pub struct SdkBackend {
    client: Client,
    probe: reqwest::Client,
    readers: Arc<Mutex<HashMap<BlobId, (Instant, BlobReader)>>>,
    /// Which blobs are large-file manifests (and the manifest), as last looked up.
    manifests: Arc<Mutex<HashMap<BlobId, (Instant, ManifestLookup)>>>,
    network: Arc<tokio::sync::Mutex<Option<(Instant, NetworkStatus)>>>,
}

impl SdkBackend {
    /// A backend on `client`.
    pub fn new(client: Client) -> Result<Self, BackendError> {
        let probe = http_client(PROBE_TIMEOUT, PROBE_TIMEOUT).map_err(map_error)?;
        Ok(Self {
            client,
            probe,
            readers: Arc::new(Mutex::new(HashMap::new())),
            manifests: Arc::new(Mutex::new(HashMap::new())),
            network: Arc::new(tokio::sync::Mutex::new(None)),
        })
    }

    /// The client it reads and pays with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn reader(&self, blob_id: BlobId) -> Result<BlobReader, BackendError> {
        if let Some(r) = self.cached_reader(&blob_id) {
            return Ok(r);
        }
        let reader = self.client.open_blob(&blob_id).await.map_err(map_error)?;
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.len() >= READER_CACHE {
            readers.retain(|_, (at, _)| at.elapsed() < READER_TTL);
            if readers.len() >= READER_CACHE {
                // Still full of fresh entries: drop the oldest.
                if let Some(oldest) = readers
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| *k)
                {
                    readers.remove(&oldest);
                }
            }
        }
        readers.insert(blob_id, (Instant::now(), reader.clone()));
        Ok(reader)
    }

    fn cached_reader(&self, blob_id: &BlobId) -> Option<BlobReader> {
        let readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        readers
            .get(blob_id)
            .filter(|(at, _)| at.elapsed() < READER_TTL)
            .map(|(_, r)| r.clone())
    }

    /// Bytes `range` of blob `blob_id` itself. The first chunk is awaited here, so that a read
    /// no node can serve answers with its status (503) rather than a cut-off 200. A cached
    /// reader failing at once may just be stale (its committee from an earlier epoch): it is
    /// dropped and the read tried afresh.
    async fn raw_range(
        &self,
        blob_id: BlobId,
        range: Range<u64>,
    ) -> Result<ByteStream, BackendError> {
        // status (503) rather than a cut-off 200. A cached reader failing at once may just be
        // stale (its committee from an earlier epoch): it is dropped and the read tried afresh.
        let mut last = None;
        for _ in 0..2 {
            let reader = self.reader(blob_id).await?;
            let mut stream = Box::pin(reader.stream_range(range.clone()));
            match stream.next().await {
                Some(Ok(first)) => {
                    let rest = stream.map(|r| r.map_err(map_error));
                    return Ok(Box::pin(
                        futures::stream::once(async { Ok(first) }).chain(rest),
                    ));
                }
                None => return Ok(Box::pin(futures::stream::empty())),
                Some(Err(e)) => {
                    self.readers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&blob_id);
                    last = Some(map_error(e));
                }
            }
        }
        Err(last.unwrap_or_else(|| BackendError::internal("read failed")))
    }

    /// The manifest of `blob_id` if it is a large-file manifest (cached for [`READER_TTL`]).
    /// Only a blob whose length a manifest can have, which starts with the manifest magic, is
    /// read whole and parsed; one with the magic that does not parse is refused (never served
    /// as something else).
    async fn manifest(
        &self,
        blob_id: BlobId,
        size: u64,
    ) -> Result<Option<Arc<Manifest>>, BackendError> {
        if let Some(m) = self.cached_manifest(&blob_id) {
            return Ok(m);
        }
        let shaped = size >= MANIFEST_HEADER_LEN as u64
            && (size - MANIFEST_HEADER_LEN as u64).is_multiple_of(32)
            && size <= MAX_MANIFEST_LEN as u64;
        let manifest = if shaped {
            let magic = collect(
                self.raw_range(blob_id, 0..MANIFEST_MAGIC.len() as u64)
                    .await?,
            )
            .await?;
            if is_manifest(&magic) {
                let bytes = collect(self.raw_range(blob_id, 0..size).await?).await?;
                let m = Manifest::from_bytes(&bytes).map_err(|e| {
                    BackendError::bad_request(format!(
                        "blob {blob_id} starts like a large-file manifest but is not one ({e}); \
                         read its bytes with `floe read --raw`"
                    ))
                })?;
                Some(Arc::new(m))
            } else {
                None
            }
        } else {
            None
        };
        let mut cache = self.manifests.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= READER_CACHE {
            cache.retain(|_, (at, _)| at.elapsed() < READER_TTL);
            if cache.len() >= READER_CACHE {
                cache.clear();
            }
        }
        cache.insert(blob_id, (Instant::now(), manifest.clone()));
        Ok(manifest)
    }

    fn cached_manifest(&self, blob_id: &BlobId) -> Option<Option<Arc<Manifest>>> {
        let cache = self.manifests.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(blob_id)
            .filter(|(at, _)| at.elapsed() < READER_TTL)
            .map(|(_, m)| m.clone())
    }

    /// Bytes `range` of the file `manifest` describes: each chunk's part in order, each chunk
    /// verified like any blob read (slivers against its metadata, the metadata against the
    /// chunk id the manifest names). A whole-file read also checks the file's SHA-256 at the
    /// end and cuts the answer short if it does not match.
    async fn file_range(
        &self,
        blob_id: BlobId,
        manifest: Arc<Manifest>,
        range: Range<u64>,
    ) -> Result<ByteStream, BackendError> {
        let whole = range.start == 0 && range.end == manifest.total_len();
        let spans: Vec<_> = manifest
            .chunks_for(range)
            .map_err(|e| BackendError::bad_request(e.to_string()))?
            .collect();
        let this = self.clone();
        let mut chunks = Box::pin(
            futures::stream::iter(spans)
                .then(move |span| open_span(this.clone(), span))
                .try_flatten(),
        );
        // As for a blob: the first bytes before the status line.
        let first = match chunks.next().await {
            Some(Ok(first)) => first,
            Some(Err(e)) => return Err(e),
            None => return Ok(Box::pin(futures::stream::empty())),
        };
        let all = futures::stream::once(async { Ok(first) }).chain(chunks);
        if !whole {
            return Ok(Box::pin(all));
        }
        let expected = *manifest.sha256();
        let hasher = Arc::new(Mutex::new(Some(Sha256::new())));
        let h = hasher.clone();
        let hashed = all.map(move |item| {
            if let Ok(bytes) = &item
                && let Some(hs) = h.lock().unwrap_or_else(|e| e.into_inner()).as_mut()
            {
                hs.update(bytes);
            }
            item
        });
        let check = futures::stream::once(async move {
            let digest = hasher
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .map(|h| h.finalize());
            match digest {
                Some(d) if d.as_slice() == expected => None,
                _ => Some(Err(BackendError::gone(format!(
                    "file {blob_id}: its bytes do not match the manifest's SHA-256"
                )))),
            }
        })
        .filter_map(futures::future::ready);
        Ok(Box::pin(hashed.chain(check)))
    }

    /// Seconds from now until epoch `end` begins (0 if it has).
    async fn secs_until_epoch(&self, end: u32) -> Result<u64, BackendError> {
        let chain = self.client.chain();
        let timing = chain.epoch_timing().await.map_err(chain_error)?;
        if end <= timing.epoch {
            return Ok(0);
        }
        let now = chain.block_timestamp().await.map_err(chain_error)?;
        let start = timing.next_advance_at().max(now);
        let later = u64::from(end - timing.epoch - 1).saturating_mul(timing.duration);
        Ok(start
            .saturating_sub(now)
            .saturating_add(later)
            .min(MAX_CACHE_SECS))
    }

    async fn attributes(
        &self,
        registration: u64,
    ) -> Result<BTreeMap<String, String>, BackendError> {
        let list = self
            .client
            .chain()
            .attributes(registration)
            .await
            .map_err(chain_error)?;
        Ok(list.into_iter().collect())
    }

    async fn probe(&self, address: &str) -> NodeHealth {
        let node = NodeClient::new(self.probe.clone(), address);
        let t = Instant::now();
        match tokio::time::timeout(PROBE_TIMEOUT, node.health()).await {
            Ok(Ok(h)) => NodeHealth {
                ok: h.status == "ok",
                latency_ms: Some(t.elapsed().as_millis() as u64),
                epoch: Some(h.epoch),
                error: (h.status != "ok").then(|| {
                    let failing: Vec<_> = h
                        .services
                        .iter()
                        .filter(|s| s.state != "ok")
                        .map(|s| s.name.clone())
                        .collect();
                    format!("{}: {}", h.status, failing.join(", "))
                }),
            },
            Ok(Err(e)) => NodeHealth {
                ok: false,
                latency_ms: None,
                epoch: None,
                error: Some(e.to_string()),
            },
            Err(_) => NodeHealth {
                ok: false,
                latency_ms: None,
                epoch: None,
                error: Some(format!("no answer within {PROBE_TIMEOUT:?}")),
            },
        }
    }

    async fn fetch_network(&self) -> Result<NetworkStatus, BackendError> {
        let chain = self.client.chain();
        let timing = chain.epoch_timing().await.map_err(chain_error)?;
        let now = chain.block_timestamp().await.map_err(chain_error)?;
        let n = chain.n_shards().await.map_err(chain_error)?;
        let prices = chain.prices().await.map_err(chain_error)?;
        let committee = chain.committee(timing.epoch).await.map_err(chain_error)?;
        let max_blob_size = EncodingConfig::new(n)
            .map(|c| c.max_blob_size())
            .unwrap_or(0);
        let members = join_all(committee.members.iter().map(|m| async move {
            let info = chain.node_info(m.node).await;
            let health = self.probe(&m.network_address).await;
            let (stake, commission) = match info {
                Ok(i) => (i.stake.to_string(), u32::from(i.commission_bps)),
                Err(_) => ("0".to_owned(), 0),
            };
            CommitteeMember {
                node: m.node.to_string(),
                address: m.network_address.clone(),
                shards: m.shards.len() as u32,
                stake,
                commission_bps: commission,
                health,
            }
        }))
        .await;
        Ok(NetworkStatus {
            chain_id: self.client.config().deployment.chain_id,
            epoch: timing.epoch,
            now,
            epoch_started_at: timing.start_time,
            epoch_duration_secs: timing.duration,
            next_epoch_at: timing.next_advance_at(),
            n_shards: n,
            f: (n.saturating_sub(1)) / 3,
            quorum: Quorum::Certify.required(n),
            max_blob_size,
            storage_price_per_mib_epoch: prices.storage_per_mib_epoch.to_string(),
            write_price_per_mib: prices.write_per_mib.to_string(),
            committee: members,
            publisher: PublisherInfo {
                open: false,
                address: self.client.address().to_string(),
                max_body_bytes: 0,
            },
        })
    }
}

impl Backend for SdkBackend {
    async fn blob_head(
        &self,
        blob_id: BlobId,
        registration: Option<u64>,
    ) -> Result<BlobHead, BackendError> {
        let chain = self.client.chain();
        let epoch = chain.current_epoch().await.map_err(chain_error)?;
        let status = chain.blob_status(&blob_id).await.map_err(chain_error)?;
        if !status.is_known() {
            return Err(BackendError::not_found(format!(
                "blob {blob_id} was never registered: check the id"
            )));
        }
        let registration_id = match registration {
            Some(id) => {
                let r = chain.registration(id).await.map_err(chain_error)?;
                if r.state == RegistrationState::None || r.blob_id != blob_id {
                    return Err(BackendError::not_found(format!(
                        "registration {id} is not a registration of blob {blob_id}"
                    )));
                }
                id
            }
            None => status.first_registration_id,
        };
        let state = blob_state(&status, epoch);
        let attributes = self.attributes(registration_id).await?;
        let secs_until_certified_end = if state == BlobState::Certified {
            self.secs_until_epoch(status.certified_end_epoch).await?
        } else {
            0
        };
        // A large file's manifest is served as the file it describes.
        let size = if state == BlobState::Certified {
            match self.manifest(blob_id, status.size).await? {
                Some(m) => m.total_len(),
                None => status.size,
            }
        } else {
            status.size
        };
        Ok(BlobHead {
            state,
            size,
            certified_end_epoch: status.certified_end_epoch,
            secs_until_certified_end,
            registration_id,
            attributes,
        })
    }

    async fn read_range(
        &self,
        blob_id: BlobId,
        range: Range<u64>,
    ) -> Result<ByteStream, BackendError> {
        let manifest = match self.cached_manifest(&blob_id) {
            Some(m) => m,
            None => {
                let size = self
                    .client
                    .chain()
                    .blob_status(&blob_id)
                    .await
                    .map_err(chain_error)?
                    .size;
                self.manifest(blob_id, size).await?
            }
        };
        match manifest {
            Some(m) => self.file_range(blob_id, m, range).await,
            None => self.raw_range(blob_id, range).await,
        }
    }

    async fn quilt_index(&self, blob_id: BlobId, _size: u64) -> Result<QuiltIndex, BackendError> {
        // Row 0 holds the prefix and, for most quilts, the whole index: one sliver fetched
        // (the default would ask for the prefix, then the header). A cached reader failing may
        // be stale (an earlier epoch's committee): it is dropped and the read tried afresh.
        let mut last = None;
        for _ in 0..2 {
            let reader = self.reader(blob_id).await?;
            match QuiltReader::open(reader).await {
                Ok(quilt) => return Ok(quilt.into_index()),
                Err(e) if e.class() == ClientClass::Unavailable => {
                    self.readers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&blob_id);
                    last = Some(map_error(e));
                }
                Err(e) => return Err(map_error(e)),
            }
        }
        Err(last.unwrap_or_else(|| BackendError::internal("quilt index read failed")))
    }

    async fn store(
        &self,
        request: StoreRequest,
        on_phase: PhaseSink,
    ) -> Result<StoreResponse, BackendError> {
        let observer = StoreObserver::new(move |event| {
            if let Some(update) = phase_of(&event) {
                on_phase(update);
            }
        });
        let opts = StoreOptions {
            epochs: request.epochs,
            deletable: request.deletable,
            observer: Some(observer),
            owner: request.owner.map(|a| Address::from(a.0)),
            attributes: request.attributes.into_iter().collect(),
        };
        let stored = self
            .client
            .store(Vec::from(request.data), &opts)
            .await
            .map_err(map_error)?;
        let shared = if stored.outcome == StoreOutcome::AlreadyCertified {
            self.client
                .chain()
                .registration(stored.registration_id)
                .await
                .map(|r| r.shared)
                .unwrap_or(false)
        } else {
            false
        };
        let blob_object = BlobObject {
            blob_id: stored.blob_id.to_string(),
            registration_id: stored.registration_id,
            owner: stored.owner.to_string(),
            size: stored.size,
            deletable: stored.deletable,
            end_epoch: stored.end_epoch,
            shared,
        };
        let transactions = stored
            .transactions
            .iter()
            .map(|t| TxRecord {
                action: t.action.to_owned(),
                hash: t.hash.to_string(),
            })
            .collect();
        Ok(match stored.outcome {
            StoreOutcome::AlreadyCertified => StoreResponse::AlreadyCertified(AlreadyCertified {
                blob_object,
                transactions,
            }),
            StoreOutcome::NewlyCertified | StoreOutcome::ReusedRegistration => {
                StoreResponse::NewlyCreated(NewlyCreated {
                    blob_object,
                    cost_frost: stored.paid.to_string(),
                    transactions,
                })
            }
        })
    }

    async fn blob_info(&self, blob_id: BlobId) -> Result<BlobInfo, BackendError> {
        let chain = self.client.chain();
        let epoch = chain.current_epoch().await.map_err(chain_error)?;
        let status = chain.blob_status(&blob_id).await.map_err(chain_error)?;
        if !status.is_known() {
            return Err(BackendError::not_found(format!(
                "blob {blob_id} was never registered: check the id"
            )));
        }
        let ids = chain
            .registration_ids_of(&blob_id, None, INFO_REGISTRATIONS)
            .await
            .map_err(chain_error)?;
        let mut registrations = Vec::with_capacity(ids.len());
        for id in ids {
            let r = chain.registration(id).await.map_err(chain_error)?;
            if r.state == RegistrationState::None || r.blob_id != blob_id {
                continue;
            }
            let attributes = self.attributes(id).await?;
            let txs = chain.registration_txs(id, TX_SEARCH_BLOCKS).await.ok();
            let state = match r.state {
                _ if r.invalid => BlobState::Invalid,
                RegistrationState::Deleted => BlobState::Deleted,
                _ if epoch >= r.end_epoch => BlobState::Expired,
                RegistrationState::Certified => BlobState::Certified,
                _ => BlobState::Registered,
            };
            registrations.push(RegistrationInfo {
                registration_id: id,
                owner: r.owner.to_string(),
                state,
                deletable: r.deletable,
                shared: r.shared,
                registered_epoch: r.registered_epoch,
                certified_epoch: r.certified_epoch,
                end_epoch: r.end_epoch,
                attributes,
                register_tx: txs
                    .as_ref()
                    .and_then(|t| t.registered)
                    .map(|h| h.to_string()),
                certify_tx: txs
                    .as_ref()
                    .and_then(|t| t.certified)
                    .map(|h| h.to_string()),
            });
        }
        let primary = status.first_registration_id;
        let attributes = match registrations.iter().find(|r| r.registration_id == primary) {
            Some(r) => r.attributes.clone(),
            None => self.attributes(primary).await?,
        };
        Ok(BlobInfo {
            blob_id: blob_id.to_string(),
            state: blob_state(&status, epoch),
            size: status.size,
            current_epoch: epoch,
            end_epoch: status.end_epoch,
            certified_end_epoch: status.certified_end_epoch,
            primary_registration_id: Some(primary),
            attributes,
            download_url: String::new(),
            registrations,
        })
    }

    async fn network(&self) -> Result<NetworkStatus, BackendError> {
        // One refresh at a time; everyone else reuses its answer.
        let mut cached = self.network.lock().await;
        if let Some((at, status)) = cached.as_ref()
            && at.elapsed() < NETWORK_TTL
        {
            return Ok(status.clone());
        }
        let status = self.fetch_network().await?;
        *cached = Some((Instant::now(), status.clone()));
        Ok(status)
    }

    async fn recent(
        &self,
        limit: usize,
        window_blocks: u64,
    ) -> Result<Vec<RecentBlob>, BackendError> {
        let chain = self.client.chain();
        let recent = chain
            .recent_registrations(limit, window_blocks)
            .await
            .map_err(chain_error)?;
        let mut out = Vec::with_capacity(recent.len());
        for r in recent {
            let record = chain
                .registration(r.registration_id)
                .await
                .map_err(chain_error)?;
            out.push(RecentBlob {
                blob_id: r.blob_id.to_string(),
                registration_id: r.registration_id,
                owner: record.owner.to_string(),
                size: r.size,
                deletable: r.deletable,
                epoch: r.epoch,
                block_number: r.block_number,
                tx_hash: r.tx_hash.to_string(),
                certified: record.state == RegistrationState::Certified,
            });
        }
        Ok(out)
    }
}

/// The part `span` of one chunk of a large file.
async fn open_span(
    backend: SdkBackend,
    span: floe_core::manifest::ChunkSpan,
) -> Result<ByteStream, BackendError> {
    backend.raw_range(span.blob_id, span.range).await
}

/// All of a (bounded) byte stream.
async fn collect(mut stream: ByteStream) -> Result<Vec<u8>, BackendError> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// The blob's state over all its registrations (as `floe status` tells it).
fn blob_state(status: &BlobStatusRecord, current: u32) -> BlobState {
    if status.invalid {
        BlobState::Invalid
    } else if status.registrations == 0 {
        BlobState::Deleted
    } else if !status.is_live(current) {
        BlobState::Expired
    } else if status.is_certified(current) {
        BlobState::Certified
    } else {
        BlobState::Registered
    }
}

/// The gateway's phase for a store event (`None`: nothing to show).
fn phase_of(event: &StoreEvent) -> Option<PhaseUpdate> {
    Some(match event {
        StoreEvent::Encoding { .. } => PhaseUpdate::enter(Phase::Encode),
        StoreEvent::Registering { .. } => PhaseUpdate::enter(Phase::Register),
        StoreEvent::Uploading {
            confirmed_shards,
            needed_shards,
            ..
        } => PhaseUpdate {
            phase: Phase::Upload,
            done: Some(*confirmed_shards),
            total: Some(*needed_shards),
        },
        StoreEvent::Certifying { .. } => PhaseUpdate::enter(Phase::Certify),
        StoreEvent::Transferring { .. } => PhaseUpdate::enter(Phase::Transfer),
        _ => return None,
    })
}

fn chain_error(e: floe_chain::ChainError) -> BackendError {
    map_error(ClientError::from(e))
}

/// A client error as the gateway answers it.
pub fn map_error(e: ClientError) -> BackendError {
    let message = e.to_string();
    match e.class() {
        ClientClass::BadRequest => match e {
            ClientError::BlobTooLarge { .. } => {
                BackendError::new(crate::error::ErrorClass::TooLarge, message)
            }
            _ => BackendError::bad_request(message),
        },
        ClientClass::NotFound => BackendError::not_found(message),
        ClientClass::Gone => BackendError::gone(message),
        ClientClass::Unavailable => BackendError::unavailable(message, RETRY_AFTER),
        ClientClass::Internal => {
            tracing::warn!(error = %message, "gateway backend error");
            BackendError::internal(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(invalid: bool, registrations: u32, end: u32, cert_end: u32) -> BlobStatusRecord {
        BlobStatusRecord {
            blob_id: BlobId([1; 32]),
            invalid,
            size: 10,
            encoding_type: 1,
            root: [0; 32],
            registrations,
            first_registration_id: 1,
            end_epoch: end,
            permanent_end_epoch: end,
            certified_end_epoch: cert_end,
            permanent_certified_end_epoch: cert_end,
        }
    }

    #[test]
    fn blob_states_follow_the_chain_status() {
        assert_eq!(blob_state(&status(true, 1, 9, 9), 3), BlobState::Invalid);
        assert_eq!(blob_state(&status(false, 0, 9, 9), 3), BlobState::Deleted);
        assert_eq!(blob_state(&status(false, 1, 3, 3), 3), BlobState::Expired);
        assert_eq!(blob_state(&status(false, 1, 9, 9), 3), BlobState::Certified);
        assert_eq!(
            blob_state(&status(false, 1, 9, 0), 3),
            BlobState::Registered
        );
    }

    #[test]
    fn store_events_become_phases() {
        let up = phase_of(&StoreEvent::Uploading {
            epoch: 1,
            confirmed_shards: 30,
            needed_shards: 67,
            n_shards: 100,
        })
        .expect("a phase");
        assert_eq!(
            (up.phase, up.done, up.total),
            (Phase::Upload, Some(30), Some(67))
        );
        assert_eq!(
            phase_of(&StoreEvent::Encoding { size: 1 }).map(|p| p.phase),
            Some(Phase::Encode)
        );
        assert_eq!(
            phase_of(&StoreEvent::Done {
                registration_id: 1,
                outcome: StoreOutcome::NewlyCertified
            }),
            None
        );
    }

    #[test]
    fn client_errors_map_to_gateway_classes() {
        use crate::error::ErrorClass;
        let id = BlobId([2; 32]);
        assert_eq!(
            map_error(ClientError::BlobUnknown(id)).class,
            ErrorClass::NotFound
        );
        assert_eq!(
            map_error(ClientError::BlobDeleted(id)).class,
            ErrorClass::Gone
        );
        assert!(matches!(
            map_error(ClientError::NotEnoughSlivers {
                blob_id: id,
                got: 1,
                needed: 2,
                failures: String::new()
            })
            .class,
            ErrorClass::Unavailable { .. }
        ));
        assert_eq!(
            map_error(ClientError::BlobTooLarge {
                len: 2,
                max: 1,
                n_shards: 4
            })
            .class,
            ErrorClass::TooLarge
        );
    }
}
