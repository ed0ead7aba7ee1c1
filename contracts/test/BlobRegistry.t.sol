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
        returns (uint256 reg)
    {
        vm.prank(who);
        (reg,) = registry.registerBlob(storageId, root, size, 1, deletable);
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
        assertEq(r.usedBy, 0, "usedBy");
    }

    function test_registration_unknownIsNone() external view {
        IBlobRegistry.RegistrationInfo memory g = registry.registration(42);
        assertEq(uint256(g.state), uint256(IBlobRegistry.RegistrationState.None), "state");
        assertEq(g.owner, address(0), "owner");
        assertEq(g.blobId, bytes32(0), "blob id");
        assertEq(registry.nextRegistrationId(), 1, "ids from 1");
    }

    function test_blobStatus_unknownIsZero() external view {
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(keccak256("nothing"));
        assertEq(st.firstRegistrationId, 0, "never registered");
        assertEq(st.endEpoch, 0, "end");
        assertEq(st.root, bytes32(0), "root");
        assertFalse(st.invalid, "valid");
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
        assertEq(r.usedBy, 0, "free");
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
        uint256 reg = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, id, reg));
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
        uint256 reg = _register(ALICE, id, bytes32(uint256(1)), 10, false);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, id, reg));
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
        uint256 reg = _register(ALICE, id, bytes32(uint256(7)), 10, true);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobExtended(reg, _id(10, bytes32(uint256(7))), 5);
        vm.prank(ALICE);
        registry.extendStorage(id, 2);
        assertEq(registry.registration(reg).endEpoch, 5, "registration end follows");
        assertEq(registry.blobStatus(_id(10, bytes32(uint256(7)))).endEpoch, 5, "blob status end follows");
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

    function test_registerBlobWithNewStorage_buysExactlyAndRegisters() external {
        uint64 size = 5_000_000;
        uint256 enc = _refEncoded(size);
        uint256 before = wal.balanceOf(ALICE);
        bytes32 root = keccak256("r");
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageBought(1, ALICE, uint64(enc), 1, 3, _units(enc) * 2 * STORAGE_PRICE);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobRegistered(1, _id(size, root), ALICE, size, 1, false, 1, 3, 1, root);
        _expectFunded(1, 2, _units(enc) * 2 * STORAGE_PRICE);
        _expectFunded(1, 1, _units(enc) * WRITE_PRICE);
        vm.prank(ALICE);
        (uint256 reg, bytes32 blobId, uint256 id) = registry.registerBlobWithNewStorage(root, size, 1, false, 2);
        assertEq(reg, 1, "first registration id");
        assertEq(blobId, _id(size, root), "id");
        assertEq(registry.storageResource(id).size, enc, "exact size");
        assertEq(registry.storageResource(id).usedBy, reg, "used");
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

    function test_certifyRegistration_noCommittee() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        uint256 reg = _register(ALICE, id, bytes32(uint256(1)), 10, true);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NoCommittee.selector, 1));
        registry.certifyRegistration(reg, cert);
    }

    /// @dev The G1 generator without the EIP-2537 padding (x | y, 48 bytes each): a valid key.
    bytes internal constant G1_STRIPPED =
        hex"17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1";

    /// @dev A registry over a staking stub whose certificate data has runtime code `code`, a blob
    /// registered there, and the revert of certifying it with member 0 absent expected.
    function _certifyOnStubData(bytes memory code, bytes memory revertData) internal {
        BlobRegistry registrar = new BlobRegistry(address(new BlobBadStaking(address(wal), code)));
        vm.prank(ALICE);
        (uint256 reg,,) = registrar.registerBlobWithNewStorage(bytes32(uint256(1)), 10, 1, false, 2);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        cert.signers = hex"0e";
        cert.signature = new bytes(256);
        vm.expectRevert(revertData);
        registrar.certifyRegistration(reg, cert);
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
    function test_certifyRegistration_wellFormedStubDataReachesSignatureCheck() external {
        _certifyOnStubData(_data(4, 4, 10, G1_STRIPPED), abi.encodeWithSelector(BlobRegistry.BadSignature.selector));
    }

    function test_certifyRegistration_committeeDataWithoutCode() external {
        _expectBadCommitteeData("");
    }

    function test_certifyRegistration_committeeDataShorterThanSize() external {
        _expectBadCommitteeData(_data(4, 3, 10, G1_STRIPPED));
    }

    function test_certifyRegistration_committeeDataLongerThanSize() external {
        _expectBadCommitteeData(abi.encodePacked(_data(4, 4, 10, G1_STRIPPED), bytes1(0)));
    }

    function test_certifyRegistration_committeeDataOtherShardCount() external {
        _expectBadCommitteeData(_data(4, 4, 11, G1_STRIPPED));
    }

    function test_certifyRegistration_committeeDataEmptyCommittee() external {
        _expectBadCommitteeData(_data(0, 0, 10, G1_STRIPPED));
    }

    function test_certifyRegistration_committeeDataShardsAboveN() external {
        // Member 0 (absent) claims 11 of n = 10 shards.
        bytes memory code = _data(4, 4, 10, G1_STRIPPED);
        code[101 + 96] = 0;
        code[101 + 97] = bytes1(uint8(11));
        _expectBadCommitteeData(code);
    }

    function test_certifyRegistration_committeeDataKeyNotOnCurve() external {
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
        uint256 reg = _register(ALICE, id, keccak256(abi.encode(size)), size, false);
        assertEq(registry.storageResource(id).usedBy, reg, "fits any storage of at least the encoded size");
        uint256 small = _buy(ALICE, uint64(need - 1), 2);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageTooSmall.selector, small, need - 1, need));
        _register(ALICE, small, keccak256("other"), size, false);
    }

    function test_invalidateBlob_noCommittee() external {
        uint256 id = _buy(ALICE, 100_000, 3);
        _register(ALICE, id, bytes32(uint256(1)), 10, true);
        IBlobRegistry.Certificate memory cert;
        cert.epoch = 1;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NoCommittee.selector, 1));
        registry.invalidateBlob(_id(10, bytes32(uint256(1))), cert);
    }
}

/// @notice Certificates, extension and invalidation on the real Staking + WAL + BLS with the
/// vector keys: a committee of 10 members (vector nodes 0..9, 10 shards each; n = 100), so

/// @notice Registrations, certificates, extension, deletion and invalidation on the real Staking +
/// WAL + BLS with the vector keys: a committee of 10 members (vector nodes 0..9, 10 shards each;
/// n = 100), so certify needs 7 signers (3w >= 201) and invalidate 4 (3w >= 101). Certificates are
/// signed here with the vector secret keys over the messages the registry expects (BlobFixture._sign).
contract BlobRegistryRegistrationTest is BlobFixture {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);
    bytes32 internal constant ROOT = keccak256("root");
    uint64 internal constant SIZE = 1000;

    function setUp() public {
        _deploy();
        _committee(10);
        _fund(ALICE);
        _fund(BOB);
        _fund(CAROL);
    }

    // ------------------------------------------------------------------ helpers

    function _id(uint64 size, bytes32 root) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), size, root));
    }

    function _blob() internal pure returns (bytes32) {
        return _id(SIZE, ROOT);
    }

    /// @dev Registers blob (SIZE, ROOT) for `who` with new storage for `epochs` epochs.
    function _reg(address who, bool deletable, uint32 epochs) internal returns (uint256 id) {
        vm.prank(who);
        (id,,) = registry.registerBlobWithNewStorage(ROOT, SIZE, 1, deletable, epochs);
    }

    function _bitmap(uint256 mask) internal pure returns (bytes memory bitmap) {
        bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(mask));
        bitmap[1] = bytes1(uint8(mask >> 8));
    }

    function _certify(uint256 id) internal {
        registry.certifyRegistration(id, _certReg(id, staking.currentEpoch(), _none()));
    }

    function _state(uint256 id) internal view returns (uint256) {
        return uint256(registry.registration(id).state);
    }

    function _invalidate(bytes32 blobId) internal {
        uint32 epoch = staking.currentEpoch();
        registry.invalidateBlob(blobId, _certInvalid(blobId, epoch, _bitmap(0x0f)));
    }

    function _toEpoch(uint32 epoch) internal {
        while (staking.currentEpoch() < epoch) {
            _nextEpoch();
        }
    }

    uint256 internal constant REGISTERED = uint256(IBlobRegistry.RegistrationState.Registered);
    uint256 internal constant CERTIFIED = uint256(IBlobRegistry.RegistrationState.Certified);
    uint256 internal constant DELETED = uint256(IBlobRegistry.RegistrationState.Deleted);

    // ------------------------------------------------------------------ deployment

    function test_deploy_vectorAddressesAndCommittee() external view {
        (uint256 size, uint16 n, bytes memory agg) = staking.certificateContext(1);
        assertEq(size, 10, "committee size");
        assertEq(n, N, "n");
        assertEq(agg.length, 128, "aggregate key");
        (, uint16 shards) = staking.member(1, 9);
        assertEq(shards, 10, "10 shards each");
    }

    /// @dev The Solidity signer reproduces the Rust vector signatures (same keys, same hash to G2).
    function test_sign_matchesRustVectorSignatures() external view {
        bytes memory message = vm.parseJsonBytes(json, ".messages.certifyBlob0Epoch1.message");
        bytes[] memory sigs = _signatures("certifyBlob0Epoch1");
        assertEq(_sign(message, _bitmap(1)), sigs[0], "member 0");
        assertEq(_sign(message, _bitmap(0x3ff)), _aggregate(sigs, _bitmap(0x3ff)), "aggregate of all");
    }

    // ------------------------------------------------------------------ registerBlob

    function test_registerBlob_recordsAndPaysWriteFee() external {
        uint64 encoded = registry.encodedSize(SIZE);
        vm.prank(ALICE);
        uint256 storageId = registry.buyStorage(encoded, 3);
        uint256 fee = ((uint256(registry.encodedSize(SIZE)) + MIB - 1) / MIB) * WRITE_PRICE;
        uint256 before = wal.balanceOf(ALICE);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobRegistered(1, _blob(), ALICE, SIZE, 1, true, 1, 4, storageId, ROOT);
        vm.prank(ALICE);
        (uint256 id, bytes32 blobId) = registry.registerBlob(storageId, ROOT, SIZE, 1, true);
        assertEq(id, 1, "ids count from 1");
        assertEq(blobId, _blob(), "blob id = keccak(type, size, root)");
        assertEq(before - wal.balanceOf(ALICE), fee, "write fee");
        IBlobRegistry.RegistrationInfo memory g = registry.registration(id);
        assertEq(g.blobId, blobId, "blob id");
        assertEq(g.owner, ALICE, "owner");
        assertEq(g.size, SIZE, "size");
        assertEq(g.encodingType, 1, "type");
        assertTrue(g.deletable, "deletable");
        assertEq(uint256(g.state), REGISTERED, "state");
        assertEq(g.registeredEpoch, 1, "registered");
        assertEq(g.certifiedEpoch, 0, "not certified");
        assertEq(g.endEpoch, 4, "end = storage end");
        assertEq(g.storageId, storageId, "storage");
        assertEq(g.root, ROOT, "root");
        assertFalse(g.invalid, "valid");
        assertEq(registry.storageResource(storageId).usedBy, id, "storage used by the registration");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(blobId);
        assertEq(st.size, SIZE, "status size");
        assertEq(st.encodingType, 1, "status type");
        assertEq(st.root, ROOT, "status root");
        assertEq(st.registrations, 1, "one registration");
        assertEq(st.firstRegistrationId, 1, "first");
        assertEq(st.endEpoch, 4, "end");
        assertEq(st.permanentEndEpoch, 0, "no permanent one");
        assertEq(st.certifiedEndEpoch, 0, "none certified");
        assertEq(registry.nextRegistrationId(), 2, "next id");
    }

    function test_registerBlob_storageInUse() external {
        uint256 id = _reg(ALICE, false, 3);
        uint256 storageId = registry.registration(id).storageId;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.StorageInUse.selector, storageId, id));
        vm.prank(ALICE);
        registry.registerBlob(storageId, keccak256("other"), SIZE, 1, false);
    }

    /// @dev Finding 4: a second registrant gets a registration of its own, with its own flag,
    /// owner and end; the first registrant cannot affect it.
    function test_registerBlob_severalRegistrationsCoexist() external {
        uint256 a = _reg(ALICE, true, 3);
        uint256 b = _reg(BOB, false, 7);
        uint256 c = _reg(CAROL, true, 5);
        assertEq(a, 1, "a");
        assertEq(b, 2, "b");
        assertEq(c, 3, "c");
        assertEq(registry.registration(b).owner, BOB, "own owner");
        assertFalse(registry.registration(b).deletable, "own flag");
        assertEq(registry.registration(b).endEpoch, 8, "own end");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.registrations, 3, "three");
        assertEq(st.endEpoch, 8, "max end");
        assertEq(st.permanentEndEpoch, 8, "permanent end");
        assertEq(st.firstRegistrationId, 1, "first");
    }

    function test_registerBlob_invalidBlobNeverAgain() external {
        _reg(ALICE, false, 3);
        _invalidate(_blob());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        vm.prank(BOB);
        registry.registerBlobWithNewStorage(ROOT, SIZE, 1, false, 3);
        uint64 encoded = registry.encodedSize(SIZE);
        vm.prank(BOB);
        uint256 storageId = registry.buyStorage(encoded, 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        vm.prank(BOB);
        registry.registerBlob(storageId, ROOT, SIZE, 1, true);
    }

    // ------------------------------------------------------------------ certifyRegistration

    function test_certifyRegistration_allSign() external {
        uint256 id = _reg(ALICE, false, 4);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobCertified(id, _blob(), 1, 5, false);
        _certify(id);
        IBlobRegistry.RegistrationInfo memory g = registry.registration(id);
        assertEq(uint256(g.state), CERTIFIED, "certified");
        assertEq(g.certifiedEpoch, 1, "epoch");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.certifiedEndEpoch, 5, "certified end");
        assertEq(st.permanentCertifiedEndEpoch, 5, "permanent certified end");
    }

    function test_certifyRegistration_deletableCountsOnlyAsCertified() external {
        uint256 id = _reg(ALICE, true, 4);
        _certify(id);
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.certifiedEndEpoch, 5, "certified end");
        assertEq(st.permanentCertifiedEndEpoch, 0, "not permanent");
    }

    function test_certifyRegistration_exactQuorum() external {
        uint256 id = _reg(ALICE, false, 4);
        registry.certifyRegistration(id, _certRegs(_ids(id), 1, _bitmap(0x7f)));
        assertEq(_state(id), CERTIFIED, "7 of 10 members = 70 of 100 shards");
    }

    function test_certifyRegistration_shortOfQuorum() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certRegs(_ids(id), 1, _bitmap(0x3f));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, 60, 67));
        registry.certifyRegistration(id, cert);
    }

    function test_fuzz_certifyRegistration_signerSubsets(uint256 mask) external {
        mask = bound(mask, 1, 0x3ff);
        uint256 id = _reg(ALICE, false, 4);
        uint256 weight;
        for (uint256 i; i < 10; ++i) {
            if (mask & (1 << i) != 0) weight += 10;
        }
        IBlobRegistry.Certificate memory cert = _certRegs(_ids(id), 1, _bitmap(mask));
        if (weight < 67) vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, weight, 67));
        registry.certifyRegistration(id, cert);
        assertEq(_state(id), weight < 67 ? REGISTERED : CERTIFIED, "certified iff quorum");
    }

    function test_certifyRegistration_unknown() external {
        IBlobRegistry.Certificate memory cert = _certReg(1, 1, _none());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 5));
        registry.certifyRegistration(5, cert);
    }

    function test_certifyRegistration_alreadyCertified() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        registry.certifyRegistration(id, cert);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Certified
            )
        );
        registry.certifyRegistration(id, cert);
    }

    /// @dev Finding 6: delete + re-register in the same epoch, then replay the old certificate
    /// onto the new registration: it names the old registration id, so it does not verify.
    function test_certifyRegistration_replayAfterDeleteAndReregister() external {
        uint256 old = _reg(ALICE, true, 4);
        IBlobRegistry.Certificate memory cert = _certReg(old, 1, _none());
        registry.certifyRegistration(old, cert);
        uint256 storageId = registry.registration(old).storageId;
        vm.prank(ALICE);
        registry.deleteRegistration(old);
        vm.prank(ALICE);
        (uint256 fresh,) = registry.registerBlob(storageId, ROOT, SIZE, 1, true);
        assertTrue(fresh != old, "new id");
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(fresh, cert);
    }

    /// @dev A certificate signed for one registration does not certify another of the same blob.
    function test_certifyRegistration_otherRegistrationOfSameBlob() external {
        uint256 a = _reg(ALICE, false, 4);
        uint256 b = _reg(BOB, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(a, 1, _none());
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(b, cert);
        registry.certifyRegistration(a, cert);
        assertEq(_state(b), REGISTERED, "b untouched");
    }

    function test_certifyRegistration_wrongDeletableFlag() external {
        uint256 id = _reg(ALICE, true, 4);
        bytes32 body = keccak256(abi.encodePacked(_blob(), id, false));
        IBlobRegistry.Certificate memory cert = IBlobRegistry.Certificate({
            epoch: 1, signers: _bitmap(0x3ff), signature: _sign(_message(1, 1, body), _bitmap(0x3ff))
        });
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(id, cert);
    }

    /// @dev The old (pre-registration-id) body no longer verifies.
    function test_certifyRegistration_legacyBodyRejected() external {
        uint256 id = _reg(ALICE, true, 4);
        bytes32 body = keccak256(abi.encodePacked(_blob(), true));
        IBlobRegistry.Certificate memory cert = IBlobRegistry.Certificate({
            epoch: 1, signers: _bitmap(0x3ff), signature: _sign(_message(1, 1, body), _bitmap(0x3ff))
        });
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(id, cert);
    }

    function test_certifyRegistration_wrongEpoch() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 2, _none());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.WrongEpoch.selector, 2, 1));
        registry.certifyRegistration(id, cert);
    }

    function test_certifyRegistration_expired() external {
        uint256 id = _reg(ALICE, false, 1);
        _nextEpoch();
        IBlobRegistry.Certificate memory cert = _certReg(id, 2, _none());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 2, 2));
        registry.certifyRegistration(id, cert);
    }

    function test_certifyRegistration_deleted() external {
        uint256 id = _reg(ALICE, true, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        registry.certifyRegistration(id, cert);
    }

    function test_certifyRegistration_invalidBlob() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        _invalidate(_blob());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        registry.certifyRegistration(id, cert);
    }

    function test_certifyRegistration_anyoneMaySubmit() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        vm.prank(address(0xD00D));
        registry.certifyRegistration(id, cert);
        assertEq(_state(id), CERTIFIED, "certified");
    }

    function test_certifyRegistration_badSignatureLength() external {
        uint256 id = _reg(ALICE, false, 4);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        cert.signature = new bytes(255);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(id, cert);
    }

    // ------------------------------------------------------------------ Rust vectors

    /// @dev The certify messages and signatures that Rust made (floe-core's `certify_message`,
    /// vector blob j as registration j+1) are byte for byte what the registry expects, and certify.
    function test_rustVectors_certifyTheRegistrationsTheyName() external {
        uint256[] memory ids = _registerVectorBlobs(ALICE, 0, 3, 2);
        for (uint256 j; j < 3; ++j) {
            assertEq(ids[j], j + 1, "vector blob j is registration j+1");
        }
        assertEq(
            vm.parseJsonBytes(json, ".messages.certifyBlob0Epoch1.message"),
            _message(1, 1, _certifyBody(_ids(1))),
            "Rust's certify message = the registry's"
        );
        assertEq(
            vm.parseJsonBytes(json, ".messages.certifyBlob1Epoch1.message"),
            _message(1, 1, _certifyBody(_ids(2))),
            "blob 1"
        );
        // A Rust certificate for registration 1 does not certify registration 2 ...
        IBlobRegistry.Certificate memory cert = _cert("certifyBlob0Epoch1", 1, _bitmap(0x3ff));
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistration(2, cert);
        // ... and certifies registration 1.
        registry.certifyRegistration(1, cert);
        assertEq(_state(1), CERTIFIED, "certified with Rust's signatures");
        registry.certifyRegistration(3, _cert("certifyBlob2Epoch1", 1, _bitmap(0x3ff)));
        assertEq(_state(3), CERTIFIED, "blob 2");
    }

    // ------------------------------------------------------------------ certifyRegistrations

    function test_certifyRegistrations_empty() external {
        IBlobRegistry.Certificate memory cert;
        vm.expectRevert(BlobRegistry.EmptyBatch.selector);
        registry.certifyRegistrations(new uint256[](0), cert);
    }

    function test_certifyRegistrations_batchIncludingTwoOfOneBlob() external {
        uint256[] memory ids = new uint256[](3);
        ids[0] = _reg(ALICE, true, 4);
        ids[1] = _reg(BOB, false, 6);
        ids[2] = _registerVectorBlobs(ALICE, 0, 1, 2)[0];
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobCertified(ids[0], _blob(), 1, 5, true);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobCertified(ids[1], _blob(), 1, 7, false);
        registry.certifyRegistrations(ids, _certRegs(ids, 1, _bitmap(0x3ff)));
        for (uint256 k; k < 3; ++k) {
            assertEq(_state(ids[k]), CERTIFIED, "certified");
        }
        assertEq(registry.blobStatus(_blob()).certifiedEndEpoch, 7, "max certified end");
    }

    function test_certifyRegistrations_orderIsSigned() external {
        uint256[] memory ids = _ids(_reg(ALICE, true, 4), _reg(BOB, false, 4));
        IBlobRegistry.Certificate memory cert = _certRegs(ids, 1, _bitmap(0x3ff));
        (ids[0], ids[1]) = (ids[1], ids[0]);
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.certifyRegistrations(ids, cert);
    }

    function test_certifyRegistrations_duplicate() external {
        uint256 id = _reg(ALICE, true, 4);
        uint256[] memory ids = _ids(id, id);
        IBlobRegistry.Certificate memory cert = _certRegs(ids, 1, _bitmap(0x3ff));
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Certified
            )
        );
        registry.certifyRegistrations(ids, cert);
    }

    function test_certifyRegistrations_batchOfOneEqualsCertifyRegistration() external {
        uint256 id = _reg(ALICE, true, 4);
        registry.certifyRegistrations(_ids(id), _certReg(id, 1, _none()));
        assertEq(_state(id), CERTIFIED, "same body");
    }

    // ------------------------------------------------------------------ extendRegistration

    /// @dev Finding 5: nobody but the owner extends a deletable registration (the owner could
    /// otherwise delete it and reuse storage someone else paid for).
    function test_extendRegistration_deletableByOtherReverts() external {
        uint256 id = _reg(ALICE, true, 4);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, id, ALICE, BOB));
        vm.prank(BOB);
        registry.extendRegistration(id, 2);
    }

    function test_extendRegistration_deletableByOwner() external {
        uint256 id = _reg(ALICE, true, 4);
        _certify(id);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobExtended(id, _blob(), 7);
        vm.prank(ALICE);
        registry.extendRegistration(id, 2);
        assertEq(registry.registration(id).endEpoch, 7, "end");
        assertEq(registry.storageResource(registry.registration(id).storageId).endEpoch, 7, "storage end");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.endEpoch, 7, "status end");
        assertEq(st.certifiedEndEpoch, 7, "status certified end");
    }

    function test_extendRegistration_permanentByAnyonePays() external {
        uint256 id = _reg(ALICE, false, 4);
        _certify(id);
        uint256 units = (uint256(registry.encodedSize(SIZE)) + MIB - 1) / MIB;
        uint256 before = wal.balanceOf(BOB);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.StorageExtended(registry.registration(id).storageId, 8, units * 3 * STORAGE_PRICE);
        vm.prank(BOB);
        registry.extendRegistration(id, 3);
        assertEq(before - wal.balanceOf(BOB), units * 3 * STORAGE_PRICE, "payer pays");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.permanentCertifiedEndEpoch, 8, "permanent certified end");
        assertEq(st.permanentEndEpoch, 8, "permanent end");
    }

    function test_extendRegistration_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 9));
        registry.extendRegistration(9, 1);
    }

    function test_extendRegistration_expired() external {
        uint256 id = _reg(ALICE, false, 1);
        _nextEpoch();
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 2, 2));
        registry.extendRegistration(id, 1);
    }

    function test_extendRegistration_deleted() external {
        uint256 id = _reg(ALICE, true, 3);
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        vm.prank(ALICE);
        registry.extendRegistration(id, 1);
    }

    function test_extendRegistration_invalid() external {
        uint256 id = _reg(ALICE, false, 3);
        _invalidate(_blob());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        registry.extendRegistration(id, 1);
    }

    function test_extendRegistration_zeroAndTooManyEpochs() external {
        uint256 id = _reg(ALICE, false, 3);
        vm.expectRevert(BlobRegistry.ZeroEpochs.selector);
        registry.extendRegistration(id, 0);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.TooManyEpochs.selector, 202, 201));
        registry.extendRegistration(id, 198);
    }

    function test_extendStorage_usedByInvalidBlob() external {
        uint256 id = _reg(ALICE, false, 3);
        _invalidate(_blob());
        uint256 storageId = registry.registration(id).storageId;
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        vm.prank(ALICE);
        registry.extendStorage(storageId, 1);
    }

    // ------------------------------------------------------------------ deleteRegistration

    /// @dev Finding 4: deleting ends only the deleter's registration; another's stays, certified.
    function test_deleteRegistration_endsOnlyThatRegistration() external {
        uint256 a = _reg(ALICE, true, 4);
        uint256 b = _reg(BOB, true, 6);
        _certify(b);
        uint256 storageId = registry.registration(a).storageId;
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobDeleted(a, _blob(), 1, storageId);
        vm.prank(ALICE);
        assertEq(registry.deleteRegistration(a), storageId, "returns the storage");
        assertEq(_state(a), DELETED, "a deleted");
        assertEq(_state(b), CERTIFIED, "b lives");
        assertEq(registry.storageResource(storageId).usedBy, 0, "storage free");
        assertEq(registry.storageResource(storageId).owner, ALICE, "still the owner's");
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.registrations, 1, "one left");
        assertEq(st.endEpoch, 7, "b's end");
        assertEq(st.certifiedEndEpoch, 7, "b certified");
        // The registration view keeps the deleted registration's root and blob id.
        assertEq(registry.registration(a).root, ROOT, "root kept");
        assertEq(registry.registration(a).blobId, _blob(), "blob id kept");
        // BOB cannot delete ALICE's, nor ALICE BOB's.
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.NotRegistrationOwner.selector, b, BOB, ALICE));
        vm.prank(ALICE);
        registry.deleteRegistration(b);
    }

    function test_deleteRegistration_storageReusedKeepsOldView() external {
        uint256 a = _reg(ALICE, true, 4);
        uint256 storageId = registry.registration(a).storageId;
        vm.prank(ALICE);
        registry.deleteRegistration(a);
        vm.prank(ALICE);
        (uint256 b,) = registry.registerBlob(storageId, keccak256("other"), SIZE, 1, false);
        assertEq(registry.storageResource(storageId).usedBy, b, "reused");
        assertEq(registry.registration(a).root, ROOT, "old root");
        assertEq(registry.registration(b).root, keccak256("other"), "new root");
    }

    function test_deleteRegistration_unknown() external {
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownRegistration.selector, 3));
        registry.deleteRegistration(3);
    }

    function test_deleteRegistration_permanent() external {
        uint256 id = _reg(ALICE, false, 3);
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationNotDeletable.selector, id));
        vm.prank(ALICE);
        registry.deleteRegistration(id);
    }

    function test_deleteRegistration_expired() external {
        uint256 id = _reg(ALICE, true, 1);
        _nextEpoch();
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.RegistrationExpired.selector, id, 2, 2));
        vm.prank(ALICE);
        registry.deleteRegistration(id);
    }

    function test_deleteRegistration_twice() external {
        uint256 id = _reg(ALICE, true, 3);
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlobRegistry.WrongRegistrationState.selector, id, IBlobRegistry.RegistrationState.Deleted
            )
        );
        vm.prank(ALICE);
        registry.deleteRegistration(id);
    }

    function test_deleteRegistration_invalid() external {
        uint256 id = _reg(ALICE, true, 3);
        _invalidate(_blob());
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        vm.prank(ALICE);
        registry.deleteRegistration(id);
    }

    // ------------------------------------------------------------------ blob status maxima

    /// @dev Ends 5, 9, 9 (deletable, two certified) and 4 (permanent): deletions walk the max down.
    function test_blobStatus_maximaFollowDeletions() external {
        uint256 p = _reg(CAROL, false, 3); // end 4
        uint256 a = _reg(ALICE, true, 4); // end 5
        uint256 b = _reg(ALICE, true, 8); // end 9
        uint256 c = _reg(BOB, true, 8); // end 9
        _certify(a);
        _certify(b);
        _certify(p);
        IBlobRegistry.BlobStatus memory st = registry.blobStatus(_blob());
        assertEq(st.endEpoch, 9, "max");
        assertEq(st.certifiedEndEpoch, 9, "certified max");
        vm.prank(ALICE);
        registry.deleteRegistration(b);
        st = registry.blobStatus(_blob());
        assertEq(st.endEpoch, 9, "c still ends at 9");
        assertEq(st.certifiedEndEpoch, 5, "certified max falls to a");
        vm.prank(BOB);
        registry.deleteRegistration(c);
        st = registry.blobStatus(_blob());
        assertEq(st.endEpoch, 5, "a");
        vm.prank(ALICE);
        registry.deleteRegistration(a);
        st = registry.blobStatus(_blob());
        assertEq(st.endEpoch, 4, "only the permanent one");
        assertEq(st.certifiedEndEpoch, 4, "permanent certified");
        assertEq(st.permanentCertifiedEndEpoch, 4, "permanent certified max");
        assertEq(st.registrations, 1, "one left");
    }

    /// @dev Ends in two bitmap words: epoch 250 registrations reach ends past 256.
    function test_blobStatus_maxAcrossBitmapWords() external {
        _toEpoch(250);
        uint256 a = _reg(ALICE, true, 3); // end 253
        uint256 b = _reg(ALICE, true, 10); // end 260
        _reg(ALICE, true, 1); // end 251
        vm.prank(ALICE);
        registry.deleteRegistration(b);
        assertEq(registry.blobStatus(_blob()).endEpoch, 253, "next lower, in the word below");
        vm.prank(ALICE);
        registry.deleteRegistration(a);
        assertEq(registry.blobStatus(_blob()).endEpoch, 251, "next lower");
    }

    /// @dev Random deletable registrations and deletions; the status max equals the max recomputed
    /// over the live registrations.
    function test_fuzz_blobStatus_maxUnderDeletion(uint256 seed) external {
        uint256[] memory ids = new uint256[](8);
        uint32[] memory ends = new uint32[](8);
        bool[] memory gone = new bool[](8);
        for (uint256 k; k < 8; ++k) {
            uint32 epochs = uint32(bound(uint256(keccak256(abi.encode(seed, k))), 1, 200));
            ids[k] = _reg(ALICE, true, epochs);
            ends[k] = 1 + epochs;
        }
        for (uint256 step; step < 8; ++step) {
            uint256 k = uint256(keccak256(abi.encode(seed, "del", step))) % 8;
            if (gone[k]) continue;
            vm.prank(ALICE);
            registry.deleteRegistration(ids[k]);
            gone[k] = true;
            uint32 max;
            for (uint256 i; i < 8; ++i) {
                if (!gone[i] && ends[i] > max) max = ends[i];
            }
            assertEq(registry.blobStatus(_blob()).endEpoch, max, "max recomputed");
        }
    }

    // ------------------------------------------------------------------ invalidateBlob

    function test_invalidateBlob_fPlusOneShards() external {
        uint256 id = _reg(ALICE, false, 3);
        _certify(id);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IBlobRegistry.BlobInvalidated(_blob(), 1);
        _invalidate(_blob());
        assertTrue(registry.blobStatus(_blob()).invalid, "invalid");
        assertTrue(registry.registration(id).invalid, "registration dead");
        assertEq(_state(id), CERTIFIED, "state stays");
    }

    function test_invalidateBlob_shortOfQuorum() external {
        _reg(ALICE, false, 3);
        IBlobRegistry.Certificate memory cert = _certInvalid(_blob(), 1, _bitmap(0x07));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.ShortOfQuorum.selector, 30, 34));
        registry.invalidateBlob(_blob(), cert);
    }

    function test_invalidateBlob_certifySignaturesDoNotCount() external {
        uint256 id = _reg(ALICE, false, 3);
        IBlobRegistry.Certificate memory cert = _certReg(id, 1, _none());
        vm.expectRevert(BlobRegistry.BadSignature.selector);
        registry.invalidateBlob(_blob(), cert);
    }

    function test_invalidateBlob_twice() external {
        _reg(ALICE, false, 3);
        _invalidate(_blob());
        IBlobRegistry.Certificate memory cert = _certInvalid(_blob(), 1, _bitmap(0x0f));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobIsInvalid.selector, _blob()));
        registry.invalidateBlob(_blob(), cert);
    }

    function test_invalidateBlob_unknown() external {
        IBlobRegistry.Certificate memory cert = _certInvalid(_blob(), 1, _bitmap(0x0f));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.UnknownBlob.selector, _blob()));
        registry.invalidateBlob(_blob(), cert);
    }

    function test_invalidateBlob_noLiveRegistration() external {
        uint256 id = _reg(ALICE, true, 3);
        vm.prank(ALICE);
        registry.deleteRegistration(id);
        IBlobRegistry.Certificate memory cert = _certInvalid(_blob(), 1, _bitmap(0x0f));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobNotLive.selector, _blob(), 0, 1));
        registry.invalidateBlob(_blob(), cert);
    }

    function test_invalidateBlob_expired() external {
        _reg(ALICE, false, 1);
        _nextEpoch();
        IBlobRegistry.Certificate memory cert = _certInvalid(_blob(), 2, _bitmap(0x0f));
        vm.expectRevert(abi.encodeWithSelector(BlobRegistry.BlobNotLive.selector, _blob(), 2, 2));
        registry.invalidateBlob(_blob(), cert);
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
