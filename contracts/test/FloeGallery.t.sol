// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlobFixture} from "./handlers/BlobFixture.sol";
import {FloeGallery} from "../src/examples/FloeGallery.sol";
import {IFloeBlobs} from "../src/interfaces/IFloeBlobs.sol";

/// @notice The example dapp on the real registry (WAL + Staking + BLS, a 10-member committee of
/// vector keys): it accepts only certified, valid blobs that live long enough, and tells live
/// whether an item's blob can still be read.
contract FloeGalleryTest is BlobFixture {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    uint64 internal constant SIZE = 2000;
    uint32 internal constant MIN_EPOCHS = 3;

    FloeGallery internal gallery;

    function setUp() public {
        _deploy();
        _committee(10); // epoch 1
        _fund(ALICE);
        _fund(BOB);
        gallery = new FloeGallery(IFloeBlobs(address(registry)), MIN_EPOCHS);
    }

    function _root(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("gallery", i));
    }

    function _blob(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), SIZE, _root(i)));
    }

    function _reg(address who, uint256 i, bool deletable, uint32 epochs) internal returns (uint256 id) {
        vm.prank(who);
        (id,,) = registry.registerBlobWithNewStorage(_root(i), SIZE, 1, deletable, epochs);
    }

    /// @dev Registers blob `i` for `who` and certifies it with every committee member's signature.
    function _certified(address who, uint256 i, bool deletable, uint32 epochs) internal returns (uint256 id) {
        id = _reg(who, i, deletable, epochs);
        registry.certifyRegistration(id, _certReg(id, staking.currentEpoch(), _none()));
    }

    function _add(address who, bytes32 blobId, uint256 registrationId, string memory title)
        internal
        returns (uint256 itemId)
    {
        vm.prank(who);
        itemId = gallery.addItem(blobId, registrationId, title);
    }

    function test_constructor() external {
        assertEq(address(gallery.floe()), address(registry), "registry");
        assertEq(gallery.minEpochs(), MIN_EPOCHS, "min epochs");
        vm.expectRevert(FloeGallery.ZeroRegistry.selector);
        new FloeGallery(IFloeBlobs(address(0)), 1);
    }

    function test_addItem_acceptsACertifiedLongLivedBlob() external {
        uint256 id = _certified(ALICE, 0, false, 4); // ends at 5 = 1 + 4 >= 1 + 3
        vm.expectEmit(true, true, true, true, address(gallery));
        emit FloeGallery.ItemAdded(0, _blob(0), BOB, id, "sunset");
        uint256 itemId = _add(BOB, _blob(0), id, "sunset");
        assertEq(itemId, 0, "first id");
        FloeGallery.Item memory it = gallery.item(0);
        assertEq(it.blobId, _blob(0), "blob id");
        assertEq(it.registrationId, id, "registration");
        assertEq(it.title, "sunset", "title");
        assertEq(it.submitter, BOB, "submitter");
        assertEq(it.addedEpoch, 1, "epoch");
        assertFalse(it.removed, "listed");
        assertEq(gallery.itemCount(), 1, "count");
        (bool found, uint256 listedAs) = gallery.itemOf(_blob(0));
        assertTrue(found && listedAs == 0, "listed");
        assertTrue(gallery.isAvailable(0), "available");
        // Without a registration id, any certified registration of the blob counts.
        _certified(ALICE, 1, true, 3);
        assertEq(_add(ALICE, _blob(1), 0, "any"), 1, "second id");
    }

    function test_addItem_badTitle() external {
        _certified(ALICE, 0, false, 5);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BadTitleLength.selector, 0, 128));
        gallery.addItem(_blob(0), 0, "");
        bytes memory long = new bytes(129);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BadTitleLength.selector, 129, 128));
        gallery.addItem(_blob(0), 0, string(long));
    }

    function test_addItem_unknownBlob() external {
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnknownBlob.selector, _blob(9)));
        gallery.addItem(_blob(9), 0, "t");
    }

    function test_addItem_notCertified() external {
        _reg(ALICE, 0, false, 5);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BlobTooShortLived.selector, _blob(0), 0, 4));
        gallery.addItem(_blob(0), 0, "t");
    }

    function test_addItem_tooShortLived() external {
        _certified(ALICE, 0, false, 2); // ends at 3 < 1 + 3
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BlobTooShortLived.selector, _blob(0), 3, 4));
        gallery.addItem(_blob(0), 0, "t");
    }

    function test_addItem_invalidBlob() external {
        _certified(ALICE, 0, false, 5);
        registry.invalidateBlob(_blob(0), _certInvalid(_blob(0), 1, _bitmapAllBut(_none())));
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BlobInvalid.selector, _blob(0)));
        gallery.addItem(_blob(0), 0, "t");
    }

    function test_addItem_alreadyListed() external {
        _certified(ALICE, 0, false, 5);
        _add(ALICE, _blob(0), 0, "t");
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.AlreadyListed.selector, _blob(0), 0));
        gallery.addItem(_blob(0), 0, "again");
    }

    function test_addItem_unsuitableRegistration() external {
        _certified(ALICE, 0, false, 5);
        uint256 other = _certified(ALICE, 1, false, 5);
        uint256 uncertified = _reg(ALICE, 0, false, 5);
        uint256 shortLived = _certified(ALICE, 0, false, 2);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnsuitableRegistration.selector, other, _blob(0), 4));
        gallery.addItem(_blob(0), other, "another blob's registration");
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnsuitableRegistration.selector, uncertified, _blob(0), 4));
        gallery.addItem(_blob(0), uncertified, "not certified");
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnsuitableRegistration.selector, shortLived, _blob(0), 4));
        gallery.addItem(_blob(0), shortLived, "ends too soon");
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnsuitableRegistration.selector, 99, _blob(0), 4));
        gallery.addItem(_blob(0), 99, "no such registration");
    }

    function test_isAvailable_endsWithTheBlob() external {
        _certified(ALICE, 0, false, 4); // ends at 5
        _add(ALICE, _blob(0), 0, "t");
        while (staking.currentEpoch() < 4) {
            _nextEpoch();
        }
        assertTrue(gallery.isAvailable(0), "epoch 4: still certified");
        _nextEpoch();
        assertFalse(gallery.isAvailable(0), "epoch 5: expired");
    }

    function test_isAvailable_invalidated() external {
        _certified(ALICE, 0, false, 5);
        _add(ALICE, _blob(0), 0, "t");
        registry.invalidateBlob(_blob(0), _certInvalid(_blob(0), 1, _bitmapAllBut(_none())));
        assertFalse(gallery.isAvailable(0), "invalid");
    }

    function test_isAvailable_namedRegistrationDeleted() external {
        _certified(ALICE, 0, false, 5);
        uint256 deletable = _certified(BOB, 0, true, 5);
        _add(BOB, _blob(0), deletable, "t");
        vm.prank(BOB);
        registry.deleteRegistration(deletable);
        assertFalse(gallery.isAvailable(0), "the named registration is gone");
        // The blob itself lives on through the permanent registration.
        assertTrue(registry.blobStatus(_blob(0)).certifiedEndEpoch > registry.currentEpoch(), "blob still certified");
    }

    function test_isAvailable_unknownItem() external view {
        assertFalse(gallery.isAvailable(0), "no items");
    }

    /// @notice A shared blob the community keeps alive: funded and extended by strangers, the item
    /// stays available past the registration's original end.
    function test_sharedBlob_keptAliveByFunders() external {
        uint256 id = _certified(ALICE, 0, false, 2); // ends at 3
        vm.prank(ALICE);
        registry.shareRegistration(id);
        // Too short for the gallery until someone extends it.
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.BlobTooShortLived.selector, _blob(0), 3, 4));
        gallery.addItem(_blob(0), id, "t");
        (uint256 cost,) = registry.storageCost(registry.encodedSize(SIZE), 5);
        vm.prank(BOB);
        registry.fundSharedRegistration(id, cost);
        registry.extendSharedRegistration(id, 5); // anyone; ends at 8
        _add(BOB, _blob(0), id, "kept alive");
        while (staking.currentEpoch() < 7) {
            _nextEpoch();
        }
        assertTrue(gallery.isAvailable(0), "epoch 7: alive thanks to the fund");
        _nextEpoch();
        assertFalse(gallery.isAvailable(0), "epoch 8: the fund's extension ran out");
        assertEq(registry.sharedFunds(id), 0, "fund spent");
    }

    function test_removeItem() external {
        _certified(ALICE, 0, false, 5);
        _add(ALICE, _blob(0), 0, "t");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.NotSubmitter.selector, 0, ALICE, BOB));
        gallery.removeItem(0);
        vm.expectEmit(true, true, true, true, address(gallery));
        emit FloeGallery.ItemRemoved(0, _blob(0));
        vm.prank(ALICE);
        gallery.removeItem(0);
        assertTrue(gallery.item(0).removed, "removed");
        assertFalse(gallery.isAvailable(0), "removed items are not available");
        (bool found,) = gallery.itemOf(_blob(0));
        assertFalse(found, "unlisted");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnknownItem.selector, 0));
        gallery.removeItem(0);
        assertEq(_add(BOB, _blob(0), 0, "back"), 1, "re-added under a new id");
    }

    function test_item_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnknownItem.selector, 0));
        gallery.item(0);
        vm.expectRevert(abi.encodeWithSelector(FloeGallery.UnknownItem.selector, 3));
        gallery.removeItem(3);
    }
}
