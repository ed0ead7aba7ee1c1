//! HTTP client of one storage node's API (`/v1/...`), plus retry with backoff.
//!
//! The contract is floe-core's [`protocol`](floe_core::protocol), shared with the node: routes,
//! JSON bodies, error codes and size limits come from there, and a node's registered address is
//! validated there ([`NodeAddress`]) before it becomes a URL. Bodies of metadata and slivers are
//! floe-core's wire format (`application/octet-stream`); errors come back as the JSON
//! [`ErrorBody`], kept here as [`NodeError::Status`] with its [`ErrorCode`].
//!
//! Every body is read with a cap fitting what is asked for (metadata: its exact size for `n`
//! shards; a sliver: its exact size from the metadata; JSON: the protocol's small-body caps),
//! so a faulty or hostile node cannot make the client buffer more than that.
//!
//! A request's timeout grows with what it carries ([`RequestTimeout`]): the body of an upload,
//! the cap of a download; a request that runs out of time ends with [`NodeError::Timeout`].

use std::{future::Future, time::Duration};

use floe_core::{
    encoding::SliverKind,
    ids::BlobId,
    protocol::{
        AddressError, BlobStatus, Confirmation, ErrorBody, ErrorCode, Health, NodeAddress,
        limits::{MAX_SMALL_BODY, MAX_STATUS_BODY, metadata_wire_len, symbol_list_wire_len},
        routes, symbols,
    },
    recovery::RecoverySymbol,
};

use crate::{config::RequestTimeout, error::ClientError};

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
    /// The node's registered network address is not a valid `host:port`.
    #[error("node address refused: {0}; the node cannot be reached until its operator fixes it")]
    BadAddress(AddressError),
    /// The node answered with an error status.
    #[error("node {node} answered {status}: {message}")]
    Status {
        /// The node's network address.
        node: String,
        /// HTTP status code.
        status: u16,
        /// The error code of the node's JSON error body, if it sent a known one.
        code: Option<ErrorCode>,
        /// The node's error message (its JSON `error` field, or the body).
        message: String,
    },
    /// The request did not finish within its timeout (base plus payload at the minimum
    /// throughput).
    #[error(
        "node {node} did not finish a request carrying {bytes} bytes within {secs:.1}s (the timeout allows for {min_kib_per_sec} KiB/s); \
         the node or the link is slow: raise timeouts.request_secs or lower timeouts.min_throughput_kib_per_sec in the client config"
    )]
    Timeout {
        /// The node's network address.
        node: String,
        /// Bytes the request carried or could have been answered with.
        bytes: u64,
        /// The timeout, in seconds.
        secs: f64,
        /// The minimum throughput the timeout allowed for, in KiB/s.
        min_kib_per_sec: u64,
    },
    /// The node's answer is larger than what was asked for can be.
    #[error(
        "node {node} sent a {what} larger than the {limit} bytes it can be; the node is faulty or hostile, another node is tried"
    )]
    TooLarge {
        /// The node's network address.
        node: String,
        /// What was being read.
        what: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The node follows a later epoch than the placement the client uploads by (it answered
    /// 421 for a pair, or signed a confirmation for a later epoch).
    #[error(
        "node {node} no longer follows epoch {placement_epoch} (it {seen}); the committee is read again and the blob uploaded to the new shard holders"
    )]
    EpochChanged {
        /// The node's network address.
        node: String,
        /// The epoch of the placement uploaded by.
        placement_epoch: u32,
        /// What the node did that shows it.
        seen: String,
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
    /// Whether retrying the same request later may succeed: transport failures and timeouts,
    /// and the answers the protocol calls retryable ([`ErrorCode::is_retryable`]: "not yet"
    /// and 5xx). Without a known code (a proxy's answer, an older node) the status decides:
    /// 5xx and 404, 408, 409, 421, 425, 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Status {
                code: Some(code), ..
            } => code.is_retryable(),
            Self::Status { status, .. } => {
                *status >= 500 || matches!(status, 404 | 408 | 409 | 421 | 425 | 429)
            }
            Self::BadAddress(_)
            | Self::BadResponse { .. }
            | Self::TooLarge { .. }
            | Self::EpochChanged { .. } => false,
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

/// Client of one storage node.
#[derive(Debug, Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    address: String,
    /// The validated address, or why it was refused (then every request fails with it).
    node: Result<NodeAddress, AddressError>,
    timeout: RequestTimeout,
}

impl NodeClient {
    /// A client for the node at `address` (`host:port`, as registered on-chain). An address
    /// [`NodeAddress`] refuses makes every request fail with [`NodeError::BadAddress`].
    pub fn new(http: reqwest::Client, address: &str) -> Self {
        Self {
            http,
            address: address.to_owned(),
            node: NodeAddress::parse(address),
            timeout: RequestTimeout::default(),
        }
    }

    /// Sets the timeout of each request (by default that of the default client config).
    pub fn with_timeout(mut self, timeout: RequestTimeout) -> Self {
        self.timeout = timeout;
        self
    }

    /// The node's network address.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn url(&self, path: &str) -> Result<String, NodeError> {
        match &self.node {
            Ok(node) => Ok(node.url(path)),
            Err(e) => Err(NodeError::BadAddress(e.clone())),
        }
    }

    /// A failed request that carried (or asked for up to) `bytes` bytes.
    fn transport(&self, e: &reqwest::Error, bytes: u64) -> NodeError {
        if e.is_timeout() {
            return NodeError::Timeout {
                node: self.address.clone(),
                bytes,
                secs: self.timeout.for_payload(bytes).as_secs_f64(),
                min_kib_per_sec: self.timeout.min_bytes_per_sec / 1024,
            };
        }
        NodeError::Transport {
            node: self.address.clone(),
            message: error_chain(e),
        }
    }

    /// Reads `resp`'s body, refusing one over `max` bytes: first by its announced length, then
    /// while reading (chunk by chunk, so at most `max` bytes plus one chunk are ever buffered).
    /// `what` names the body in the error.
    async fn read_limited(
        &self,
        mut resp: reqwest::Response,
        max: u64,
        what: &str,
    ) -> Result<Vec<u8>, NodeError> {
        let too_large = || NodeError::TooLarge {
            node: self.address.clone(),
            what: what.to_owned(),
            limit: max,
        };
        let announced = resp.content_length();
        if announced.is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let capacity = announced.unwrap_or(0).min(max);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(body),
                Err(e) if e.is_timeout() => return Err(self.transport(&e, max)),
                Err(e) => {
                    return Err(NodeError::Transport {
                        node: self.address.clone(),
                        message: format!("reading the {what}: {}", error_chain(&e)),
                    });
                }
            };
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    async fn check(&self, resp: reqwest::Response) -> Result<reqwest::Response, NodeError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let (code, message) = match self.read_limited(resp, MAX_SMALL_BODY, "error body").await {
            Ok(body) => match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(error) => (error.code(), error.error),
                Err(_) => (None, String::from_utf8_lossy(&body).into_owned()),
            },
            Err(e) => (None, format!("(error body dropped: {e})")),
        };
        Err(NodeError::Status {
            node: self.address.clone(),
            status: status.as_u16(),
            code,
            message,
        })
    }

    /// `PUT` of `body`: a [`bytes::Bytes`], so a retry resends the same buffer instead of a copy.
    async fn put_bytes(&self, path: &str, body: bytes::Bytes) -> Result<(), NodeError> {
        let bytes = body.len() as u64;
        let resp = self
            .http
            .put(self.url(path)?)
            .timeout(self.timeout.for_payload(bytes))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(&e, bytes))?;
        self.check(resp).await?;
        Ok(())
    }

    async fn get_bytes(&self, path: &str, max: u64, what: &str) -> Result<Vec<u8>, NodeError> {
        // The timeout covers the body too, so it allows for the largest answer accepted.
        let resp = self
            .http
            .get(self.url(path)?)
            .timeout(self.timeout.for_payload(max))
            .send()
            .await
            .map_err(|e| self.transport(&e, max))?;
        let resp = self.check(resp).await?;
        self.read_limited(resp, max, what).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        max: u64,
        what: &str,
    ) -> Result<T, NodeError> {
        let bytes = self.get_bytes(path, max, what).await?;
        serde_json::from_slice(&bytes).map_err(|e| NodeError::BadResponse {
            node: self.address.clone(),
            message: e.to_string(),
        })
    }

    /// `PUT /v1/blobs/{id}/metadata` with the metadata's wire bytes.
    pub async fn put_metadata(
        &self,
        id: &BlobId,
        wire: impl Into<bytes::Bytes>,
    ) -> Result<(), NodeError> {
        self.put_bytes(&routes::metadata(id), wire.into()).await
    }

    /// `GET /v1/blobs/{id}/metadata`: the metadata's wire bytes, at most their size for
    /// `n_shards` shards.
    pub async fn get_metadata(&self, id: &BlobId, n_shards: u16) -> Result<Vec<u8>, NodeError> {
        self.get_bytes(
            &routes::metadata(id),
            metadata_wire_len(n_shards),
            "metadata",
        )
        .await
    }

    /// `PUT /v1/blobs/{id}/slivers/{pair}/{kind}` with the sliver's wire bytes.
    pub async fn put_sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        wire: impl Into<bytes::Bytes>,
    ) -> Result<(), NodeError> {
        self.put_bytes(&routes::sliver(id, pair, kind), wire.into())
            .await
    }

    /// `GET /v1/blobs/{id}/slivers/{pair}/{kind}`: the sliver's wire bytes, at most
    /// `max_bytes` (its exact size, [`sliver_wire_len`](floe_core::protocol::limits::sliver_wire_len) of the blob's symbol size).
    pub async fn get_sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        max_bytes: u64,
    ) -> Result<Vec<u8>, NodeError> {
        self.get_bytes(
            &routes::sliver(id, pair, kind),
            max_bytes,
            &format!("{kind} sliver {pair}"),
        )
        .await
    }

    /// `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=...`: symbols `indices` of the full
    /// expansion of the node's `kind` sliver of `pair`, each with its Merkle proof, UNVERIFIED
    /// (check each with [`RecoverySymbol::verify`]). Reads at most the exact size of
    /// `indices.len()` symbols of `symbol_size` bytes on `n_shards` shards, and refuses an
    /// answer with more symbols than asked for.
    pub async fn recovery_symbols(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        indices: &[u16],
        n_shards: u16,
        symbol_size: u16,
    ) -> Result<Vec<RecoverySymbol>, NodeError> {
        let max = symbol_list_wire_len(n_shards, symbol_size, indices.len());
        let bytes = self
            .get_bytes(
                &routes::recovery_batch(id, pair, kind, indices),
                max,
                &format!("list of recovery symbols of {kind} sliver {pair}"),
            )
            .await?;
        symbols::decode_symbol_list(&bytes, indices.len()).map_err(|e| NodeError::BadResponse {
            node: self.address.clone(),
            message: format!("recovery symbols of {kind} sliver {pair}: {e}"),
        })
    }

    /// `GET /v1/blobs/{id}/registrations/{registration}/confirmation`: the node's signature over
    /// `(blob id, registration id, deletable)` once it holds all its slivers of the blob.
    pub async fn confirmation(
        &self,
        id: &BlobId,
        registration_id: u64,
    ) -> Result<Confirmation, NodeError> {
        self.get_json(
            &routes::confirmation(id, registration_id),
            MAX_SMALL_BODY,
            "confirmation",
        )
        .await
    }

    /// `GET /v1/blobs/{id}/status`: the node's view of the blob.
    pub async fn blob_status(&self, id: &BlobId) -> Result<BlobStatus, NodeError> {
        self.get_json(&routes::status(id), MAX_STATUS_BODY, "blob status")
            .await
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<Health, NodeError> {
        self.get_json(routes::HEALTH, MAX_STATUS_BODY, "health report")
            .await
    }
}

/// What every request to the storage nodes shares: the HTTP client and the timeout policy.
#[derive(Debug, Clone)]
pub struct NodeHttp {
    /// The HTTP client (connection pool, connect timeout).
    pub http: reqwest::Client,
    /// The timeout of each request.
    pub timeout: RequestTimeout,
}

impl NodeHttp {
    /// A client of the node at `address`.
    pub fn node(&self, address: &str) -> NodeClient {
        NodeClient::new(self.http.clone(), address).with_timeout(self.timeout)
    }
}

/// Builds the shared HTTP client for storage nodes, with its timeouts.
pub fn http_client(connect: Duration, request: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(connect)
        .timeout(request)
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| ClientError::HttpClient(error_chain(&e)))
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
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;
    use crate::{
        config::RequestTimeout,
        fake_node::{FakeNode, Serve},
    };

    fn status(code: u16) -> NodeError {
        NodeError::Status {
            node: "n".into(),
            status: code,
            code: None,
            message: String::new(),
        }
    }

    fn coded(code: ErrorCode) -> NodeError {
        NodeError::Status {
            node: "n".into(),
            status: code.status(),
            code: Some(code),
            message: String::new(),
        }
    }

    #[test]
    fn known_codes_decide_retries_as_the_protocol_says() {
        for code in ErrorCode::ALL {
            assert_eq!(coded(code).is_retryable(), code.is_retryable(), "{code}");
        }
        // A 404 is "not yet" only while the node has not seen the registration.
        assert!(coded(ErrorCode::NotRegistered).is_retryable());
        assert!(!coded(ErrorCode::Gone).is_retryable());
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

    async fn fake(serve: Serve) -> FakeNode {
        let node = FakeNode::start(1, Arc::new(AtomicU32::new(1))).await;
        *node.state.serve.lock().expect("lock") = serve;
        node
    }

    fn assert_too_large(r: Result<Vec<u8>, NodeError>, node: &FakeNode, limit: u64) {
        match r {
            Err(e @ NodeError::TooLarge { .. }) => {
                assert!(!e.is_retryable());
                let msg = e.to_string();
                assert!(msg.contains(&node.address), "{msg}");
                assert!(
                    msg.contains(&format!("larger than the {limit} bytes")),
                    "{msg}"
                );
            }
            other => panic!("expected TooLarge, got {:?}", other.map(|b| b.len())),
        }
    }

    #[tokio::test]
    async fn an_announced_body_over_the_cap_is_refused_unread() {
        let node = fake(Serve::Announced(10 << 20)).await;
        let client = NodeClient::new(reqwest::Client::new(), &node.address);
        let id = BlobId([1; 32]);
        assert_too_large(client.get_metadata(&id, 4).await, &node, 271);
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_cap() {
        let node = fake(Serve::Endless).await;
        let client = NodeClient::new(reqwest::Client::new(), &node.address);
        let id = BlobId([1; 32]);
        assert_too_large(
            client.get_sliver(&id, 0, SliverKind::Primary, 1000).await,
            &node,
            1000,
        );
        assert_too_large(
            client.get_metadata(&id, 100).await,
            &node,
            metadata_wire_len(100),
        );
    }

    #[tokio::test]
    async fn a_sliver_one_byte_over_its_exact_size_is_refused_and_one_at_it_accepted() {
        let node = fake(Serve::Announced(1001)).await;
        let client = NodeClient::new(reqwest::Client::new(), &node.address);
        let id = BlobId([1; 32]);
        assert_too_large(
            client.get_sliver(&id, 0, SliverKind::Primary, 1000).await,
            &node,
            1000,
        );
        *node.state.serve.lock().expect("lock") = Serve::Announced(1000);
        let got = client.get_sliver(&id, 0, SliverKind::Primary, 1000).await;
        assert_eq!(got.map(|b| b.len()).ok(), Some(1000));
    }

    #[tokio::test]
    async fn an_endless_error_body_keeps_the_status_and_drops_the_body() {
        let node = fake(Serve::EndlessError).await;
        let client = NodeClient::new(reqwest::Client::new(), &node.address);
        match client.get_metadata(&BlobId([1; 32]), 4).await {
            Err(NodeError::Status {
                status, message, ..
            }) => {
                assert_eq!(status, 404);
                assert!(message.contains("error body dropped"), "{message}");
                assert!(
                    message.contains(&format!("{MAX_SMALL_BODY} bytes")),
                    "{message}"
                );
            }
            other => panic!("expected a 404, got {:?}", other.map(|b| b.len())),
        }
    }

    #[tokio::test]
    async fn a_large_upload_to_a_slow_node_gets_time_for_its_size() {
        // The node reads uploads at 1 MiB/s: 1.5 MiB take it about 1.5 s, three times the base.
        let node = fake(Serve::Honest).await;
        node.state
            .read_bytes_per_sec
            .store(1 << 20, Ordering::SeqCst);
        let body = vec![3u8; 1536 * 1024];
        let base = Duration::from_millis(500);
        // The shared HTTP client's own timeout is the base: the per-request one must win.
        let http = http_client(Duration::from_secs(1), base).expect("http client");
        let id = BlobId([1; 32]);
        // Allowing for 512 KiB/s: 0.5 s + 3 s.
        let sized = RequestTimeout {
            base,
            min_bytes_per_sec: 512 * 1024,
        };
        assert_eq!(
            sized.for_payload(body.len() as u64),
            Duration::from_millis(3500)
        );
        let client = NodeClient::new(http, &node.address).with_timeout(sized);
        let started = std::time::Instant::now();
        client
            .put_sliver(&id, 0, SliverKind::Primary, body.clone())
            .await
            .expect("the upload gets the time its size needs");
        assert!(started.elapsed() > base, "{:?}", started.elapsed());
        assert_eq!(node.state.sliver_puts.load(Ordering::SeqCst), 1);

        // With the base alone (an unbounded throughput), the same upload is cut.
        let flat = RequestTimeout {
            base,
            min_bytes_per_sec: u64::MAX,
        };
        match client
            .with_timeout(flat)
            .put_sliver(&id, 0, SliverKind::Primary, body.clone())
            .await
        {
            Err(e @ NodeError::Timeout { bytes, .. }) => {
                assert_eq!(bytes, body.len() as u64);
                assert!(e.is_retryable());
                assert!(e.to_string().contains("within 0.5s"), "{e}");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(node.state.sliver_puts.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn node_urls_come_from_validated_addresses_only() {
        let http = reqwest::Client::new();
        assert_eq!(
            NodeClient::new(http.clone(), "127.0.0.1:9100")
                .url(routes::HEALTH)
                .ok(),
            Some("http://127.0.0.1:9100/v1/health".to_owned())
        );
        // Registered addresses are host:port: schemes, paths and userinfo are refused.
        for bad in [
            "http://node.example:80/",
            "node.example:80/x",
            "a@b:1",
            "b:0",
        ] {
            let client = NodeClient::new(http.clone(), bad);
            assert!(
                matches!(client.url(routes::HEALTH), Err(NodeError::BadAddress(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn a_refused_address_fails_requests_without_retrying() {
        let client = NodeClient::new(reqwest::Client::new(), "http://evil.example/");
        let err = client.health().await.expect_err("refused");
        assert!(matches!(err, NodeError::BadAddress(_)), "{err}");
        assert!(!err.is_retryable());
    }

    #[tokio::test]
    async fn error_bodies_give_their_protocol_code() {
        let chain = Arc::new(AtomicU32::new(2));
        let node = FakeNode::start(1, chain).await;
        node.state.expired_from.store(2, Ordering::SeqCst);
        let client = NodeClient::new(reqwest::Client::new(), &node.address);
        match client.put_metadata(&BlobId([1; 32]), vec![1, 2, 3]).await {
            Err(NodeError::Status {
                status: 410,
                code: Some(ErrorCode::Gone),
                message,
                ..
            }) => assert!(message.contains("expired"), "{message}"),
            other => panic!("expected a 410 gone, got {other:?}"),
        }
    }
}
