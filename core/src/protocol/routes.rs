//! The node's HTTP routes: templates (axum `{param}` syntax, what the node mounts) and
//! builders (what clients and peers request). Bodies of metadata, slivers, symbols and proofs
//! are floe-core's wire format (`application/octet-stream`); the rest is JSON ([`super::dto`]).

use crate::{encoding::SliverKind, ids::BlobId};

use super::symbols::format_indices;

/// `GET`: the node's health ([`super::Health`]).
pub const HEALTH: &str = "/v1/health";
/// `GET`: Prometheus metrics (text).
pub const METRICS: &str = "/metrics";
/// `GET` / `PUT`: a blob's metadata.
pub const METADATA: &str = "/v1/blobs/{id}/metadata";
/// `GET` / `PUT`: one sliver.
pub const SLIVER: &str = "/v1/blobs/{id}/slivers/{pair}/{kind}";
/// `GET`: the node's signed confirmation of one registration of the blob
/// ([`super::Confirmation`]): it signs `(blob id, registration id, deletable)`.
pub const CONFIRMATION: &str = "/v1/blobs/{id}/registrations/{registration}/confirmation";
/// `GET ?indices=a,b`: several recovery symbols of one sliver ([`super::symbols`]).
pub const RECOVERY_BATCH: &str = "/v1/blobs/{id}/recovery/{pair}/{kind}";
/// `GET`: one recovery symbol.
pub const RECOVERY_SYMBOL: &str = "/v1/blobs/{id}/recovery/{pair}/{kind}/{index}";
/// `GET`: the node's view of a blob ([`super::BlobStatus`]).
pub const STATUS: &str = "/v1/blobs/{id}/status";
/// `POST`: an inconsistency proof; answers a signature over the invalid message.
pub const INCONSISTENCY: &str = "/v1/blobs/{id}/inconsistency";

/// Path of [`METADATA`].
pub fn metadata(id: &BlobId) -> String {
    format!("/v1/blobs/{id}/metadata")
}

/// Path of [`SLIVER`].
pub fn sliver(id: &BlobId, pair: u16, kind: SliverKind) -> String {
    format!("/v1/blobs/{id}/slivers/{pair}/{kind}")
}

/// Path of [`CONFIRMATION`].
pub fn confirmation(id: &BlobId, registration_id: u64) -> String {
    format!("/v1/blobs/{id}/registrations/{registration_id}/confirmation")
}

/// Path and query of [`RECOVERY_BATCH`].
pub fn recovery_batch(id: &BlobId, pair: u16, kind: SliverKind, indices: &[u16]) -> String {
    format!(
        "/v1/blobs/{id}/recovery/{pair}/{kind}?indices={}",
        format_indices(indices)
    )
}

/// Path of [`RECOVERY_SYMBOL`].
pub fn recovery_symbol(id: &BlobId, pair: u16, kind: SliverKind, index: u16) -> String {
    format!("/v1/blobs/{id}/recovery/{pair}/{kind}/{index}")
}

/// Path of [`STATUS`].
pub fn status(id: &BlobId) -> String {
    format!("/v1/blobs/{id}/status")
}

/// Path of [`INCONSISTENCY`].
pub fn inconsistency(id: &BlobId) -> String {
    format!("/v1/blobs/{id}/inconsistency")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills a template the way a router matches it.
    fn fill(template: &str, params: &[(&str, String)]) -> String {
        params.iter().fold(template.to_owned(), |t, (k, v)| {
            t.replace(&format!("{{{k}}}"), v)
        })
    }

    #[test]
    fn builders_fill_the_templates() {
        let id = BlobId([0xab; 32]);
        let ids = ("id", id.to_string());
        let k = SliverKind::Secondary;
        assert_eq!(metadata(&id), fill(METADATA, std::slice::from_ref(&ids)));
        assert_eq!(
            sliver(&id, 7, k),
            fill(
                SLIVER,
                &[ids.clone(), ("pair", "7".into()), ("kind", k.to_string())]
            )
        );
        assert_eq!(
            confirmation(&id, 42),
            fill(CONFIRMATION, &[ids.clone(), ("registration", "42".into())])
        );
        assert_eq!(status(&id), fill(STATUS, std::slice::from_ref(&ids)));
        assert_eq!(
            inconsistency(&id),
            fill(INCONSISTENCY, std::slice::from_ref(&ids))
        );
        assert_eq!(
            recovery_symbol(&id, 1, k, 2),
            fill(
                RECOVERY_SYMBOL,
                &[
                    ids.clone(),
                    ("pair", "1".into()),
                    ("kind", k.to_string()),
                    ("index", "2".into())
                ]
            )
        );
        assert_eq!(
            recovery_batch(&id, 1, k, &[2, 5]),
            fill(
                RECOVERY_BATCH,
                &[ids, ("pair", "1".into()), ("kind", k.to_string())]
            ) + "?indices=2,5"
        );
    }
}
