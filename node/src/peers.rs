//! Requests to peer nodes: metadata, confirmations and recovery symbols.

use std::time::Duration;

use floe_chain::Member;
use floe_core::{
    bls::Signature,
    encoding::{EncodingConfig, SliverKind},
    ids::BlobId,
    metadata::BlobMetadata,
    recovery::RecoverySymbol,
    wire::Wire,
};

use crate::api::Confirmation;

/// HTTP client for peers. Every answer is read with a cap ([`read_limited`]): a peer cannot
/// make the node buffer more than the answer it asked for can be.
#[derive(Debug, Clone)]
pub struct Peers {
    http: reqwest::Client,
    max_metadata_bytes: usize,
}

/// Largest confirmation (JSON) or error body read from a peer.
pub const MAX_SMALL_ANSWER: usize = 4 << 10;

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
    /// The answer did not decode or verify.
    #[error("peer {addr} sent a bad answer: {message}")]
    Bad {
        /// Peer address.
        addr: String,
        /// What is wrong.
        message: String,
    },
}

fn base(addr: &str) -> String {
    if addr.starts_with("http://") || addr.starts_with("https://") {
        addr.trim_end_matches('/').to_owned()
    } else {
        format!("http://{addr}")
    }
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
/// batch format (`u32` count; per symbol a `u32` length, the wire header and fields, the
/// symbol and a Merkle path of at most `ceil(log2 n) + 1` hashes).
pub fn symbol_list_limit(n_shards: u16, symbol_size: u16, count: usize) -> usize {
    let depth = (u32::BITS - u32::from(n_shards).leading_zeros()) as usize + 1;
    let per_symbol = 64 + usize::from(symbol_size) + 32 * depth;
    4 + count.saturating_mul(per_symbol)
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

    async fn get(&self, addr: &str, path: &str, max: usize) -> Result<Vec<u8>, PeerError> {
        self.send(addr, self.http.get(format!("{}{path}", base(addr))), max)
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
        let bytes = self
            .get(
                addr,
                &format!("/v1/blobs/{id}/metadata"),
                self.max_metadata_bytes,
            )
            .await?;
        let bad = |message: String| PeerError::Bad {
            addr: addr.clone(),
            message,
        };
        let m = BlobMetadata::from_wire(&bytes).map_err(|e| bad(e.to_string()))?;
        m.verify(id, encoding).map_err(|e| bad(e.to_string()))?;
        Ok((bytes, m))
    }

    /// Fetches `member`'s confirmation of `id` and checks its signature on `message`.
    pub async fn confirmation(
        &self,
        member: &Member,
        id: &BlobId,
        message: &[u8],
    ) -> Result<(u32, Signature), PeerError> {
        let bytes = self
            .get(
                &member.network_address,
                &format!("/v1/blobs/{id}/confirmation"),
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
        let req = self
            .http
            .post(format!("{}/v1/blobs/{id}/inconsistency", base(addr)))
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
        let list = indices
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let bytes = self
            .get(
                addr,
                &format!("/v1/blobs/{id}/recovery/{pair}/{kind}?indices={list}"),
                max_bytes,
            )
            .await?;
        decode_symbol_list(&bytes).map_err(|message| PeerError::Bad {
            addr: addr.clone(),
            message,
        })
    }
}

/// Decodes the batch recovery answer: `u32 BE count`, then `u32 BE length` + wire bytes each.
pub fn decode_symbol_list(bytes: &[u8]) -> Result<Vec<RecoverySymbol>, String> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Result<&[u8], String> {
        if rest.len() < n {
            return Err("truncated symbol list".into());
        }
        let (a, b) = rest.split_at(n);
        rest = b;
        Ok(a)
    };
    let count = u32::from_be_bytes(take(4)?.try_into().map_err(|_| "bad count")?) as usize;
    let mut out = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        let len = u32::from_be_bytes(take(4)?.try_into().map_err(|_| "bad length")?) as usize;
        out.push(RecoverySymbol::from_wire(take(len)?).map_err(|e| e.to_string())?);
    }
    if !rest.is_empty() {
        return Err("trailing bytes after the symbol list".into());
    }
    Ok(out)
}
