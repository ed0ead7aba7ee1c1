//! HTTP client of one storage node's API (`/v1/...`), plus retry with backoff.
//!
//! Bodies of metadata and slivers are floe-core's wire format (`application/octet-stream`);
//! errors come back as JSON with a status code, kept here as [`NodeError::Status`].

use std::{future::Future, time::Duration};

use floe_core::{encoding::SliverKind, ids::BlobId};
use serde::{Deserialize, Serialize};

/// A failed request to one storage node.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NodeError {
    /// The node could not be reached or the connection broke.
    #[error("node {node} unreachable: {message}")]
    Transport {
        /// The node's network address.
        node: String,
        /// What failed.
        message: String,
    },
    /// The node answered with an error status.
    #[error("node {node} answered {status}: {message}")]
    Status {
        /// The node's network address.
        node: String,
        /// HTTP status code.
        status: u16,
        /// The node's error message (its JSON `error` field, or the body).
        message: String,
    },
    /// The node's answer could not be decoded.
    #[error("node {node} sent an undecodable answer: {message}")]
    BadResponse {
        /// The node's network address.
        node: String,
        /// What is wrong with it.
        message: String,
    },
}

impl NodeError {
    /// Whether retrying the same request later may succeed: transport failures, 5xx, and the
    /// statuses a node uses for "not yet" (404 before it sees a registration, 409 before it
    /// holds everything, 421 while it still follows the previous epoch's shards, 425, 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => {
                *status >= 500 || matches!(status, 404 | 408 | 409 | 421 | 425 | 429)
            }
            Self::BadResponse { .. } => false,
        }
    }

    /// The HTTP status, if the node answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A node's signed confirmation that it holds all its slivers of a blob.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConfirmationResponse {
    /// The epoch signed for.
    pub epoch: u32,
    /// BLS signature (96-byte compressed G2), hex.
    pub signature: String,
    /// The node (operator address), informational.
    #[serde(default)]
    pub node: Option<String>,
}

/// Client of one storage node.
#[derive(Debug, Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    address: String,
    base: String,
}

impl NodeClient {
    /// A client for the node at `address` (`host:port`, or a full `http://` URL).
    pub fn new(http: reqwest::Client, address: &str) -> Self {
        let base = if address.starts_with("http://") || address.starts_with("https://") {
            address.trim_end_matches('/').to_owned()
        } else {
            format!("http://{address}")
        };
        Self {
            http,
            address: address.to_owned(),
            base,
        }
    }

    /// The node's network address.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn transport(&self, e: reqwest::Error) -> NodeError {
        NodeError::Transport {
            node: self.address.clone(),
            message: error_chain(&e),
        }
    }

    async fn check(&self, resp: reqwest::Response) -> Result<reqwest::Response, NodeError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(body);
        Err(NodeError::Status {
            node: self.address.clone(),
            status: status.as_u16(),
            message,
        })
    }

    async fn put_bytes(&self, path: &str, body: Vec<u8>) -> Result<(), NodeError> {
        let resp = self
            .http
            .put(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(resp).await?;
        Ok(())
    }

    async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, NodeError> {
        let resp = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let resp = self.check(resp).await?;
        Ok(resp.bytes().await.map_err(|e| self.transport(e))?.to_vec())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, NodeError> {
        let bytes = self.get_bytes(path).await?;
        serde_json::from_slice(&bytes).map_err(|e| NodeError::BadResponse {
            node: self.address.clone(),
            message: e.to_string(),
        })
    }

    /// `PUT /v1/blobs/{id}/metadata` with the metadata's wire bytes.
    pub async fn put_metadata(&self, id: &BlobId, wire: Vec<u8>) -> Result<(), NodeError> {
        self.put_bytes(&format!("/v1/blobs/{id}/metadata"), wire)
            .await
    }

    /// `GET /v1/blobs/{id}/metadata`: the metadata's wire bytes.
    pub async fn get_metadata(&self, id: &BlobId) -> Result<Vec<u8>, NodeError> {
        self.get_bytes(&format!("/v1/blobs/{id}/metadata")).await
    }

    /// `PUT /v1/blobs/{id}/slivers/{pair}/{kind}` with the sliver's wire bytes.
    pub async fn put_sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        wire: Vec<u8>,
    ) -> Result<(), NodeError> {
        self.put_bytes(&format!("/v1/blobs/{id}/slivers/{pair}/{kind}"), wire)
            .await
    }

    /// `GET /v1/blobs/{id}/slivers/{pair}/{kind}`: the sliver's wire bytes.
    pub async fn get_sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
    ) -> Result<Vec<u8>, NodeError> {
        self.get_bytes(&format!("/v1/blobs/{id}/slivers/{pair}/{kind}"))
            .await
    }

    /// `GET /v1/blobs/{id}/confirmation`: the node's signature once it holds all its slivers.
    pub async fn confirmation(&self, id: &BlobId) -> Result<ConfirmationResponse, NodeError> {
        self.get_json(&format!("/v1/blobs/{id}/confirmation")).await
    }

    /// `GET /v1/blobs/{id}/status`: the node's view of the blob (JSON, shape owned by the node).
    pub async fn blob_status(&self, id: &BlobId) -> Result<serde_json::Value, NodeError> {
        self.get_json(&format!("/v1/blobs/{id}/status")).await
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<serde_json::Value, NodeError> {
        self.get_json("/v1/health").await
    }
}

/// Builds the shared HTTP client for storage nodes.
pub fn http_client(connect: Duration, request: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(connect)
        .timeout(request)
        .pool_max_idle_per_host(64)
        .build()
        .unwrap_or_default()
}

/// Exponential backoff: runs `op` until it succeeds, fails with a non-retryable error, or the
/// `deadline` passes (then the last error is returned).
pub async fn retry<T, F, Fut>(deadline: tokio::time::Instant, mut op: F) -> Result<T, NodeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, NodeError>>,
{
    let mut delay = Duration::from_millis(50);
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && tokio::time::Instant::now() + delay < deadline => {
                tracing::debug!(error = %e, ?delay, "retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A reqwest error with its sources, on one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        s.push_str(": ");
        s.push_str(&src.to_string());
        cur = src.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn status(code: u16) -> NodeError {
        NodeError::Status {
            node: "n".into(),
            status: code,
            message: String::new(),
        }
    }

    #[test]
    fn not_yet_statuses_are_retryable_and_rejections_are_not() {
        for code in [404, 409, 421, 429, 500, 503] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 410, 413, 422] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(
            NodeError::Transport {
                node: "n".into(),
                message: String::new()
            }
            .is_retryable()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_repeats_until_success() {
        let calls = AtomicU32::new(0);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let r = retry(deadline, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(status(503))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_at_a_rejection() {
        let calls = AtomicU32::new(0);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let r: Result<(), _> = retry(deadline, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(422))
        })
        .await;
        assert_eq!(r.err().and_then(|e| e.status()), Some(422));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_gives_up_at_the_deadline_with_the_last_error() {
        let start = tokio::time::Instant::now();
        let deadline = start + Duration::from_secs(5);
        let r: Result<(), _> = retry(deadline, || async { Err(status(409)) }).await;
        assert_eq!(r.err().and_then(|e| e.status()), Some(409));
        assert!(tokio::time::Instant::now() <= deadline);
        assert!(tokio::time::Instant::now() - start >= Duration::from_secs(3));
    }

    #[test]
    fn node_urls_accept_host_port_and_full_urls() {
        let http = reqwest::Client::new();
        assert_eq!(
            NodeClient::new(http.clone(), "127.0.0.1:9100").url("/v1/health"),
            "http://127.0.0.1:9100/v1/health"
        );
        assert_eq!(
            NodeClient::new(http, "http://node.example:80/").url("/metrics"),
            "http://node.example:80/metrics"
        );
    }
}
