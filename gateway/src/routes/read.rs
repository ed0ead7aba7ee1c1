//! `GET`/`HEAD /v1/blobs/{id}`: the aggregator. Streams the blob (or one range of it) from the
//! backend, never buffering it, with caching, content and safety headers.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::Response,
};
use bytes::Bytes;
use floe_core::ids::BlobId;
use futures::Stream;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use crate::{
    backend::{Backend, BlobState, ByteStream},
    error::{ApiError, ErrorBody},
    headers::{apply_attributes, none_match},
    metrics::Metrics,
    range::{RangeAsk, resolve},
};

/// The longest `max-age` sent: one year.
const MAX_AGE_CAP: u64 = 365 * 24 * 3600;

/// The blob's bytes (documentation type: a binary body).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct BlobBytes(#[allow(dead_code)] Vec<u8>);

/// The blob id in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct BlobPath {
    /// 64 hex digits, optionally `0x`-prefixed.
    #[allow(dead_code)]
    id: String,
}

/// Query of a read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReadQuery {
    /// Take the headers from this registration of the blob (default: its first one).
    registration: Option<u64>,
}

/// Parses a blob id from the path.
pub(crate) fn parse_id(id: &str) -> Result<BlobId, ApiError> {
    if id.len() > 66 {
        return Err(ApiError::bad_request(
            "invalid blob id: expected 64 hex digits, optionally prefixed by 0x",
        ));
    }
    id.parse::<BlobId>()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads a blob (or one range of it), streamed and verified.
#[utoipa::path(
    method(get, head),
    path = "/v1/blobs/{id}",
    tag = "aggregator",
    params(
        BlobPath,
        ReadQuery,
        ("Range" = Option<String>, Header, description = "One range: `bytes=a-b`, `bytes=a-` or `bytes=-n`; several or malformed ranges are ignored"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a cached copy: a match answers 304"),
        ("If-Range" = Option<String>, Header, description = "Honour `Range` only if this is the blob's ETag"),
    ),
    responses(
        (status = 200, description = "The whole blob", body = BlobBytes, content_type = "application/octet-stream", headers(
            ("ETag" = String, description = "The quoted blob id"),
            ("Cache-Control" = String, description = "`public, max-age=S, immutable`, S = seconds until the certified end epoch (at most a year)"),
            ("Content-Length" = u64, description = "Bytes in the body"),
            ("Content-Type" = String, description = "From the registration's `content-type` attribute, default application/octet-stream"),
            ("Content-Disposition" = String, description = "From the `content-disposition` attribute, if valid"),
            ("Content-Encoding" = String, description = "From the `content-encoding` attribute, if valid"),
            ("Content-Language" = String, description = "From the `content-language` attribute, if valid"),
            ("Accept-Ranges" = String, description = "`bytes`"),
            ("X-Content-Type-Options" = String, description = "`nosniff`"),
            ("Content-Security-Policy" = String, description = "`sandbox`"),
            ("X-Floe-Registration" = u64, description = "The registration whose attributes gave the headers"),
        )),
        (status = 206, description = "One range of the blob", body = BlobBytes, content_type = "application/octet-stream", headers(
            ("Content-Range" = String, description = "`bytes a-b/LEN`"),
            ("ETag" = String, description = "The quoted blob id"),
            ("Content-Length" = u64, description = "Bytes in the body"),
        )),
        (status = 304, description = "`If-None-Match` matched the ETag", headers(
            ("ETag" = String, description = "The quoted blob id"),
        )),
        (status = 400, description = "Malformed id, query or header", body = ErrorBody),
        (status = 404, description = "Unknown blob or registration, or not certified yet", body = ErrorBody),
        (status = 410, description = "Deleted, expired or invalid blob", body = ErrorBody),
        (status = 416, description = "Range outside the blob", body = ErrorBody, headers(
            ("Content-Range" = String, description = "`bytes */LEN`"),
        )),
        (status = 503, description = "Too few nodes answered or the chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn read_blob<B: Backend>(
    State(s): State<AppState<B>>,
    method: Method,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
    req_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let blob_id = parse_id(&id)?;
    let head = s.backend.blob_head(blob_id, q.registration).await?;
    match head.state {
        BlobState::Certified => {}
        BlobState::Registered => {
            return Err(ApiError::not_found(format!(
                "blob {blob_id} is registered but not certified yet; retry once its store completes"
            )));
        }
        other => {
            return Err(ApiError::gone(format!(
                "blob {blob_id} is {}: it can no longer be read",
                other.as_str()
            )));
        }
    }
    let etag = format!("\"{blob_id}\"");
    let mut headers = HeaderMap::new();
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(e.to_string()))?;
    headers.insert(header::ETAG, etag_value);
    let max_age = head.secs_until_certified_end.min(MAX_AGE_CAP);
    let cache = if max_age > 0 {
        format!("public, max-age={max_age}, immutable")
    } else {
        "no-store".to_owned()
    };
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&cache).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        "x-floe-registration",
        HeaderValue::from(head.registration_id),
    );
    if let Some(inm) = text(&req_headers, header::IF_NONE_MATCH)
        && none_match(inm, &etag)
    {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.headers_mut() = headers;
        return Ok(resp);
    }
    apply_attributes(&mut headers, &head.attributes);
    let if_range_ok = text(&req_headers, header::IF_RANGE).is_none_or(|v| v.trim() == etag);
    let range_header = text(&req_headers, header::RANGE).filter(|_| if_range_ok);
    let (status, range) = match resolve(range_header, head.size) {
        RangeAsk::Whole => (StatusCode::OK, 0..head.size),
        RangeAsk::Part(r) => {
            let v = format!("bytes {}-{}/{}", r.start, r.end - 1, head.size);
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&v).map_err(|e| ApiError::internal(e.to_string()))?,
            );
            (StatusCode::PARTIAL_CONTENT, r)
        }
        RangeAsk::Unsatisfiable => return Err(ApiError::range_not_satisfiable(head.size)),
    };
    let len = range.end - range.start;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        let stream = s.backend.read_range(blob_id, range).await?;
        Body::from_stream(Exact::new(
            stream,
            len,
            None,
            Arc::clone(&s.metrics),
            blob_id,
        ))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// Passes on exactly `left` bytes of a backend stream, counting them; with a [`Digest`] check,
/// hashes them and compares before yielding the last chunk. More, fewer, a mismatch or an error
/// end the body with an error (the connection is then closed: the client sees a short body).
pub(crate) struct Exact {
    inner: ByteStream,
    left: u64,
    check: Option<(DigestCheck, Sha256)>,
    metrics: Arc<Metrics>,
    blob_id: BlobId,
    done: bool,
}

/// The SHA-256 the whole body must have, and what to call it when it does not.
pub(crate) struct DigestCheck {
    pub(crate) sha256: [u8; 32],
    pub(crate) what: String,
}

impl Exact {
    pub(crate) fn new(
        inner: ByteStream,
        left: u64,
        check: Option<DigestCheck>,
        metrics: Arc<Metrics>,
        blob_id: BlobId,
    ) -> Self {
        Self {
            inner,
            left,
            check: check.map(|c| (c, Sha256::new())),
            metrics,
            blob_id,
            done: false,
        }
    }

    fn fail(&mut self, why: String) -> Poll<Option<Result<Bytes, std::io::Error>>> {
        tracing::warn!(blob_id = %self.blob_id, "aborting a read: {why}");
        self.done = true;
        Poll::Ready(Some(Err(std::io::Error::other(why))))
    }
}

impl Stream for Exact {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                let n = chunk.len() as u64;
                if n > this.left {
                    return this.fail(format!(
                        "the backend sent {n} bytes, {} expected",
                        this.left
                    ));
                }
                this.left -= n;
                if let Some((check, hasher)) = &mut this.check {
                    hasher.update(&chunk);
                    if this.left == 0 {
                        let got: [u8; 32] = hasher.clone().finalize().into();
                        if got != check.sha256 {
                            let why = format!("{} does not match its SHA-256", check.what);
                            return this.fail(why);
                        }
                    }
                }
                this.metrics.served(n);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => this.fail(e.message),
            Poll::Ready(None) if this.left > 0 => {
                let left = this.left;
                this.fail(format!("the backend's stream ended {left} bytes early"))
            }
            Poll::Ready(None) => Poll::Ready(None),
        }
    }
}
