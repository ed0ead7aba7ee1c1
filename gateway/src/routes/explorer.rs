//! The explorer's JSON: a blob's on-chain state, the network, recent registrations.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{AppState, read::parse_id};
use crate::{
    backend::{Backend, BlobInfo, NetworkStatus, RecentBlobs},
    error::{ApiError, ErrorBody},
};

/// Most registrations `/v1/recent` returns.
const MAX_RECENT: usize = 100;

/// Query of `/v1/recent`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RecentQuery {
    /// How many registrations, 1..=100 (default 20).
    limit: Option<usize>,
}

fn no_cache(value: impl Serialize) -> Response {
    let mut resp = Json(value).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A blob's on-chain state and registrations.
#[utoipa::path(
    get,
    path = "/v1/blobs/{id}/info",
    tag = "explorer",
    params(crate::routes::read::BlobPath),
    responses(
        (status = 200, description = "The blob's state", body = BlobInfo),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "Never registered", body = ErrorBody),
        (status = 503, description = "The chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn blob_info<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_id(&id)?;
    let mut info = s.backend.blob_info(blob_id).await?;
    info.registrations.truncate(50);
    info.download_url = format!("/v1/blobs/{blob_id}");
    Ok(no_cache(info))
}

/// The network: epoch, committee, prices, node health.
#[utoipa::path(
    get,
    path = "/v1/network",
    tag = "explorer",
    responses(
        (status = 200, description = "The network's state", body = NetworkStatus),
        (status = 503, description = "The chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn network<B: Backend>(
    State(s): State<AppState<B>>,
) -> Result<Response, ApiError> {
    let mut net = s.backend.network().await?;
    net.publisher.open = s.config.open;
    net.publisher.max_body_bytes = s.config.max_body_bytes;
    Ok(no_cache(net))
}

/// Recent registrations, newest first.
#[utoipa::path(
    get,
    path = "/v1/recent",
    tag = "explorer",
    params(RecentQuery),
    responses(
        (status = 200, description = "Recent registrations", body = RecentBlobs),
        (status = 400, description = "limit outside 1..=100", body = ErrorBody),
        (status = 503, description = "The chain is unreachable", body = ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        )),
    ),
)]
pub(crate) async fn recent<B: Backend>(
    State(s): State<AppState<B>>,
    Query(q): Query<RecentQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_RECENT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..={MAX_RECENT}; {limit} given"
        )));
    }
    let mut blobs = s
        .backend
        .recent(limit, s.config.recent_window_blocks)
        .await?;
    blobs.truncate(limit);
    Ok(no_cache(RecentBlobs { blobs }))
}
