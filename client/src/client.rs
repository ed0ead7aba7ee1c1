//! The SDK: [`Client`] stores, reads and manages blobs on a floe network.
//!
//! Store: encode → check the chain (already certified? a registration of ours to reuse?) →
//! approve WAL and register → upload to every shard's node → collect confirmations from a
//! quorum of shards (if the epoch changes meanwhile: read the new committee and upload to it)
//! → certify. Read: check the chain → metadata from any node → `n-2f`
//! verified primary slivers → decode → re-encode and compare with the blob id.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256, U256};
use floe_chain::{BlobStatusRecord, Chain, Committee, RegistrationRecord, RegistrationState};
use floe_core::{
    encoding::{DecodeError, EncodeError, EncodedBlob, EncodingConfig},
    ids::{BlobId, ENCODING_RED_STUFF},
    protocol::{Quorum, quorum::max_faulty},
};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::{
    config::ClientConfig,
    error::ClientError,
    node_api::{NodeHttp, http_client},
    observe::{self, StoreEvent, StoreObserver},
    progress::Progress,
    read,
    registrations::{self, ANY_LIMIT, OWN_LIMIT, Plan},
    store,
    stream::BlobReader,
};

/// The pause before asking again a node that lags behind the chain's epoch.
const LAG_RETRY: Duration = Duration::from_millis(500);

/// Serializes a blob id (or anything printable) as its display string (`0x…` hex).
pub fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Options of [`Client::store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Epochs of storage to buy, from the current one.
    pub epochs: u32,
    /// Whether the owner may delete the blob before it expires. A permanent registration
    /// satisfies a deletable request; a deletable one never satisfies a permanent request.
    pub deletable: bool,
    /// Called at each phase of the store (see [`StoreEvent`]); `None` by default.
    pub observer: Option<StoreObserver>,
    /// Store on behalf of this address (a publisher): a certified registration of theirs
    /// covering the request is used as is; a new registration is paid by the caller and, once
    /// certified and its attributes set, transferred to them. `None`: the caller keeps it.
    pub owner: Option<Address>,
    /// Attributes set on a newly made registration (before any transfer), in order. Not set on
    /// a registration that already existed.
    pub attributes: Vec<(String, String)>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            epochs: 1,
            deletable: false,
            observer: None,
            owner: None,
            attributes: Vec::new(),
        }
    }
}

/// How a store ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOutcome {
    /// A certified registration already covers the request (one of ours, or a permanent one
    /// of anyone): nothing was paid or uploaded.
    AlreadyCertified,
    /// Registered (paid) now, uploaded and certified.
    NewlyCertified,
    /// An earlier registration of ours was reused (no new payment), uploaded and certified.
    ReusedRegistration,
}

/// Where the time of a store went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StoreTimings {
    /// Encoding, hashing and metadata, in seconds.
    pub encode_secs: f64,
    /// Chain reads and transactions (check, approve, register, certify), in seconds.
    pub chain_secs: f64,
    /// Uploads and confirmations, in seconds.
    pub upload_secs: f64,
}

/// The result of [`Client::store`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreResult {
    /// The blob id.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Unencoded size in bytes.
    pub size: u64,
    /// The registration that stores the blob for this request.
    pub registration_id: u64,
    /// Its owner (someone else's only for a certified permanent registration).
    pub owner: Address,
    /// Its deletable flag.
    pub deletable: bool,
    /// The first epoch the registration no longer stores the blob.
    pub end_epoch: u32,
    /// How the store ended.
    pub outcome: StoreOutcome,
    /// FROST paid for storage and the write fee (0 unless a new registration was paid).
    #[serde(serialize_with = "serialize_display")]
    pub paid: U256,
    /// Transaction hashes, in order: approve, register, certify, set attribute…, transfer
    /// (those that were sent).
    pub transactions: Vec<Transaction>,
    /// Shards whose nodes confirmed (0 when already certified).
    pub confirmed_shards: u64,
    /// Where the time went.
    pub timings: StoreTimings,
}

/// A transaction the client sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// What it did.
    pub action: &'static str,
    /// Its hash.
    pub hash: B256,
}

/// One registration of a blob, as `floe status` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationView {
    /// The registration's id.
    pub registration_id: u64,
    /// Its owner.
    pub owner: Address,
    /// "registered", "certified", "deleted", "expired" or "invalid".
    pub state: String,
    /// Whether its owner may delete it.
    pub deletable: bool,
    /// The epoch it was registered in.
    pub registered_epoch: u32,
    /// The epoch it was certified in (0 if not certified).
    pub certified_epoch: u32,
    /// The first epoch it no longer stores the blob.
    pub end_epoch: u32,
    /// The storage resource backing it.
    pub storage_id: U256,
}

impl RegistrationView {
    pub(crate) fn new(r: &RegistrationRecord, current: u32) -> Self {
        Self {
            registration_id: r.registration_id,
            owner: r.owner,
            state: registrations::state_name(r, current).to_owned(),
            deletable: r.deletable,
            registered_epoch: r.registered_epoch,
            certified_epoch: r.certified_epoch,
            end_epoch: r.end_epoch,
            storage_id: r.storage_id,
        }
    }
}

/// A blob's on-chain status over all its registrations, and the caller's registrations of it,
/// as `floe status` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobStatus {
    /// The blob id.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Over all registrations: "unknown" (never registered), "invalid", "deleted" (every
    /// registration deleted), "expired" (none lives), "certified" (a certified one lives) or
    /// "registered" (some live, none certified).
    pub state: String,
    /// Unencoded size in bytes (0 when unknown).
    pub size: u64,
    /// Registrations not deleted (expired ones included).
    pub registrations: u32,
    /// The first epoch no registration stores the blob (the nodes keep it until then).
    pub end_epoch: u32,
    /// The first epoch no certified registration covers: reads are guaranteed until then.
    pub certified_end_epoch: u32,
    /// The same over permanent certified registrations (nobody can shorten it).
    pub permanent_certified_end_epoch: u32,
    /// The current epoch.
    pub current_epoch: u32,
    /// The caller's registrations of the blob, newest first.
    pub mine: Vec<RegistrationView>,
}

/// The result of [`Client::delete`]: one entry per registration deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    /// The registration deleted.
    pub registration_id: u64,
    /// The transaction.
    pub transaction: B256,
}

/// The result of [`Client::extend`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extended {
    /// The blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The registration extended.
    pub registration_id: u64,
    /// Its new end epoch.
    pub end_epoch: u32,
    /// The transactions sent: approve (if needed), extend.
    pub transactions: Vec<Transaction>,
}

/// One committee member, as `floe info` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberInfo {
    /// The node id (operator address).
    pub node: Address,
    /// Its HTTP API address.
    pub network_address: String,
    /// How many shards it holds.
    pub shards: usize,
}

/// The network's state, as `floe info` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkInfo {
    /// The chain id.
    pub chain_id: u64,
    /// The current epoch.
    pub epoch: u32,
    /// Shards `n`.
    pub n_shards: u16,
    /// Tolerated faulty shards `f = (n-1)/3`.
    pub f: u16,
    /// Shards whose confirmations certify a blob (`3w >= 2n+1`).
    pub quorum: u64,
    /// Storage price: FROST per MiB (encoded) per epoch.
    pub storage_price: u64,
    /// Write price: FROST per MiB (encoded).
    pub write_price: u64,
    /// The committee of the current epoch.
    pub committee: Vec<MemberInfo>,
    /// The client's wallet.
    pub wallet: Address,
    /// The wallet's WAL balance, in FROST.
    pub wal_balance: U256,
}

/// The floe SDK: one chain connection (with the wallet) and an HTTP client for the nodes.
#[derive(Debug, Clone)]
pub struct Client {
    chain: Chain,
    config: ClientConfig,
    http: reqwest::Client,
    limit: Arc<Semaphore>,
    pub(crate) progress: Progress,
    n_shards: Arc<tokio::sync::OnceCell<u16>>,
    /// Held from the allowance check to the registration it pays for, so concurrent stores of
    /// one wallet (a large file's chunks) do not spend each other's approval.
    pay_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Client {
    /// Connects to the chain named by `config`, with its wallet.
    pub async fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let signer = floe_chain::signer_from_hex(&config.wallet_key)
            .map_err(|e| ClientError::InvalidWalletKey(e.to_string()))?;
        let chain = Chain::connect(&config.rpc_url, config.deployment, Some(signer)).await?;
        let http = http_client(config.timeouts.connect(), config.timeouts.request())?;
        let limit = Arc::new(Semaphore::new(
            config.timeouts.max_concurrent_requests.max(1),
        ));
        Ok(Self {
            chain,
            config,
            http,
            limit,
            progress: Progress::Hidden,
            n_shards: Arc::new(tokio::sync::OnceCell::new()),
            pay_lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Shows progress bars on large blobs (when stderr is a terminal).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// The chain handle.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The config in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The wallet's address.
    pub fn address(&self) -> Address {
        self.chain.sender().unwrap_or_default()
    }

    /// The encoding of this network.
    pub(crate) async fn encoding(&self) -> Result<EncodingConfig, ClientError> {
        // `n` is fixed at deployment: ask the chain once.
        let n = *self
            .n_shards
            .get_or_try_init(|| self.chain.n_shards())
            .await?;
        EncodingConfig::new(n).map_err(|e| ClientError::Encode(e.to_string()))
    }

    /// The committee of `epoch`: which node holds which shard. Fails if there is none yet,
    /// or if it does not fit the network's encoding.
    async fn committee(&self, epoch: u32) -> Result<Committee, ClientError> {
        let committee = self.chain.committee(epoch).await?;
        if committee.is_empty() {
            return Err(ClientError::NoCommittee { epoch });
        }
        let expected = self.encoding().await?.n_shards();
        if committee.n_shards != expected {
            return Err(ClientError::CommitteeMismatch {
                epoch,
                got: committee.n_shards,
                expected,
            });
        }
        Ok(committee)
    }

    /// The committee of the chain's current epoch if it is later than `epoch`.
    async fn newer_committee(&self, epoch: u32) -> Result<Option<Committee>, ClientError> {
        let now = self.chain.current_epoch().await?;
        if now <= epoch {
            return Ok(None);
        }
        self.committee(now).await.map(Some)
    }

    /// Encodes `data` (on a blocking thread).
    pub async fn encode(&self, data: Arc<Vec<u8>>) -> Result<EncodedBlob, ClientError> {
        let cfg = self.encoding().await?;
        let bar = self.progress.spinner("encoding", data.len() as u64);
        let encoded = tokio::task::spawn_blocking(move || cfg.encode(&data))
            .await
            .map_err(|e| ClientError::Encode(format!("encoder thread failed: {e}")))?
            .map_err(|e| match e {
                EncodeError::BlobTooLarge { len, max, n_shards } => {
                    ClientError::BlobTooLarge { len, max, n_shards }
                }
                other => ClientError::Encode(other.to_string()),
            })?;
        bar.finish_and_clear();
        Ok(encoded)
    }

    /// Stores `data`: see the module doc. Idempotent: a certified blob is not paid again, and an
    /// uncertified registration of ours is reused. Each phase is reported to
    /// [`StoreOptions::observer`] (see [`crate::observe`]).
    pub async fn store(
        &self,
        data: Vec<u8>,
        opts: &StoreOptions,
    ) -> Result<StoreResult, ClientError> {
        let size = data.len() as u64;
        let observer = opts.observer.as_ref();
        observe::notify(observer, || StoreEvent::Encoding { size });
        let mut timings = StoreTimings::default();
        // Encode while reading the epoch and its committee from the chain.
        let t = Instant::now();
        let (encoded, chain_reads) = tokio::join!(
            async {
                let encoded = self.encode(Arc::new(data)).await;
                (encoded, t.elapsed())
            },
            async {
                let epoch = self.chain.current_epoch().await?;
                Ok::<_, ClientError>((epoch, self.committee(epoch).await?))
            }
        );
        let (encoded, encode_time) = encoded;
        let encoded = Arc::new(encoded?);
        let (epoch, committee) = chain_reads?;
        timings.encode_secs = encode_time.as_secs_f64();
        // Only the chain reads not hidden behind encoding count as chain time.
        timings.chain_secs = (t.elapsed() - encode_time).as_secs_f64();
        let blob_id = encoded.blob_id;
        let root = encoded.metadata.root();
        observe::notify(observer, || StoreEvent::Encoded { blob_id, size });

        // Which registration stores the blob for this request?
        let t = Instant::now();
        let mut transactions = Vec::new();
        let request = registrations::Request {
            blob_id,
            me: opts.owner.unwrap_or_else(|| self.address()),
            current: epoch,
            end_epoch: epoch.saturating_add(opts.epochs),
            deletable: opts.deletable,
        };
        let mut paid = U256::ZERO;
        let registration = match self.plan_store(&request).await? {
            Plan::AlreadyCertified(r) => {
                tracing::info!(%blob_id, registration = r.registration_id, owner = %r.owner, "already certified");
                timings.chain_secs += t.elapsed().as_secs_f64();
                observe::notify(observer, || StoreEvent::Done {
                    registration_id: r.registration_id,
                    outcome: StoreOutcome::AlreadyCertified,
                });
                return Ok(StoreResult {
                    blob_id,
                    size,
                    registration_id: r.registration_id,
                    owner: r.owner,
                    deletable: r.deletable,
                    end_epoch: r.end_epoch,
                    outcome: StoreOutcome::AlreadyCertified,
                    paid: U256::ZERO,
                    transactions,
                    confirmed_shards: 0,
                    timings,
                });
            }
            Plan::Reuse(r) => {
                tracing::info!(%blob_id, registration = r.registration_id, "reusing our uncertified registration");
                (StoreOutcome::ReusedRegistration, r)
            }
            Plan::Register => {
                observe::notify(observer, || StoreEvent::Registering {
                    epochs: opts.epochs,
                });
                let encoded_size = self.chain.encoded_size(size).await?;
                let cost = self.chain.storage_cost(encoded_size, opts.epochs).await?;
                paid = cost.total();
                let pay = self.pay_lock.lock().await;
                if let Some(approve) = self.chain.ensure_registry_allowance(paid).await? {
                    transactions.push(Transaction {
                        action: "approve",
                        hash: approve,
                    });
                }
                let reg = self
                    .chain
                    .register_blob_with_new_storage(
                        root,
                        size,
                        ENCODING_RED_STUFF,
                        opts.deletable,
                        opts.epochs,
                    )
                    .await?;
                transactions.push(Transaction {
                    action: "register",
                    hash: reg.tx,
                });
                drop(pay);
                if reg.blob_id != blob_id {
                    return Err(ClientError::Encode(format!(
                        "the registry derived blob id {} but the encoder {blob_id}; the client and the contracts disagree on the id",
                        reg.blob_id
                    )));
                }
                let record = RegistrationRecord {
                    registration_id: reg.registration_id,
                    blob_id,
                    owner: self.address(),
                    size,
                    encoding_type: ENCODING_RED_STUFF,
                    deletable: reg.deletable,
                    state: RegistrationState::Registered,
                    registered_epoch: epoch,
                    certified_epoch: 0,
                    end_epoch: reg.end_epoch,
                    storage_id: reg.storage_id,
                    root,
                    invalid: false,
                    shared: false,
                };
                (StoreOutcome::NewlyCertified, record)
            }
        };
        let (outcome, registration) = registration;
        let end_epoch = registration.end_epoch;
        observe::notify(observer, || StoreEvent::Registered {
            registration_id: registration.registration_id,
            reused: outcome == StoreOutcome::ReusedRegistration,
            end_epoch,
        });
        let bought_epochs = end_epoch.saturating_sub(registration.registered_epoch);
        timings.chain_secs += t.elapsed().as_secs_f64();

        // Upload and collect confirmations.
        let t = Instant::now();
        let total: u64 = encoded
            .pairs
            .iter()
            .map(|p| (p.primary.data.len() + p.secondary.data.len()) as u64)
            .sum();
        let bar = self.progress.bar("uploading", total, size, true);
        let params = store::UploadParams {
            chain_id: self.config.deployment.chain_id,
            registry: self.config.deployment.registry.into_array(),
            registration_id: registration.registration_id,
            deletable: registration.deletable,
            end_epoch,
            bought_epochs,
            timeout: self.config.timeouts.confirmation(),
            extra: self.config.timeouts.extra_confirmation(),
            lag_retry: LAG_RETRY,
            request_timeout: self.config.timeouts.request_timeout(),
            observer: opts.observer.clone(),
        };
        let uploaded = store::upload_and_confirm(
            &self.http,
            self.limit.clone(),
            committee,
            encoded.clone(),
            &params,
            &bar,
            |epoch| async move { self.newer_committee(epoch).await.map_err(|e| e.to_string()) },
        )
        .await;
        bar.finish_and_clear();
        timings.upload_secs = t.elapsed().as_secs_f64();
        let (committee, confirmations) = uploaded?;

        let n = committee.n_shards;
        if !Quorum::Certify.is_met(confirmations.weight, n) {
            return Err(ClientError::QuorumNotReached {
                blob_id,
                registration_id: registration.registration_id,
                weight: confirmations.weight as u32,
                needed: Quorum::Certify.required(n) as u32,
                n,
                end_epoch,
                failures: confirmations.failures.join("; "),
            });
        }

        // Certify.
        observe::notify(observer, || StoreEvent::Certifying {
            confirmed_shards: confirmations.weight,
        });
        let t = Instant::now();
        let cert = confirmations
            .certificate(committee.epoch, committee.members.len())
            .map_err(|message| {
                ClientError::Encode(format!("cannot aggregate confirmations: {message}"))
            })?;
        let certify = self
            .chain
            .certify_registration(registration.registration_id, &cert)
            .await?;
        transactions.push(Transaction {
            action: "certify",
            hash: certify,
        });
        // A registration we made now: its attributes, then the hand-over to the owner asked for.
        let mut owner = registration.owner;
        if outcome == StoreOutcome::NewlyCertified {
            for (key, value) in &opts.attributes {
                let hash = self
                    .chain
                    .set_attribute(registration.registration_id, key, value)
                    .await?;
                transactions.push(Transaction {
                    action: "set_attribute",
                    hash,
                });
            }
            if let Some(to) = opts.owner.filter(|to| *to != owner) {
                observe::notify(observer, || StoreEvent::Transferring {
                    registration_id: registration.registration_id,
                    to,
                });
                let hash = self
                    .chain
                    .transfer_registration(registration.registration_id, to)
                    .await?;
                transactions.push(Transaction {
                    action: "transfer",
                    hash,
                });
                owner = to;
            }
        }
        timings.chain_secs += t.elapsed().as_secs_f64();
        observe::notify(observer, || StoreEvent::Done {
            registration_id: registration.registration_id,
            outcome,
        });
        Ok(StoreResult {
            blob_id,
            size,
            registration_id: registration.registration_id,
            owner,
            paid,
            deletable: registration.deletable,
            end_epoch,
            outcome,
            transactions,
            confirmed_shards: confirmations.weight,
            timings,
        })
    }

    /// Reads a certified blob back, verified against its id.
    pub async fn read(&self, blob_id: &BlobId) -> Result<Vec<u8>, ClientError> {
        let (cfg, committee) = self.readable(blob_id).await?;
        let nodes = self.node_http();
        let metadata = read::fetch_metadata(&nodes, &committee, &cfg, blob_id).await?;
        let len = metadata.unencoded_length;
        let primary_total = u64::from(cfg.secondary_len())
            * u64::from(cfg.primary_len())
            * u64::from(cfg.symbol_size(len).unwrap_or(2));
        let bar = self.progress.bar("reading", primary_total, len, true);
        let slivers = read::fetch_primaries(
            &nodes,
            self.limit.clone(),
            &committee,
            &cfg,
            &metadata,
            blob_id,
            &bar,
        )
        .await?;
        bar.finish_and_clear();
        let id = *blob_id;
        let bar = self.progress.spinner("decoding", len);
        let data = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ClientError> {
            // Decodes, then re-encodes: a consistent blob reproduces its id, an inconsistent one not.
            cfg.decode_and_verify(&metadata, slivers)
                .map_err(|e| match e {
                    DecodeError::Inconsistent { .. } => ClientError::Inconsistent(id),
                    other => ClientError::Decode {
                        blob_id: id,
                        message: other.to_string(),
                    },
                })
        })
        .await
        .map_err(|e| ClientError::Decode {
            blob_id: id,
            message: format!("decoder thread failed: {e}"),
        })??;
        bar.finish_and_clear();
        Ok(data)
    }

    /// Checks on-chain that `blob_id` can be read now (certified, not deleted, expired or
    /// invalid); returns the encoding and the current committee to read it from.
    async fn readable(&self, blob_id: &BlobId) -> Result<(EncodingConfig, Committee), ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let status = self.chain.blob_status(blob_id).await?;
        check_readable(&status, epoch, blob_id)?;
        let cfg = self.encoding().await?;
        let committee = self.committee(epoch).await?;
        Ok((cfg, committee))
    }

    /// What every request to the storage nodes shares.
    fn node_http(&self) -> NodeHttp {
        NodeHttp {
            http: self.http.clone(),
            timeout: self.config.timeouts.request_timeout(),
        }
    }

    /// Opens `blob_id` for streaming, ranged reads: checks the chain as [`Client::read`] does
    /// (unknown, deleted, expired, invalid and uncertified blobs fail with the same errors) and
    /// fetches and verifies the blob's metadata. See [`BlobReader`] for the reads.
    pub async fn open_blob(&self, blob_id: &BlobId) -> Result<BlobReader, ClientError> {
        let (cfg, committee) = self.readable(blob_id).await?;
        BlobReader::open(
            self.node_http(),
            self.limit.clone(),
            Arc::new(committee),
            cfg,
            *blob_id,
        )
        .await
    }

    /// The blob's on-chain status over all its registrations, with the caller's registrations.
    pub async fn status(&self, blob_id: &BlobId) -> Result<BlobStatus, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let status = self.chain.blob_status(blob_id).await?;
        let mine = if status.is_known() {
            self.my_registrations(blob_id).await?
        } else {
            Vec::new()
        };
        Ok(BlobStatus {
            blob_id: *blob_id,
            state: overall_state(&status, epoch).to_owned(),
            size: status.size,
            registrations: status.registrations,
            end_epoch: status.end_epoch,
            certified_end_epoch: status.certified_end_epoch,
            permanent_certified_end_epoch: status.permanent_certified_end_epoch,
            current_epoch: epoch,
            mine: mine
                .iter()
                .map(|r| RegistrationView::new(r, epoch))
                .collect(),
        })
    }

    /// The caller's registrations of `blob_id`, newest first (at most 256).
    pub async fn my_registrations(
        &self,
        blob_id: &BlobId,
    ) -> Result<Vec<RegistrationRecord>, ClientError> {
        self.owned_registrations(blob_id, self.address()).await
    }

    /// `owner`'s registrations of `blob_id` now, newest first (at most 256). Registrations
    /// change hands (`transferRegistration`) and the registry indexes them by registrant only,
    /// so this reads the blob's registrations (at most 1024) and keeps those `owner` holds.
    pub(crate) async fn owned_registrations(
        &self,
        blob_id: &BlobId,
        owner: Address,
    ) -> Result<Vec<RegistrationRecord>, ClientError> {
        let mut all = self.registrations_of(blob_id, None, ANY_LIMIT).await?;
        all.retain(|r| r.owner == owner);
        all.truncate(OWN_LIMIT);
        Ok(all)
    }

    /// Registrations of `blob_id` (of `owner` only, if given), newest first, at most `limit`.
    pub(crate) async fn registrations_of(
        &self,
        blob_id: &BlobId,
        owner: Option<Address>,
        limit: usize,
    ) -> Result<Vec<RegistrationRecord>, ClientError> {
        let ids = self
            .chain
            .registration_ids_of(blob_id, owner, limit)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = self.chain.registration(id).await?;
            // The event named this blob; the record must too (a chain that disagrees is skipped).
            if r.state != RegistrationState::None && r.blob_id == *blob_id {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// What a store of `req` does: see [`crate::registrations`].
    pub(crate) async fn plan_store(
        &self,
        req: &registrations::Request,
    ) -> Result<Plan, ClientError> {
        let status = self.chain.blob_status(&req.blob_id).await?;
        if status.invalid {
            return Err(ClientError::BlobInvalid(req.blob_id));
        }
        if !status.is_known() {
            return Ok(Plan::Register);
        }
        // `req.me` is the owner the store is for (the caller, or whom a publisher stores for).
        // One read of the blob's registrations gives both theirs and, when someone's certified
        // permanent registration covers the request, everyone's (to find which).
        let all = self.registrations_of(&req.blob_id, None, ANY_LIMIT).await?;
        let mut mine: Vec<_> = all.iter().filter(|r| r.owner == req.me).cloned().collect();
        mine.truncate(OWN_LIMIT);
        let others = if status.permanent_certified_end_epoch > req.current
            && status.permanent_certified_end_epoch >= req.end_epoch
        {
            all
        } else {
            Vec::new()
        };
        Ok(registrations::plan(req, &mine, &others))
    }

    /// The network: epoch, committee, shards per node, prices, n, f.
    pub async fn info(&self) -> Result<NetworkInfo, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let n = self.chain.n_shards().await?;
        let committee = self.chain.committee(epoch).await?;
        let prices = self.chain.prices().await?;
        let wallet = self.address();
        let wal_balance = self.chain.wal_balance(wallet).await?;
        Ok(NetworkInfo {
            chain_id: self.config.deployment.chain_id,
            epoch,
            n_shards: n,
            f: max_faulty(n),
            quorum: Quorum::Certify.required(n),
            storage_price: prices.storage_per_mib_epoch,
            write_price: prices.write_per_mib,
            committee: committee
                .members
                .iter()
                .map(|m| MemberInfo {
                    node: m.node,
                    network_address: m.network_address.clone(),
                    shards: m.shards.len(),
                })
                .collect(),
            wallet,
            wal_balance,
        })
    }

    /// Deletes the caller's deletable registrations of `blob_id` that still live (or only
    /// `registration`); their storage stays the caller's. Other registrations of the blob, the
    /// caller's permanent ones and everyone else's, live on, and so may the data.
    pub async fn delete(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
    ) -> Result<Vec<Deleted>, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let targets = match registration {
            Some(id) => {
                let r = self.registration_of_blob(blob_id, id).await?;
                let refuse = |reason: String| ClientError::NotDeletable {
                    blob_id: *blob_id,
                    reason,
                };
                if r.owner != self.address() {
                    return Err(refuse(format!(
                        "registration {id} belongs to {}, not to this wallet {}",
                        r.owner,
                        self.address()
                    )));
                }
                if !r.deletable {
                    return Err(refuse(format!(
                        "registration {id} is permanent (store with --deletable to be able to delete)"
                    )));
                }
                if !r.is_live(epoch) {
                    return Err(refuse(format!(
                        "registration {id} is {} already",
                        registrations::state_name(&r, epoch)
                    )));
                }
                vec![r]
            }
            None => {
                let status = self.chain.blob_status(blob_id).await?;
                if !status.is_known() {
                    return Err(ClientError::BlobUnknown(*blob_id));
                }
                let mine = self.my_registrations(blob_id).await?;
                let live: Vec<_> = mine.into_iter().filter(|r| r.is_live(epoch)).collect();
                let (deletable, permanent): (Vec<_>, Vec<_>) =
                    live.into_iter().partition(|r| r.deletable);
                if deletable.is_empty() {
                    let reason = if permanent.is_empty() {
                        format!(
                            "this wallet {} has no live registration of it (`floe status {blob_id}` lists yours)",
                            self.address()
                        )
                    } else {
                        format!(
                            "this wallet's live registrations of it ({}) are permanent (store with --deletable to be able to delete)",
                            ids(&permanent)
                        )
                    };
                    return Err(ClientError::NotDeletable {
                        blob_id: *blob_id,
                        reason,
                    });
                }
                deletable
            }
        };
        let mut out = Vec::with_capacity(targets.len());
        for r in targets {
            let transaction = self.chain.delete_registration(r.registration_id).await?;
            out.push(Deleted {
                registration_id: r.registration_id,
                transaction,
            });
        }
        Ok(out)
    }

    /// Extends a registration of `blob_id` by `epochs`, paying for its storage: `registration`,
    /// or by default the caller's longest-lived live registration of the blob. Anyone may extend
    /// a permanent registration; a deletable one only its owner.
    pub async fn extend(
        &self,
        blob_id: &BlobId,
        epochs: u32,
        registration: Option<u64>,
    ) -> Result<Extended, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let refuse = |reason: String| ClientError::CannotExtend {
            blob_id: *blob_id,
            reason,
        };
        if epochs == 0 {
            return Err(refuse("extend by at least 1 epoch".into()));
        }
        let target = match registration {
            Some(id) => {
                let r = self.registration_of_blob(blob_id, id).await?;
                if r.deletable && r.owner != self.address() {
                    return Err(refuse(format!(
                        "registration {id} is deletable and belongs to {}: only its owner may extend it (a permanent registration anyone may)",
                        r.owner
                    )));
                }
                if !r.is_live(epoch) {
                    return Err(refuse(format!(
                        "registration {id} is {} (store the blob again with `floe store`)",
                        registrations::state_name(&r, epoch)
                    )));
                }
                r
            }
            None => {
                let status = self.chain.blob_status(blob_id).await?;
                if !status.is_known() {
                    return Err(ClientError::BlobUnknown(*blob_id));
                }
                let mine = self.my_registrations(blob_id).await?;
                match mine
                    .into_iter()
                    .filter(|r| r.is_live(epoch))
                    .max_by_key(|r| (r.end_epoch, std::cmp::Reverse(r.registration_id)))
                {
                    Some(r) => r,
                    None => {
                        let permanent: Vec<_> = self
                            .registrations_of(blob_id, None, ANY_LIMIT)
                            .await?
                            .into_iter()
                            .filter(|r| !r.deletable && r.is_live(epoch))
                            .collect();
                        let hint = if permanent.is_empty() {
                            "and no permanent one of anyone lives; store it with `floe store`"
                                .to_owned()
                        } else {
                            format!(
                                "but anyone may extend a permanent registration: pass --registration with one of {}",
                                ids(&permanent)
                            )
                        };
                        return Err(refuse(format!(
                            "this wallet {} has no live registration of it, {hint}",
                            self.address()
                        )));
                    }
                }
            }
        };
        let encoded_size = self.chain.encoded_size(target.size).await?;
        let cost = self.chain.storage_cost(encoded_size, epochs).await?;
        let mut transactions = Vec::new();
        if let Some(approve) = self.chain.ensure_registry_allowance(cost.storage).await? {
            transactions.push(Transaction {
                action: "approve",
                hash: approve,
            });
        }
        let extend = self
            .chain
            .extend_registration(target.registration_id, epochs)
            .await?;
        transactions.push(Transaction {
            action: "extend",
            hash: extend,
        });
        let end_epoch = self
            .chain
            .registration(target.registration_id)
            .await?
            .end_epoch;
        Ok(Extended {
            blob_id: *blob_id,
            registration_id: target.registration_id,
            end_epoch,
            transactions,
        })
    }

    /// Registration `id`, which must exist and be of `blob_id`.
    pub(crate) async fn registration_of_blob(
        &self,
        blob_id: &BlobId,
        id: u64,
    ) -> Result<RegistrationRecord, ClientError> {
        let r = self.chain.registration(id).await?;
        if r.state == RegistrationState::None {
            return Err(ClientError::RegistrationUnknown(id));
        }
        if r.blob_id != *blob_id {
            return Err(ClientError::RegistrationOfAnotherBlob {
                registration_id: id,
                blob_id: *blob_id,
                actual: r.blob_id,
            });
        }
        Ok(r)
    }

    /// Takes `amount` FROST of WAL from the devnet faucet.
    pub async fn faucet(&self, amount: U256) -> Result<B256, ClientError> {
        Ok(self.chain.faucet(amount).await?)
    }

    /// Stakes `amount` FROST with `node`.
    pub async fn stake(
        &self,
        node: Address,
        amount: U256,
    ) -> Result<Vec<Transaction>, ClientError> {
        // Approves the staking contract first when needed.
        let stake = self.chain.stake(node, amount).await?;
        Ok(vec![Transaction {
            action: "stake",
            hash: stake,
        }])
    }

    /// The wallet's WAL balance in FROST.
    pub async fn wal_balance(&self) -> Result<U256, ClientError> {
        Ok(self.chain.wal_balance(self.address()).await?)
    }
}

/// Fails with the error of a blob that cannot be read in epoch `current` (see
/// [`Client::read`]).
fn check_readable(
    status: &BlobStatusRecord,
    current: u32,
    blob_id: &BlobId,
) -> Result<(), ClientError> {
    match overall_state(status, current) {
        "unknown" => Err(ClientError::BlobUnknown(*blob_id)),
        "deleted" => Err(ClientError::BlobDeleted(*blob_id)),
        "invalid" => Err(ClientError::BlobInvalid(*blob_id)),
        "expired" => Err(ClientError::BlobExpired {
            blob_id: *blob_id,
            end_epoch: status.end_epoch,
            current,
        }),
        "registered" => Err(ClientError::BlobNotCertified(*blob_id)),
        _ => Ok(()),
    }
}

/// A blob's state over all its registrations (see [`BlobStatus::state`]).
pub(crate) fn overall_state(status: &BlobStatusRecord, current: u32) -> &'static str {
    if !status.is_known() {
        "unknown"
    } else if status.invalid {
        "invalid"
    } else if status.registrations == 0 {
        "deleted"
    } else if !status.is_live(current) {
        "expired"
    } else if status.is_certified(current) {
        "certified"
    } else {
        "registered"
    }
}

/// Registration ids as `3, 7`.
fn ids(records: &[RegistrationRecord]) -> String {
    records
        .iter()
        .map(|r| r.registration_id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
