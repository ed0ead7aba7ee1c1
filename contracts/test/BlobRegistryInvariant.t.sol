// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlobFixture} from "./handlers/BlobFixture.sol";
import {BlobHandler} from "./handlers/BlobHandler.sol";
import {IBlobRegistry} from "../src/interfaces/IBlobRegistry.sol";

/// @notice Invariants of the blob registry under random sequences of BlobHandler calls on the
/// real WAL + Staking + BLS with a 10-member committee of vector keys.
/// forge-config: default.invariant.depth = 64
contract BlobRegistryInvariantTest is BlobFixture {
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
        handler = new BlobHandler(registry, staking, wal, json);
        stakingBaseline = wal.balanceOf(address(staking));
        targetContract(address(handler));
    }

    /// @notice Only the handler's actions are called (not its ghost-state views).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = BlobHandler.buyStorage.selector;
        selectors[1] = BlobHandler.splitStorageBySize.selector;
        selectors[2] = BlobHandler.splitStorageByEpoch.selector;
        selectors[3] = BlobHandler.extendStorage.selector;
        selectors[4] = BlobHandler.registerBlob.selector;
        selectors[5] = BlobHandler.registerBlobWithNewStorage.selector;
        selectors[6] = BlobHandler.certifyBlob.selector;
        selectors[7] = BlobHandler.certifyBlobsMismatched.selector;
        selectors[8] = BlobHandler.invalidateBlob.selector;
        selectors[9] = BlobHandler.extendBlob.selector;
        selectors[10] = BlobHandler.deleteBlob.selector;
        selectors[11] = BlobHandler.advanceEpoch.selector;
        selectors[12] = BlobHandler.registerBlobWithNewStorage.selector; // weighted: registrations feed the rest
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// @notice No blob is certified (or invalidated) without a quorum certificate.
    function invariant_noCertificateWithoutQuorum() external view {
        assertEq(handler.certifiedWithoutQuorum(), 0, "certified without 2f+1");
        assertEq(handler.invalidatedWithoutQuorum(), 0, "invalidated without f+1");
    }

    /// @notice A deleted, expired, invalid or already certified blob is never certified (again)
    /// unless registered anew.
    function invariant_onlyRegisteredBlobsGetCertified() external view {
        assertEq(handler.certifiedNotRegistered(), 0, "certified a blob that was not registered and live");
    }

    /// @notice Every FROST the actors paid went to staking and was funded as rewards, at the price.
    function invariant_walPaidEqualsWalFunded() external view {
        uint256 paid = handler.ghostPaid();
        assertEq(handler.wrongCharges(), 0, "charge differs from the price formula");
        assertEq(wal.balanceOf(address(registry)), 0, "registry holds no WAL");
        assertEq(wal.balanceOf(address(staking)) - stakingBaseline, paid, "staking received what was paid");
        assertEq(staking.totalFutureRewards() + staking.totalUnclaimedRewards(), paid, "funded what was paid");
        assertEq(staking.accountedBalance(), wal.balanceOf(address(staking)), "staking accounts for its WAL");
    }

    /// @notice Storage resources are never double-used: a used, unexpired resource points at a
    /// blob that points back at it, and a live blob's resource is used by it, with equal ends.
    function invariant_storageNeverDoubleUsed() external view {
        uint32 current = staking.currentEpoch();
        uint256 next = registry.nextStorageId();
        for (uint256 id = 1; id < next; ++id) {
            IBlobRegistry.StorageResource memory r = registry.storageResource(id);
            if (r.usedBy == bytes32(0) || current >= r.endEpoch) continue;
            IBlobRegistry.BlobInfo memory b = registry.blob(r.usedBy);
            assertEq(b.storageId, id, "used resource points at a blob stored elsewhere");
            assertEq(b.endEpoch, r.endEpoch, "blob and resource end together");
            assertTrue(
                b.state == IBlobRegistry.BlobState.Registered || b.state == IBlobRegistry.BlobState.Certified
                    || b.state == IBlobRegistry.BlobState.Invalid,
                "used by a blob that let it go"
            );
        }
        for (uint256 j; j < handler.blobCount(); ++j) {
            bytes32 blobId = handler.ids(j);
            IBlobRegistry.BlobInfo memory b = registry.blob(blobId);
            bool held = b.state == IBlobRegistry.BlobState.Registered || b.state == IBlobRegistry.BlobState.Certified
                || b.state == IBlobRegistry.BlobState.Invalid;
            if (!held || current >= b.endEpoch) continue;
            IBlobRegistry.StorageResource memory r = registry.storageResource(b.storageId);
            assertEq(r.usedBy, blobId, "live blob's resource is used by it");
            assertEq(r.owner, b.owner, "owner is the resource's owner");
        }
    }

    /// @notice Splits neither create nor lose storage: byte-epochs over all resources equal what
    /// was bought and extended.
    function invariant_byteEpochsConserved() external view {
        uint256 total;
        uint256 next = registry.nextStorageId();
        for (uint256 id = 1; id < next; ++id) {
            IBlobRegistry.StorageResource memory r = registry.storageResource(id);
            total += uint256(r.size) * (r.endEpoch - r.startEpoch);
        }
        assertEq(total, handler.ghostByteEpochs(), "byte-epochs");
    }
}
