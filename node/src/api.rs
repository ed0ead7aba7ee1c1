//! The HTTP API (axum). Bodies of metadata, slivers and recovery symbols are floe-core's wire
//! format (`application/octet-stream`); everything else is JSON. Errors are JSON
//! `{"error": message, "code": code}` with a status saying what went wrong:
//!
//! | status | code | meaning |
//! | --- | --- | --- |
//! | 400 | `bad_request` | malformed id, pair, kind, index or body |
//! | 404 | `not_registered` / `not_found` | blob unknown on-chain / data not held here |
//! | 409 | `metadata_missing` / `incomplete` | upload metadata first / not all slivers held yet (retry) |
//! | 410 | `gone` | blob deleted, invalid or expired: nothing is accepted or served |
//! | 413 | `too_large` | body over the configured limit |
//! | 421 | `not_my_shard` | this node does not hold that pair's shard this epoch |
//! | 422 | `verification_failed` | metadata does not hash to the id / sliver does not match |
//! | 503 | `busy` / `chain_unavailable` | too many uploads or symbol requests / chain unreachable (retry) |
//!
//! Every `PUT` and `POST` takes one of the `max_concurrent_uploads` slots before its body is
//! read (or answers 503 after `upload_wait_ms`), so the slots bound the memory uploads hold.
//! CPU-heavy answers (recovery symbols, inconsistency checks) take one of a slot per core.
//!
//! Besides the routes of the issue, `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=a,b`
//! serves several symbols of one sliver at once, and `POST /v1/blobs/{id}/inconsistency`
//! (body: an inconsistency proof, wire format) answers with the node's signature over
//! `invalid_message` once it has checked the proof against its metadata.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, Request, State, rejection::BytesRejection},
    http::{Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use floe_core::{
    encoding::{Sliver, SliverKind},
    ids::BlobId,
    messages::{certify_message, invalid_message},
    metadata::BlobMetadata,
    recovery::InconsistencyProof,
    wire::Wire,
};
use serde::{Deserialize, Serialize};

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
    /// The node does not hold what was asked.
    #[error("{0}")]
    NotFound(String),
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
        limit: usize,
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
    /// The chain could not be asked.
    #[error("cannot check the blob on-chain: {0}; retry shortly")]
    ChainUnavailable(String),
    /// The node's storage failed.
    #[error("storage error: {0}")]
    Storage(#[from] StoreError),
}

impl ApiError {
    /// The status code and machine-readable code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotRegistered(_) => (StatusCode::NOT_FOUND, "not_registered"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Gone { .. } => (StatusCode::GONE, "gone"),
            ApiError::MetadataMissing(_) => (StatusCode::CONFLICT, "metadata_missing"),
            ApiError::Incomplete { .. } => (StatusCode::CONFLICT, "incomplete"),
            ApiError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::NotMyShard { .. } => (StatusCode::MISDIRECTED_REQUEST, "not_my_shard"),
            ApiError::Verification(_) => (StatusCode::UNPROCESSABLE_ENTITY, "verification_failed"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::ChainUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable"),
            ApiError::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, "storage"),
        }
    }
}

/// The JSON body of an error.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
    /// Machine-readable code.
    pub code: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        (
            status,
            Json(ErrorBody {
                error: self.to_string(),
                code: code.to_owned(),
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;
type AppState = State<Arc<NodeState>>;

/// The router over `state`.
pub fn app(state: Arc<NodeState>) -> Router {
    let metadata_limit = state.limits.max_metadata_bytes;
    let sliver_limit = state.limits.max_sliver_bytes;
    Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .route(
            "/v1/blobs/{id}/metadata",
            get(get_metadata)
                .put(put_metadata)
                .layer(DefaultBodyLimit::max(metadata_limit)),
        )
        .route(
            "/v1/blobs/{id}/slivers/{pair}/{kind}",
            get(get_sliver)
                .put(put_sliver)
                .layer(DefaultBodyLimit::max(sliver_limit)),
        )
        .route("/v1/blobs/{id}/confirmation", get(confirmation))
        .route("/v1/blobs/{id}/recovery/{pair}/{kind}", get(recovery_batch))
        .route(
            "/v1/blobs/{id}/recovery/{pair}/{kind}/{index}",
            get(recovery_symbol),
        )
        .route("/v1/blobs/{id}/status", get(status))
        .route(
            "/v1/blobs/{id}/inconsistency",
            post(inconsistency).layer(DefaultBodyLimit::max(sliver_limit.saturating_mul(2))),
        )
        .layer(middleware::from_fn_with_state(state.clone(), upload_gate))
        .with_state(state)
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

fn parse_id(s: &str) -> ApiResult<BlobId> {
    s.parse()
        .map_err(|e: floe_core::ids::ParseBlobIdError| ApiError::BadRequest(e.to_string()))
}

fn parse_pair(state: &NodeState, s: &str) -> ApiResult<u16> {
    let n = state.encoding.n_shards();
    match s.parse::<u16>() {
        Ok(p) if p < n => Ok(p),
        _ => Err(ApiError::BadRequest(format!(
            "invalid pair {s:?}: expected 0..{n}"
        ))),
    }
}

fn parse_kind(s: &str) -> ApiResult<SliverKind> {
    s.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "invalid sliver kind {s:?}: expected primary or secondary"
        ))
    })
}

fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit }
        } else {
            ApiError::BadRequest(format!("cannot read the body: {rej}"))
        }
    })
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

/// Runs CPU-heavy work off the async workers, holding a CPU slot.
async fn cpu<T: Send + 'static>(
    state: &NodeState,
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let _slot = state.cpu_slot().await?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Storage(StoreError::Db(format!("{what} task failed: {e}"))))
}

/// `GET /v1/health`.
async fn health(State(state): AppState) -> Json<serde_json::Value> {
    let view = state.view();
    Json(serde_json::json!({
        "status": "ok",
        "node": state.node.to_string(),
        "public_key": state.public_key.to_hex(),
        "epoch": view.epoch(),
        "shards": view.committee.shards_of(state.node).len(),
        "n_shards": state.encoding.n_shards(),
        "cursor": state.metrics.cursor.load(std::sync::atomic::Ordering::Relaxed),
    }))
}

/// `GET /metrics`.
async fn metrics(State(state): AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// `PUT /v1/blobs/{id}/metadata`.
async fn put_metadata(
    State(state): AppState,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let r = async {
        let id = parse_id(&id)?;
        let body = body_bytes(body, state.limits.max_metadata_bytes)?;
        state.live_blob(&state.view(), &id).await?;
        let metadata = BlobMetadata::from_wire(&body).map_err(|e| {
            ApiError::BadRequest(format!("metadata is not in the wire format: {e}"))
        })?;
        metadata
            .verify(&id, &state.encoding)
            .map_err(|e| ApiError::Verification(format!("metadata rejected: {e}")))?;
        let store = state.store.clone();
        blocking(move || store.put_metadata(&id, &body)).await?;
        Metrics::inc(&state.metrics.metadata_stored);
        tracing::debug!(blob = %id, "metadata stored");
        Ok(Json(
            serde_json::json!({ "stored": "metadata", "blob_id": id.to_string() }),
        ))
    }
    .await;
    rejected(&state, r)
}

/// `GET /v1/blobs/{id}/metadata`.
async fn get_metadata(State(state): AppState, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    refuse_if_gone(&state, &state.view(), &id)?;
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
        && (matches!(
            e.state,
            floe_chain::BlobState::Deleted | floe_chain::BlobState::Invalid
        ) || view.epoch() >= e.end_epoch)
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
    Path((id, pair, kind)): Path<(String, String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let r = async {
        let id = parse_id(&id)?;
        let pair = parse_pair(&state, &pair)?;
        let kind = parse_kind(&kind)?;
        let body = body_bytes(body, state.limits.max_sliver_bytes)?;
        let view = state.view();
        state.live_blob(&view, &id).await?;
        if !state.my_pairs(&view, &id).contains(&pair) {
            return Err(ApiError::NotMyShard { id, pair, epoch: view.epoch() });
        }
        let metadata = load_metadata(&state, &id)?.ok_or(ApiError::MetadataMissing(id))?;
        let sliver =
            Sliver::from_wire(&body).map_err(|e| ApiError::BadRequest(format!("sliver is not in the wire format: {e}")))?;
        if sliver.pair != pair || sliver.kind != kind {
            return Err(ApiError::BadRequest(format!(
                "the body is the {} sliver of pair {}, not the {kind} sliver of pair {pair}",
                sliver.kind, sliver.pair
            )));
        }
        let encoding = state.encoding;
        let verified = tokio::task::spawn_blocking(move || sliver.verify(&metadata, &encoding))
            .await
            .map_err(|e| ApiError::Storage(StoreError::Db(format!("verification task failed: {e}"))))?;
        verified.map_err(|e| ApiError::Verification(format!("sliver rejected: {e}")))?;
        let store = state.store.clone();
        blocking(move || store.put_sliver(&id, pair, kind, &body)).await?;
        Metrics::inc(&state.metrics.slivers_stored);
        tracing::debug!(blob = %id, pair, %kind, "sliver stored");
        Ok(Json(serde_json::json!({ "stored": "sliver", "blob_id": id.to_string(), "pair": pair, "kind": kind })))
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
    Path((id, pair, kind)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    refuse_if_gone(&state, &state.view(), &id)?;
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

/// A node's signed confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The epoch signed for.
    pub epoch: u32,
    /// BLS signature over `certify_message(chain_id, registry, epoch, [(id, deletable)])`:
    /// 96-byte compressed G2, `0x`-hex.
    pub signature: String,
    /// The node's operator address.
    pub node: String,
}

/// `GET /v1/blobs/{id}/confirmation`.
async fn confirmation(
    State(state): AppState,
    Path(id): Path<String>,
) -> ApiResult<Json<Confirmation>> {
    let id = parse_id(&id)?;
    // One view for the checks and the signature: both are about the same epoch.
    let view = state.view();
    let entry = state.live_blob(&view, &id).await?;
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
        &[(id.0, entry.deletable)],
    );
    let signature = state.key.sign(&msg);
    Metrics::inc(&state.metrics.confirmations);
    Ok(Json(Confirmation {
        epoch: view.epoch(),
        signature: signature.to_hex(),
        node: state.node.to_string(),
    }))
}

/// Loads a held sliver for serving recovery symbols.
async fn source_sliver(
    state: &NodeState,
    id: &BlobId,
    pair: u16,
    kind: SliverKind,
) -> ApiResult<Sliver> {
    refuse_if_gone(state, &state.view(), id)?;
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
    Path((id, pair, kind, index)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    let index = parse_pair(&state, &index)
        .map_err(|_| ApiError::BadRequest(format!("invalid symbol index {index:?}")))?;
    let sliver = source_sliver(&state, &id, pair, kind).await?;
    let encoding = state.encoding;
    let symbol = cpu(&state, "recovery", move || {
        encoding.recovery_symbol(&sliver, index)
    })
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

/// The symbol indices of a batch request: ascending, each once. More than `n` entries (the
/// expansion has `n` symbols) or an empty list is a bad request.
fn parse_indices(state: &NodeState, list: &str) -> ApiResult<Vec<u16>> {
    let n = state.encoding.n_shards();
    let bad = |why: String| ApiError::BadRequest(format!("invalid indices: {why}"));
    let mut out = Vec::new();
    for (i, s) in list.split(',').enumerate() {
        if i >= usize::from(n) {
            return Err(bad(format!(
                "more than {n} indices; an expansion has {n} symbols"
            )));
        }
        out.push(
            parse_pair(state, s.trim())
                .map_err(|_| bad(format!("{s:?} is not a symbol index below {n}")))?,
        );
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=a,b,c` (extension): several symbols of
/// one sliver's expansion in one answer: `u32 BE count`, then per symbol `u32 BE length` and
/// its wire bytes, in ascending index order, each index once. Lets a node rebuild all its
/// pairs with one request per source sliver.
async fn recovery_batch(
    State(state): AppState,
    Path((id, pair, kind)): Path<(String, String, String)>,
    Query(q): Query<IndicesQuery>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let pair = parse_pair(&state, &pair)?;
    let kind = parse_kind(&kind)?;
    let indices = parse_indices(&state, &q.indices)?;
    let sliver = source_sliver(&state, &id, pair, kind).await?;
    let encoding = state.encoding;
    let symbols = cpu(&state, "recovery", move || {
        encoding.recovery_symbols(&sliver, &indices)
    })
    .await?
    .map_err(|e| ApiError::BadRequest(format!("cannot make recovery symbols: {e}")))?;
    let mut out = Vec::new();
    out.extend_from_slice(&(symbols.len() as u32).to_be_bytes());
    for s in &symbols {
        let w = s.to_wire();
        out.extend_from_slice(&(w.len() as u32).to_be_bytes());
        out.extend_from_slice(&w);
    }
    state
        .metrics
        .symbols_served
        .fetch_add(symbols.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok(octets(out))
}

/// The node's view of a blob (`GET /v1/blobs/{id}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    /// The blob.
    pub blob_id: String,
    /// `registered`, `certified`, `deleted`, `invalid` or `expired`.
    pub state: String,
    /// First epoch no longer covered.
    pub end_epoch: u32,
    /// Deletable by its owner.
    pub deletable: bool,
    /// Unencoded size.
    pub size: u64,
    /// The node's current epoch.
    pub epoch: u32,
    /// Whether the node holds the metadata.
    pub metadata: bool,
    /// Pairs this node must hold this epoch.
    pub pairs_expected: Vec<u16>,
    /// Pairs of which it holds both slivers.
    pub pairs_held: Vec<u16>,
    /// Holds the metadata and every sliver it must.
    pub complete: bool,
}

/// `GET /v1/blobs/{id}/status`.
async fn status(State(state): AppState, Path(id): Path<String>) -> ApiResult<Json<BlobStatus>> {
    let id = parse_id(&id)?;
    let entry = state.blob_entry(&id).await?;
    let view = state.view();
    let epoch = view.epoch();
    let state_name = if entry.is_live(epoch) {
        match entry.state {
            floe_chain::BlobState::Certified => "certified",
            _ => "registered",
        }
    } else {
        gone_reason(&entry, epoch)
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
        deletable: entry.deletable,
        size: entry.size,
        epoch,
        metadata,
        complete: metadata && pairs_held.len() == expected.len() && !expected.is_empty(),
        pairs_expected: expected,
        pairs_held,
    }))
}

/// `POST /v1/blobs/{id}/inconsistency`: checks an inconsistency proof against the stored
/// metadata and, if it holds, signs `invalid_message(chain_id, registry, epoch, id)`.
async fn inconsistency(
    State(state): AppState,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Confirmation>> {
    let id = parse_id(&id)?;
    let body = body_bytes(body, state.limits.max_sliver_bytes.saturating_mul(2))?;
    state.blob_entry(&id).await?;
    let metadata = load_metadata(&state, &id)?.ok_or(ApiError::MetadataMissing(id))?;
    let proof = InconsistencyProof::from_wire(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "inconsistency proof is not in the wire format: {e}"
        ))
    })?;
    let encoding = state.encoding;
    cpu(&state, "verification", move || {
        proof.verify(&metadata, &encoding)
    })
    .await?
    .map_err(|e| ApiError::Verification(format!("inconsistency proof rejected: {e}")))?;
    let epoch = state.view().epoch();
    let msg = invalid_message(state.chain_id, state.registry.into_array(), epoch, id.0);
    tracing::warn!(blob = %id, "checked an inconsistency proof: attesting the blob invalid");
    Ok(Json(Confirmation {
        epoch,
        signature: state.key.sign(&msg).to_hex(),
        node: state.node.to_string(),
    }))
}
