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
use floe_chain::{BlobState, Chain, Committee};
use floe_core::{
    encoding::{DecodeError, EncodedBlob, EncodingConfig},
    ids::{BlobId, ENCODING_RED_STUFF},
    protocol::{Quorum, quorum::max_faulty},
};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::{
    config::ClientConfig,
    error::ClientError,
    node_api::{NodeHttp, http_client},
    progress::Progress,
    read, store,
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
    /// Whether the owner may delete the blob before it expires.
    pub deletable: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            epochs: 1,
            deletable: false,
        }
    }
}

/// How a store ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOutcome {
    /// The blob was already certified and unexpired: nothing was paid or uploaded.
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
    /// The first epoch the blob is no longer stored.
    pub end_epoch: u32,
    /// How the store ended.
    pub outcome: StoreOutcome,
    /// Transaction hashes, in order: approve, register, certify (those that were sent).
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

/// A blob's on-chain status, as `floe status` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobStatus {
    /// The blob id.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// "unknown", "registered", "certified", "deleted", "invalid" or "expired".
    pub state: String,
    /// The owner (zero when unknown).
    pub owner: Address,
    /// Unencoded size in bytes.
    pub size: u64,
    /// Whether the owner may delete it.
    pub deletable: bool,
    /// The epoch it was registered in.
    pub registered_epoch: u32,
    /// The epoch it was certified in (0 if not certified).
    pub certified_epoch: u32,
    /// The first epoch it is no longer stored.
    pub end_epoch: u32,
    /// The current epoch.
    pub current_epoch: u32,
    /// The storage resource backing it.
    pub storage_id: U256,
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
    progress: Progress,
    n_shards: Arc<tokio::sync::OnceCell<u16>>,
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
    async fn encoding(&self) -> Result<EncodingConfig, ClientError> {
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
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        bar.finish_and_clear();
        Ok(encoded)
    }

    /// Stores `data`: see the module doc. Idempotent: a certified blob is not paid again, and an
    /// uncertified registration of ours is reused.
    pub async fn store(
        &self,
        data: Vec<u8>,
        opts: &StoreOptions,
    ) -> Result<StoreResult, ClientError> {
        let size = data.len() as u64;
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

        // What does the chain know about this blob?
        let t = Instant::now();
        let info = self.chain.blob(&blob_id).await?;
        let mut transactions = Vec::new();
        let unexpired = info.end_epoch > epoch;
        let (outcome, deletable, end_epoch, bought_epochs) = match info.state {
            BlobState::Certified if unexpired => {
                timings.chain_secs += t.elapsed().as_secs_f64();
                return Ok(StoreResult {
                    blob_id,
                    size,
                    end_epoch: info.end_epoch,
                    outcome: StoreOutcome::AlreadyCertified,
                    transactions,
                    confirmed_shards: 0,
                    timings,
                });
            }
            BlobState::Registered if unexpired => {
                tracing::info!(%blob_id, owner = %info.owner, "reusing the existing registration");
                (
                    StoreOutcome::ReusedRegistration,
                    info.deletable,
                    info.end_epoch,
                    info.end_epoch.saturating_sub(info.registered_epoch),
                )
            }
            _ => {
                let encoded_size = self.chain.encoded_size(size).await?;
                let cost = self.chain.storage_cost(encoded_size, opts.epochs).await?;
                if let Some(approve) = self.chain.ensure_registry_allowance(cost.total()).await? {
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
                if reg.blob_id != blob_id {
                    return Err(ClientError::Encode(format!(
                        "the registry derived blob id {} but the encoder {blob_id}; the client and the contracts disagree on the id",
                        reg.blob_id
                    )));
                }
                (
                    StoreOutcome::NewlyCertified,
                    opts.deletable,
                    reg.end_epoch,
                    opts.epochs,
                )
            }
        };
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
            deletable,
            end_epoch,
            bought_epochs,
            timeout: self.config.timeouts.confirmation(),
            extra: self.config.timeouts.extra_confirmation(),
            lag_retry: LAG_RETRY,
            request_timeout: self.config.timeouts.request_timeout(),
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
                weight: confirmations.weight as u32,
                needed: Quorum::Certify.required(n) as u32,
                n,
                end_epoch,
                failures: confirmations.failures.join("; "),
            });
        }

        // Certify.
        let t = Instant::now();
        let cert = confirmations
            .certificate(committee.epoch, committee.members.len())
            .map_err(|message| {
                ClientError::Encode(format!("cannot aggregate confirmations: {message}"))
            })?;
        let certify = self.chain.certify_blob(&blob_id, &cert).await?;
        transactions.push(Transaction {
            action: "certify",
            hash: certify,
        });
        timings.chain_secs += t.elapsed().as_secs_f64();
        Ok(StoreResult {
            blob_id,
            size,
            end_epoch,
            outcome,
            transactions,
            confirmed_shards: confirmations.weight,
            timings,
        })
    }

    /// Reads a certified blob back, verified against its id.
    pub async fn read(&self, blob_id: &BlobId) -> Result<Vec<u8>, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let info = self.chain.blob(blob_id).await?;
        match info.state {
            BlobState::None => return Err(ClientError::BlobUnknown(*blob_id)),
            BlobState::Deleted => return Err(ClientError::BlobDeleted(*blob_id)),
            BlobState::Invalid => return Err(ClientError::BlobInvalid(*blob_id)),
            _ if info.end_epoch <= epoch => {
                return Err(ClientError::BlobExpired {
                    blob_id: *blob_id,
                    end_epoch: info.end_epoch,
                    current: epoch,
                });
            }
            BlobState::Registered => return Err(ClientError::BlobNotCertified(*blob_id)),
            BlobState::Certified => {}
        }
        let cfg = self.encoding().await?;
        let committee = self.committee(epoch).await?;
        let nodes = NodeHttp {
            http: self.http.clone(),
            timeout: self.config.timeouts.request_timeout(),
        };
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

    /// The blob's on-chain status.
    pub async fn status(&self, blob_id: &BlobId) -> Result<BlobStatus, ClientError> {
        let epoch = self.chain.current_epoch().await?;
        let info = self.chain.blob(blob_id).await?;
        let state = match info.state {
            BlobState::None => "unknown",
            BlobState::Deleted => "deleted",
            BlobState::Invalid => "invalid",
            _ if info.end_epoch <= epoch => "expired",
            BlobState::Registered => "registered",
            BlobState::Certified => "certified",
        };
        Ok(BlobStatus {
            blob_id: *blob_id,
            state: state.to_owned(),
            owner: info.owner,
            size: info.size,
            deletable: info.deletable,
            registered_epoch: info.registered_epoch,
            certified_epoch: info.certified_epoch,
            end_epoch: info.end_epoch,
            current_epoch: epoch,
            storage_id: info.storage_id,
        })
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

    /// Deletes a deletable blob we own; its storage stays ours.
    pub async fn delete(&self, blob_id: &BlobId) -> Result<B256, ClientError> {
        let info = self.chain.blob(blob_id).await?;
        if info.state == BlobState::None {
            return Err(ClientError::BlobUnknown(*blob_id));
        }
        if !info.deletable {
            return Err(ClientError::NotDeletable {
                blob_id: *blob_id,
                reason: "it was stored permanent (store with --deletable to be able to delete)"
                    .into(),
            });
        }
        if info.owner != self.address() {
            return Err(ClientError::NotDeletable {
                blob_id: *blob_id,
                reason: format!(
                    "it belongs to {}, not to this wallet {}",
                    info.owner,
                    self.address()
                ),
            });
        }
        Ok(self.chain.delete_blob(blob_id).await?)
    }

    /// Extends a blob by `epochs`, paying for its storage.
    pub async fn extend(
        &self,
        blob_id: &BlobId,
        epochs: u32,
    ) -> Result<Vec<Transaction>, ClientError> {
        let info = self.chain.blob(blob_id).await?;
        if info.state == BlobState::None {
            return Err(ClientError::BlobUnknown(*blob_id));
        }
        let encoded_size = self.chain.encoded_size(info.size).await?;
        let cost = self.chain.storage_cost(encoded_size, epochs).await?;
        let mut txs = Vec::new();
        if let Some(approve) = self.chain.ensure_registry_allowance(cost.storage).await? {
            txs.push(Transaction {
                action: "approve",
                hash: approve,
            });
        }
        let extend = self.chain.extend_blob(blob_id, epochs).await?;
        txs.push(Transaction {
            action: "extend",
            hash: extend,
        });
        Ok(txs)
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
