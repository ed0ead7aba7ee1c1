//! `GET /v1/quilts/{id}/files` and `GET`/`HEAD /v1/quilts/{id}/files/{identifier}`: the files
//! of a quilt (floe-core's [`floe_core::quilt`]). The index is read with range reads of the
//! blob's header; a file is one range of the blob, so only the slivers holding it are fetched.
//! A whole file is checked against its SHA-256 as it streams: a mismatch (a quilt written
//! wrong) cuts the body short, as a failing node does.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::Response,
};
use floe_core::{
    ids::BlobId,
    quilt::{CONTENT_TYPE_TAG, QuiltIndex, check_identifier},
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    AppState,
    read::{DigestCheck, Exact, parse_id},
};
use crate::{
    backend::{Backend, BlobHead, BlobState, QuiltFileInfo, QuiltFiles},
    error::{ApiError, ErrorBody},
    headers::{apply_attributes, none_match},
    range::{RangeAsk, resolve},
};

/// The longest `max-age` sent: one year.
const MAX_AGE_CAP: u64 = 365 * 24 * 3600;

/// Quilt indexes loaded at once over all requests (each up to
/// [`floe_core::quilt::MAX_INDEX_LEN`] bytes, plus its parsed form); later requests wait.
pub(crate) const INDEX_LOADS: usize = 4;

/// The quilt id in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct QuiltPath {
    /// The quilt's blob id: 64 hex digits, optionally `0x`-prefixed.
    #[allow(dead_code)]
    id: String,
}

/// The quilt id and the file's identifier in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct QuiltFilePath {
    /// The quilt's blob id: 64 hex digits, optionally `0x`-prefixed.
    #[allow(dead_code)]
    id: String,
    /// The file's identifier, a relative path (its `/`s unencoded, other bytes
    /// percent-encoded as needed).
    #[allow(dead_code)]
    identifier: String,
}

/// The quilt's head (it must be certified) and index.
async fn open<B: Backend>(
    s: &AppState<B>,
    id: &str,
) -> Result<(BlobId, BlobHead, QuiltIndex), ApiError> {
    let quilt_id = parse_id(id)?;
    let head = s.backend.blob_head(quilt_id, None).await?;
    match head.state {
        BlobState::Certified => {}
        BlobState::Registered => {
            return Err(ApiError::not_found(format!(
                "quilt {quilt_id} is registered but not certified yet; retry once its store completes"
            )));
        }
        other => {
            return Err(ApiError::gone(format!(
                "quilt {quilt_id} is {}: it can no longer be read",
                other.as_str()
            )));
        }
    }
    let index = s.backend.quilt_index(quilt_id, head.size).await?;
    Ok((quilt_id, head, index))
}

/// The path of a file: each segment percent-encoded except `/`.
fn file_url(quilt_id: &BlobId, identifier: &str) -> String {
    let mut out = format!("/v1/quilts/{quilt_id}/files/");
    for b in identifier.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lists the files of a quilt.
#[utoipa::path(
    get,
    path = "/v1/quilts/{id}/files",
    tag = "aggregator",
    params(QuiltPath),
    responses(
        (status = 200, description = "The quilt's files, sorted by identifier", body = QuiltFiles),
        (status = 400, description = "Malformed id, or the blob is not a quilt", body = ErrorBody),
        (status = 404, description = "Unknown blob, or not certified yet", body = ErrorBody),
        (status = 410, description = "Deleted, expired or invalid blob", body = ErrorBody),
        (status = 503, description = "Too few nodes answered or the chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn list_files<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
) -> Result<Json<QuiltFiles>, ApiError> {
    let _load = s
        .quilt_loads
        .acquire()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (quilt_id, head, index) = open(&s, &id).await?;
    let files = index
        .entries()
        .iter()
        .map(|e| QuiltFileInfo {
            identifier: e.identifier().to_owned(),
            size: e.len(),
            content_type: e.content_type().to_owned(),
            sha256: hex::encode(e.sha256()),
            tags: e.tags().iter().cloned().collect(),
            url: file_url(&quilt_id, e.identifier()),
        })
        .collect();
    Ok(Json(QuiltFiles {
        quilt_id: quilt_id.to_string(),
        size: head.size,
        files,
    }))
}

/// Reads one file of a quilt (or one range of it).
#[utoipa::path(
    method(get, head),
    path = "/v1/quilts/{id}/files/{identifier}",
    tag = "aggregator",
    params(
        QuiltFilePath,
        ("Range" = Option<String>, Header, description = "One range of the file, as for blobs"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a cached copy: a match answers 304"),
        ("If-Range" = Option<String>, Header, description = "Honour `Range` only if this is the file's ETag"),
    ),
    responses(
        (status = 200, description = "The whole file, checked against its SHA-256 as it streams", body = super::read::BlobBytes, content_type = "application/octet-stream", headers(
            ("ETag" = String, description = "The quoted SHA-256 of the file (hex)"),
            ("Cache-Control" = String, description = "As for the quilt's blob read"),
            ("Content-Length" = u64, description = "Bytes in the body"),
            ("Content-Type" = String, description = "The file's `content-type` tag if valid, else from its extension"),
            ("Accept-Ranges" = String, description = "`bytes`"),
            ("X-Content-Type-Options" = String, description = "`nosniff`"),
            ("Content-Security-Policy" = String, description = "`sandbox`"),
            ("X-Floe-Quilt" = String, description = "The quilt's blob id"),
        )),
        (status = 206, description = "One range of the file", body = super::read::BlobBytes, content_type = "application/octet-stream", headers(
            ("Content-Range" = String, description = "`bytes a-b/LEN`, LEN the file's size"),
        )),
        (status = 304, description = "`If-None-Match` matched the ETag"),
        (status = 400, description = "Malformed id or identifier, or the blob is not a quilt", body = ErrorBody),
        (status = 404, description = "Unknown blob or file, or not certified yet", body = ErrorBody),
        (status = 410, description = "Deleted, expired or invalid blob", body = ErrorBody),
        (status = 416, description = "Range outside the file", body = ErrorBody),
        (status = 503, description = "Too few nodes answered or the chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn read_file<B: Backend>(
    State(s): State<AppState<B>>,
    method: Method,
    Path((id, identifier)): Path<(String, String)>,
    req_headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Checked before any backend call: a malformed identifier names no file of any quilt.
    check_identifier(&identifier).map_err(|reason| {
        ApiError::bad_request(format!(
            "invalid file identifier {identifier:?}: {reason}; `GET /v1/quilts/{{id}}/files` lists them"
        ))
    })?;
    let (quilt_id, head, entry) = {
        let _load = s
            .quilt_loads
            .acquire()
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let (quilt_id, head, index) = open(&s, &id).await?;
        let entry = index.get(&identifier).cloned().ok_or_else(|| {
            ApiError::not_found(format!(
                "quilt {quilt_id} has no file {identifier:?}; GET /v1/quilts/{quilt_id}/files lists its files"
            ))
        })?;
        // The index and the load slot go here, before the file streams.
        (quilt_id, head, entry)
    };
    let etag = format!("\"{}\"", hex::encode(entry.sha256()));
    let internal = |e: axum::http::header::InvalidHeaderValue| ApiError::internal(e.to_string());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(internal)?,
    );
    let max_age = head.secs_until_certified_end.min(MAX_AGE_CAP);
    let cache = if max_age > 0 {
        format!("public, max-age={max_age}, immutable")
    } else {
        "no-store".to_owned()
    };
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&cache).map_err(internal)?,
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
        "x-floe-quilt",
        HeaderValue::from_str(&quilt_id.to_string()).map_err(internal)?,
    );
    let text = |name| req_headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(inm) = text(header::IF_NONE_MATCH)
        && none_match(inm, &etag)
    {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.headers_mut() = headers;
        return Ok(resp);
    }
    // The file's tags give the content headers under the same strict checks as a blob's
    // attributes; without a content-type tag, its extension does.
    let mut tags: BTreeMap<String, String> = entry.tags().iter().cloned().collect();
    tags.entry(CONTENT_TYPE_TAG.to_owned())
        .or_insert_with(|| entry.content_type().to_owned());
    apply_attributes(&mut headers, &tags);
    let if_range_ok = text(header::IF_RANGE).is_none_or(|v| v.trim() == etag);
    let range_header = text(header::RANGE).filter(|_| if_range_ok);
    let (status, part, whole) = match resolve(range_header, entry.len()) {
        RangeAsk::Whole => (StatusCode::OK, 0..entry.len(), true),
        RangeAsk::Part(r) => {
            let v = format!("bytes {}-{}/{}", r.start, r.end - 1, entry.len());
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&v).map_err(internal)?,
            );
            (StatusCode::PARTIAL_CONTENT, r, false)
        }
        RangeAsk::Unsatisfiable => return Err(ApiError::range_not_satisfiable(entry.len())),
    };
    let len = part.end - part.start;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        let start = entry.offset() + part.start;
        let stream = s.backend.read_range(quilt_id, start..start + len).await?;
        let check = whole.then(|| DigestCheck {
            sha256: *entry.sha256(),
            what: format!("file {:?} of quilt {quilt_id}", entry.identifier()),
        });
        Body::from_stream(Exact::new(
            stream,
            len,
            check,
            Arc::clone(&s.metrics),
            quilt_id,
        ))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}
