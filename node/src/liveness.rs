//! The one place the node decides whether a blob is alive: whether it accepts uploads,
//! serves data, signs, and keeps its data through garbage collection.
//!
//! A blob id may have several registrations, each with its own owner, end epoch and
//! deletable flag. The blob's data is kept, accepted and served while ANY of them lives: not
//! deleted, unexpired, and the blob id not invalid. That is the chain's `blobStatus(blobId)`:
//! `registrations > 0` (not deleted) and `endEpoch` (max end over those) ahead of the epoch.
//! Whether one particular registration lives (to sign a confirmation for it) is
//! [`floe_chain::RegistrationRecord::is_live`] or, for registrations the entry keeps,
//! [`registration_is_live`].

use crate::storage::{BlobEntry, KnownRegistration};

/// What the node may do with a blob's data, from the chain's aggregates over its registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    invalid: bool,
    registrations: u32,
    end_epoch: u32,
    certified_end_epoch: u32,
}

impl Liveness {
    /// The liveness of a stored entry.
    pub fn of(entry: &BlobEntry) -> Self {
        Liveness {
            invalid: entry.invalid,
            registrations: entry.registrations,
            end_epoch: entry.end_epoch,
            certified_end_epoch: entry.certified_end_epoch,
        }
    }

    /// Some registration lives at `epoch`: uploads are accepted, data kept and served.
    pub fn is_live(&self, epoch: u32) -> bool {
        !self.invalid && self.registrations > 0 && epoch < self.end_epoch
    }

    /// Some certified registration lives at `epoch`: the node must hold its slivers.
    pub fn is_certified(&self, epoch: u32) -> bool {
        self.is_live(epoch) && epoch < self.certified_end_epoch
    }

    /// Data is served while some registration lives.
    pub fn serves(&self, epoch: u32) -> bool {
        self.is_live(epoch)
    }

    /// The store may accept a write for this blob (checked inside the write transaction, so
    /// a write racing garbage collection either lands before it or is refused): some
    /// registration is not deleted and the blob is not invalid. Expired ones still count until
    /// garbage collection (which asks the chain) collects the blob.
    pub fn accepts_writes(&self) -> bool {
        !self.invalid && self.registrations > 0
    }

    /// Why the blob no longer accepts data at `epoch` (for 410 answers).
    pub fn gone_reason(&self, epoch: u32) -> &'static str {
        if self.invalid {
            "invalid"
        } else if self.registrations == 0 {
            "deleted"
        } else if epoch >= self.end_epoch {
            "expired"
        } else {
            "unavailable"
        }
    }
}

/// A registration the entry keeps lives at `epoch` (the entry keeps only undeleted ones).
pub fn registration_is_live(entry: &BlobEntry, r: &KnownRegistration, epoch: u32) -> bool {
    !entry.invalid && epoch < r.end_epoch
}
