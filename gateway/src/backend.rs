//! The [`Backend`] trait: everything the gateway's handlers need from the floe network, and
//! the data it exchanges. The real implementation sits on `floe_client::Client`; tests use
//! `fake::FakeBackend`. A backend never sees HTTP: it answers in these types and
//! [`BackendError`]s, and the gateway turns them into statuses and headers.

use std::{
    collections::BTreeMap, fmt, future::Future, ops::Range, pin::Pin, str::FromStr, sync::Arc,
};

use bytes::Bytes;
use floe_core::{
    ids::BlobId,
    quilt::{PREFIX_LEN, QuiltIndex},
};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::BackendError;

/// A blob's bytes as a stream of chunks, in order.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BackendError>> + Send>>;

/// Receives the phases of a store as they happen (called from the store's task; must not block).
pub type PhaseSink = Arc<dyn Fn(PhaseUpdate) + Send + Sync>;

/// A blob's on-chain state over all its registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlobState {
    /// A certified registration lives: reads are guaranteed.
    Certified,
    /// Some registration lives, none is certified yet.
    Registered,
    /// Every registration was deleted.
    Deleted,
    /// No registration lives any more.
    Expired,
    /// The blob was proven inconsistent.
    Invalid,
}

impl BlobState {
    /// The state's name as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certified => "certified",
            Self::Registered => "registered",
            Self::Deleted => "deleted",
            Self::Expired => "expired",
            Self::Invalid => "invalid",
        }
    }
}

/// A 20-byte EVM address (`0x` + 40 hex digits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EvmAddress(pub [u8; 20]);

impl fmt::Display for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvmAddress({self})")
    }
}

impl FromStr for EvmAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        let mut out = [0u8; 20];
        hex::decode_to_slice(digits, &mut out)
            .map_err(|_| format!("invalid address {s:?}: expected 0x followed by 40 hex digits"))?;
        Ok(Self(out))
    }
}

/// What a read needs before streaming: [`Backend::blob_head`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHead {
    /// The blob's state over all its registrations. The gateway serves only `Certified`
    /// blobs; `Registered` answers 404, the others 410.
    pub state: BlobState,
    /// Unencoded size in bytes.
    pub size: u64,
    /// The first epoch no certified registration covers.
    pub certified_end_epoch: u32,
    /// Seconds from now until `certified_end_epoch` starts (0 if it has): the `max-age`.
    pub secs_until_certified_end: u64,
    /// The registration whose attributes are given (the one asked for, or the first one).
    pub registration_id: u64,
    /// That registration's attributes (key → value, as set on-chain).
    pub attributes: BTreeMap<String, String>,
}

/// A store request: [`Backend::store`]'s input, already validated by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    /// The blob (at most the configured body limit).
    pub data: Bytes,
    /// Epochs of storage to buy, from the current one (at least 1).
    pub epochs: u32,
    /// Whether the registration may be deleted by its owner.
    pub deletable: bool,
    /// Transfer the registration to this address after certifying it.
    pub owner: Option<EvmAddress>,
    /// Attributes to set on the registration (before any transfer).
    pub attributes: BTreeMap<String, String>,
}

/// A phase of a store, as shown in NDJSON progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The gateway received the body (sent by the gateway itself).
    Receive,
    /// Encoding the blob.
    Encode,
    /// Registering (paying for) the blob on-chain.
    Register,
    /// Uploading slivers and collecting confirmations.
    Upload,
    /// Certifying on-chain.
    Certify,
    /// Setting attributes / transferring the registration to `owner`.
    Transfer,
}

/// One progress event of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PhaseUpdate {
    /// The phase entered or progressing.
    pub phase: Phase,
    /// Work done in this phase (bytes received, shards confirmed, ...), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<u64>,
    /// The total of `done`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl PhaseUpdate {
    /// Entering `phase`, without counts.
    pub fn enter(phase: Phase) -> Self {
        Self {
            phase,
            done: None,
            total: None,
        }
    }
}

/// The registration a store answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlobObject {
    /// `0x` + 64 hex digits.
    pub blob_id: String,
    /// The registration's id.
    pub registration_id: u64,
    /// Its owner, `0x…`.
    pub owner: String,
    /// Unencoded size in bytes.
    pub size: u64,
    /// Whether its owner may delete it.
    pub deletable: bool,
    /// The first epoch it no longer stores the blob.
    pub end_epoch: u32,
    /// Whether it is a shared registration.
    pub shared: bool,
}

/// A transaction the publisher sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxRecord {
    /// What it did: `approve`, `register`, `certify`, `attributes`, `transfer`, ...
    pub action: String,
    /// Its hash, `0x…`.
    pub hash: String,
}

/// A store that registered (or reused a registration), uploaded and certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewlyCreated {
    /// The registration.
    pub blob_object: BlobObject,
    /// FROST paid, as a decimal string.
    pub cost_frost: String,
    /// The transactions sent, in order.
    pub transactions: Vec<TxRecord>,
}

/// A store that found the blob already certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlreadyCertified {
    /// The registration that covers the request.
    pub blob_object: BlobObject,
    /// The transactions sent (attributes / transfer, usually none).
    pub transactions: Vec<TxRecord>,
}

/// The answer of `PUT /v1/blobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum StoreResponse {
    /// Registered and certified now.
    #[serde(rename = "newlyCreated")]
    NewlyCreated(NewlyCreated),
    /// Already certified: nothing paid.
    #[serde(rename = "alreadyCertified")]
    AlreadyCertified(AlreadyCertified),
}

/// One registration of a blob, in [`BlobInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationInfo {
    /// Its id.
    pub registration_id: u64,
    /// Its owner, `0x…`.
    pub owner: String,
    /// `certified`, `registered`, `deleted`, `expired` or `invalid`.
    pub state: BlobState,
    /// Whether its owner may delete it.
    pub deletable: bool,
    /// Whether it is shared.
    pub shared: bool,
    /// The epoch it was registered in.
    pub registered_epoch: u32,
    /// The epoch it was certified in (0 if not).
    pub certified_epoch: u32,
    /// The first epoch it no longer stores the blob.
    pub end_epoch: u32,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// The registering transaction, when found.
    pub register_tx: Option<String>,
    /// The certifying transaction, when found.
    pub certify_tx: Option<String>,
}

/// `GET /v1/blobs/{id}/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlobInfo {
    /// `0x` + 64 hex digits.
    pub blob_id: String,
    /// Over all registrations.
    pub state: BlobState,
    /// Unencoded size in bytes.
    pub size: u64,
    /// The current epoch.
    pub current_epoch: u32,
    /// The first epoch no registration stores the blob.
    pub end_epoch: u32,
    /// The first epoch no certified registration covers.
    pub certified_end_epoch: u32,
    /// The registration whose attributes a read uses (the first one).
    pub primary_registration_id: Option<u64>,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// Where to read it; set by the gateway (a backend may leave it empty).
    pub download_url: String,
    /// Registrations, newest first, at most 50.
    pub registrations: Vec<RegistrationInfo>,
}

/// A node's liveness as probed by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeHealth {
    /// Whether the node answered.
    pub ok: bool,
    /// Its answer's latency.
    pub latency_ms: Option<u64>,
    /// The epoch it reports.
    pub epoch: Option<u32>,
    /// Why it did not answer.
    pub error: Option<String>,
}

/// One committee member in [`NetworkStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitteeMember {
    /// The node id, `0x…`.
    pub node: String,
    /// Its HTTP API address.
    pub address: String,
    /// Shards it holds.
    pub shards: u32,
    /// Its stake in FROST, decimal.
    pub stake: String,
    /// Its commission in basis points.
    pub commission_bps: u32,
    /// Live probe.
    pub health: NodeHealth,
}

/// The publisher in [`NetworkStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublisherInfo {
    /// Whether writes need no token; set by the gateway.
    pub open: bool,
    /// The publisher's wallet, `0x…`.
    pub address: String,
    /// The body limit; set by the gateway.
    pub max_body_bytes: u64,
}

/// `GET /v1/network`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkStatus {
    /// The chain id.
    pub chain_id: u64,
    /// The current epoch.
    pub epoch: u32,
    /// The chain's time, Unix seconds.
    pub now: u64,
    /// When the current epoch started.
    pub epoch_started_at: u64,
    /// An epoch's length.
    pub epoch_duration_secs: u64,
    /// When the next epoch may start.
    pub next_epoch_at: u64,
    /// Shards `n`.
    pub n_shards: u16,
    /// Tolerated faulty shards.
    pub f: u16,
    /// Shards whose confirmations certify.
    pub quorum: u64,
    /// Largest blob the network encodes.
    pub max_blob_size: u64,
    /// FROST per MiB (encoded) per epoch, decimal.
    pub storage_price_per_mib_epoch: String,
    /// FROST per MiB (encoded), decimal.
    pub write_price_per_mib: String,
    /// The current committee.
    pub committee: Vec<CommitteeMember>,
    /// The publisher.
    pub publisher: PublisherInfo,
}

/// One recent registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecentBlob {
    /// `0x` + 64 hex digits.
    pub blob_id: String,
    /// The registration's id.
    pub registration_id: u64,
    /// Its owner.
    pub owner: String,
    /// Unencoded size.
    pub size: u64,
    /// Whether deletable.
    pub deletable: bool,
    /// The epoch it was registered in.
    pub epoch: u32,
    /// The block of the registration event.
    pub block_number: u64,
    /// The registering transaction.
    pub tx_hash: String,
    /// Whether it is certified now.
    pub certified: bool,
}

/// `GET /v1/recent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecentBlobs {
    /// Newest first.
    pub blobs: Vec<RecentBlob>,
}

/// One file of a quilt, in [`QuiltFiles`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuiltFileInfo {
    /// The file's identifier (a relative path).
    pub identifier: String,
    /// Its size in bytes.
    pub size: u64,
    /// The `Content-Type` it is served with (its `content-type` tag, else from its extension).
    pub content_type: String,
    /// Its SHA-256, 64 hex digits.
    pub sha256: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Where to read it (relative to the gateway).
    pub url: String,
}

/// `GET /v1/quilts/{id}/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuiltFiles {
    /// The quilt's blob id, `0x` + 64 hex digits.
    pub quilt_id: String,
    /// The quilt blob's size in bytes.
    pub size: u64,
    /// Its files, sorted by identifier.
    pub files: Vec<QuiltFileInfo>,
}

/// What the gateway needs from the floe network. Every method may be called concurrently;
/// an implementation bounds its own work per call (timeouts, in-flight slivers) and answers
/// with a [`BackendError`] whose class picks the status (never `Internal` for what a client or
/// a node sent).
pub trait Backend: Clone + Send + Sync + 'static {
    /// The blob's state, size, cache lifetime and the attributes of one registration:
    /// `registration` if given (`NotFound` if it is not a registration of `blob_id`), else the
    /// blob's first registration. `NotFound` for a blob never registered; `Unavailable` when
    /// the chain cannot be read.
    fn blob_head(
        &self,
        blob_id: BlobId,
        registration: Option<u64>,
    ) -> impl Future<Output = Result<BlobHead, BackendError>> + Send;

    /// The bytes `range` (non-empty, inside `0..size` of a certified blob) as a stream of
    /// verified chunks, in order, fetching only the slivers that hold the range and keeping
    /// a bounded number in flight. The stream yields exactly `range.end - range.start` bytes or
    /// ends with an error (the gateway then aborts the response). Errors before the first byte
    /// (e.g. `Unavailable`) are answered with their status.
    fn read_range(
        &self,
        blob_id: BlobId,
        range: Range<u64>,
    ) -> impl Future<Output = Result<ByteStream, BackendError>> + Send;

    /// Stores `request.data`: encode, register (or reuse), upload, certify, set attributes,
    /// transfer to `owner`; calls `on_phase` as each phase starts (or progresses). Idempotent
    /// like `floe_client::Client::store`. `TooLarge` if the network cannot encode the blob.
    fn store(
        &self,
        request: StoreRequest,
        on_phase: PhaseSink,
    ) -> impl Future<Output = Result<StoreResponse, BackendError>> + Send;

    /// The blob's on-chain state and its registrations (newest first, at most 50).
    /// `NotFound` for an id never registered.
    fn blob_info(
        &self,
        blob_id: BlobId,
    ) -> impl Future<Output = Result<BlobInfo, BackendError>> + Send;

    /// The network's state with a (cached, a few seconds) live probe of every node.
    /// `Unavailable` when the chain cannot be reached.
    fn network(&self) -> impl Future<Output = Result<NetworkStatus, BackendError>> + Send;

    /// At most `limit` registrations from the last `window_blocks` blocks, newest first.
    fn recent(
        &self,
        limit: usize,
        window_blocks: u64,
    ) -> impl Future<Output = Result<Vec<RecentBlob>, BackendError>> + Send;

    /// The parsed index of the quilt `blob_id` (certified, `size` bytes): by default two
    /// [`Backend::read_range`]s, the prefix then the header (at most
    /// [`floe_core::quilt::MAX_INDEX_LEN`] bytes). `BadRequest` if the blob is not a
    /// well-formed quilt.
    fn quilt_index(
        &self,
        blob_id: BlobId,
        size: u64,
    ) -> impl Future<Output = Result<QuiltIndex, BackendError>> + Send {
        async move {
            let not_a_quilt = |e: floe_core::quilt::QuiltError| {
                BackendError::bad_request(format!(
                    "blob {blob_id} is not a quilt: {e}; read it as a blob at /v1/blobs/{blob_id}"
                ))
            };
            let prefix = PREFIX_LEN as u64;
            if size < prefix {
                return Err(not_a_quilt(floe_core::quilt::QuiltError::Truncated {
                    len: usize::try_from(size).unwrap_or(usize::MAX),
                    needed: PREFIX_LEN,
                }));
            }
            let mut head = collect(self.read_range(blob_id, 0..prefix).await?, PREFIX_LEN).await?;
            let header_len = QuiltIndex::parse_prefix(&head).map_err(not_a_quilt)?;
            if header_len > size {
                return Err(not_a_quilt(floe_core::quilt::QuiltError::Truncated {
                    len: usize::try_from(size).unwrap_or(usize::MAX),
                    needed: usize::try_from(header_len).unwrap_or(usize::MAX),
                }));
            }
            if header_len > prefix {
                // parse_prefix bounds the header (MAX_INDEX_LEN).
                let rest = usize::try_from(header_len - prefix).unwrap_or(usize::MAX);
                let stream = self.read_range(blob_id, prefix..header_len).await?;
                head.extend_from_slice(&collect(stream, rest).await?);
            }
            QuiltIndex::from_bytes(&head, size).map_err(not_a_quilt)
        }
    }
}

/// Collects exactly `len` bytes of `stream` (more or fewer is an internal error).
async fn collect(mut stream: ByteStream, len: usize) -> Result<Vec<u8>, BackendError> {
    let mut out = Vec::with_capacity(len);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if out.len() + chunk.len() > len {
            return Err(BackendError::internal(format!(
                "the backend sent more than the {len} bytes asked"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    if out.len() != len {
        return Err(BackendError::internal(format!(
            "the backend sent {} bytes, {len} asked",
            out.len()
        )));
    }
    Ok(out)
}
