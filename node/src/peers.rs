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

/// HTTP client for peers.
#[derive(Debug, Clone)]
pub struct Peers {
    http: reqwest::Client,
}

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
    #[error("peer {addr} answered {status}")]
    Status {
        /// Peer address.
        addr: String,
        /// HTTP status.
        status: u16,
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

impl Peers {
    /// A client with `timeout` per request.
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .build()
            .unwrap_or_default();
        Peers { http }
    }

    async fn get(&self, addr: &str, path: &str) -> Result<Vec<u8>, PeerError> {
        let t = |e: reqwest::Error| PeerError::Transport {
            addr: addr.to_owned(),
            message: e.to_string(),
        };
        let resp = self
            .http
            .get(format!("{}{path}", base(addr)))
            .send()
            .await
            .map_err(t)?;
        if !resp.status().is_success() {
            return Err(PeerError::Status {
                addr: addr.to_owned(),
                status: resp.status().as_u16(),
            });
        }
        Ok(resp.bytes().await.map_err(t)?.to_vec())
    }

    /// Fetches and verifies a blob's metadata from `member`.
    pub async fn metadata(
        &self,
        member: &Member,
        id: &BlobId,
        encoding: &EncodingConfig,
    ) -> Result<(Vec<u8>, BlobMetadata), PeerError> {
        let addr = &member.network_address;
        let bytes = self.get(addr, &format!("/v1/blobs/{id}/metadata")).await?;
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
        let addr = &member.network_address;
        let bytes = self
            .get(addr, &format!("/v1/blobs/{id}/confirmation"))
            .await?;
        let bad = |message: String| PeerError::Bad {
            addr: addr.clone(),
            message,
        };
        let c: Confirmation = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let sig = Signature::from_hex(&c.signature).map_err(|e| bad(e.to_string()))?;
        sig.verify(&member.public_key, message)
            .map_err(|e| bad(format!("signature does not verify: {e}")))?;
        Ok((c.epoch, sig))
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
        let t = |e: reqwest::Error| PeerError::Transport {
            addr: addr.clone(),
            message: e.to_string(),
        };
        let resp = self
            .http
            .post(format!("{}/v1/blobs/{id}/inconsistency", base(addr)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(proof_wire)
            .send()
            .await
            .map_err(t)?;
        if !resp.status().is_success() {
            return Err(PeerError::Status {
                addr: addr.clone(),
                status: resp.status().as_u16(),
            });
        }
        let bytes = resp.bytes().await.map_err(t)?;
        let bad = |message: String| PeerError::Bad {
            addr: addr.clone(),
            message,
        };
        let c: Confirmation = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let sig = Signature::from_hex(&c.signature).map_err(|e| bad(e.to_string()))?;
        sig.verify(&member.public_key, message)
            .map_err(|e| bad(format!("signature does not verify: {e}")))?;
        Ok((c.epoch, sig))
    }

    /// Fetches symbols `indices` of the expansion of `member`'s `kind` sliver of `pair`
    /// (batch endpoint). Symbols are returned unverified.
    pub async fn symbols(
        &self,
        member: &Member,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        indices: &[u16],
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
