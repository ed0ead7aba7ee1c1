// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Tests cast values they bounded themselves and build bit masks with `1 << i`.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {BlobFixture} from "./handlers/BlobFixture.sol";
import {BlobBadStaking} from "./handlers/BlobBadStaking.sol";
import {BlobRegistry} from "../src/BlobRegistry.sol";
import {IBlobRegistry} from "../src/interfaces/IBlobRegistry.sol";
import {Staking} from "../src/Staking.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice Storage resources, registration, deletion and payments on the real WAL + Staking, in
/// epochs without a committee (storage needs none; certificates: BlobRegistryCertificateTest).
contract BlobRegistryStorageTest is BlobFixture {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    function setUp() public {
        _deploy();
        staking.advanceEpoch(); // genesis -> epoch 1, no committee
        _fund(ALICE);
        _fund(BOB);
    }

    /// @dev Advances (time passes, anyone calls) until `epoch`.
    function _toEpoch(uint32 epoch) internal {
        while (staking.currentEpoch() < epoch) {
            _nextEpoch();
        }
    }

    /// @dev Expects the staking contract to be funded `amount` over [from, from + epochs).
    function _expectFunded(uint32 from, uint32 epochs, uint256 amount) internal {
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsFunded(from, epochs, amount);
    }

    /// @dev Reference encoded size (IBlobRegistry NatSpec), written independently of the contract.
    function _refEncoded(uint256 size) internal pure returns (uint256) {
        uint256 f = (uint256(N) - 1) / 3;
        uint256 k1 = N - 2 * f;
        uint256 k2 = N - f;
        uint256 symbol = size / (k1 * k2);
        if (symbol * k1 * k2 < size) symbol += 1;
        if (symbol % 2 == 1) symbol += 1;
        if (symbol < 2) symbol = 2;
        return N * (k1 + k2) * symbol + N * 64;
    }

    function _units(uint256 size) internal pure returns (uint256) {
        return (size + MIB - 1) / MIB;
    }

    function _buy(address who, uint64 size, uint32 epochs) internal returns (uint256 id) {
        vm.prank(who);
        id = registry.buyStorage(size, epochs);
    }

    function _register(address who, uint256 storageId, bytes32 root, uint64 size, bool deletable)
        internal
        returns (bytes32 blobId)
    {
        vm.prank(who);
        blobId = registry.registerBlob(storageId, root, size, 1, deletable);
    }

    function _id(uint64 size, bytes32 root) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), size, root));
    }

    // ------------------------------------------------------------------ constructor & views

    function test_constructor_readsStakingAndWal() external view {
        assertEq(registry.staking(), address(staking), "staking");
        assertEq(registry.wal(), address(wal), "wal");
        assertEq(registry.maxBlobSize(), 34 * 67 * 65534, "max size n=100");
        assertEq(registry.nextStorageId(), 1, "ids start at 1");
    }

    function test_encodedSize_smallBlobs() external view {
        // n = 100: k1 = 34, k2 = 67; symbols of 2 bytes up to 2 * 2278 bytes.
        assertEq(registry.encodedSize(0), 100 * 101 * 2 + 6400, "empty");
        assertEq(registry.encodedSize(1), 100 * 101 * 2 + 6400, "one byte");
        assertEq(registry.encodedSize(4556), 100 * 101 * 2 + 6400, "two-byte symbols full");
        assertEq(registry.encodedSize(4557), 100 * 101 * 4 + 6400, "four-byte symbols");
        assertEq(registry.encodedSize(2278 * 65534), 100 * 101 * 65534 + 6400, "largest");
    }

    function test_encodedSize_tooLarge() external {
        uint64 max = 2278 * 65534;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobTooLarge.selector, max + 1, max));
        registry.encodedSize(max + 1);
    }

    function test_fuzz_encodedSize_matchesReference(uint256 size) external view {
        size = bound(size, 0, 2278 * 65534);
        assertEq(registry.encodedSize(uint64(size)), _refEncoded(size), "encoded size");
    }

    function test_storageCost_pricesPerMiB() external view {
        (uint256 s, uint256 w) = registry.storageCost(uint64(MIB) + 1, 3);
        assertEq(s, 2 * 3 * STORAGE_PRICE, "storage: 2 MiB x 3 epochs");
        assertEq(w, 2 * WRITE_PRICE, "write: 2 MiB");
    }

    function test_storageResource_unknownIsEmpty() external view {
        IBlobRegistry.StorageResource memory r = registry.storageResource(42);
        assertEq(r.owner, address(0), "owner");
        assertEq(r.usedBy, bytes32(0), "usedBy");
    }

    function test_blob_unknownIsNone() external view {
        IBlobRegistry.BlobInfo memory b = registry.blob(keccak256("nothing"));
        assertEq(uint256(b.state), uint256(IBlobRegistry.BlobState.None), "state");
        assertEq(b.owner, address(0), "owner");
    }

    // ------------------------------------------------------------------ buyStorage

    function test_buyStorage_paysAndRecords() external {
        uint64 size = uint64(3 * MIB + 5);
        uint256 cost = 4 * 7 * uint256(STORAGE_PRICE);
        uint256 before = wal.balanceOf(ALICE);
        uint256 held = wal.balanceOf(address(staking));
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageBought(1, ALICE, size, 1, 8, cost);
        _expectFunded(1, 7, cost);
        uint256 id = _buy(ALICE, size, 7);
        assertEq(id, 1, "id");
        IBlobRegistry.StorageResource memory r = registry.storageResource(id);
        assertEq(r.owner, ALICE, "owner");
        assertEq(r.startEpoch, 1, "start");
        assertEq(r.endEpoch, 8, "end");
        assertEq(r.size, size, "size");
        assertEq(r.usedBy, bytes32(0), "free");
        assertEq(before - wal.balanceOf(ALICE), cost, "paid");
        assertEq(wal.balanceOf(address(staking)) - held, cost, "staking received");
        assertEq(wal.balanceOf(address(registry)), 0, "registry keeps nothing");
        assertEq(staking.totalFutureRewards(), cost, "funded to future epochs");
    }

    function test_buyStorage_zeroPriceTransfersNothing() external {
        // A separate deployment whose prices are zero.
        Staking free = new Staking(_stakingConfig(0, 0));
        BlobRegistry reg = new BlobRegistry(address(free));
        free.setRegistry(address(reg));
        uint256 before = wal.balanceOf(ALICE);
        vm.prank(ALICE);
        uint256 id = reg.buyStorage(100, 1);
        assertEq(reg.storageResource(id).owner, ALICE, "bought");
        assertEq(wal.balanceOf(ALICE), before, "nothing paid");
        assertEq(free.totalFutureRewards(), 0, "nothing funded");
    }

    function test_buyStorage_zeroSize() external {
        vm.expectRevert(BlobRegistry.ZeroSize.selector);
        _buy(ALICE, 0, 1);
    }

    function test_buyStorage_zeroEpochs() external {
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        _buy(ALICE, 1, 0);
    }

    function test_buyStorage_tooManyEpochs() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        _buy(ALICE, 1, 201);
    }

    function test_buyStorage_insufficientAllowance() external {
        vm.prank(ALICE);
        wal.approve(address(registry), 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 1, uint256(STORAGE_PRICE)
            )
        );
        _buy(ALICE, 1, 1);
    }

    function test_buyStorage_insufficientBalance() external {
        address poor = address(0xDEAD);
        vm.prank(poor);
        wal.approve(address(registry), type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, poor, 0, uint256(STORAGE_PRICE))
        );
        _buy(poor, 1, 1);
    }

    function test_fuzz_buyStorage_costIsCeilMiBTimesEpochs(uint64 size, uint32 epochs) external {
        // Up to 16 TiB x 200 epochs costs at most 1.7e13 FROST: always affordable here.
        size = uint64(bound(size, 1, 1 << 44));
        epochs = uint32(bound(epochs, 1, registry.MAX_EPOCHS_AHEAD()));
        uint256 cost = _units(size) * epochs * STORAGE_PRICE;
        uint256 before = wal.balanceOf(ALICE);
        uint256 id = _buy(ALICE, size, epochs);
        assertEq(before - wal.balanceOf(ALICE), cost, "cost");
        assertEq(registry.storageResource(id).endEpoch, 1 + epochs, "end");
    }

    // ------------------------------------------------------------------ split by size

    function test_splitStorageBySize_splitsFree() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageSplit(id, 2);
        vm.prank(ALICE);
        uint256 other = registry.splitStorageBySize(id, 300);
        assertEq(other, 2, "new id");
        assertEq(registry.storageResource(id).size, 300, "kept");
        IBlobRegistry.StorageResource memory r = registry.storageResource(other);
        assertEq(r.size, 700, "rest");
        assertEq(r.owner, ALICE, "owner");
        assertEq(r.startEpoch, 1, "start");
        assertEq(r.endEpoch, 6, "end");
    }

    function test_splitStorageBySize_zero() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InvalidSplitSize.selector, id, 0, 1000));
        vm.prank(ALICE);
        registry.splitStorageBySize(id, 0);
    }

    function test_splitStorageBySize_whole() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InvalidSplitSize.selector, id, 1000, 1000));
        vm.prank(ALICE);
        registry.splitStorageBySize(id, 1000);
    }

    function test_splitStorageBySize_notOwner() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, id, ALICE, BOB));
        vm.prank(BOB);
        registry.splitStorageBySize(id, 10);
    }

    function test_splitStorageBySize_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownStorage.selector, 9));
        vm.prank(ALICE);
        registry.splitStorageBySize(9, 10);
    }

    function test_splitStorageBySize_inUse() external {
        uint256 id = _buy(ALICE, 100_000, 5);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, id, blobId));
        vm.prank(ALICE);
        registry.splitStorageBySize(id, 10);
    }

    function test_fuzz_splitStorageBySize_conservesSize(uint64 total, uint64 cut) external {
        total = uint64(bound(total, 2, 1 << 40));
        cut = uint64(bound(cut, 1, total - 1));
        uint256 id = _buy(ALICE, total, 2);
        vm.prank(ALICE);
        uint256 other = registry.splitStorageBySize(id, cut);
        assertEq(uint256(registry.storageResource(id).size) + registry.storageResource(other).size, total, "sizes sum");
    }

    // ------------------------------------------------------------------ split by epoch

    function test_splitStorageByEpoch_splitsFree() external {
        uint256 id = _buy(ALICE, 1000, 5); // [1, 6)
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageSplit(id, 2);
        vm.prank(ALICE);
        uint256 other = registry.splitStorageByEpoch(id, 3);
        IBlobRegistry.StorageResource memory a = registry.storageResource(id);
        IBlobRegistry.StorageResource memory b = registry.storageResource(other);
        assertEq(a.startEpoch, 1, "a start");
        assertEq(a.endEpoch, 3, "a end");
        assertEq(b.startEpoch, 3, "b start");
        assertEq(b.endEpoch, 6, "b end");
        assertEq(b.size, 1000, "b size");
        assertEq(b.owner, ALICE, "b owner");
    }

    function test_splitStorageByEpoch_atStart() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InvalidSplitEpoch.selector, id, 1, 1, 6));
        vm.prank(ALICE);
        registry.splitStorageByEpoch(id, 1);
    }

    function test_splitStorageByEpoch_atEnd() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.InvalidSplitEpoch.selector, id, 6, 1, 6));
        vm.prank(ALICE);
        registry.splitStorageByEpoch(id, 6);
    }

    function test_splitStorageByEpoch_notOwner() external {
        uint256 id = _buy(ALICE, 1000, 5);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, id, ALICE, BOB));
        vm.prank(BOB);
        registry.splitStorageByEpoch(id, 3);
    }

    function test_splitStorageByEpoch_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownStorage.selector, 3));
        vm.prank(ALICE);
        registry.splitStorageByEpoch(3, 3);
    }

    function test_splitStorageByEpoch_inUse() external {
        uint256 id = _buy(ALICE, 100_000, 5);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, id, blobId));
        vm.prank(ALICE);
        registry.splitStorageByEpoch(id, 3);
    }

    function test_fuzz_splitStorageByEpoch_partitionsEpochs(uint32 epochs, uint32 at) external {
        epochs = uint32(bound(epochs, 2, 200));
        uint256 id = _buy(ALICE, 10, epochs);
        at = uint32(bound(at, 2, epochs));
        vm.prank(ALICE);
        uint256 other = registry.splitStorageByEpoch(id, at);
        assertEq(registry.storageResource(id).endEpoch, at, "first ends at split");
        assertEq(registry.storageResource(other).startEpoch, at, "second starts at split");
        assertEq(registry.storageResource(other).endEpoch, 1 + epochs, "second keeps end");
    }

    function test_registerBlob_futureStorageNotStarted() external {
        uint256 id = _buy(ALICE, 100_000, 5);
        vm.prank(ALICE);
        uint256 later = registry.splitStorageByEpoch(id, 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageNotStarted.selector, later, 3, 1));
        _register(ALICE, later, bytes32(uint256(1)), 10, false);
        _toEpoch(3);
        _register(ALICE, later, bytes32(uint256(1)), 10, false);
    }

    // ------------------------------------------------------------------ extendStorage

    function test_extendStorage_freePaysFromEnd() external {
        uint256 id = _buy(ALICE, uint64(MIB), 2); // [1, 3)
        uint256 before = wal.balanceOf(ALICE);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageExtended(id, 7, 4 * uint256(STORAGE_PRICE));
        _expectFunded(3, 4, 4 * uint256(STORAGE_PRICE)); // the added epochs
        vm.prank(ALICE);
        registry.extendStorage(id, 4);
        assertEq(registry.storageResource(id).endEpoch, 7, "end");
        assertEq(before - wal.balanceOf(ALICE), 4 * uint256(STORAGE_PRICE), "paid");
    }

    function test_extendStorage_usedExtendsBlob() external {
        uint256 id = _buy(ALICE, 100_000, 2);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(7)), 10, true);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobExtended(blobId, 5);
        vm.prank(ALICE);
        registry.extendStorage(id, 2);
        assertEq(registry.blob(blobId).endEpoch, 5, "blob end follows");
        assertEq(registry.storageResource(id).endEpoch, 5, "storage end");
    }

    function test_extendStorage_expired() external {
        uint256 id = _buy(ALICE, 10, 2);
        _toEpoch(3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageExpired.selector, id, 3, 3));
        vm.prank(ALICE);
        registry.extendStorage(id, 1);
    }

    function test_extendStorage_notOwner() external {
        uint256 id = _buy(ALICE, 10, 2);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, id, ALICE, BOB));
        vm.prank(BOB);
        registry.extendStorage(id, 1);
    }

    function test_extendStorage_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownStorage.selector, 5));
        vm.prank(ALICE);
        registry.extendStorage(5, 1);
    }

    function test_extendStorage_zeroEpochs() external {
        uint256 id = _buy(ALICE, 10, 2);
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        vm.prank(ALICE);
        registry.extendStorage(id, 0);
    }

    function test_extendStorage_tooManyEpochs() external {
        uint256 id = _buy(ALICE, 10, 2); // ends at 3
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        vm.prank(ALICE);
        registry.extendStorage(id, 199);
    }

    // ------------------------------------------------------------------ registerBlob

    function test_registerBlob_recordsAndPaysWriteFee() external {
        uint64 size = 1_000_000;
        uint256 enc = _refEncoded(size);
        uint256 id = _buy(ALICE, uint64(enc), 3);
        bytes32 root = keccak256("root");
        bytes32 expected = _id(size, root);
        uint256 before = wal.balanceOf(ALICE);
        uint256 fee = _units(enc) * WRITE_PRICE;
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobRegistered(expected, ALICE, size, 1, true, 1, 4, id, root);
        _expectFunded(1, 1, fee); // the write fee goes to the current epoch
        bytes32 blobId = _register(ALICE, id, root, size, true);
        assertEq(blobId, expected, "blob id = keccak(type, size, root)");
        IBlobRegistry.BlobInfo memory b = registry.blob(blobId);
        assertEq(b.owner, ALICE, "owner");
        assertEq(b.size, size, "size");
        assertEq(b.encodingType, 1, "type");
        assertTrue(b.deletable, "deletable");
        assertEq(uint256(b.state), uint256(IBlobRegistry.BlobState.Registered), "state");
        assertEq(b.registeredEpoch, 1, "registered");
        assertEq(b.certifiedEpoch, 0, "not certified");
        assertEq(b.endEpoch, 4, "end = storage end");
        assertEq(b.storageId, id, "storage");
        assertEq(b.root, root, "root");
        assertEq(registry.storageResource(id).usedBy, blobId, "storage used");
        assertEq(before - wal.balanceOf(ALICE), fee, "write fee");
    }

    function test_registerBlob_badEncodingType() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BadEncodingType.selector, 2));
        vm.prank(ALICE);
        registry.registerBlob(id, bytes32(0), 10, 2, false);
    }

    function test_registerBlob_tooLarge() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        uint64 max = 2278 * 65534;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobTooLarge.selector, max + 1, max));
        _register(ALICE, id, bytes32(0), max + 1, false);
    }

    function test_registerBlob_unknownStorage() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownStorage.selector, 1));
        _register(ALICE, 1, bytes32(0), 10, false);
    }

    function test_registerBlob_notStorageOwner() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotStorageOwner.selector, id, ALICE, BOB));
        _register(BOB, id, bytes32(0), 10, false);
    }

    function test_registerBlob_storageExpired() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        _toEpoch(4);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageExpired.selector, id, 4, 4));
        _register(ALICE, id, bytes32(0), 10, false);
    }

    function test_registerBlob_storageTooSmall() external {
        uint256 need = _refEncoded(10);
        uint256 id = _buy(ALICE, uint64(need - 1), 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageTooSmall.selector, id, need - 1, need));
        _register(ALICE, id, bytes32(0), 10, false);
    }

    function test_registerBlob_exactStorageFits() external {
        uint256 id = _buy(ALICE, uint64(_refEncoded(10)), 3);
        _register(ALICE, id, bytes32(0), 10, false);
    }

    function test_registerBlob_storageInUse() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 first = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, id, first));
        _register(ALICE, id, bytes32(uint256(2)), 10, false);
    }

    function test_registerBlob_alreadyRegistered() external {
        uint256 a = _buy(ALICE, 100_000, 3);
        uint256 b = _buy(BOB, 100_000, 3);
        bytes32 blobId = _register(ALICE, a, bytes32(uint256(1)), 10, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.BlobAlreadyRegistered.selector, blobId, IBlobRegistry.BlobState.Registered, 4
            )
        );
        _register(BOB, b, bytes32(uint256(1)), 10, true);
    }

    function test_registerBlob_anewAfterExpiry() external {
        uint256 a = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, a, bytes32(uint256(1)), 10, false);
        _toEpoch(4);
        uint256 b = _buy(BOB, 100_000, 2);
        _register(BOB, b, bytes32(uint256(1)), 10, true);
        IBlobRegistry.BlobInfo memory info = registry.blob(blobId);
        assertEq(info.owner, BOB, "new owner");
        assertEq(info.storageId, b, "new storage");
        assertEq(info.registeredEpoch, 4, "registered anew");
        assertEq(info.endEpoch, 6, "new end");
        assertTrue(info.deletable, "new flag");
    }

    function test_registerBlob_anewAfterDeletion() external {
        uint256 a = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, a, bytes32(uint256(1)), 10, true);
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        // The freed storage takes the same blob again.
        _register(ALICE, a, bytes32(uint256(1)), 10, false);
        assertEq(uint256(registry.blob(blobId).state), uint256(IBlobRegistry.BlobState.Registered), "registered");
        assertFalse(registry.blob(blobId).deletable, "fresh flags");
    }

    // ------------------------------------------------------------------ registerBlobWithNewStorage

    function test_registerBlobWithNewStorage_buysExactlyAndRegisters() external {
        uint64 size = 5_000_000;
        uint256 enc = _refEncoded(size);
        uint256 before = wal.balanceOf(ALICE);
        bytes32 root = keccak256("r");
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageBought(1, ALICE, uint64(enc), 1, 3, _units(enc) * 2 * STORAGE_PRICE);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobRegistered(_id(size, root), ALICE, size, 1, false, 1, 3, 1, root);
        _expectFunded(1, 2, _units(enc) * 2 * STORAGE_PRICE);
        _expectFunded(1, 1, _units(enc) * WRITE_PRICE);
        vm.prank(ALICE);
        (bytes32 blobId, uint256 id) = registry.registerBlobWithNewStorage(root, size, 1, false, 2);
        assertEq(blobId, _id(size, root), "id");
        assertEq(registry.storageResource(id).size, enc, "exact size");
        assertEq(registry.storageResource(id).usedBy, blobId, "used");
        uint256 cost = _units(enc) * (2 * uint256(STORAGE_PRICE) + WRITE_PRICE);
        assertEq(before - wal.balanceOf(ALICE), cost, "storage + write fee");
        assertEq(staking.totalFutureRewards(), cost, "all funded");
    }

    function test_registerBlobWithNewStorage_badEncodingType() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BadEncodingType.selector, 0));
        vm.prank(ALICE);
        registry.registerBlobWithNewStorage(bytes32(0), 10, 0, false, 2);
    }

    function test_registerBlobWithNewStorage_zeroEpochs() external {
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        vm.prank(ALICE);
        registry.registerBlobWithNewStorage(bytes32(0), 10, 1, false, 0);
    }

    function test_registerBlobWithNewStorage_alreadyRegistered() external {
        vm.prank(ALICE);
        (bytes32 blobId,) = registry.registerBlobWithNewStorage(bytes32(0), 10, 1, false, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.BlobAlreadyRegistered.selector, blobId, IBlobRegistry.BlobState.Registered, 3
            )
        );
        vm.prank(BOB);
        registry.registerBlobWithNewStorage(bytes32(0), 10, 1, false, 2);
    }

    // ------------------------------------------------------------------ deleteBlob

    function test_deleteBlob_freesStorageForOwner() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobDeleted(blobId, 1, id);
        vm.prank(ALICE);
        uint256 freed = registry.deleteBlob(blobId);
        assertEq(freed, id, "returns storage");
        assertEq(uint256(registry.blob(blobId).state), uint256(IBlobRegistry.BlobState.Deleted), "deleted");
        assertEq(registry.storageResource(id).usedBy, bytes32(0), "free");
        assertEq(registry.storageResource(id).owner, ALICE, "still alice's");
        // Reusable for another blob.
        _register(ALICE, id, bytes32(uint256(2)), 10, false);
    }

    function test_deleteBlob_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, bytes32(uint256(5))));
        vm.prank(ALICE);
        registry.deleteBlob(bytes32(uint256(5)));
    }

    function test_deleteBlob_notOwner() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotBlobOwner.selector, blobId, ALICE, BOB));
        vm.prank(BOB);
        registry.deleteBlob(blobId);
    }

    function test_deleteBlob_permanent() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobNotDeletable.selector, blobId));
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
    }

    function test_deleteBlob_expired() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        _toEpoch(4);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobExpired.selector, blobId, 4, 4));
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
    }

    function test_deleteBlob_twice() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Deleted)
        );
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
    }

    // ------------------------------------------------------------------ checks before the signature

    function test_extendBlob_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, bytes32(uint256(5))));
        registry.extendBlob(bytes32(uint256(5)), 1);
    }

    function test_extendBlob_notCertified() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Registered)
        );
        registry.extendBlob(blobId, 1);
    }

    function test_certifyBlob_unknown() external {
        IBlobRegistry.Certificate memory cert;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, bytes32(uint256(5))));
        registry.certifyBlob(bytes32(uint256(5)), cert);
    }

    function test_certifyBlobs_empty() external {
        IBlobRegistry.Certificate memory cert;
        vm.expectRevert(BlobRegistry.EmptyBatch.selector);
        registry.certifyBlobs(new bytes32[](0), cert);
    }

    function test_invalidateBlob_unknown() external {
        IBlobRegistry.Certificate memory cert;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, bytes32(uint256(5))));
        registry.invalidateBlob(bytes32(uint256(5)), cert);
    }

    function test_certifyBlob_noCommittee() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NoCommittee.selector, 1));
        registry.certifyBlob(blobId, cert);
    }

    /// @dev The G1 generator without the EIP-2537 padding (x | y, 48 bytes each): a valid key.
    bytes internal constant G1_STRIPPED =
        hex"17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1";

    /// @dev A registry over a staking stub whose certificate data has runtime code `code`, a blob
    /// registered there, and the revert of certifying it with member 0 absent expected.
    function _certifyOnStubData(bytes memory code, bytes memory revertData) internal {
        BlobRegistry reg = new BlobRegistry(address(new BlobBadStaking(address(wal), code)));
        vm.prank(ALICE);
        (bytes32 blobId,) = reg.registerBlobWithNewStorage(bytes32(uint256(1)), 10, 1, false, 2);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        cert.signers = hex"0e";
        cert.signature = new bytes(256);
        vm.expectRevert(revertData);
        reg.certifyBlob(blobId, cert);
    }

    function _expectBadCommitteeData(bytes memory code) internal {
        _certifyOnStubData(code, abi.encodeWithSelector(BlobRegistry.InvalidCommitteeData.selector, 1));
    }

    /// @dev Certificate data (IStaking.certificateData layout) with `size` members claimed, `records`
    /// records present, `n` shards (n / size per member), an identity aggregate key and every
    /// member key `key` (96 bytes).
    function _data(uint256 size, uint256 records, uint256 n, bytes memory key)
        internal
        pure
        returns (bytes memory code)
    {
        code = abi.encodePacked(bytes1(0), uint16(size), uint16(n), new bytes(96));
        for (uint256 i; i < records; ++i) {
            code = abi.encodePacked(code, key, uint16(n / size));
        }
    }

    /// @dev The control of the tests below: well-formed data passes the data checks and the
    /// quorum (8 of 10 shards) and fails only on the (identity) signature.
    function test_certifyBlob_wellFormedStubDataReachesSignatureCheck() external {
        _certifyOnStubData(_data(4, 4, 10, G1_STRIPPED), abi.encodeWithSelector(BlobRegistry.BadSignature.selector));
    }

    function test_certifyBlob_committeeDataWithoutCode() external {
        _expectBadCommitteeData("");
    }

    function test_certifyBlob_committeeDataShorterThanSize() external {
        _expectBadCommitteeData(_data(4, 3, 10, G1_STRIPPED));
    }

    function test_certifyBlob_committeeDataLongerThanSize() external {
        _expectBadCommitteeData(abi.encodePacked(_data(4, 4, 10, G1_STRIPPED), bytes1(0)));
    }

    function test_certifyBlob_committeeDataOtherShardCount() external {
        _expectBadCommitteeData(_data(4, 4, 11, G1_STRIPPED));
    }

    function test_certifyBlob_committeeDataEmptyCommittee() external {
        _expectBadCommitteeData(_data(0, 0, 10, G1_STRIPPED));
    }

    function test_certifyBlob_committeeDataShardsAboveN() external {
        // Member 0 (absent) claims 11 of n = 10 shards.
        bytes memory code = _data(4, 4, 10, G1_STRIPPED);
        code[101 + 96] = 0;
        code[101 + 97] = bytes1(uint8(11));
        _expectBadCommitteeData(code);
    }

    function test_certifyBlob_committeeDataKeyNotOnCurve() external {
        _expectBadCommitteeData(
            _data(4, 4, 10, abi.encodePacked(bytes32(uint256(0x11)), bytes32(uint256(0x11)), bytes32(uint256(0x11))))
        );
    }

    function test_registerBlobWithNewStorage_tooLarge() external {
        uint64 max = 2278 * 65534;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobTooLarge.selector, max + 1, max));
        vm.prank(ALICE);
        registry.registerBlobWithNewStorage(bytes32(0), max + 1, 1, false, 2);
    }

    function test_registerBlobWithNewStorage_tooManyEpochs() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        vm.prank(ALICE);
        registry.registerBlobWithNewStorage(bytes32(0), 10, 1, false, 201);
    }

    function test_fuzz_registerBlob_needsEncodedSize(uint64 size, uint64 slack) external {
        size = uint64(bound(size, 0, 2278 * 65534));
        uint256 need = _refEncoded(size);
        slack = uint64(bound(slack, 0, 1 << 20));
        uint256 id = _buy(ALICE, uint64(need + slack), 2);
        bytes32 blobId = _register(ALICE, id, keccak256(abi.encode(size)), size, false);
        assertEq(registry.storageResource(id).usedBy, blobId, "fits any storage of at least the encoded size");
        uint256 small = _buy(ALICE, uint64(need - 1), 2);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageTooSmall.selector, small, need - 1, need));
        _register(ALICE, small, keccak256("other"), size, false);
    }

    function test_invalidateBlob_noCommittee() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NoCommittee.selector, 1));
        registry.invalidateBlob(blobId, cert);
    }
}

/// @notice Certificates, extension and invalidation on the real Staking + WAL + BLS with the
/// vector keys: a committee of 10 members (vector nodes 0..9, 10 shards each; n = 100), so
/// certify needs 7 signers (3w >= 201) and invalidate 4 (3w >= 101).
contract BlobRegistryCertificateTest is BlobFixture {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    bytes[] internal sigBlob0;

    function setUp() public {
        _deploy();
        _committee(10);
        _fund(ALICE);
        _fund(BOB);
        bytes[] memory sigs = _signatures("certifyBlob0Epoch1");
        for (uint256 i; i < sigs.length; ++i) {
            sigBlob0.push(sigs[i]);
        }
    }

    function _blob0() internal returns (bytes32) {
        return _registerVectorBlobs(ALICE, 0, 1, 5)[0];
    }

    /// @dev Certificate for blob 0 at epoch 1 signed by the members set in `mask` (bit i = member i).
    function _certBlob0(uint256 mask) internal view returns (IBlobRegistry.Certificate memory cert) {
        bytes memory bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(mask));
        bitmap[1] = bytes1(uint8(mask >> 8));
        bytes[] memory sigs = sigBlob0;
        cert = IBlobRegistry.Certificate({epoch: 1, signers: bitmap, signature: _aggregate(sigs, bitmap)});
    }

    function _state(bytes32 blobId) internal view returns (uint256) {
        return uint256(registry.blob(blobId).state);
    }

    // ------------------------------------------------------------------ deployment

    function test_deploy_vectorAddressesAndCommittee() external view {
        (uint256 size, uint16 n, bytes memory agg) = staking.certificateContext(1);
        assertEq(size, 10, "committee size");
        assertEq(n, N, "n");
        assertEq(agg.length, 128, "aggregate key");
        (, uint16 shards) = staking.member(1, 9);
        assertEq(shards, 10, "10 shards each");
        assertEq(_blobId(0), keccak256(abi.encodePacked(uint8(1), _blobSize(0), _blobRoot(0))), "vector blob id");
    }

    // ------------------------------------------------------------------ certifyBlob

    function test_certifyBlob_allSign() external {
        bytes32 blobId = _blob0();
        assertEq(blobId, _blobId(0), "vector blob id");
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobCertified(blobId, 1, 6, _blobDeletable(0));
        registry.certifyBlob(blobId, cert);
        IBlobRegistry.BlobInfo memory info = registry.blob(blobId);
        assertEq(uint256(info.state), uint256(IBlobRegistry.BlobState.Certified), "certified");
        assertEq(info.certifiedEpoch, 1, "certified epoch");
        assertEq(info.registeredEpoch, 1, "registered epoch");
    }

    function test_certifyBlob_exactQuorum() external {
        bytes32 blobId = _blob0();
        registry.certifyBlob(blobId, _certBlob0(0x2db)); // members 0,1,3,4,6,7,9: 70 shards
        assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Certified), "certified");
    }

    function test_certifyBlob_shortOfQuorum() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x03f); // 6 members: 60 shards
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, 60, 67));
        registry.certifyBlob(blobId, cert);
    }

    function test_fuzz_certifyBlob_signerSubsets(uint256 mask) external {
        mask = bound(mask, 1, 0x3ff);
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(mask);
        uint256 weight;
        for (uint256 i; i < 10; ++i) {
            if (mask & (1 << i) != 0) weight += 10;
        }
        if (weight < 67) {
            vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, weight, 67));
            registry.certifyBlob(blobId, cert);
            assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Registered), "still registered");
        } else {
            registry.certifyBlob(blobId, cert);
            assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Certified), "certified");
        }
    }

    function test_certifyBlob_wrongEpoch() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.epoch = 2;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.WrongEpoch.selector, 2, 1));
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_staleEpochCertificate() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        _nextEpoch();
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.WrongEpoch.selector, 1, 2));
        registry.certifyBlob(blobId, cert);
        // The same committee's epoch-2 signatures certify it.
        registry.certifyBlob(blobId, _certAllBut("certifyBlob0Epoch2", 2, _none()));
        assertEq(registry.blob(blobId).certifiedEpoch, 2, "certified in epoch 2");
    }

    /// @dev Epoch 2's committee differs from epoch 1's (member 3 leaves: 9 members, member 0 holds
    /// 12 shards, the others 11): certificates are checked against epoch 2's certificate data, in
    /// its bitmap order and with its shard counts.
    function test_certifyBlob_followsCommitteeChange() external {
        bytes32 blobId = _registerVectorBlobs(ALICE, 0, 1, 5)[0];
        address[] memory ops = vm.parseJsonAddressArray(json, ".keys.operators");
        vm.prank(ops[3]);
        staking.requestWithdrawal(ops[3], NODE_STAKE);
        _nextEpoch();
        assertTrue(staking.certificateData(2) != staking.certificateData(1), "new certificate data");
        (, uint16[] memory counts) = staking.committee(2);
        assertEq(counts.length, 9, "nine members");
        assertEq(counts[0], 12, "member 0: 12 shards");
        assertEq(counts[1], 11, "member 1: 11 shards");
        // Signatures in the new committee order: vector nodes 0, 1, 2, 4, ..., 9.
        bytes[] memory all = _signatures("certifyBlob0Epoch2");
        bytes[] memory sigs = new bytes[](9);
        for (uint256 i; i < 9; ++i) {
            sigs[i] = all[i < 3 ? i : i + 1];
        }
        committeeSize = 9;
        // Without members 0, 1, 2: weight 100 - 34 = 66 < 67.
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 2;
        uint256[] memory absent = new uint256[](3);
        (absent[0], absent[1], absent[2]) = (0, 1, 2);
        cert.signers = _bitmapAllBut(absent);
        cert.signature = _aggregate(sigs, cert.signers);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, 66, 67));
        registry.certifyBlob(blobId, cert);
        // The old committee's bitmap (10 members, 2 bytes) does not fit the new one (9 members, 2 bytes,
        // but bit 9 is past the committee).
        cert.signers = hex"ff03";
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.SignerOutOfRange.selector, 9, 9));
        registry.certifyBlob(blobId, cert);
        // Without member 0 (12 shards) and member 8 (vector node 9): weight 77, certified.
        cert.signers = _bitmapAllBut(_absent(0, 8));
        cert.signature = _aggregate(sigs, cert.signers);
        registry.certifyBlob(blobId, cert);
        assertEq(registry.blob(blobId).certifiedEpoch, 2, "certified in epoch 2");
    }

    function test_certifyBlob_signatureOfOtherBlob() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBlob1Epoch1", 1, _none());
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_bitmapClaimsNonSigner() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x1ff); // members 0..8 signed
        cert.signers[1] = bytes1(uint8(0x03)); // ...but the bitmap also names member 9
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_bitmapOmitsSigner() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.signers[0] = bytes1(uint8(0xfe)); // member 0 signed but is left out
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_wrongDeletableFlag() external {
        // Blob 0 registered with the other flag: same id, different message body.
        bool deletable = !_blobDeletable(0);
        vm.prank(ALICE);
        (bytes32 blobId,) = registry.registerBlobWithNewStorage(_blobRoot(0), _blobSize(0), 1, deletable, 5);
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_otherChain() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.chainId(1);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_signatureLength() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.signature = new bytes(255);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_identitySignature() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.signature = new bytes(256);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_bitmapLength() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.signers = abi.encodePacked(cert.signers, uint8(0));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BitmapLength.selector, 3, 2));
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_signerOutOfRange() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        cert.signers[1] = bytes1(uint8(0x07)); // bit 10: no such member
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.SignerOutOfRange.selector, 10, 10));
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_alreadyCertified() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        registry.certifyBlob(blobId, cert);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Certified)
        );
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_deleted() external {
        vm.prank(ALICE);
        (bytes32 blobId,) = registry.registerBlobWithNewStorage(_blobRoot(1), _blobSize(1), 1, true, 5);
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBlob1Epoch1", 1, _none());
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Deleted)
        );
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_expired() external {
        bytes32 blobId = _registerVectorBlobs(ALICE, 0, 1, 1)[0]; // [1, 2)
        _nextEpoch();
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBlob0Epoch2", 2, _none());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobExpired.selector, blobId, 2, 2));
        registry.certifyBlob(blobId, cert);
    }

    function test_certifyBlob_invalid() external {
        bytes32 blobId = _blob0();
        registry.invalidateBlob(blobId, _certAllBut("invalidBlob0Epoch1", 1, _none()));
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Invalid)
        );
        registry.certifyBlob(blobId, cert);
    }

    function test_registerBlob_alreadyCertified() external {
        bytes32 blobId = _blob0();
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.BlobAlreadyRegistered.selector, blobId, IBlobRegistry.BlobState.Certified, 6
            )
        );
        vm.prank(BOB);
        registry.registerBlobWithNewStorage(_blobRoot(0), _blobSize(0), 1, _blobDeletable(0), 2);
    }

    function test_registerBlob_anewAfterCertifiedExpiry() external {
        bytes32 blobId = _registerVectorBlobs(ALICE, 0, 1, 1)[0]; // [1, 2)
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        _nextEpoch();
        vm.prank(BOB);
        registry.registerBlobWithNewStorage(_blobRoot(0), _blobSize(0), 1, _blobDeletable(0), 2);
        IBlobRegistry.BlobInfo memory info = registry.blob(blobId);
        assertEq(uint256(info.state), uint256(IBlobRegistry.BlobState.Registered), "registered anew");
        assertEq(info.owner, BOB, "new owner");
        assertEq(info.certifiedEpoch, 0, "not certified yet");
        // ...and certifiable again by the new epoch's committee.
        registry.certifyBlob(blobId, _certAllBut("certifyBlob0Epoch2", 2, _none()));
        assertEq(registry.blob(blobId).certifiedEpoch, 2, "certified again");
    }

    function test_certifyBlob_anyoneMaySubmit() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.prank(address(0x5EED)); // e.g. a storage node that collected the confirmations
        registry.certifyBlob(blobId, cert);
        assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Certified), "certified");
    }

    // ------------------------------------------------------------------ certifyBlobs

    function test_certifyBlobs_batchOf100() external {
        bytes32[] memory ids = _registerVectorBlobs(ALICE, 0, 100, 3);
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBatch100Epoch1", 1, _absent(4, 8));
        for (uint256 i; i < 100; ++i) {
            vm.expectEmit(true, true, true, true, address(registry));
            emit IBlobRegistry.BlobCertified(ids[i], 1, 4, vectorDeletable[i]);
        }
        registry.certifyBlobs(ids, cert);
        for (uint256 i; i < 100; ++i) {
            assertEq(_state(ids[i]), uint256(IBlobRegistry.BlobState.Certified), "certified");
        }
    }

    function test_certifyBlobs_orderIsSigned() external {
        bytes32[] memory ids = _registerVectorBlobs(ALICE, 0, 100, 3);
        (ids[0], ids[1]) = (ids[1], ids[0]);
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBatch100Epoch1", 1, _none());
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyBlobs(ids, cert);
    }

    function test_certifyBlobs_duplicate() external {
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = _blob0();
        ids[1] = ids[0];
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, ids[0], IBlobRegistry.BlobState.Certified)
        );
        registry.certifyBlobs(ids, cert);
    }

    function test_certifyBlobs_batchOfOneEqualsCertifyBlob() external {
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = _blob0();
        registry.certifyBlobs(ids, _certBlob0(0x3ff));
        assertEq(_state(ids[0]), uint256(IBlobRegistry.BlobState.Certified), "certified");
    }

    function test_certifyBlobs_unknownBlob() external {
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = _blob0();
        ids[1] = keccak256("unknown");
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, ids[1]));
        registry.certifyBlobs(ids, cert);
    }

    // ------------------------------------------------------------------ invalidateBlob

    function test_invalidateBlob_fPlusOneShards() external {
        bytes32 blobId = _blob0();
        bytes memory bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(0x0f)); // 4 members: 40 shards >= 34
        IBlobRegistry.Certificate memory cert = _cert("invalidBlob0Epoch1", 1, bitmap);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobInvalidated(blobId, 1);
        registry.invalidateBlob(blobId, cert);
        assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Invalid), "invalid");
        assertEq(registry.storageResource(registry.blob(blobId).storageId).usedBy, blobId, "storage stays used");
    }

    function test_invalidateBlob_shortOfQuorum() external {
        bytes32 blobId = _blob0();
        bytes memory bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(0x07)); // 3 members: 30 shards < 34
        IBlobRegistry.Certificate memory cert = _cert("invalidBlob0Epoch1", 1, bitmap);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, 30, 34));
        registry.invalidateBlob(blobId, cert);
    }

    function test_invalidateBlob_certifySignaturesDoNotCount() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certBlob0(0x3ff);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.invalidateBlob(blobId, cert);
    }

    function test_invalidateBlob_certifiedBlob() external {
        bytes32 blobId = _blob0();
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        registry.invalidateBlob(blobId, _certAllBut("invalidBlob0Epoch1", 1, _none()));
        assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Invalid), "invalid");
    }

    function test_invalidateBlob_twice() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certAllBut("invalidBlob0Epoch1", 1, _none());
        registry.invalidateBlob(blobId, cert);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Invalid)
        );
        registry.invalidateBlob(blobId, cert);
    }

    function test_invalidateBlob_expired() external {
        bytes32 blobId = _registerVectorBlobs(ALICE, 0, 1, 1)[0];
        IBlobRegistry.Certificate memory cert = _certAllBut("invalidBlob0Epoch1", 1, _none());
        _nextEpoch();
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobExpired.selector, blobId, 2, 2));
        registry.invalidateBlob(blobId, cert);
    }

    function test_invalidateBlob_wrongEpoch() external {
        bytes32 blobId = _blob0();
        IBlobRegistry.Certificate memory cert = _certAllBut("invalidBlob0Epoch1", 1, _none());
        cert.epoch = 0;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.WrongEpoch.selector, 0, 1));
        registry.invalidateBlob(blobId, cert);
    }

    function test_registerBlob_invalidIdNeverAgain() external {
        bytes32 blobId = _blob0();
        registry.invalidateBlob(blobId, _certAllBut("invalidBlob0Epoch1", 1, _none()));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, blobId));
        vm.prank(BOB);
        registry.registerBlobWithNewStorage(_blobRoot(0), _blobSize(0), 1, true, 2);
    }

    function test_deleteBlob_invalid() external {
        vm.prank(ALICE);
        (bytes32 blobId,) = registry.registerBlobWithNewStorage(_blobRoot(0), _blobSize(0), 1, true, 5);
        registry.invalidateBlob(blobId, _certAllBut("invalidBlob0Epoch1", 1, _none()));
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Invalid)
        );
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
    }

    function test_extendStorage_usedByInvalidBlob() external {
        bytes32 blobId = _blob0();
        uint256 storageId = registry.blob(blobId).storageId;
        registry.invalidateBlob(blobId, _certAllBut("invalidBlob0Epoch1", 1, _none()));
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Invalid)
        );
        vm.prank(ALICE);
        registry.extendStorage(storageId, 1);
    }

    // ------------------------------------------------------------------ extendBlob

    function test_extendBlob_anyonePays() external {
        bytes32 blobId = _blob0();
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        uint256 storageId = registry.blob(blobId).storageId;
        uint256 units = (uint256(registry.storageResource(storageId).size) + MIB - 1) / MIB;
        uint256 cost = units * 4 * STORAGE_PRICE;
        uint256 before = wal.balanceOf(BOB);
        uint256 future = staking.totalFutureRewards();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageExtended(storageId, 10, cost);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobExtended(blobId, 10);
        vm.prank(BOB);
        registry.extendBlob(blobId, 4);
        assertEq(registry.blob(blobId).endEpoch, 10, "blob end");
        assertEq(registry.storageResource(storageId).endEpoch, 10, "storage end");
        assertEq(registry.blob(blobId).owner, ALICE, "owner unchanged");
        assertEq(before - wal.balanceOf(BOB), cost, "bob paid");
        assertEq(staking.totalFutureRewards() - future, cost, "funded");
    }

    function test_extendBlob_expired() external {
        bytes32 blobId = _registerVectorBlobs(ALICE, 0, 1, 2)[0]; // [1, 3)
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        _nextEpoch();
        _nextEpoch();
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobExpired.selector, blobId, 3, 3));
        registry.extendBlob(blobId, 1);
    }

    function test_extendBlob_tooManyEpochs() external {
        bytes32 blobId = _blob0(); // ends at 6
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        vm.prank(ALICE);
        registry.extendBlob(blobId, 196);
    }

    function test_extendBlob_zeroEpochs() external {
        bytes32 blobId = _blob0();
        registry.certifyBlob(blobId, _certBlob0(0x3ff));
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        registry.extendBlob(blobId, 0);
    }

    function test_extendBlob_deleted() external {
        vm.prank(ALICE);
        (bytes32 blobId,) = registry.registerBlobWithNewStorage(_blobRoot(1), _blobSize(1), 1, true, 5);
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        vm.expectRevert(
            abi.encodeWithSelector(BlobRegistry.WrongBlobState.selector, blobId, IBlobRegistry.BlobState.Deleted)
        );
        registry.extendBlob(blobId, 1);
    }

    // ------------------------------------------------------------------ deletion of certified blobs

    function test_deleteBlob_certifiedKeepsRootInView() external {
        vm.prank(ALICE);
        (bytes32 blobId, uint256 storageId) =
            registry.registerBlobWithNewStorage(_blobRoot(1), _blobSize(1), 1, true, 5);
        registry.certifyBlob(blobId, _certAllBut("certifyBlob1Epoch1", 1, _none()));
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        // The storage takes another blob; the deleted record still reports its own root.
        vm.prank(ALICE);
        bytes32 other = registry.registerBlob(storageId, keccak256("other"), 10, 1, false);
        IBlobRegistry.BlobInfo memory info = registry.blob(blobId);
        assertEq(uint256(info.state), uint256(IBlobRegistry.BlobState.Deleted), "deleted");
        assertEq(info.root, _blobRoot(1), "root kept");
        assertEq(registry.storageResource(storageId).usedBy, other, "storage reused");
        assertEq(registry.blob(other).root, keccak256("other"), "new blob root");
    }

    function test_registerBlob_anewAfterDeletionCertifiesAgain() external {
        vm.prank(ALICE);
        (bytes32 blobId, uint256 storageId) =
            registry.registerBlobWithNewStorage(_blobRoot(1), _blobSize(1), 1, true, 5);
        IBlobRegistry.Certificate memory cert = _certAllBut("certifyBlob1Epoch1", 1, _none());
        registry.certifyBlob(blobId, cert);
        vm.prank(ALICE);
        registry.deleteBlob(blobId);
        vm.prank(ALICE);
        registry.registerBlob(storageId, _blobRoot(1), _blobSize(1), 1, true);
        registry.certifyBlob(blobId, cert);
        assertEq(_state(blobId), uint256(IBlobRegistry.BlobState.Certified), "fresh registration certified");
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
