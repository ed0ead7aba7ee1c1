//! `PUT /v1/blobs`: the publisher. Checks the query, the token and every limit before reading
//! a byte of the body (so `Expect: 100-continue` clients are refused before they send it),
//! then reads the body within its limit and timeouts, and stores it: one JSON answer, or NDJSON
//! progress lines when asked for.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use crate::{
    auth::{Authority, JtiReservation, QuotaReservation, quota_error, unix_now},
    backend::{Backend, EvmAddress, Phase, PhaseSink, PhaseUpdate, StoreRequest, StoreResponse},
    error::{ApiError, ErrorBody},
};

/// The NDJSON media type.
const NDJSON: &str = "application/x-ndjson";

/// Query of a store.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StoreQuery {
    /// Epochs of storage to buy, from the current one (default 1).
    epochs: Option<u32>,
    /// Whether the owner may delete the blob before it expires (default false).
    deletable: Option<bool>,
    /// Transfer the registration to this address once certified (`0x` + 40 hex digits).
    owner: Option<String>,
    /// A JSON object of string → string, set as the registration's attributes.
    attributes: Option<String>,
}

/// A line of an NDJSON store answer (documentation type).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum ProgressLine {
    /// A phase started or progressed.
    Phase(PhaseUpdate),
    /// The last line of a successful store.
    Result {
        /// The JSON answer.
        result: StoreResponse,
    },
    /// The last line of a failed store.
    Error(ErrorBody),
}

/// What a checked request may do.
struct Grant {
    /// The largest body accepted and the status when it is exceeded.
    limit: u64,
    limit_is_quota: bool,
    owner: Option<EvmAddress>,
    jti: Option<JtiReservation>,
    quota: Option<QuotaReservation>,
    /// The token and its expiry, when a quota applies and the length was unknown up front.
    pending_quota: Option<(Arc<Authority>, String, u64)>,
}

fn parse_attributes(
    raw: Option<&str>,
    max: usize,
    max_bytes: usize,
) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(BTreeMap::new());
    };
    if raw.len() > max_bytes {
        return Err(ApiError::bad_request(format!(
            "attributes is {} bytes; at most {max_bytes} are accepted",
            raw.len()
        )));
    }
    let map: BTreeMap<String, String> = serde_json::from_str(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "attributes must be a JSON object of string to string ({e}); e.g. attributes=%7B%22content-type%22%3A%22image%2Fpng%22%7D"
        ))
    })?;
    if map.len() > max {
        return Err(ApiError::bad_request(format!(
            "{} attributes given; at most {max} are accepted",
            map.len()
        )));
    }
    if map.keys().any(|k| k.is_empty()) {
        return Err(ApiError::bad_request("an attribute key is empty"));
    }
    Ok(map)
}

fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("Content-Length is not a number")),
    }
}

/// Checks the token and every limit, reserving the token's `jti` and quota.
fn check<B>(
    s: &AppState<B>,
    headers: &HeaderMap,
    epochs: u32,
    owner: Option<EvmAddress>,
    length: Option<u64>,
) -> Result<Grant, ApiError> {
    let cfg = &s.config;
    let mut limit = cfg.max_body_bytes;
    let mut grant = Grant {
        limit,
        limit_is_quota: false,
        owner,
        jti: None,
        quota: None,
        pending_quota: None,
    };
    if let Some(authority) = &s.authority {
        let now = unix_now();
        let auth = headers
            .get(header::AUTHORIZATION)
            .map(|v| {
                v.to_str()
                    .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))
            })
            .transpose()?;
        let token = Authority::bearer(auth)?;
        let claims = authority.verify(token, now)?;
        if let Some(max) = claims.max_epochs
            && epochs > max
        {
            return Err(ApiError::forbidden(format!(
                "the token allows at most {max} epochs; {epochs} asked for"
            )));
        }
        if let Some(fixed) = claims.owner {
            match owner {
                Some(o) if o != fixed => {
                    return Err(ApiError::forbidden(format!(
                        "the token fixes the owner to {fixed}; owner={o} is not allowed"
                    )));
                }
                _ => grant.owner = Some(fixed),
            }
        }
        if let Some(max) = claims.max_size {
            limit = limit.min(max);
        }
        if let Some(len) = length
            && len > limit
        {
            return Err(ApiError::too_large(format!(
                "the body is {len} bytes; this gateway and token accept at most {limit}"
            )));
        }
        if let Some(left) = authority.quota_left(token, now) {
            if left == 0 || length.is_some_and(|l| l > left) {
                let quota = cfg.quota_bytes_per_token.unwrap_or(0);
                return Err(quota_error(quota, quota - left));
            }
            if left < limit {
                limit = left;
                grant.limit_is_quota = true;
            }
        }
        grant.jti = authority.reserve_jti(&claims, now)?;
        match length {
            Some(len) => grant.quota = authority.reserve_quota(token, claims.exp, len)?,
            None => {
                grant.pending_quota = Some((Arc::clone(authority), token.to_owned(), claims.exp));
            }
        }
        tracing::debug!(sub = ?claims.sub, "upload authorized");
    } else if let Some(len) = length
        && len > limit
    {
        return Err(ApiError::too_large(format!(
            "the body is {len} bytes; this gateway accepts at most {limit}"
        )));
    }
    grant.limit = limit;
    Ok(grant)
}

/// Reads the body within `limit` bytes and the configured timeouts.
async fn read_body<B>(
    s: &AppState<B>,
    mut body: Body,
    limit: u64,
    limit_is_quota: bool,
    length: Option<u64>,
) -> Result<Bytes, ApiError> {
    let cfg = &s.config;
    let deadline = tokio::time::Instant::now() + cfg.body_total_timeout();
    let mut buf = BytesMut::with_capacity(length.unwrap_or(64 * 1024).min(limit) as usize);
    loop {
        let idle = tokio::time::Instant::now() + cfg.body_idle_timeout();
        let frame = match tokio::time::timeout_at(idle.min(deadline), body.frame()).await {
            Err(_) => {
                let mut e = ApiError::bad_request(
                    "the body arrived too slowly (a pause or the whole upload took too long); send it again faster",
                );
                e.status = StatusCode::REQUEST_TIMEOUT;
                e.code = "request_timeout";
                return Err(e);
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!(
                    "the body could not be read: {e}"
                )));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() as u64 + data.len() as u64 > limit {
                return Err(if limit_is_quota {
                    ApiError::quota_exceeded(format!(
                        "the body is larger than the {limit} bytes left of the token's quota; ask for a new token"
                    ))
                } else {
                    ApiError::too_large(format!(
                        "the body is larger than the {limit} bytes accepted; store a smaller blob"
                    ))
                });
            }
            s.metrics.received(data.len() as u64);
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Stores the body as a blob.
#[utoipa::path(
    put,
    path = "/v1/blobs",
    tag = "publisher",
    params(
        StoreQuery,
        ("Authorization" = Option<String>, Header, description = "`Bearer <JWT>` (HS256 or EdDSA) unless the gateway is open"),
        ("Accept" = Option<String>, Header, description = "`application/x-ndjson` for progress lines"),
    ),
    request_body(content = crate::routes::read::BlobBytes, content_type = "application/octet-stream",
        description = "The blob (Content-Length or chunked), at most the configured limit"),
    responses(
        (status = 200, description = "Stored (or already certified); with `Accept: application/x-ndjson` a stream of progress lines ending in a result or error line",
            content(
                (StoreResponse = "application/json"),
                (ProgressLine = "application/x-ndjson"),
            )),
        (status = 400, description = "Malformed query or body", body = ErrorBody),
        (status = 401, description = "No token, or it does not verify or has expired", body = ErrorBody),
        (status = 403, description = "The token's claims forbid the request (epochs, owner) or it was already used", body = ErrorBody),
        (status = 408, description = "The body arrived too slowly", body = ErrorBody),
        (status = 413, description = "Body over the configured limit or the token's max_size", body = ErrorBody),
        (status = 429, description = "The token's byte quota is used up", body = ErrorBody),
        (status = 503, description = "No upload slot is free, or the network is unavailable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
    security((), ("bearer" = [])),
)]
pub(crate) async fn store_blob<B: Backend>(
    State(s): State<AppState<B>>,
    Query(q): Query<StoreQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let epochs = q.epochs.unwrap_or(1);
    if epochs == 0 {
        return Err(ApiError::bad_request("epochs must be at least 1"));
    }
    let owner = q
        .owner
        .as_deref()
        .map(str::parse::<EvmAddress>)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let attributes = parse_attributes(
        q.attributes.as_deref(),
        s.config.max_attributes,
        s.config.max_attributes_bytes,
    )?;
    let length = content_length(&headers)?;
    let mut grant = check(&s, &headers, epochs, owner, length)?;
    let Ok(permit) = Arc::clone(&s.slots).try_acquire_owned() else {
        return Err(ApiError::unavailable(
            "every upload slot is busy; retry later",
            s.config.retry_after_secs,
        ));
    };
    let in_flight = s.metrics.upload_started();
    let data = read_body(&s, body, grant.limit, grant.limit_is_quota, length).await?;
    if let Some((authority, token, exp)) = grant.pending_quota.take() {
        grant.quota = authority.reserve_quota(&token, exp, data.len() as u64)?;
    }
    let size = data.len() as u64;
    let request = StoreRequest {
        data,
        epochs,
        deletable: q.deletable.unwrap_or(false),
        owner: grant.owner,
        attributes,
    };
    let ndjson = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(NDJSON));
    if !ndjson {
        let on_phase: PhaseSink = Arc::new(|_| {});
        let result = s.backend.store(request, on_phase).await;
        drop((permit, in_flight));
        let result = result?;
        commit(grant);
        return Ok(Json(result).into_response());
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let _ = tx.send(line(&ProgressLine::Phase(PhaseUpdate {
        phase: Phase::Receive,
        done: Some(size),
        total: Some(size),
    })));
    let sink_tx = tx.clone();
    let on_phase: PhaseSink = Arc::new(move |p: PhaseUpdate| {
        let _ = sink_tx.send(line(&ProgressLine::Phase(p)));
    });
    let backend = s.backend.clone();
    tokio::spawn(async move {
        let result = backend.store(request, on_phase).await;
        drop((permit, in_flight));
        let last = match result {
            Ok(r) => {
                commit(grant);
                line(&ProgressLine::Result { result: r })
            }
            Err(e) => line(&ProgressLine::Error(ApiError::from(e).body())),
        };
        let _ = tx.send(last);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Keeps the `jti` spent and the quota bytes used.
fn commit(grant: Grant) {
    if let Some(j) = grant.jti {
        j.commit();
    }
    if let Some(q) = grant.quota {
        q.commit();
    }
}

/// One NDJSON line.
fn line(l: &ProgressLine) -> Bytes {
    let mut text = serde_json::to_string(l).unwrap_or_else(|e| {
        format!("{{\"error\":\"cannot serialize a progress line: {e}\",\"code\":\"internal\"}}")
    });
    text.push('\n');
    Bytes::from(text)
}
