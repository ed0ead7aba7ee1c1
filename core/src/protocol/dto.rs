//! The JSON bodies of the node API.

use serde::{Deserialize, Serialize};

/// A node's signed confirmation of a registration
/// (`GET /v1/blobs/{id}/registrations/{registration}/confirmation`) or attestation that a blob is
/// invalid (`POST /v1/blobs/{id}/inconsistency`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The epoch signed for.
    pub epoch: u32,
    /// BLS signature (96-byte compressed G2), `0x`-hex.
    pub signature: String,
    /// The node's operator address (informational).
    #[serde(default)]
    pub node: String,
    /// The registration signed for (absent in an invalidity attestation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<u64>,
    /// The registration's deletable flag that was signed (absent in an invalidity attestation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletable: Option<bool>,
}

/// The node's view of a blob (`GET /v1/blobs/{id}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    /// The blob.
    pub blob_id: String,
    /// Over all its registrations: `certified` (some certified registration lives),
    /// `registered` (some registration lives, none certified), `invalid`, or `expired` (none
    /// lives: all expired or deleted).
    pub state: String,
    /// First epoch no registration covers (the max end epoch over live registrations).
    pub end_epoch: u32,
    /// First epoch no certified registration covers (0 if none is certified).
    pub certified_end_epoch: u32,
    /// Registrations not deleted (the chain's `blobStatus.registrations`, as the node last read
    /// it; expired ones are included while the blob lives, 0 once none lives).
    pub registrations: u32,
    /// Unencoded size.
    pub size: u64,
    /// The node's current epoch.
    pub epoch: u32,
    /// Whether the node holds the metadata.
    pub metadata: bool,
    /// Pairs this node must hold this epoch.
    pub pairs_expected: Vec<u16>,
    /// Pairs of which it holds both slivers.
    pub pairs_held: Vec<u16>,
    /// Holds the metadata and every sliver it must.
    pub complete: bool,
}

/// One background service's state in [`Health`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// The service (`follower`, `recovery`, `certify`, `advance`, `gc`).
    pub name: String,
    /// `ok`, `restarting` or `stopped`.
    pub state: String,
    /// Failures in a row.
    pub failures: u32,
    /// The last failure, if it has not recovered since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` when a service is failing (named in `services`).
    pub status: String,
    /// The operator address.
    pub node: String,
    /// The BLS public key (compressed, hex).
    pub public_key: String,
    /// The current epoch.
    pub epoch: u32,
    /// Shards held this epoch.
    pub shards: usize,
    /// Total shards.
    pub n_shards: u16,
    /// Next block the follower reads.
    pub cursor: u64,
    /// The background services.
    #[serde(default)]
    pub services: Vec<ServiceHealth>,
}

/// The answer to a successful upload (`PUT` metadata or sliver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// `metadata` or `sliver`.
    pub stored: String,
    /// The blob.
    pub blob_id: String,
    /// The pair (slivers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<u16>,
    /// The kind (slivers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}
