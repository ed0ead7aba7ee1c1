// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Tests cast values they bounded themselves.
// forge-lint: disable-start(unsafe-typecast)

import {BlobFixture} from "./handlers/BlobFixture.sol";
import {BlobRegistry} from "../src/BlobRegistry.sol";
import {IBlobRegistry} from "../src/interfaces/IBlobRegistry.sol";
import {IFloeBlobs} from "../src/interfaces/IFloeBlobs.sol";
import {Staking} from "../src/Staking.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice Registrations as on-chain objects (issue #8): transfers of registrations and storage,
/// attributes, shared registrations with their funds, and the dapp view, on the real WAL + Staking
/// with a 10-member committee of vector keys (certificates signed with the vector secret keys).
contract BlobObjectsTest is BlobFixture {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);
    uint64 internal constant SIZE = 1000;

    function setUp() public {
        _deploy();
        _committee(10); // epoch 1
        _fund(ALICE);
        _fund(BOB);
        _fund(CAROL);
    }

    // ------------------------------------------------------------------ helpers

    function _root(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("objects", i));
    }

    function _blob(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), SIZE, _root(i)));
    }

    /// @dev Registers blob `i` for `who` with new storage for `epochs` epochs.
    function _reg(address who, uint256 i, bool deletable, uint32 epochs) internal returns (uint256 id) {
        vm.prank(who);
        (id,,) = registry.registerBlobWithNewStorage(_root(i), SIZE, 1, deletable, epochs);
    }

    function _certify(uint256 id) internal {
        registry.certifyRegistration(id, _certReg(id, staking.currentEpoch(), _none()));
    }

    function _invalidate(bytes32 blobId) internal {
        registry.invalidateBlob(blobId, _certInvalid(blobId, staking.currentEpoch(), _bitmapAllBut(_none())));
    }

    function _share(address who, uint256 id) internal {
        vm.prank(who);
        registry.shareRegistration(id);
    }

    function _fundShared(address who, uint256 id, uint256 amount) internal {
        vm.prank(who);
        registry.fundSharedRegistration(id, amount);
    }

    function _set(address who, uint256 id, string memory key, string memory value) internal {
        vm.prank(who);
        registry.setAttribute(id, key, value);
    }

    function _toEpoch(uint32 epoch) internal {
        while (staking.currentEpoch() < epoch) {
            _nextEpoch();
        }
    }

    /// @dev The cost of extending a SIZE blob's storage by `epochs` at the initial price.
    function _extendCost(uint32 epochs) internal view returns (uint256) {
        uint256 units = (uint256(registry.encodedSize(SIZE)) + MIB - 1) / MIB;
        return units * epochs * STORAGE_PRICE;
    }

    function _string(uint256 length, bytes1 fill) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = fill;
        }
        return string(b);
    }

    function _key(uint256 i) internal pure returns (string memory) {
        return string.concat("key-", vm.toString(i));
    }

    // ------------------------------------------------------------------ currentEpoch, IFloeBlobs

    function test_currentEpoch_forwardsToStaking() external {
        assertEq(registry.currentEpoch(), 1, "epoch 1");
        _nextEpoch();
        assertEq(registry.currentEpoch(), staking.currentEpoch(), "as staking");
        assertEq(registry.currentEpoch(), 2, "epoch 2");
    }

    function test_floeBlobs_viewsThroughTheInterface() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _certify(id);
        _set(ALICE, id, "title", "a cat");
        IFloeBlobs floe = IFloeBlobs(address(registry));
        assertEq(floe.currentEpoch(), 1, "epoch");
        assertEq(floe.blobStatus(_blob(0)).certifiedEndEpoch, 6, "certified end");
        assertEq(floe.registration(id).owner, ALICE, "owner");
        assertEq(floe.attributes(id).length, 1, "attributes");
        (bool found, string memory value) = floe.attribute(id, "title");
        assertTrue(found, "found");
        assertEq(value, "a cat", "value");
    }

    // ------------------------------------------------------------------ transferRegistration

    function test_transferRegistration_movesRegistrationAndStorage() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        uint256 storageId = registry.registration(id).storageId;
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobTransferred(id, _blob(0), ALICE, BOB);
        vm.prank(ALICE);
        registry.transferRegistration(id, BOB);
        assertEq(registry.registration(id).owner, BOB, "registration owner");
        assertEq(registry.storageResource(storageId).owner, BOB, "storage owner");
        // The old owner lost every owner right; the new one has them.
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, BOB, ALICE));
        registry.deleteRegistration(id);
        vm.prank(BOB);
        registry.extendRegistration(id, 1);
        vm.prank(BOB);
        assertEq(registry.deleteRegistration(id), storageId, "freed storage");
        assertEq(registry.storageResource(storageId).owner, BOB, "freed storage stays the new owner's");
    }

    function test_transferRegistration_keepsAttributes() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _set(ALICE, id, "k", "v");
        vm.prank(ALICE);
        registry.transferRegistration(id, BOB);
        (bool found, string memory value) = registry.attribute(id, "k");
        assertTrue(found && keccak256(bytes(value)) == keccak256("v"), "attribute moved with it");
        _set(BOB, id, "k", "w");
        (, value) = registry.attribute(id, "k");
        assertEq(value, "w", "new owner edits");
    }

    function test_transferRegistration_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 7));
        registry.transferRegistration(7, BOB);
    }

    function test_transferRegistration_deleted() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        registry.transferRegistration(id, BOB);
    }

    function test_transferRegistration_notOwner() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, ALICE, BOB));
        registry.transferRegistration(id, BOB);
    }

    function test_transferRegistration_shared() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationIsShared.selector, id));
        registry.transferRegistration(id, BOB);
    }

    function test_transferRegistration_zeroAddress() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        vm.expectRevert(BlobRegistry.ZeroAddress.selector);
        registry.transferRegistration(id, address(0));
    }

    // ------------------------------------------------------------------ transferStorage

    function test_transferStorage_free() external {
        uint64 encoded = registry.encodedSize(SIZE);
        vm.prank(ALICE);
        uint256 storageId = registry.buyStorage(encoded, 5);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageTransferred(storageId, ALICE, BOB);
        vm.prank(ALICE);
        registry.transferStorage(storageId, BOB);
        assertEq(registry.storageResource(storageId).owner, BOB, "owner");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, storageId, BOB, ALICE));
        registry.registerBlob(storageId, _root(0), SIZE, 1, false);
        vm.prank(BOB);
        (uint256 id,) = registry.registerBlob(storageId, _root(0), SIZE, 1, false);
        assertEq(registry.registration(id).owner, BOB, "registered by the new owner");
    }

    function test_transferStorage_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownStorage.selector, 9));
        registry.transferStorage(9, BOB);
    }

    function test_transferStorage_notOwner() external {
        vm.prank(ALICE);
        uint256 storageId = registry.buyStorage(1000, 5);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, storageId, ALICE, BOB));
        registry.transferStorage(storageId, BOB);
    }

    function test_transferStorage_inUse() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        uint256 storageId = registry.registration(id).storageId;
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, storageId, id));
        registry.transferStorage(storageId, BOB);
    }

    function test_transferStorage_zeroAddress() external {
        vm.prank(ALICE);
        uint256 storageId = registry.buyStorage(1000, 5);
        vm.prank(ALICE);
        vm.expectRevert(BlobRegistry.ZeroAddress.selector);
        registry.transferStorage(storageId, address(0));
    }

    // ------------------------------------------------------------------ attributes

    function test_setAttribute_addReplaceRead() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.AttributeSet(id, "content-type", "image/png");
        _set(ALICE, id, "content-type", "image/png");
        _set(ALICE, id, "title", "sunset");
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.AttributeSet(id, "title", "sunrise");
        _set(ALICE, id, "title", "sunrise");
        IBlobRegistry.Attribute[] memory all = registry.attributes(id);
        assertEq(all.length, 2, "two keys");
        assertEq(all[0].key, "content-type", "key 0");
        assertEq(all[0].value, "image/png", "value 0");
        assertEq(all[1].key, "title", "key 1");
        assertEq(all[1].value, "sunrise", "replaced value");
        (bool found, string memory value) = registry.attribute(id, "missing");
        assertFalse(found, "absent key");
        assertEq(bytes(value).length, 0, "empty value");
        _set(ALICE, id, "empty", "");
        (found, value) = registry.attribute(id, "empty");
        assertTrue(found, "an empty value is a value");
    }

    function test_setAttribute_limitsAreInclusive() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        string memory key = _string(64, "k");
        string memory value = _string(1024, "v");
        _set(ALICE, id, key, value);
        for (uint256 i = 1; i < 16; ++i) {
            _set(ALICE, id, _key(i), "x");
        }
        assertEq(registry.attributes(id).length, 16, "16 keys");
        (, string memory got) = registry.attribute(id, key);
        assertEq(got, value, "longest value");
        // The 17th key is refused; replacing one of the 16 is not.
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyAttributes.selector, id, 16));
        registry.setAttribute(id, "one-more", "x");
        _set(ALICE, id, _key(3), "y");
        assertEq(registry.attributes(id).length, 16, "still 16");
    }

    function test_setAttribute_emptyKey() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeKeyLength.selector, 0, 64));
        registry.setAttribute(id, "", "v");
    }

    function test_setAttribute_keyTooLong() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeKeyLength.selector, 65, 64));
        registry.setAttribute(id, _string(65, "k"), "v");
    }

    function test_setAttribute_valueTooLong() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeValueTooLong.selector, 1025, 1024));
        registry.setAttribute(id, "k", _string(1025, "v"));
    }

    function test_setAttribute_unknownRegistration() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 3));
        registry.setAttribute(3, "k", "v");
    }

    function test_setAttribute_notOwner() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, ALICE, BOB));
        registry.setAttribute(id, "k", "v");
    }

    function test_setAttribute_deleted_attributesStayReadable() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        _set(ALICE, id, "k", "v");
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        registry.setAttribute(id, "k", "w");
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        registry.removeAttribute(id, "k");
        (bool found, string memory value) = registry.attribute(id, "k");
        assertTrue(found, "still there");
        assertEq(value, "v", "frozen");
    }

    function test_attributes_frozenOnceShared() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _set(ALICE, id, "k", "v");
        _share(ALICE, id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationIsShared.selector, id));
        registry.setAttribute(id, "k", "w");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationIsShared.selector, id));
        registry.removeAttribute(id, "k");
        (, string memory value) = registry.attribute(id, "k");
        assertEq(value, "v", "as when shared");
    }

    function test_removeAttribute_swapsLastIn() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _set(ALICE, id, "a", "1");
        _set(ALICE, id, "b", "2");
        _set(ALICE, id, "c", "3");
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.AttributeRemoved(id, "a");
        vm.prank(ALICE);
        registry.removeAttribute(id, "a");
        IBlobRegistry.Attribute[] memory all = registry.attributes(id);
        assertEq(all.length, 2, "two left");
        assertEq(all[0].key, "c", "last moved into the hole");
        assertEq(all[1].key, "b", "b stays");
        (bool found, string memory value) = registry.attribute(id, "c");
        assertTrue(found, "moved key found by its index");
        assertEq(value, "3", "moved value");
        (found,) = registry.attribute(id, "a");
        assertFalse(found, "removed");
        // The last one goes without a move, and a removed key can come back.
        vm.prank(ALICE);
        registry.removeAttribute(id, "b");
        _set(ALICE, id, "a", "again");
        all = registry.attributes(id);
        assertEq(all.length, 2, "c and a");
        assertEq(all[1].value, "again", "re-added");
    }

    function test_removeAttribute_notFound() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeNotFound.selector, id, "nope"));
        registry.removeAttribute(id, "nope");
    }

    function test_removeAttribute_notOwner() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _set(ALICE, id, "k", "v");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, ALICE, BOB));
        registry.removeAttribute(id, "k");
    }

    function test_removeAttribute_unknownRegistration() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 5));
        registry.removeAttribute(5, "k");
    }

    /// @notice Any sequence of sets and removes leaves the view equal to a model: at most 16 keys,
    /// each found by `attribute` with its last value; refusals exactly at the limits.
    function testFuzz_attributes_matchModel(uint256 seed, uint8 steps) external {
        uint256 id = _reg(ALICE, 0, false, 5);
        steps = uint8(bound(steps, 1, 40));
        // Model over 20 possible keys: length of the last value + 1 (0 = absent).
        uint256[20] memory model;
        uint256 count;
        for (uint256 s; s < steps; ++s) {
            uint256 r = uint256(keccak256(abi.encode(seed, s)));
            uint256 k = r % 20;
            if ((r >> 8) % 3 == 0) {
                vm.prank(ALICE);
                if (model[k] == 0) {
                    vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeNotFound.selector, id, _key(k)));
                    registry.removeAttribute(id, _key(k));
                } else {
                    registry.removeAttribute(id, _key(k));
                    model[k] = 0;
                    --count;
                }
                continue;
            }
            uint256 length = bound(r >> 16, 0, 1100);
            vm.prank(ALICE);
            if (length > 1024) {
                vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeValueTooLong.selector, length, 1024));
            } else if (model[k] == 0 && count == 16) {
                vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyAttributes.selector, id, 16));
            }
            registry.setAttribute(id, _key(k), _string(length, bytes1(uint8(0x41 + k))));
            if (length > 1024 || (model[k] == 0 && count == 16)) continue;
            if (model[k] == 0) ++count;
            model[k] = length + 1;
        }
        IBlobRegistry.Attribute[] memory all = registry.attributes(id);
        assertEq(all.length, count, "count");
        assertLe(all.length, 16, "bounded");
        for (uint256 k; k < 20; ++k) {
            (bool found, string memory value) = registry.attribute(id, _key(k));
            assertEq(found, model[k] != 0, "presence");
            if (found) assertEq(value, _string(model[k] - 1, bytes1(uint8(0x41 + k))), "last value");
        }
    }

    /// @notice Key lengths: exactly 1..64 bytes are accepted.
    function testFuzz_setAttribute_keyLength(uint256 length) external {
        length = bound(length, 0, 200);
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(ALICE);
        if (length == 0 || length > 64) {
            vm.expectRevert(abi.encodeWithSelector(BlobRegistry.AttributeKeyLength.selector, length, 64));
        }
        registry.setAttribute(id, _string(length, "k"), "v");
        assertEq(registry.attributes(id).length, length == 0 || length > 64 ? 0 : 1, "stored iff accepted");
    }

    // ------------------------------------------------------------------ shareRegistration

    function test_shareRegistration_marksShared() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        assertFalse(registry.registration(id).shared, "not yet");
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobShared(id, _blob(0));
        _share(ALICE, id);
        IBlobRegistry.RegistrationInfo memory g = registry.registration(id);
        assertTrue(g.shared, "shared");
        assertEq(uint256(g.state), uint256(IBlobRegistry.RegistrationState.Registered), "state unchanged");
        // Certification keeps the flag (the certify path rewrites the packed slot).
        _certify(id);
        g = registry.registration(id);
        assertTrue(g.shared, "still shared");
        assertEq(uint256(g.state), uint256(IBlobRegistry.RegistrationState.Certified), "certified");
        // Permanent: nobody can delete it; the owner still extends it like anyone.
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationNotDeletable.selector, id));
        registry.deleteRegistration(id);
        vm.prank(BOB);
        registry.extendRegistration(id, 1);
        assertEq(registry.registration(id).endEpoch, 7, "extended by a payer");
    }

    function test_shareRegistration_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 4));
        registry.shareRegistration(4);
    }

    function test_shareRegistration_deleted() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        registry.shareRegistration(id);
    }

    function test_shareRegistration_notOwner() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, ALICE, BOB));
        registry.shareRegistration(id);
    }

    function test_shareRegistration_twice() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationIsShared.selector, id));
        registry.shareRegistration(id);
    }

    function test_shareRegistration_deletable() external {
        uint256 id = _reg(ALICE, 0, true, 5);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationNotPermanent.selector, id));
        registry.shareRegistration(id);
    }

    function test_shareRegistration_invalidBlob() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _invalidate(_blob(0));
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob(0)));
        registry.shareRegistration(id);
    }

    function test_shareRegistration_expired() external {
        uint256 id = _reg(ALICE, 0, false, 2);
        _toEpoch(3);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 3, 3));
        registry.shareRegistration(id);
    }

    // ------------------------------------------------------------------ fundSharedRegistration

    function test_fundShared_anyoneAddsToTheFund() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        uint256 bobBefore = wal.balanceOf(BOB);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.SharedBlobFunded(id, BOB, 700, 700);
        _fundShared(BOB, id, 700);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.SharedBlobFunded(id, CAROL, 300, 1000);
        _fundShared(CAROL, id, 300);
        assertEq(registry.sharedFunds(id), 1000, "fund");
        assertEq(wal.balanceOf(address(registry)), 1000, "held by the registry");
        assertEq(bobBefore - wal.balanceOf(BOB), 700, "taken from the funder");
    }

    function test_fundShared_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 2));
        registry.fundSharedRegistration(2, 1);
    }

    function test_fundShared_notShared() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationNotShared.selector, id));
        registry.fundSharedRegistration(id, 1);
    }

    function test_fundShared_zero() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        vm.prank(BOB);
        vm.expectRevert(BlobRegistry.ZeroAmount.selector);
        registry.fundSharedRegistration(id, 0);
    }

    function test_fundShared_expired() external {
        uint256 id = _reg(ALICE, 0, false, 2);
        _share(ALICE, id);
        _toEpoch(3);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 3, 3));
        registry.fundSharedRegistration(id, 1);
    }

    function test_fundShared_invalidBlob() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        _invalidate(_blob(0));
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob(0)));
        registry.fundSharedRegistration(id, 1);
    }

    function test_fundShared_noAllowance() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        address dave = address(0xDA7E);
        vm.startPrank(dave);
        wal.faucet(10);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, 10)
        );
        registry.fundSharedRegistration(id, 10);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ extendSharedRegistration

    function test_extendShared_paysFromTheFund() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _certify(id);
        _share(ALICE, id);
        uint256 cost = _extendCost(3);
        _fundShared(BOB, id, cost + 11);
        uint256 stakingBefore = wal.balanceOf(address(staking));
        uint256 carolBefore = wal.balanceOf(CAROL);
        uint256 storageId = registry.registration(id).storageId;
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageExtended(storageId, 9, cost);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobExtended(id, _blob(0), 9);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.SharedBlobFundsUsed(id, cost, 11);
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsFunded(6, 3, cost);
        vm.prank(CAROL);
        registry.extendSharedRegistration(id, 3);
        assertEq(registry.sharedFunds(id), 11, "fund left");
        assertEq(wal.balanceOf(address(registry)), 11, "registry holds the rest");
        assertEq(wal.balanceOf(address(staking)) - stakingBefore, cost, "staking paid");
        assertEq(wal.balanceOf(CAROL), carolBefore, "caller pays nothing");
        assertEq(registry.registration(id).endEpoch, 9, "registration end");
        assertEq(registry.storageResource(storageId).endEpoch, 9, "storage end");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob(0));
        assertEq(st.permanentEndEpoch, 9, "permanent end");
        assertEq(st.permanentCertifiedEndEpoch, 9, "certified end");
    }

    function test_extendShared_insufficientFunds() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        uint256 cost = _extendCost(2);
        _fundShared(BOB, id, cost - 1);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InsufficientFunds.selector, id, cost - 1, cost));
        registry.extendSharedRegistration(id, 2);
    }

    function test_extendShared_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 8));
        registry.extendSharedRegistration(8, 1);
    }

    function test_extendShared_notShared() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationNotShared.selector, id));
        registry.extendSharedRegistration(id, 1);
    }

    function test_extendShared_expired() external {
        uint256 id = _reg(ALICE, 0, false, 2);
        _share(ALICE, id);
        _fundShared(BOB, id, 1e9);
        _toEpoch(3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 3, 3));
        registry.extendSharedRegistration(id, 1);
    }

    function test_extendShared_invalidBlob() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        _fundShared(BOB, id, 1e9);
        _invalidate(_blob(0));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob(0)));
        registry.extendSharedRegistration(id, 1);
    }

    function test_extendShared_zeroEpochs() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        _fundShared(BOB, id, 1e9);
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        registry.extendSharedRegistration(id, 0);
    }

    function test_extendShared_tooManyEpochs() external {
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        _fundShared(BOB, id, 1e12);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        registry.extendSharedRegistration(id, 196);
    }

    /// @notice Funds and extensions: the fund is what was put in minus what extensions cost, the
    /// registry's WAL balance equals it, and an extension succeeds exactly when the fund covers it.
    function testFuzz_sharedFunds_accounting(uint256 amount1, uint256 amount2, uint32 epochs) external {
        amount1 = bound(amount1, 1, 1e12);
        amount2 = bound(amount2, 1, 1e12);
        epochs = uint32(bound(epochs, 1, 190));
        uint256 id = _reg(ALICE, 0, false, 5);
        _share(ALICE, id);
        _fundShared(BOB, id, amount1);
        _fundShared(CAROL, id, amount2);
        uint256 fund = amount1 + amount2;
        assertEq(registry.sharedFunds(id), fund, "fund");
        uint256 cost = _extendCost(epochs);
        uint256 stakingBefore = wal.balanceOf(address(staking));
        if (cost > fund) {
            vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InsufficientFunds.selector, id, fund, cost));
            registry.extendSharedRegistration(id, epochs);
            assertEq(registry.registration(id).endEpoch, 6, "unchanged");
        } else {
            registry.extendSharedRegistration(id, epochs);
            fund -= cost;
            assertEq(registry.registration(id).endEpoch, 6 + epochs, "extended");
            assertEq(wal.balanceOf(address(staking)) - stakingBefore, cost, "to staking");
        }
        assertEq(registry.sharedFunds(id), fund, "fund after");
        assertEq(wal.balanceOf(address(registry)), fund, "registry balance = fund");
    }
}
// forge-lint: disable-end(unsafe-typecast)
