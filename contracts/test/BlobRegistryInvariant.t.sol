// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlobFixture} from "./handlers/BlobFixture.sol";
import {BlobHandler, ICertifyBody} from "./handlers/BlobHandler.sol";
import {BlobRegistry} from "../src/BlobRegistry.sol";
import {IBlobRegistry} from "../src/interfaces/IBlobRegistry.sol";

/// @notice Invariants of the blob registry under random sequences of BlobHandler calls on the
/// real WAL + Staking + BLS with a 10-member committee of vector keys.
/// forge-config: default.invariant.depth = 48
/// forge-config: default.invariant.runs = 32
contract BlobRegistryInvariantTest is BlobFixture, ICertifyBody {
    /// @dev Foundry's selector filter (forge-std's FuzzSelector).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    BlobHandler internal handler;
    uint256 internal stakingBaseline;

    function setUp() public {
        _deploy();
        _committee(10);
        handler = new BlobHandler(registry, staking, wal, json, this);
        stakingBaseline = wal.balanceOf(address(staking));
        targetContract(address(handler));
    }

    /// @notice The handler signs certify bodies with the fixture's signer.
    function certifyBody(uint256 registrationId) external view returns (bytes32) {
        return _certifyBody(_ids(registrationId));
    }

    /// @notice Only the handler's actions are called (not its ghost-state views).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](18);
        selectors[0] = BlobHandler.register.selector;
        selectors[1] = BlobHandler.register.selector; // weighted: registrations feed the rest
        selectors[2] = BlobHandler.certify.selector;
        selectors[3] = BlobHandler.certify.selector;
        selectors[4] = BlobHandler.replay.selector;
        selectors[5] = BlobHandler.extend.selector;
        selectors[6] = BlobHandler.remove.selector;
        selectors[7] = BlobHandler.invalidate.selector;
        selectors[8] = BlobHandler.advanceEpoch.selector;
        selectors[9] = BlobHandler.reRegisterReplay.selector;
        selectors[10] = BlobHandler.transfer.selector;
        selectors[11] = BlobHandler.transferStorage.selector;
        selectors[12] = BlobHandler.setAttr.selector;
        selectors[13] = BlobHandler.setAttr.selector; // weighted: fill registrations up to the limit
        selectors[14] = BlobHandler.removeAttr.selector;
        selectors[15] = BlobHandler.share.selector;
        selectors[16] = BlobHandler.fund.selector;
        selectors[17] = BlobHandler.extendShared.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// @notice Every call's outcome was the predicted one: success exactly when the rules allow it,
    /// otherwise the first error the rules require (no revert swallowed, none unexpected).
    function invariant_outcomesAsPredicted() external view {
        assertEq(handler.mismatches(), 0, "outcome differs from the prediction");
    }

    /// @notice A certificate never certifies a registration made after it was signed (finding 6),
    /// nor any registration other than the one it names.
    function invariant_noReplay() external view {
        assertEq(handler.replaysAccepted(), 0, "certificate replayed onto a later registration");
    }

    /// @notice No certification without a 2f+1 quorum; nothing certified after deletion, expiry or
    /// invalidity (or twice).
    function invariant_noCertificationWithoutQuorumOrOfDead() external view {
        assertEq(handler.certifiedWithoutQuorum(), 0, "certified without 2f+1");
        assertEq(handler.certifiedDead(), 0, "certified a dead registration");
        uint256 count = handler.ghostCount();
        for (uint256 k; k < count; ++k) {
            BlobHandler.Ghost memory g = handler.ghost(k);
            IBlobRegistry.RegistrationInfo memory info = registry.registration(g.id);
            assertEq(uint256(info.state), g.state, "state as the ghost");
            assertEq(info.endEpoch, g.end, "end as the ghost");
            if (info.state == IBlobRegistry.RegistrationState.Certified) {
                assertTrue(info.certifiedEpoch < info.endEpoch, "certified while live");
                assertTrue(info.certifiedEpoch >= info.registeredEpoch, "certified after registration");
            }
        }
    }

    /// @notice blobStatus maxima equal the maxima recomputed from the ghost registrations (exact
    /// while above the current epoch; at or below it, both say nothing lives).
    function invariant_blobStatusMatchesGhost() external view {
        uint32 current = staking.currentEpoch();
        uint256 count = handler.ghostCount();
        for (uint256 j; j < 3; ++j) {
            bytes32 id = handler.blobId(j);
            (uint32 end, uint32 certEnd, uint32 permEnd, uint32 permCertEnd, uint256 live) = (0, 0, 0, 0, 0);
            for (uint256 k; k < count; ++k) {
                BlobHandler.Ghost memory g = handler.ghost(k);
                if (g.blobId != id || g.state == 3) continue;
                ++live;
                if (g.end > end) end = g.end;
                if (!g.deletable && g.end > permEnd) permEnd = g.end;
                if (g.state == 2 && g.end > certEnd) certEnd = g.end;
                if (g.state == 2 && !g.deletable && g.end > permCertEnd) permCertEnd = g.end;
            }
            IBlobRegistry.BlobStatus memory st = registry.blobStatus(id);
            assertEq(st.invalid, handler.ghostInvalid(id), "invalid flag");
            assertEq(st.registrations, live, "non-deleted registrations");
            assertEq(st.permanentEndEpoch, permEnd, "permanent end (exact, monotone)");
            assertEq(st.permanentCertifiedEndEpoch, permCertEnd, "permanent certified end (exact, monotone)");
            _assertMax(st.endEpoch, end, current, "end epoch");
            _assertMax(st.certifiedEndEpoch, certEnd, current, "certified end epoch");
        }
    }

    function _assertMax(uint32 got, uint32 want, uint32 current, string memory what) internal pure {
        if (want > current) assertEq(got, want, what);
        else assertLe(got, current, what);
    }

    /// @notice Storage is never used twice: every non-deleted registration's resource is used by it,
    /// and every used resource's registration points back at it.
    function invariant_storageNeverUsedTwice() external view {
        uint256 count = handler.ghostCount();
        for (uint256 k; k < count; ++k) {
            BlobHandler.Ghost memory g = handler.ghost(k);
            if (g.state == 3) continue;
            IBlobRegistry.StorageResource memory r = registry.storageResource(g.storageId);
            assertEq(r.usedBy, g.id, "resource used by its registration");
            assertEq(r.endEpoch, g.end, "registration and resource end together");
            assertEq(r.owner, g.owner, "owner is the resource's owner");
        }
        uint256 next = registry.nextStorageId();
        for (uint256 id = 1; id < next; ++id) {
            uint256 usedBy = registry.storageResource(id).usedBy;
            if (usedBy == 0) continue;
            assertEq(registry.registration(usedBy).storageId, id, "used resource's registration is stored there");
        }
    }

    /// @notice Every FROST the actors paid, and every FROST shared funds paid for extensions, went
    /// to staking and was funded as rewards, at the price; the registry holds exactly the sum of
    /// the shared funds; byte-epochs over all resources equal what was bought and extended.
    function invariant_walAndByteEpochs() external view {
        uint256 paid = handler.ghostPaid();
        assertEq(handler.wrongCharges(), 0, "charge differs from the price formula");
        uint256 funds;
        uint256 count = handler.ghostCount();
        for (uint256 k; k < count; ++k) {
            uint256 id = handler.ghost(k).id;
            assertEq(registry.sharedFunds(id), handler.ghostFunds(id), "fund as the ghost");
            funds += registry.sharedFunds(id);
        }
        assertEq(funds, handler.ghostFundsTotal(), "funds add up");
        assertEq(wal.balanceOf(address(registry)), funds, "registry holds the shared funds, nothing else");
        assertEq(wal.balanceOf(address(staking)) - stakingBaseline, paid, "staking received what was paid");
        assertEq(staking.totalFutureRewards() + staking.totalUnclaimedRewards(), paid, "funded what was paid");
        uint256 total;
        uint256 next = registry.nextStorageId();
        for (uint256 id = 1; id < next; ++id) {
            IBlobRegistry.StorageResource memory r = registry.storageResource(id);
            total += uint256(r.size) * (r.endEpoch - r.startEpoch);
        }
        assertEq(total, handler.ghostByteEpochs(), "byte-epochs");
    }

    /// @notice Owners, shared flags and attribute counts are the ghost's; no registration ever has
    /// more than 16 attributes; a shared registration is permanent and not deleted.
    function invariant_objectsMatchGhost() external view {
        uint256 count = handler.ghostCount();
        for (uint256 k; k < count; ++k) {
            BlobHandler.Ghost memory g = handler.ghost(k);
            IBlobRegistry.RegistrationInfo memory info = registry.registration(g.id);
            uint256 attrs = registry.attributes(g.id).length;
            assertLe(attrs, 16, "at most 16 attributes");
            assertEq(attrs, g.attrs, "attribute count as the ghost");
            assertEq(info.shared, g.shared, "shared flag as the ghost");
            if (g.state != 3) assertEq(info.owner, g.owner, "owner as the ghost");
            if (g.shared) {
                assertFalse(info.deletable, "shared is permanent");
                assertTrue(g.state != 3, "shared is never deleted");
            }
            assertEq(registry.storageResource(g.storageId).owner, handler.storageOwner(g.storageId), "storage owner");
        }
    }

    /// @notice After each run: the handler reached its targets (registrations were made whenever
    /// tried) and the counts add up; a handler stuck on reverts fails here.
    function afterInvariant() external view {
        uint256 tried = handler.calls("registerWithNewStorage");
        uint256 made = handler.successes("registerWithNewStorage");
        uint256 invalid = handler.reverts("registerWithNewStorage", BlobRegistry.BlobIsInvalid.selector);
        assertEq(made + invalid, tried, "registrations: successes + expected reverts = calls");
        if (tried > 0) assertTrue(handler.ghostCount() > 0, "some registration was made");
        uint256 certifyCalls = handler.calls("certify");
        uint256 certifyAccounted = handler.successes("certify")
            + handler.reverts("certify", BlobRegistry.WrongRegistrationState.selector)
            + handler.reverts("certify", BlobRegistry.RegistrationExpired.selector)
            + handler.reverts("certify", BlobRegistry.BlobIsInvalid.selector)
            + handler.reverts("certify", BlobRegistry.ShortOfQuorum.selector);
        assertEq(certifyAccounted, certifyCalls, "certify: every outcome is an expected one");
        // The delete + re-register + replay sequence reaches its replay, which is refused, unless
        // the blob was invalid (skipped).
        uint256 sequences = handler.reRegisterCalls();
        uint256 refused = handler.reverts("reRegisterReplay", BlobRegistry.BadSignature.selector);
        assertEq(handler.successes("reRegisterReplay"), 0, "re-registration replay accepted");
        assertEq(refused + handler.reRegisterSkipped(), sequences, "every sequence reached its replay");
    }
}

/// @notice The handler reaches every action's success path and its expected reverts on a fixed
/// sequence (so a handler that could never reach its target fails here, not silently).
contract BlobHandlerCoverageTest is BlobFixture, ICertifyBody {
    BlobHandler internal handler;

    function setUp() public {
        _deploy();
        _committee(10);
        handler = new BlobHandler(registry, staking, wal, json, this);
    }

    /// @notice The handler signs certify bodies with the fixture's signer.
    function certifyBody(uint256 registrationId) external view returns (bytes32) {
        return _certifyBody(_ids(registrationId));
    }

    function test_handler_reachesEveryOutcome() external {
        handler.register(0, 0, true, 3, false); // reg 1: actor 0, blob 0, deletable
        handler.register(1, 0, false, 5, false); // reg 2: actor 1, blob 0, permanent
        handler.register(0, 1, true, 2, false); // reg 3: actor 0, blob 1, deletable
        handler.certify(0, 0); // reg 1, all but member 0 -> quorum
        handler.certify(0, 0); // again: WrongRegistrationState
        handler.certify(1, 1); // reg 2, mask bound(0, 1, 1023) = 1024 % ... small subset
        handler.replay(0, 1); // replays cert 0 onto everything else
        handler.extend(0, 0, 1); // owner extends deletable reg 1
        handler.extend(1, 0, 1); // other actor: NotRegistrationOwner
        handler.extend(1, 1, 1); // anyone extends permanent reg 2
        handler.remove(1, 0); // owner deletes reg 1
        handler.register(0, 0, true, 1, true); // reg 4 reuses reg 1's storage
        handler.remove(1, 1); // permanent: RegistrationNotDeletable
        handler.invalidate(1, 0); // blob 1, quorum of 8
        handler.invalidate(1, 0); // twice: BlobIsInvalid
        handler.register(2, 1, false, 2, false); // invalid blob: BlobIsInvalid
        handler.invalidate(2, 0); // never registered: UnknownBlob
        handler.reRegisterReplay(2, 2); // actor 2, blob 2: certify, delete, re-register, replay
        // Objects: reg 2 is actor 1's permanent registration of blob 0; reg 4 actor 0's deletable.
        handler.setAttr(1, 1, 0, 10); // owner sets key-0 on reg 2
        handler.setAttr(1, 1, 9, 10); // keySeed 9: empty key -> AttributeKeyLength
        handler.setAttr(1, 1, 1, 1050); // a 1050-byte value -> AttributeValueTooLong
        handler.setAttr(0, 1, 2, 5); // actor 0 is not the owner -> NotRegistrationOwner
        handler.removeAttr(1, 1, 3); // key-3 absent -> AttributeNotFound
        handler.removeAttr(1, 1, 0); // removes key-0
        handler.setAttr(1, 1, 0, 10); // sets key-0 again
        handler.transfer(1, 3, 0); // reg 4 (actor 0's): toSeed 0 -> actor 0 itself
        handler.transfer(2, 3, 3); // to the zero address -> ZeroAddress
        handler.transferStorage(1, 3, 1); // reg 4's storage is used -> StorageInUse
        handler.fund(0, 1, 100); // reg 2 not shared -> RegistrationNotShared
        handler.share(1, 3); // reg 4 deletable -> RegistrationNotPermanent
        handler.share(1, 1); // reg 2 shared
        handler.share(1, 1); // again -> RegistrationIsShared
        handler.transfer(1, 1, 0); // shared -> RegistrationIsShared
        handler.fund(2, 1, 0); // zero -> ZeroAmount
        handler.fund(2, 1, 6000); // actor 2 funds reg 2
        handler.extendShared(0, 1, 2); // 2 epochs cost 10,000 > 6,000 -> InsufficientFunds
        handler.extendShared(0, 1, 1); // 1 epoch from the fund
        handler.advanceEpoch(0);
        assertEq(handler.mismatches(), 0, "as predicted");
        bytes32[7] memory objects =
            [bytes32("transfer"), "setAttribute", "removeAttribute", "share", "fund", "extendShared", "transfer"];
        for (uint256 k; k < objects.length; ++k) {
            assertTrue(handler.successes(objects[k]) > 0, "object action succeeded at least once");
        }
        assertEq(handler.reverts("setAttribute", BlobRegistry.AttributeKeyLength.selector), 1, "bad key");
        assertEq(handler.reverts("setAttribute", BlobRegistry.AttributeValueTooLong.selector), 1, "long value");
        assertEq(handler.reverts("setAttribute", BlobRegistry.NotRegistrationOwner.selector), 1, "not owner");
        assertEq(handler.reverts("removeAttribute", BlobRegistry.AttributeNotFound.selector), 1, "absent key");
        assertEq(handler.reverts("transfer", BlobRegistry.ZeroAddress.selector), 1, "to zero");
        assertEq(handler.reverts("transfer", BlobRegistry.RegistrationIsShared.selector), 1, "shared transfer");
        assertEq(handler.reverts("transferStorage", BlobRegistry.StorageInUse.selector), 1, "used storage");
        assertEq(handler.reverts("fund", BlobRegistry.RegistrationNotShared.selector), 1, "fund unshared");
        assertEq(handler.reverts("fund", BlobRegistry.ZeroAmount.selector), 1, "fund zero");
        assertEq(handler.reverts("share", BlobRegistry.RegistrationNotPermanent.selector), 1, "share deletable");
        assertEq(handler.reverts("share", BlobRegistry.RegistrationIsShared.selector), 1, "share twice");
        assertEq(handler.reverts("extendShared", BlobRegistry.InsufficientFunds.selector), 1, "short fund");
        assertEq(handler.ghostFunds(2), 1000, "fund left after one epoch");
        assertEq(wal.balanceOf(address(registry)), 1000, "registry holds the fund");
        assertEq(handler.replaysAccepted(), 0, "no replay");
        bytes32[6] memory done =
            [bytes32("registerWithNewStorage"), "registerBlob", "certify", "extend", "delete", "invalidate"];
        for (uint256 k; k < done.length; ++k) {
            assertTrue(handler.successes(done[k]) > 0, "action succeeded at least once");
        }
        assertTrue(handler.calls("replay") > 0, "replays tried");
        assertEq(handler.reverts("certify", BlobRegistry.WrongRegistrationState.selector), 1, "certify twice");
        assertEq(handler.reverts("extend", BlobRegistry.NotRegistrationOwner.selector), 1, "extend by other");
        assertEq(handler.reverts("delete", BlobRegistry.RegistrationNotDeletable.selector), 1, "delete permanent");
        assertEq(handler.reverts("invalidate", BlobRegistry.BlobIsInvalid.selector), 1, "invalidate twice");
        assertEq(handler.reverts("invalidate", BlobRegistry.UnknownBlob.selector), 1, "invalidate unknown");
        assertEq(handler.reverts("registerWithNewStorage", BlobRegistry.BlobIsInvalid.selector), 1, "register invalid");
        assertEq(handler.successes("advanceEpoch"), 1, "epoch advanced");
        assertEq(
            handler.reverts("reRegisterReplay", BlobRegistry.BadSignature.selector), 1, "re-registration replay refused"
        );
        assertEq(handler.calls("reRegisterReplay"), 1, "re-registration replay tried");
    }
}
