//! The router: shared state, the route table, and the middleware that counts, logs and turns
//! any non-JSON error (an extractor's rejection, a 405) into the JSON error body.

pub(crate) mod assets;
pub(crate) mod explorer;
pub(crate) mod quilt;
pub(crate) mod read;
pub(crate) mod write;

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use crate::{
    auth::{Authority, Keys},
    backend::Backend,
    config::GatewayConfig,
    error::{ApiError, ErrorCode, GatewayError},
    metrics::Metrics,
};

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState<B> {
    pub(crate) backend: B,
    pub(crate) config: Arc<GatewayConfig>,
    /// `None` when the gateway is open.
    pub(crate) authority: Option<Arc<Authority>>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) metrics: Arc<Metrics>,
    /// Quilt indexes (up to 16 MiB each) held at once: bounds their memory.
    pub(crate) quilt_loads: Arc<Semaphore>,
}

impl<B: Clone> Clone for AppState<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            config: Arc::clone(&self.config),
            authority: self.authority.clone(),
            slots: Arc::clone(&self.slots),
            metrics: Arc::clone(&self.metrics),
            quilt_loads: Arc::clone(&self.quilt_loads),
        }
    }
}

/// Every route: method and path template, as routed and as documented in the OpenAPI.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/blobs/{id}"),
    ("HEAD", "/v1/blobs/{id}"),
    ("PUT", "/v1/blobs"),
    ("GET", "/v1/blobs/{id}/info"),
    ("GET", "/v1/network"),
    ("GET", "/v1/recent"),
    ("GET", "/v1/quilts/{id}/files"),
    ("GET", "/v1/quilts/{id}/files/{identifier}"),
    ("HEAD", "/v1/quilts/{id}/files/{identifier}"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/"),
    ("GET", "/assets/{file}"),
];

/// Builds the gateway's router over `backend` (checks `config` first).
pub fn router<B: Backend>(backend: B, config: GatewayConfig) -> Result<Router, GatewayError> {
    config.validate()?;
    let authority = if config.open {
        None
    } else {
        Some(Arc::new(Authority::new(
            Keys::from_config(&config.jwt)?,
            &config.jwt,
            config.max_seen_jti,
            config.quota_bytes_per_token,
        )))
    };
    let state = AppState {
        backend,
        slots: Arc::new(Semaphore::new(config.upload_slots)),
        config: Arc::new(config),
        authority,
        metrics: Arc::new(Metrics::default()),
        quilt_loads: Arc::new(Semaphore::new(quilt::INDEX_LOADS)),
    };
    let metrics = Arc::clone(&state.metrics);
    let router = Router::new()
        // GET also answers HEAD (axum drops the body; the handler skips fetching it).
        .route("/v1/blobs/{id}", get(read::read_blob::<B>))
        .route("/v1/blobs", put(write::store_blob::<B>))
        .route("/v1/blobs/{id}/info", get(explorer::blob_info::<B>))
        .route("/v1/network", get(explorer::network::<B>))
        .route("/v1/recent", get(explorer::recent::<B>))
        .route("/v1/quilts/{id}/files", get(quilt::list_files::<B>))
        // A wildcard: identifiers are paths. GET also answers HEAD.
        .route(
            "/v1/quilts/{id}/files/{*identifier}",
            get(quilt::read_file::<B>),
        )
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/metrics", get(metrics_text::<B>))
        .route("/", get(assets::index))
        .route("/assets/{file}", get(assets::asset))
        .fallback(no_route)
        .with_state(state)
        .layer(middleware::from_fn_with_state(metrics, observe));
    Ok(router)
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses((status = 200, description = "Prometheus text exposition format", body = String,
        content_type = "text/plain; version=0.0.4")),
)]
pub(crate) async fn metrics_text<B: Backend>(State(s): State<AppState<B>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {method} {}; see /openapi.json for the routes",
        uri.path()
    ))
}

/// Longest rejection text kept when turning it into a JSON error.
const MAX_REJECTION: usize = 1024;

/// Counts and logs every answer; turns an error answer that is not already JSON into one.
async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let mut resp = next.run(req).await;
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        match resp.extensions().get::<ErrorCode>() {
            Some(code) => metrics.error(code.0),
            None => {
                resp = to_json_error(resp).await;
                if let Some(code) = resp.extensions().get::<ErrorCode>() {
                    metrics.error(code.0);
                }
            }
        }
    }
    metrics.request(method.as_str(), &route, resp.status().as_u16());
    tracing::info!(
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        ms = start.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// An extractor's plain-text rejection (or a bare status) as the JSON error body.
async fn to_json_error(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let text = match http_body_util::Limited::new(body, MAX_REJECTION)
        .collect()
        .await
    {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_owned(),
        Err(_) => String::new(),
    };
    let status = parts.status;
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(detail),
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut e = ApiError::bad_request(format!(
                "{detail}: this route does not take that method; see /openapi.json"
            ));
            e.status = status;
            e.code = "method_not_allowed";
            e
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(detail),
        s if s.is_server_error() => ApiError::internal(detail),
        _ => ApiError::bad_request(format!("{detail}; see /openapi.json for valid requests")),
    };
    let mut out = err.into_response();
    // Keep headers such as `Allow` of a 405.
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    out
}
