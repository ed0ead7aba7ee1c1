//! The one place the node decides whether a blob is alive: whether it accepts uploads,
//! serves data, signs, and keeps its data through garbage collection.
//!
//! Today a blob id has one registration ([`BlobEntry`]). When the contracts move to several
//! registrations per blob id, [`Liveness`] becomes "any registration lives" (the chain's
//! `blobStatus(blobId)` max end epoch over live registrations) and nothing else in the node
//! changes.

use floe_chain::BlobState;

use crate::storage::BlobEntry;

/// What the node may do with a blob's data, from what it knows of its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    state: BlobState,
    end_epoch: u32,
}

impl Liveness {
    /// The liveness of a stored entry.
    pub fn of(entry: &BlobEntry) -> Self {
        Liveness {
            state: entry.state,
            end_epoch: entry.end_epoch,
        }
    }

    /// Registered or certified and unexpired at `epoch`: uploads are accepted, data kept.
    pub fn is_live(&self, epoch: u32) -> bool {
        matches!(self.state, BlobState::Registered | BlobState::Certified) && epoch < self.end_epoch
    }

    /// Data is served: everything except deleted, invalid or expired blobs.
    pub fn serves(&self, epoch: u32) -> bool {
        !matches!(self.state, BlobState::Deleted | BlobState::Invalid) && epoch < self.end_epoch
    }

    /// The store may accept a write for this blob (checked inside the write transaction, so
    /// a write racing garbage collection either lands before it or is refused).
    pub fn accepts_writes(&self) -> bool {
        matches!(self.state, BlobState::Registered | BlobState::Certified)
    }
}
