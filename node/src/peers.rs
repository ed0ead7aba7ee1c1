//! Requests to peer nodes: metadata, confirmations and recovery symbols.

use std::time::Duration;

use floe_chain::Member;
use floe_core::{
    bls::Signature,
    encoding::{EncodingConfig, SliverKind},
    ids::BlobId,
    metadata::BlobMetadata,
    protocol::{Confirmation, NodeAddress, limits, routes, symbols},
    recovery::RecoverySymbol,
    wire::Wire,
};

/// HTTP client for peers. Every answer is read with a cap ([`read_limited`]): a peer cannot
/// make the node buffer more than the answer it asked for can be.
#[derive(Debug, Clone)]
pub struct Peers {
    http: reqwest::Client,
    max_metadata_bytes: usize,
}

/// Largest confirmation (JSON) or error body read from a peer.
pub const MAX_SMALL_ANSWER: usize = limits::MAX_SMALL_BODY as usize;

/// A failed peer request (logged, never fatal: another peer may answer).
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Transport failure or timeout.
    #[error("peer {addr}: {message}")]
    Transport {
        /// Peer address.
        addr: String,
        /// What failed.
        message: String,
    },
    /// The peer answered with an error status.
    #[error("peer {addr} answered {status}: {message}")]
    Status {
        /// Peer address.
        addr: String,
        /// HTTP status.
        status: u16,
        /// The start of its error body (at most [`MAX_SMALL_ANSWER`] bytes).
        message: String,
    },
    /// The answer is larger than anything valid.
    #[error("peer {addr} sent an answer over {limit} bytes; ignoring it")]
    TooLarge {
        /// Peer address.
        addr: String,
        /// The cap.
        limit: usize,
    },
    /// The peer's registered network address is not a valid `host:port`: it is skipped.
    #[error(transparent)]
    BadAddress(#[from] floe_core::protocol::AddressError),
    /// The answer did not decode or verify.
    #[error("peer {addr} sent a bad answer: {message}")]
    Bad {
        /// Peer address.
        addr: String,
        /// What is wrong.
        message: String,
    },
}

/// The validated address of `member` (a registered address is anyone's string: it is
/// parsed strictly, never pasted into a URL).
pub fn address_of(member: &Member) -> Result<NodeAddress, PeerError> {
    NodeAddress::parse(&member.network_address).map_err(|e| {
        tracing::warn!(node = %member.node, error = %e, "skipping a peer with an invalid network address");
        PeerError::BadAddress(e)
    })
}

/// Reads `resp`'s body, failing with [`PeerError::TooLarge`] as soon as it is known to exceed
/// `max` bytes (from `Content-Length`, else while reading chunks): at most `max` bytes are
/// ever buffered.
pub async fn read_limited(
    addr: &str,
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, PeerError> {
    let too_large = || PeerError::TooLarge {
        addr: addr.to_owned(),
        limit: max,
    };
    let declared = resp.content_length();
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(chunk) = resp.chunk().await.map_err(|e| PeerError::Transport {
        addr: addr.to_owned(),
        message: e.to_string(),
    })? {
        if out.len().saturating_add(chunk.len()) > max {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Most bytes a batch of `count` recovery symbols of `symbol_size` bytes can take in the
/// batch format ([`limits::symbol_list_wire_len`]).
pub fn symbol_list_limit(n_shards: u16, symbol_size: u16, count: usize) -> usize {
    usize::try_from(limits::symbol_list_wire_len(n_shards, symbol_size, count))
        .unwrap_or(usize::MAX)
}

/// Decodes a confirmation answer and checks its signature on `message` by `member`.
fn verify_confirmation(
    member: &Member,
    bytes: &[u8],
    message: &[u8],
) -> Result<(u32, Signature), PeerError> {
    let bad = |message: String| PeerError::Bad {
        addr: member.network_address.clone(),
        message,
    };
    let c: Confirmation = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let sig = Signature::from_hex(&c.signature).map_err(|e| bad(e.to_string()))?;
    sig.verify(&member.public_key, message)
        .map_err(|e| bad(format!("signature does not verify: {e}")))?;
    Ok((c.epoch, sig))
}

impl Peers {
    /// A client with `timeout` per request, accepting metadata of at most
    /// `max_metadata_bytes`. Fails if the HTTP client cannot be built (the node must not run
    /// without its timeouts).
    pub fn new(timeout: Duration, max_metadata_bytes: usize) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .build()?;
        Ok(Peers {
            http,
            max_metadata_bytes,
        })
    }

    /// Sends `req` to `addr`; on success reads at most `max` bytes of the answer, otherwise
    /// fails with the status and the start of the error body.
    async fn send(
        &self,
        addr: &str,
        req: reqwest::RequestBuilder,
        max: usize,
    ) -> Result<Vec<u8>, PeerError> {
        let resp = req.send().await.map_err(|e| PeerError::Transport {
            addr: addr.to_owned(),
            message: e.to_string(),
        })?;
        let status = resp.status();
        if !status.is_success() {
            let message = match read_limited(addr, resp, MAX_SMALL_ANSWER).await {
                Ok(body) => String::from_utf8_lossy(&body).into_owned(),
                Err(e) => e.to_string(),
            };
            return Err(PeerError::Status {
                addr: addr.to_owned(),
                status: status.as_u16(),
                message,
            });
        }
        read_limited(addr, resp, max).await
    }

    async fn get(&self, member: &Member, path: &str, max: usize) -> Result<Vec<u8>, PeerError> {
        let addr = address_of(member)?;
        self.send(&member.network_address, self.http.get(addr.url(path)), max)
            .await
    }

    /// Fetches and verifies a blob's metadata from `member`.
    pub async fn metadata(
        &self,
        member: &Member,
        id: &BlobId,
        encoding: &EncodingConfig,
    ) -> Result<(Vec<u8>, BlobMetadata), PeerError> {
        let addr = &member.network_address;
        let max = self
            .max_metadata_bytes
            .min(limits::metadata_wire_len(encoding.n_shards()) as usize);
        let bytes = self.get(member, &routes::metadata(id), max).await?;
        let bad = |message: String| PeerError::Bad {
            addr: addr.clone(),
            message,
        };
        let m = BlobMetadata::from_wire(&bytes).map_err(|e| bad(e.to_string()))?;
        m.verify(id, encoding).map_err(|e| bad(e.to_string()))?;
        Ok((bytes, m))
    }

    /// Fetches `member`'s confirmation of registration `registration_id` of `id` and checks
    /// its signature on `message` (the certify message of that one registration).
    pub async fn confirmation(
        &self,
        member: &Member,
        id: &BlobId,
        registration_id: u64,
        message: &[u8],
    ) -> Result<(u32, Signature), PeerError> {
        let bytes = self
            .get(
                member,
                &routes::confirmation(id, registration_id),
                MAX_SMALL_ANSWER,
            )
            .await?;
        verify_confirmation(member, &bytes, message)
    }

    /// Sends an inconsistency proof to `member`; returns its signature on `message`
    /// (`invalid_message`), checked.
    pub async fn attest_invalid(
        &self,
        member: &Member,
        id: &BlobId,
        proof_wire: Vec<u8>,
        message: &[u8],
    ) -> Result<(u32, Signature), PeerError> {
        let addr = &member.network_address;
        let url = address_of(member)?.url(&routes::inconsistency(id));
        let req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(proof_wire);
        let bytes = self.send(addr, req, MAX_SMALL_ANSWER).await?;
        verify_confirmation(member, &bytes, message)
    }

    /// Fetches symbols `indices` of the expansion of `member`'s `kind` sliver of `pair`
    /// (batch endpoint), reading at most `max_bytes` (see [`symbol_list_limit`]). Symbols are
    /// returned unverified.
    pub async fn symbols(
        &self,
        member: &Member,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        indices: &[u16],
        max_bytes: usize,
    ) -> Result<Vec<RecoverySymbol>, PeerError> {
        let addr = &member.network_address;
        let bytes = self
            .get(
                member,
                &routes::recovery_batch(id, pair, kind, indices),
                max_bytes,
            )
            .await?;
        symbols::decode_symbol_list(&bytes, indices.len()).map_err(|e| PeerError::Bad {
            addr: addr.clone(),
            message: e.to_string(),
        })
    }
}

/// Decodes the batch recovery answer (at most `max_count` symbols).
pub fn decode_symbol_list(
    bytes: &[u8],
    max_count: usize,
) -> Result<Vec<RecoverySymbol>, symbols::SymbolListError> {
    symbols::decode_symbol_list(bytes, max_count)
}
