//! The HTTP API (axum). Routes, JSON bodies, error codes and wire limits are floe-core's
//! [`floe_core::protocol`], shared with the client. Bodies of metadata, slivers and recovery
//! symbols are floe-core's wire format (`application/octet-stream`); everything else is JSON.
//! Errors are JSON `{"error": message, "code": code}` ([`ErrorCode`] gives the status), also
//! for rejected paths and queries, unknown routes and wrong methods.
//!
//! Memory per request is bounded by what the request can legitimately need:
//! - every `PUT` and `POST` takes one of the `max_concurrent_uploads` slots before its body is
//!   read (or answers 503 after `upload_wait_ms`); its body is capped at the exact wire size
//!   the blob's on-chain size allows (metadata: `15 + 64n`; a sliver: its kind's exact size;
//!   an inconsistency proof: `n-f` symbols with proofs), and at the configured caps
//!   (`max_metadata_bytes`, `max_sliver_bytes`, `max_proof_bytes`: a blob whose proof is over
//!   the last gets 413 naming it, unread); a body
//!   announcing more is refused unread, and a body must arrive at `body_min_rate` or 408;
//! - `GET`s of metadata and slivers take one of `max_concurrent_reads` slots before loading;
//! - CPU-heavy answers (recovery symbols, inconsistency checks) take one of `cpu_slots`
//!   before loading the sliver they expand.
//!
//! [`crate::memory::worst_case_memory`] adds these up.
//!
//! Besides the routes of the issue, `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=a,b`
//! serves several symbols of one sliver at once, and `POST /v1/blobs/{id}/inconsistency`
//! (body: an inconsistency proof, wire format) answers with the node's signature over
//! `invalid_message` once it has checked the proof against its metadata.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{
        Path, Query, Request, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
pub use floe_core::protocol::{BlobStatus, Confirmation};
use floe_core::{
    encoding::{Sliver, SliverKind},
    ids::BlobId,
    messages::{CertifyEntry, certify_message, invalid_message},
    metadata::BlobMetadata,
    protocol::{
        ErrorBody, ErrorCode, Health, Stored, routes,
        symbols::{encode_symbol_list, parse_indices},
    },
    recovery::InconsistencyProof,
    wire::Wire,
};
use futures::StreamExt as _;
use serde::Deserialize;

use crate::{
    metrics::Metrics,
    state::{EpochView, NodeState, blocking, gone_reason},
    storage::StoreError,
};

/// An API error: becomes a JSON response with a status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// The blob is not registered on-chain.
    #[error("blob {0} is not registered on-chain; register it before uploading")]
    NotRegistered(BlobId),
    /// No registration has this id on-chain.
    #[error("registration {0} does not exist on-chain; register the blob first")]
    UnknownRegistration(u64),
    /// The registration named belongs to another blob id.
    #[error(
        "registration {registration_id} is of blob {actual}, not of blob {id}; ask for a registration of this blob"
    )]
    RegistrationMismatch {
        /// The blob asked about.
        id: BlobId,
        /// The registration named.
        registration_id: u64,
        /// The blob it registers.
        actual: BlobId,
    },
    /// The registration is deleted or expired, or its blob invalid.
    #[error(
        "registration {registration_id} of blob {id} is {reason}: the node signs nothing for it"
    )]
    RegistrationGone {
        /// The blob.
        id: BlobId,
        /// The registration.
        registration_id: u64,
        /// `deleted`, `expired` or `invalid`.
        reason: &'static str,
    },
    /// The node does not hold what was asked.
    #[error("{0}")]
    NotFound(String),
    /// No such route, or not with this method.
    #[error("no route {method} {path}; see the node API in floe_core::protocol::routes")]
    NoRoute {
        /// The method.
        method: String,
        /// The path (at most 128 characters).
        path: String,
        /// Whether the path exists with another method.
        other_method: bool,
    },
    /// The request came too slowly.
    #[error("the request body did not arrive within {secs} s; send it faster or retry")]
    Timeout {
        /// The time allowed.
        secs: u64,
    },
    /// The blob is deleted, invalid or expired.
    #[error("blob {id} is {reason}: the node accepts and serves nothing for it")]
    Gone {
        /// The blob.
        id: BlobId,
        /// `deleted`, `invalid` or `expired`.
        reason: &'static str,
    },
    /// A sliver came before the metadata.
    #[error("no metadata for blob {0} yet: upload the metadata first")]
    MetadataMissing(BlobId),
    /// Not all slivers are held yet.
    #[error(
        "node holds {have} of its {need} slivers of blob {id} (metadata: {metadata}); upload the rest, then retry"
    )]
    Incomplete {
        /// The blob.
        id: BlobId,
        /// Slivers held.
        have: usize,
        /// Slivers needed.
        need: usize,
        /// Whether the metadata is held.
        metadata: bool,
    },
    /// The body is too large.
    #[error("body too large: at most {limit} bytes are accepted here")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The blob's inconsistency proof is larger than the operator's `max_proof_bytes`.
    #[error(
        "an inconsistency proof of blob {id} is {exact} bytes, over this node's max_proof_bytes ({cap}); \
         the node operator must raise max_proof_bytes to at least {exact} for this node to check it"
    )]
    ProofTooLarge {
        /// The blob.
        id: BlobId,
        /// The exact size of the blob's proof.
        exact: u64,
        /// The configured cap.
        cap: u64,
    },
    /// The pair's shard is held by another node this epoch.
    #[error(
        "this node does not hold pair {pair} of blob {id} in epoch {epoch}; send it to the shard's holder"
    )]
    NotMyShard {
        /// The blob.
        id: BlobId,
        /// The pair.
        pair: u16,
        /// The epoch.
        epoch: u32,
    },
    /// Verification failed.
    #[error("{0}")]
    Verification(String),
    /// Too many uploads or CPU-heavy requests in flight.
    #[error("too many requests in progress; retry shortly")]
    Busy,
    /// Too many chain lookups for unknown blobs; retry after `retry_after_secs`.
    #[error("too many lookups of blobs this node does not know; retry in {retry_after_secs} s")]
    ChainBusy {
        /// When to retry.
        retry_after_secs: u64,
    },
    /// The chain could not be asked.
    #[error("cannot check the blob on-chain: {0}; retry shortly")]
    ChainUnavailable(String),
    /// The node's storage failed.
    #[error("storage error: {0}")]
    Storage(#[from] StoreError),
    /// A worker task failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The protocol's error code (which gives the status).
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::NotRegistered(_) | ApiError::UnknownRegistration(_) => {
                ErrorCode::NotRegistered
            }
            ApiError::RegistrationMismatch { .. } => ErrorCode::RegistrationMismatch,
            ApiError::RegistrationGone { .. } => ErrorCode::Gone,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::NoRoute { other_method, .. } => {
                if *other_method {
                    ErrorCode::MethodNotAllowed
                } else {
                    ErrorCode::NotFound
                }
            }
            ApiError::Timeout { .. } => ErrorCode::Timeout,
            ApiError::Gone { .. } => ErrorCode::Gone,
            ApiError::MetadataMissing(_) => ErrorCode::MetadataMissing,
            ApiError::Incomplete { .. } => ErrorCode::Incomplete,
            ApiError::TooLarge { .. } | ApiError::ProofTooLarge { .. } => ErrorCode::TooLarge,
            ApiError::NotMyShard { .. } => ErrorCode::NotMyShard,
            ApiError::Verification(_) => ErrorCode::VerificationFailed,
            ApiError::Busy | ApiError::ChainBusy { .. } => ErrorCode::Busy,
            ApiError::ChainUnavailable(_) => ErrorCode::ChainUnavailable,
            ApiError::Storage(_) => ErrorCode::Storage,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The status code and machine-readable code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        let code = self.code();
        (
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code.as_str(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        let retry_after = match &self {
            ApiError::ChainBusy { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Busy | ApiError::ChainUnavailable(_) => Some(1),
            _ => None,
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                error: self.to_string(),
                code: code.to_owned(),
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

type ApiResult<T> = Result<T, ApiError>;
type AppState = State<Arc<NodeState>>;

/// The router over `state`.
pub fn app(state: Arc<NodeState>) -> Router {
    Router::new()
        .route(routes::HEALTH, get(health))
        .route(routes::METRICS, get(metrics))
        .route(routes::METADATA, get(get_metadata).put(put_metadata))
        .route(routes::SLIVER, get(get_sliver).put(put_sliver))
        .route(routes::CONFIRMATION, get(confirmation))
        .route(routes::RECOVERY_BATCH, get(recovery_batch))
        .route(routes::RECOVERY_SYMBOL, get(recovery_symbol))
        .route(routes::STATUS, get(status))
        .route(routes::INCONSISTENCY, post(inconsistency))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(state.clone(), upload_gate))
        .with_state(state)
}

fn short(s: &str) -> String {
    s.chars().take(128).collect()
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute {
        method: method.to_string(),
        path: short(uri.path()),
        other_method: false,
    }
}

async fn wrong_method(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute {
        method: method.to_string(),
        path: short(uri.path()),
        other_method: true,
    }
}

/// Takes an upload slot for every `PUT` and `POST` before its handler reads the body, and
/// holds it until the handler answers.
async fn upload_gate(State(state): AppState, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::PUT | Method::POST) {
        return next.run(req).await;
    }
    match state.upload_slot().await {
        Ok(_slot) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// A path that did not extract (bad percent-encoding, say) is a JSON bad request.
fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(t)| t)
        .map_err(|e| ApiError::BadRequest(format!("invalid path: {}", short(&e.body_text()))))
}

fn parse_id(s: &str) -> ApiResult<BlobId> {
    s.parse()
        .map_err(|e: floe_core::ids::ParseBlobIdError| ApiError::BadRequest(e.to_string()))
}

fn parse_pair(state: &NodeState, s: &str) -> ApiResult<u16> {
    let n = state.encoding.n_shards();
    match s.parse::<u16>() {
        Ok(p) if p < n => Ok(p),
        _ => Err(ApiError::BadRequest(format!(
            "invalid pair {:?}: expected 0..{n}",
            short(s)
        ))),
    }
}

fn parse_kind(s: &str) -> ApiResult<SliverKind> {
    s.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "invalid sliver kind {:?}: expected primary or secondary",
            short(s)
        ))
    })
}

/// The time a body of `limit` bytes may take: `body_min_time + limit / body_min_rate`.
pub fn body_timeout(state: &NodeState, limit: u64) -> Duration {
    let rate = state.limits.body_min_rate.max(1);
    state.limits.body_min_time + Duration::from_millis(limit.saturating_mul(1000) / rate)
}

/// Reads a body of at most `limit` bytes: refused unread (413) if it announces more, cut off
/// (413) as soon as it sends more, and 408 if it does not arrive within [`body_timeout`].
async fn read_body(
    state: &NodeState,
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> ApiResult<Bytes> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let timeout = body_timeout(state, limit);
    let read = async {
        let cap = usize::try_from(announced.unwrap_or(0).min(limit)).unwrap_or(0);
        let mut out = Vec::with_capacity(cap);
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
            if (out.len() as u64).saturating_add(chunk.len() as u64) > limit {
                return Err(ApiError::TooLarge { limit });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::Timeout {
            secs: timeout.as_secs().max(1),
        }),
    }
}

fn octets(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

/// Counts a rejected upload.
fn rejected<T>(state: &NodeState, r: ApiResult<T>) -> ApiResult<T> {
    if let Err(e) = &r
        && e.status().0.is_client_error()
    {
        Metrics::inc(&state.metrics.uploads_rejected);
    }
    r
}

/// Runs CPU-heavy work off the async workers (the caller holds a CPU slot).
async fn on_worker<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("{what} task failed: {e}")))
}

/// `GET /v1/health`.
async fn health(State(state): AppState) -> Json<Health> {
    let view = state.view();
    let services = state.services.snapshot();
    let degraded = services.iter().any(|s| s.state != "ok");
    Json(Health {
        status: if degraded { "degraded" } else { "ok" }.to_owned(),
        node: state.node.to_string(),
        public_key: state.public_key.to_hex(),
        epoch: view.epoch(),
        shards: view.committee.shards_of(state.node).len(),
        n_shards: state.encoding.n_shards(),
        cursor: state
            .metrics
            .cursor
            .load(std::sync::atomic::Ordering::Relaxed),
        services,
    })
}

/// `GET /metrics`.
async fn metrics(State(state): AppState) -> Response {
    let mut text = state.metrics.render();
    text.push_str(&state.services.render_metrics());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `PUT /v1/blobs/{id}/metadata`.
async fn put_metadata(
    State(state): AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Stored>> {
    let r = async {
        let id = parse_id(&path(id)?)?;
        state.live_blob(&state.view(), &id).await?;
        let limit = state
            .wire
            .metadata()
            .min(state.limits.max_metadata_bytes as u64);
        let body = read_body(&state, &headers, body, limit).await?;
        let metadata = BlobMetadata::from_wire(&body).map_err(|e| {
            ApiError::BadRequest(format!("metadata is not in the wire format: {e}"))
        })?;
        metadata
            .verify(&id, &state.encoding)
            .map_err(|e| ApiError::Verification(format!("metadata rejected: {e}")))?;
        state
            .store_if_live(id, crate::storage::Put::metadata(&id, body.to_vec()))
            .await?;
        Metrics::inc(&state.metrics.metadata_stored);
        tracing::debug!(blob = %id, "metadata stored");
        Ok(Json(Stored {
            stored: "metadata".into(),
            blob_id: id.to_string(),
            pair: None,
            kind: None,
        }))
    }
    .await;
    rejected(&state, r)
}

/// `GET /v1/blobs/{id}/metadata`.
async fn get_metadata(
    State(state): AppState,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let id = parse_id(&path(id)?)?;
    refuse_if_gone(&state, &state.view(), &id)?;
    let _slot = state.read_slot().await?;
    let store = state.store.clone();
    match blocking(move || store.metadata(&id)).await? {
        Some(m) => Ok(octets(m)),
        None => Err(ApiError::NotFound(format!(
            "no metadata for blob {id} on this node"
        ))),
    }
}

/// Serving is refused for blobs known to be deleted or invalid (their data is being removed).
fn refuse_if_gone(state: &NodeState, view: &EpochView, id: &BlobId) -> ApiResult<()> {
    if let Some(e) = state.store.blob(id)?
        && !crate::liveness::Liveness::of(&e).serves(view.epoch())
    {
        return Err(ApiError::Gone {
            id: *id,
            reason: gone_reason(&e, view.epoch()),
        });
    }
    Ok(())
}

/// `PUT /v1/blobs/{id}/slivers/{pair}/{kind}`.
async fn put_sliver(
    State(state): AppState,
    p: Result<Path<(String, String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Stored>> {
    let r = async {
        let (id, pair, kind) = path(p)?;
        let id = parse_id(&id)?;
        let pair = parse_pair(&state, &pair)?;
        let kind = parse_kind(&kind)?;
        let view = state.view();
        let entry = state.live_blob(&view, &id).await?;
        if !state.my_pairs(&view, &id).contains(&pair) {
            return Err(ApiError::NotMyShard {
                id,
                pair,
                epoch: view.epoch(),
            });
        }
        let metadata = load_metadata(&state, &id)?.ok_or(ApiError::MetadataMissing(id))?;
        let limit = state
            .wire
            .sliver(entry.size, kind)
            .min(state.limits.max_sliver_bytes as u64);
        let body = read_body(&state, &headers, body, limit).await?;
        let sliver = Sliver::from_wire(&body)
            .map_err(|e| ApiError::BadRequest(format!("sliver is not in the wire format: {e}")))?;
        drop(body);
        if sliver.pair != pair || sliver.kind != kind {
            return Err(ApiError::BadRequest(format!(
                "the body is the {} sliver of pair {}, not the {kind} sliver of pair {pair}",
                sliver.kind, sliver.pair
            )));
        }
        let encoding = state.encoding;
        let sliver = on_worker("verification", move || {
            sliver.verify(&metadata, &encoding).map(|()| sliver)
        })
        .await?
        .map_err(|e| ApiError::Verification(format!("sliver rejected: {e}")))?;
        state
            .store_if_live(
                id,
                crate::storage::Put::sliver(&id, pair, kind, sliver.to_wire()),
            )
            .await?;
        Metrics::inc(&state.metrics.slivers_stored);
        tracing::debug!(blob = %id, pair, %kind, "sliver stored");
        Ok(Json(Stored {
            stored: "sliver".into(),
            blob_id: id.to_string(),
            pair: Some(pair),
            kind: Some(kind.to_string()),
        }))
    }
    .await;
    rejected(&state, r)
}

/// The stored metadata of `id`, decoded.
pub(crate) fn load_metadata(state: &NodeState, id: &BlobId) -> ApiResult<Option<BlobMetadata>> {
    match state.store.metadata(id)? {
        Some(bytes) => BlobMetadata::from_wire(&bytes)
            .map(Some)
            .map_err(|e| ApiError::Storage(StoreError::Corrupt(format!("metadata of {id}: {e}")))),
        None => Ok(None),
    }
}

/// `GET /v1/blobs/{id}/slivers/{pair}/{kind}`.
async fn get_sliver(
    State(state): AppState,
    p: Result<Path<(String, String, String)>, PathRejection>,
) -> ApiResult<Response> {
    let (id, pair, kind) = path(p)?;
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    refuse_if_gone(&state, &state.view(), &id)?;
    let _slot = state.read_slot().await?;
    let store = state.store.clone();
    match blocking(move || store.sliver(&id, pair, kind)).await? {
        Some(s) => {
            Metrics::inc(&state.metrics.slivers_served);
            Ok(octets(s))
        }
        None => Err(ApiError::NotFound(format!(
            "this node holds no {kind} sliver of pair {pair} of blob {id}"
        ))),
    }
}

fn parse_registration(s: &str) -> ApiResult<u64> {
    match s.parse::<u64>() {
        Ok(r) if r > 0 => Ok(r),
        _ => Err(ApiError::BadRequest(format!(
            "invalid registration id {:?}: expected a decimal number from 1",
            short(s)
        ))),
    }
}

/// `GET /v1/blobs/{id}/registrations/{registration}/confirmation`: checks that the
/// registration exists (404 `not_registered`), is of this blob (400
/// `registration_mismatch`) and lives (410 `gone`), that this node holds every sliver it owes
/// (409 `incomplete`), then signs `CertifyEntry { blob_id, registration_id, deletable }` with
/// the registration's own flag.
async fn confirmation(
    State(state): AppState,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Confirmation>> {
    let (id, registration) = path(p)?;
    let id = parse_id(&id)?;
    let registration_id = parse_registration(&registration)?;
    // One view for the checks and the signature: both are about the same epoch.
    let view = state.view();
    let registration = state.live_registration(&view, &id, registration_id).await?;
    state.live_blob(&view, &id).await?;
    let (have, need) = state.holds_all(&view, &id)?;
    let metadata = state.store.has_metadata(&id)?;
    if need == 0 {
        return Err(ApiError::NotFound(format!(
            "this node holds no shards in epoch {}",
            view.epoch()
        )));
    }
    if have < need || !metadata {
        return Err(ApiError::Incomplete {
            id,
            have,
            need,
            metadata,
        });
    }
    let msg = certify_message(
        state.chain_id,
        state.registry.into_array(),
        view.epoch(),
        &[CertifyEntry {
            blob_id: id.0,
            registration_id,
            deletable: registration.deletable,
        }],
    );
    let signature = state.key.sign(&msg);
    Metrics::inc(&state.metrics.confirmations);
    Ok(Json(Confirmation {
        epoch: view.epoch(),
        signature: signature.to_hex(),
        node: state.node.to_string(),
        registration_id: Some(registration_id),
        deletable: Some(registration.deletable),
    }))
}

/// Loads a held sliver for serving recovery symbols (the caller holds a CPU slot).
async fn source_sliver(
    state: &NodeState,
    id: &BlobId,
    pair: u16,
    kind: SliverKind,
) -> ApiResult<Sliver> {
    let (store, id) = (state.store.clone(), *id);
    let bytes = blocking(move || store.sliver(&id, pair, kind))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "this node holds no {kind} sliver of pair {pair} of blob {id}"
            ))
        })?;
    Sliver::from_wire(&bytes)
        .map_err(|e| ApiError::Storage(StoreError::Corrupt(format!("sliver of {id}: {e}"))))
}

/// `GET /v1/blobs/{id}/recovery/{pair}/{kind}/{index}`: symbol `index` of the expansion of the
/// held `kind` sliver of `pair`, with its Merkle proof (wire format).
async fn recovery_symbol(
    State(state): AppState,
    p: Result<Path<(String, String, String, String)>, PathRejection>,
) -> ApiResult<Response> {
    let (id, pair, kind, index) = path(p)?;
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    let index = parse_pair(&state, &index)
        .map_err(|_| ApiError::BadRequest(format!("invalid symbol index {:?}", short(&index))))?;
    refuse_if_gone(&state, &state.view(), &id)?;
    let _slot = state.cpu_slot().await?;
    let sliver = source_sliver(&state, &id, pair, kind).await?;
    let encoding = state.encoding;
    let symbol = on_worker("recovery", move || encoding.recovery_symbol(&sliver, index))
        .await?
        .map_err(|e| ApiError::BadRequest(format!("cannot make recovery symbol: {e}")))?;
    Metrics::inc(&state.metrics.symbols_served);
    Ok(octets(symbol.to_wire()))
}

/// Query of the batch recovery endpoint.
#[derive(Debug, Deserialize)]
struct IndicesQuery {
    /// Comma-separated symbol indices.
    indices: String,
}

/// `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=a,b,c` (extension): several symbols of
/// one sliver's expansion in one answer ([`floe_core::protocol::symbols`]), in ascending
/// index order, each index once. Lets a node rebuild all its pairs with one request per
/// source sliver.
async fn recovery_batch(
    State(state): AppState,
    p: Result<Path<(String, String, String)>, PathRejection>,
    q: Result<Query<IndicesQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (id, pair, kind) = path(p)?;
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    let Query(q) = q.map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid query: {}; expected ?indices=a,b,c",
            short(&e.body_text())
        ))
    })?;
    let indices = parse_indices(&q.indices, state.encoding.n_shards())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    refuse_if_gone(&state, &state.view(), &id)?;
    let _slot = state.cpu_slot().await?;
    let sliver = source_sliver(&state, &id, pair, kind).await?;
    let encoding = state.encoding;
    let symbols = on_worker("recovery", move || {
        encoding.recovery_symbols(&sliver, &indices)
    })
    .await?
    .map_err(|e| ApiError::BadRequest(format!("cannot make recovery symbols: {e}")))?;
    let out = encode_symbol_list(&symbols);
    state
        .metrics
        .symbols_served
        .fetch_add(symbols.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok(octets(out))
}

/// `GET /v1/blobs/{id}/status`.
async fn status(
    State(state): AppState,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<BlobStatus>> {
    let id = parse_id(&path(id)?)?;
    let entry = state.blob_entry(&id).await?;
    let view = state.view();
    let epoch = view.epoch();
    let liveness = crate::liveness::Liveness::of(&entry);
    let live = liveness.is_live(epoch);
    let state_name = if entry.invalid {
        "invalid"
    } else if liveness.is_certified(epoch) {
        "certified"
    } else if live {
        "registered"
    } else {
        "expired"
    };
    let held = state.store.held_slivers(&id)?;
    let expected = state.my_pairs(&view, &id);
    let pairs_held: Vec<u16> = expected
        .iter()
        .copied()
        .filter(|p| {
            held.contains(&(*p, SliverKind::Primary)) && held.contains(&(*p, SliverKind::Secondary))
        })
        .collect();
    let metadata = state.store.has_metadata(&id)?;
    Ok(Json(BlobStatus {
        blob_id: id.to_string(),
        state: state_name.to_owned(),
        end_epoch: entry.end_epoch,
        certified_end_epoch: if liveness.is_certified(epoch) {
            entry.certified_end_epoch
        } else {
            0
        },
        registrations: if live { entry.registrations } else { 0 },
        size: entry.size,
        epoch,
        metadata,
        complete: metadata && pairs_held.len() == expected.len() && !expected.is_empty(),
        pairs_expected: expected,
        pairs_held,
    }))
}

/// `POST /v1/blobs/{id}/inconsistency`: checks an inconsistency proof against the stored
/// metadata and, if it holds, signs `invalid_message(chain_id, registry, epoch, id)`. The body
/// is capped at the largest proof the blob's size allows; a blob whose proof is over the
/// operator's `max_proof_bytes` gets 413 before the body is read. Decoding and checking it
/// hold a CPU slot.
async fn inconsistency(
    State(state): AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Confirmation>> {
    let id = parse_id(&path(id)?)?;
    let entry = state.blob_entry(&id).await?;
    let metadata = load_metadata(&state, &id)?.ok_or(ApiError::MetadataMissing(id))?;
    let limit = state.wire.inconsistency_proof(entry.size);
    let cap = state.limits.max_proof_bytes as u64;
    if limit > cap {
        return Err(ApiError::ProofTooLarge {
            id,
            exact: limit,
            cap,
        });
    }
    let body = read_body(&state, &headers, body, limit).await?;
    let _slot = state.cpu_slot().await?;
    let encoding = state.encoding;
    on_worker("verification", move || {
        let proof = InconsistencyProof::from_wire(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "inconsistency proof is not in the wire format: {e}"
            ))
        })?;
        drop(body);
        proof
            .verify(&metadata, &encoding)
            .map_err(|e| ApiError::Verification(format!("inconsistency proof rejected: {e}")))
    })
    .await??;
    let epoch = state.view().epoch();
    let msg = invalid_message(state.chain_id, state.registry.into_array(), epoch, id.0);
    tracing::warn!(blob = %id, "checked an inconsistency proof: attesting the blob invalid");
    Ok(Json(Confirmation {
        epoch,
        signature: state.key.sign(&msg).to_hex(),
        node: state.node.to_string(),
        registration_id: None,
        deletable: None,
    }))
}
