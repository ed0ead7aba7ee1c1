//! Errors: [`BackendError`] (what a [`crate::Backend`] fails with, with its class),
//! [`ApiError`] (an HTTP error answer: status, `code`, message) and [`GatewayError`] (what
//! starting the gateway fails with).

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// The class of a [`BackendError`]: which HTTP status the gateway answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request is malformed (400 `bad_request`).
    BadRequest,
    /// Unknown blob id or registration (404 `not_found`).
    NotFound,
    /// Deleted, expired or invalid blob (410 `gone`).
    Gone,
    /// The blob is larger than the network accepts (413 `payload_too_large`).
    TooLarge,
    /// Too few nodes answered or the chain is unreachable (503 `unavailable`); the client should
    /// retry after this long.
    Unavailable {
        /// Sent as `Retry-After` (whole seconds, at least 1).
        retry_after: Duration,
    },
    /// A fault of the gateway itself (500 `internal`); never for what a client or node sent.
    Internal,
}

/// An error of a [`crate::Backend`] call: its class and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    /// Which status the gateway answers with.
    pub class: ErrorClass,
    /// Shown to the client as `error`.
    pub message: String,
}

impl BackendError {
    /// An error of class `class`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// A [`ErrorClass::BadRequest`] error.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::BadRequest, message)
    }

    /// A [`ErrorClass::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::NotFound, message)
    }

    /// A [`ErrorClass::Gone`] error.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Gone, message)
    }

    /// A [`ErrorClass::Unavailable`] error.
    pub fn unavailable(message: impl Into<String>, retry_after: Duration) -> Self {
        Self::new(ErrorClass::Unavailable { retry_after }, message)
    }

    /// A [`ErrorClass::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Internal, message)
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
    /// A stable snake_case code: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `gone`, `payload_too_large`, `range_not_satisfiable`, `quota_exceeded`, `unavailable`,
    /// `internal`.
    pub code: String,
}

/// The code of an error answer, attached to the response so that the metrics can count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The snake_case code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// `Retry-After` in seconds (set for every 503).
    pub retry_after: Option<u64>,
    /// The blob's length, for a 416 (`Content-Range: bytes */LEN`).
    pub range_len: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            range_len: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 410 `gone`.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", message)
    }

    /// 413 `payload_too_large`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 416 `range_not_satisfiable` for a blob of `len` bytes.
    pub fn range_not_satisfiable(len: u64) -> Self {
        let mut e = Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            format!(
                "the requested range is outside the blob of {len} bytes; ask for bytes 0-{} at most",
                len.saturating_sub(1)
            ),
        );
        e.range_len = Some(len);
        e
    }

    /// 429 `quota_exceeded`.
    pub fn quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded", message)
    }

    /// 503 `unavailable` with `Retry-After: retry_after_secs` (at least 1).
    pub fn unavailable(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.message.clone(),
            code: self.code.to_owned(),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e.class {
            ErrorClass::BadRequest => Self::bad_request(e.message),
            ErrorClass::NotFound => Self::not_found(e.message),
            ErrorClass::Gone => Self::gone(e.message),
            ErrorClass::TooLarge => Self::too_large(e.message),
            ErrorClass::Unavailable { retry_after } => {
                Self::unavailable(e.message, retry_after.as_secs_f64().ceil() as u64)
            }
            ErrorClass::Internal => Self::internal(e.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body())).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(len) = self.range_len
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}"))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
        resp.extensions_mut().insert(ErrorCode(self.code));
        resp
    }
}

/// What starting or running the gateway fails with.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The config is invalid.
    #[error("invalid gateway config: {0}")]
    Config(String),
    /// The config file cannot be read.
    #[error("cannot read the gateway config {path}: {error}")]
    ConfigRead {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Accepting connections failed.
    #[error("gateway listener failed: {0}")]
    Listener(std::io::Error),
}
