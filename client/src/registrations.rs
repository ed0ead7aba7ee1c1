//! Which registration a store uses, decided from the blob's registrations on-chain.
//!
//! Any number of registrations of one blob id coexist, each with its owner, end epoch and
//! deletable flag. A store asks for "this blob until epoch E, deletable or not"; a registration
//! *satisfies* it if it lives, is of this blob id, ends at E or later, and is permanent when a
//! permanent store was asked (a permanent registration satisfies a deletable request: the data
//! stays at least as long and nothing was paid that could be reclaimed by deleting; a deletable
//! one never satisfies a permanent request, since its owner may delete it at any time).
//!
//! In order:
//! 1. a certified registration of ours that satisfies → nothing to do;
//! 2. a certified *permanent* registration of anyone that satisfies → nothing to do (nobody can
//!    delete it, so the data is guaranteed until its end); someone else's deletable one never
//!    counts, whatever its end epoch;
//! 3. an uncertified registration of ours that satisfies (a store that failed) → upload and
//!    certify it, never paying again;
//! 4. otherwise a new registration.

use alloy::primitives::Address;
use floe_chain::{RegistrationRecord, RegistrationState};
use floe_core::ids::BlobId;

/// Most registrations of the caller's own of one blob id that are looked at (newest first).
pub(crate) const OWN_LIMIT: usize = 256;
/// Most registrations of anyone of one blob id that are looked at (newest first) to find a
/// certified permanent one, or permanent ones to extend.
pub(crate) const ANY_LIMIT: usize = 1024;

/// What a store does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Nothing to pay or upload: this certified registration covers the request.
    AlreadyCertified(RegistrationRecord),
    /// Upload to and certify this registration of ours (paid earlier).
    Reuse(RegistrationRecord),
    /// Register anew.
    Register,
}

/// What a store asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request {
    /// The blob.
    pub blob_id: BlobId,
    /// The caller's wallet.
    pub me: Address,
    /// The current epoch.
    pub current: u32,
    /// The first epoch the blob need no longer be stored (current + epochs asked).
    pub end_epoch: u32,
    /// A deletable store was asked.
    pub deletable: bool,
}

impl Request {
    /// `r` gives at least what was asked (see the module doc).
    pub(crate) fn satisfied_by(&self, r: &RegistrationRecord) -> bool {
        r.blob_id == self.blob_id
            && r.is_live(self.current)
            && r.end_epoch >= self.end_epoch
            && (self.deletable || !r.deletable)
    }
}

/// The store's plan from `mine` (the caller's registrations of the blob) and `others` (any
/// registrations of it; the caller's among them are ignored).
pub(crate) fn plan(
    req: &Request,
    mine: &[RegistrationRecord],
    others: &[RegistrationRecord],
) -> Plan {
    // Prefer the flag asked for, then the longest-lived, then the oldest.
    let best = |it: &mut dyn Iterator<Item = &RegistrationRecord>| {
        it.max_by_key(|r| {
            (
                r.deletable == req.deletable,
                r.end_epoch,
                std::cmp::Reverse(r.registration_id),
            )
        })
        .cloned()
    };
    let ours = |state: RegistrationState| {
        mine.iter()
            .filter(move |r| r.owner == req.me && r.state == state && req.satisfied_by(r))
    };
    if let Some(r) = best(&mut ours(RegistrationState::Certified)) {
        return Plan::AlreadyCertified(r);
    }
    let mut guaranteed = others.iter().filter(|r| {
        r.owner != req.me
            && r.state == RegistrationState::Certified
            && !r.deletable
            && req.satisfied_by(r)
    });
    if let Some(r) = best(&mut guaranteed) {
        return Plan::AlreadyCertified(r);
    }
    if let Some(r) = best(&mut ours(RegistrationState::Registered)) {
        return Plan::Reuse(r);
    }
    Plan::Register
}

/// A registration's state as the CLI prints it: `registered`, `certified`, `deleted`,
/// `expired` or `invalid` (the blob id), at `current`.
pub(crate) fn state_name(r: &RegistrationRecord, current: u32) -> &'static str {
    match r.state {
        RegistrationState::None => "unknown",
        RegistrationState::Deleted => "deleted",
        _ if r.invalid => "invalid",
        _ if r.is_expired(current) => "expired",
        RegistrationState::Registered => "registered",
        RegistrationState::Certified => "certified",
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    const ME: Address = Address::repeat_byte(0xaa);
    const ALICE: Address = Address::repeat_byte(0xbb);
    const BLOB: BlobId = BlobId([7; 32]);

    fn reg(
        id: u64,
        owner: Address,
        state: RegistrationState,
        deletable: bool,
        end: u32,
    ) -> RegistrationRecord {
        RegistrationRecord {
            registration_id: id,
            blob_id: BLOB,
            owner,
            size: 10,
            encoding_type: 1,
            deletable,
            state,
            registered_epoch: 1,
            certified_epoch: if state == RegistrationState::Certified {
                1
            } else {
                0
            },
            end_epoch: end,
            storage_id: U256::from(id),
            root: [0; 32],
            invalid: false,
            shared: false,
        }
    }

    /// Epoch 3, asking until epoch 6.
    fn req(deletable: bool) -> Request {
        Request {
            blob_id: BLOB,
            me: ME,
            current: 3,
            end_epoch: 6,
            deletable,
        }
    }

    use RegistrationState::{Certified, Deleted, Registered};

    #[test]
    fn our_certified_registration_long_enough_means_nothing_to_do() {
        let mine = [reg(1, ME, Certified, false, 6)];
        assert_eq!(
            plan(&req(false), &mine, &[]),
            Plan::AlreadyCertified(mine[0].clone())
        );
    }

    #[test]
    fn our_uncertified_registration_long_enough_is_reused() {
        let mine = [reg(4, ME, Registered, true, 9)];
        assert_eq!(plan(&req(true), &mine, &[]), Plan::Reuse(mine[0].clone()));
    }

    #[test]
    fn our_registrations_too_short_dead_or_of_the_wrong_flag_mean_a_new_registration() {
        let mut invalid = reg(5, ME, Certified, false, 9);
        invalid.invalid = true;
        let mut other_blob = reg(6, ME, Certified, false, 9);
        other_blob.blob_id = BlobId([8; 32]);
        let mine = [
            reg(1, ME, Certified, false, 5),  // ends before epoch 6
            reg(2, ME, Registered, false, 5), // too
            reg(3, ME, Deleted, false, 9),
            reg(4, ME, Certified, true, 9), // deletable: not for a permanent store
            invalid,
            other_blob,
        ];
        assert_eq!(plan(&req(false), &mine, &[]), Plan::Register);
    }

    #[test]
    fn a_permanent_registration_satisfies_a_deletable_request_but_not_the_reverse() {
        let permanent = [reg(1, ME, Registered, false, 6)];
        assert_eq!(
            plan(&req(true), &permanent, &[]),
            Plan::Reuse(permanent[0].clone())
        );
        let deletable = [reg(2, ME, Registered, true, 6)];
        assert_eq!(plan(&req(false), &deletable, &[]), Plan::Register);
    }

    #[test]
    fn someone_elses_certified_permanent_registration_long_enough_means_nothing_to_pay() {
        let others = [reg(9, ALICE, Certified, false, 7)];
        assert_eq!(
            plan(&req(false), &[], &others),
            Plan::AlreadyCertified(others[0].clone())
        );
        assert_eq!(
            plan(&req(true), &[], &others),
            Plan::AlreadyCertified(others[0].clone())
        );
        // It wins over reusing an uncertified registration of ours (which costs a certify).
        let mine = [reg(2, ME, Registered, false, 9)];
        assert_eq!(
            plan(&req(false), &mine, &others),
            Plan::AlreadyCertified(others[0].clone())
        );
    }

    #[test]
    fn someone_elses_deletable_short_or_uncertified_registration_never_counts() {
        let others = [
            reg(1, ALICE, Certified, true, 100), // deletable: Alice may delete it any time
            reg(2, ALICE, Certified, false, 5),  // too short
            reg(3, ALICE, Registered, false, 9), // not certified
        ];
        assert_eq!(plan(&req(false), &[], &others), Plan::Register);
        assert_eq!(plan(&req(true), &[], &others), Plan::Register);
        // Nor does a registration listed as ours that someone else owns.
        let not_mine = [reg(4, ALICE, Registered, false, 9)];
        assert_eq!(plan(&req(false), &not_mine, &[]), Plan::Register);
    }

    #[test]
    fn among_several_the_flag_asked_then_the_longest_wins() {
        let mine = [
            reg(1, ME, Registered, false, 20),
            reg(2, ME, Registered, true, 8),
            reg(3, ME, Registered, true, 10),
        ];
        assert_eq!(plan(&req(true), &mine, &[]), Plan::Reuse(mine[2].clone()));
        assert_eq!(plan(&req(false), &mine, &[]), Plan::Reuse(mine[0].clone()));
    }

    #[test]
    fn states_are_named_at_the_current_epoch() {
        assert_eq!(state_name(&reg(1, ME, Certified, false, 4), 3), "certified");
        assert_eq!(state_name(&reg(1, ME, Certified, false, 3), 3), "expired");
        assert_eq!(
            state_name(&reg(1, ME, Registered, false, 4), 3),
            "registered"
        );
        assert_eq!(state_name(&reg(1, ME, Deleted, true, 4), 3), "deleted");
    }
}
