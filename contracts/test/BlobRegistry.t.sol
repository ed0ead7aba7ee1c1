// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {BlobMockStaking} from "./handlers/BlobMockStaking.sol";
import {BlobRegistry} from "../src/BlobRegistry.sol";
import {IBlobRegistry} from "../src/interfaces/IBlobRegistry.sol";
import {WAL} from "../src/WAL.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice Storage resources, registration, deletion and payments, on a mock staking contract
/// whose epoch and prices the test sets (certificates: see BlobCertificate.t.sol).
contract BlobRegistryStorageTest is Test {
    address internal constant DEPLOYER = address(0xF10E);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    uint64 internal constant STORAGE_PRICE = 5_000;
    uint64 internal constant WRITE_PRICE = 20_000;
    uint256 internal constant MIB = 1 << 20;
    uint16 internal constant N = 100;

    WAL internal wal;
    BlobMockStaking internal staking;
    BlobRegistry internal registry;

    function setUp() public virtual {
        vm.startPrank(DEPLOYER);
        wal = new WAL(1e18);
        staking = new BlobMockStaking(address(wal), N, STORAGE_PRICE, WRITE_PRICE);
        registry = new BlobRegistry(address(staking));
        staking.setRegistry(address(registry));
        vm.stopPrank();
        staking.setEpoch(1);
        _fund(ALICE);
        _fund(BOB);
    }

    function _fund(address who) internal {
        vm.startPrank(who);
        wal.faucet(1e15);
        wal.approve(address(registry), type(uint256).max);
        vm.stopPrank();
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
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageBought(1, ALICE, size, 1, 8, cost);
        uint256 id = _buy(ALICE, size, 7);
        assertEq(id, 1, "id");
        IBlobRegistry.StorageResource memory r = registry.storageResource(id);
        assertEq(r.owner, ALICE, "owner");
        assertEq(r.startEpoch, 1, "start");
        assertEq(r.endEpoch, 8, "end");
        assertEq(r.size, size, "size");
        assertEq(r.usedBy, bytes32(0), "free");
        assertEq(before - wal.balanceOf(ALICE), cost, "paid");
        assertEq(wal.balanceOf(address(staking)), cost, "staking received");
        assertEq(wal.balanceOf(address(registry)), 0, "registry keeps nothing");
        (uint32 from, uint32 epochs, uint256 amount) = staking.fundings(0);
        assertEq(from, 1, "funded from current");
        assertEq(epochs, 7, "funded epochs");
        assertEq(amount, cost, "funded amount");
    }

    function test_buyStorage_zeroPriceTransfersNothing() external {
        staking.setPrices(0, 0);
        _buy(ALICE, 100, 1);
        assertEq(staking.fundingCount(), 0, "no funding call");
        assertEq(wal.balanceOf(address(staking)), 0, "nothing moved");
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
        assertEq(
            uint256(registry.storageResource(id).size) + registry.storageResource(other).size, total, "sizes sum"
        );
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
        staking.setEpoch(3);
        _register(ALICE, later, bytes32(uint256(1)), 10, false);
    }

    // ------------------------------------------------------------------ extendStorage

    function test_extendStorage_freePaysFromEnd() external {
        uint256 id = _buy(ALICE, uint64(MIB), 2); // [1, 3)
        uint256 before = wal.balanceOf(ALICE);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageExtended(id, 7, 4 * uint256(STORAGE_PRICE));
        vm.prank(ALICE);
        registry.extendStorage(id, 4);
        assertEq(registry.storageResource(id).endEpoch, 7, "end");
        assertEq(before - wal.balanceOf(ALICE), 4 * uint256(STORAGE_PRICE), "paid");
        (uint32 from, uint32 epochs, uint256 amount) = staking.fundings(1);
        assertEq(from, 3, "funds the added epochs");
        assertEq(epochs, 4, "epochs");
        assertEq(amount, 4 * uint256(STORAGE_PRICE), "amount");
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
        staking.setEpoch(3);
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
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobRegistered(expected, ALICE, size, 1, true, 1, 4, id, root);
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
        uint256 fee = _units(enc) * WRITE_PRICE;
        assertEq(before - wal.balanceOf(ALICE), fee, "write fee");
        (uint32 from, uint32 epochs, uint256 amount) = staking.fundings(1);
        assertEq(from, 1, "fee to current epoch");
        assertEq(epochs, 1, "one epoch");
        assertEq(amount, fee, "fee");
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
        staking.setEpoch(4);
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
        staking.setEpoch(4);
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
        vm.prank(ALICE);
        (bytes32 blobId, uint256 id) = registry.registerBlobWithNewStorage(root, size, 1, false, 2);
        assertEq(blobId, _id(size, root), "id");
        assertEq(registry.storageResource(id).size, enc, "exact size");
        assertEq(registry.storageResource(id).usedBy, blobId, "used");
        uint256 cost = _units(enc) * (2 * uint256(STORAGE_PRICE) + WRITE_PRICE);
        assertEq(before - wal.balanceOf(ALICE), cost, "storage + write fee");
        assertEq(staking.totalFunded(), cost, "all funded");
        assertEq(staking.fundingCount(), 2, "storage and fee fundings");
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
        staking.setEpoch(4);
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

    function test_certifyBlob_noCommitteeAtGenesis() external {
        staking.setEpoch(0);
        uint256 id = _buy(ALICE, 100_000, 3);
        bytes32 blobId = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        IBlobRegistry.Certificate memory cert;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NoCommittee.selector, 0));
        registry.certifyBlob(blobId, cert);
    }
}
