// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Tests cast values they bounded themselves and build bit masks with `1 << i`.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {Test} from "../utils/Test.sol";
import {BlobRegistry} from "../../src/BlobRegistry.sol";
import {IBlobRegistry} from "../../src/interfaces/IBlobRegistry.sol";
import {Staking} from "../../src/Staking.sol";
import {IStaking} from "../../src/interfaces/IStaking.sol";
import {WAL} from "../../src/WAL.sol";
import {BLS} from "../../src/libraries/BLS.sol";

/// @notice Cheatcodes the blob tests need beyond utils/Test.sol.
interface VmBlob {
    function parseJsonBoolArray(string calldata json, string calldata key) external pure returns (bool[] memory);
}

/// @notice The real WAL + Staking + BlobRegistry, deployed at the addresses the BLS vectors
/// (contracts/test/vectors/bls.json) were signed for, with a committee of vector keys, and
/// helpers to build certificates (signer bitmaps, on-chain G2 aggregation of vector signatures).
abstract contract BlobFixture is Test {
    address internal constant DEPLOYER = address(0xF10E);
    address internal constant WAL_ADDRESS = 0x1B1e7bdeD063218d23582BF781Dcba6D9C079b8F;
    address internal constant STAKING_ADDRESS = 0xa9f6c36B964AF4F8E535810c7a4D832cBB9771cC;
    address internal constant REGISTRY_ADDRESS = 0xa8e5860a8c7D5a9d7653Cd7436cF0d9857a87a82;
    uint16 internal constant N = 100;
    uint64 internal constant EPOCH_DURATION = 1 days;
    uint64 internal constant STORAGE_PRICE = 5_000;
    uint64 internal constant WRITE_PRICE = 20_000;
    uint256 internal constant NODE_STAKE = 1e12;
    uint256 internal constant MIB = 1 << 20;

    WAL internal wal;
    Staking internal staking;
    BlobRegistry internal registry;

    string internal json;
    bytes[] internal publicKeys;
    /// @dev The vector blobs, parsed once by `_deploy`.
    uint256[] internal vectorSizes;
    bytes32[] internal vectorRoots;
    bytes32[] internal vectorIds;
    bool[] internal vectorDeletable;
    uint256 internal committeeSize;
    /// @dev The vector secret keys (test keys only): certificates over any message are signed here.
    uint256[] internal secretKeys;
    /// @dev The BLS12-381 group order r.
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    /// @dev Deploys the three contracts from DEPLOYER at nonces 0, 1, 2 and checks the addresses.
    function _deploy() internal {
        json = vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/bls.json"));
        vectorSizes = vm.parseJsonUintArray(json, ".blobs.sizes");
        vectorRoots = vm.parseJsonBytes32Array(json, ".blobs.roots");
        vectorIds = vm.parseJsonBytes32Array(json, ".blobs.ids");
        vectorDeletable = VmBlob(address(vm)).parseJsonBoolArray(json, ".blobs.deletable");
        secretKeys = vm.parseJsonUintArray(json, ".keys.secretKeys");
        vm.startPrank(DEPLOYER);
        wal = new WAL(true, 1e18, address(0), 0);
        staking = new Staking(_stakingConfig(STORAGE_PRICE, WRITE_PRICE));
        registry = new BlobRegistry(address(staking));
        staking.setRegistry(address(registry));
        vm.stopPrank();
        assertEq(address(wal), WAL_ADDRESS, "WAL address");
        assertEq(address(staking), STAKING_ADDRESS, "Staking address");
        assertEq(address(registry), REGISTRY_ADDRESS, "BlobRegistry address");
    }

    /// @dev The staking deployment of these tests: n = N, minimum stake 1, committee cap 200, bond
    /// 1 FROST, the given initial prices and the full price range.
    function _stakingConfig(uint64 storagePrice, uint64 writePrice) internal view returns (IStaking.Config memory c) {
        c = IStaking.Config({
            wal: address(wal),
            nShards: N,
            epochDuration: EPOCH_DURATION,
            minStake: 1,
            maxCommitteeSize: 200,
            registrationBond: 1,
            initialStoragePrice: storagePrice,
            minStoragePrice: 0,
            maxStoragePrice: type(uint64).max,
            initialWritePrice: writePrice,
            minWritePrice: 0,
            maxWritePrice: type(uint64).max
        });
    }

    /// @dev Registers and stakes vector nodes 0..count-1 equally, then advances to epoch 1:
    /// committee = those nodes in vector order, n / count shards each (count divides n here).
    function _committee(uint256 count) internal {
        bytes[] memory pks = vm.parseJsonBytesArray(json, ".keys.publicKeys");
        bytes[] memory pops = vm.parseJsonBytesArray(json, ".keys.pops");
        address[] memory ops = vm.parseJsonAddressArray(json, ".keys.operators");
        for (uint256 i; i < count; ++i) {
            vm.startPrank(ops[i]);
            wal.faucet(NODE_STAKE + 1);
            wal.approve(address(staking), NODE_STAKE + 1); // the bond (1 FROST) and the stake
            staking.registerNode(pks[i], pops[i], "127.0.0.1:9000", 1000, 1 << 40);
            staking.stake(ops[i], NODE_STAKE);
            vm.stopPrank();
            publicKeys.push(pks[i]);
        }
        committeeSize = count;
        staking.advanceEpoch();
        assertEq(staking.currentEpoch(), 1, "epoch 1");
    }

    /// @dev Ends the current epoch (time passes, anyone advances).
    function _nextEpoch() internal {
        vm.warp(uint256(staking.epochStartTime()) + EPOCH_DURATION);
        staking.advanceEpoch();
    }

    function _fund(address who) internal {
        vm.startPrank(who);
        wal.faucet(1e16);
        wal.approve(address(registry), type(uint256).max);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ vector blobs

    function _blobSize(uint256 j) internal view returns (uint64) {
        return uint64(vectorSizes[j]);
    }

    function _blobRoot(uint256 j) internal view returns (bytes32) {
        return vectorRoots[j];
    }

    function _blobDeletable(uint256 j) internal view returns (bool) {
        return vectorDeletable[j];
    }

    function _blobId(uint256 j) internal view returns (bytes32) {
        return vectorIds[j];
    }

    /// @dev Registers vector blobs [from, to) for `who` with fresh storage for `epochs` epochs;
    /// returns the registration ids.
    function _registerVectorBlobs(address who, uint256 from, uint256 to, uint32 epochs)
        internal
        returns (uint256[] memory ids)
    {
        ids = new uint256[](to - from);
        vm.startPrank(who);
        for (uint256 j = from; j < to; ++j) {
            (ids[j - from],,) = registry.registerBlobWithNewStorage(
                vectorRoots[j], uint64(vectorSizes[j]), 1, vectorDeletable[j], epochs
            );
        }
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ certificates

    /// @dev Every vector key's signature over message `name` (e.g. "certifyBlob0Epoch1").
    function _signatures(string memory name) internal view returns (bytes[] memory) {
        return vm.parseJsonBytesArray(json, string.concat(".messages.", name, ".signatures"));
    }

    /// @dev A bitmap over the committee with every member except those in `absent`.
    function _bitmapAllBut(uint256[] memory absent) internal view returns (bytes memory bitmap) {
        bitmap = new bytes((committeeSize + 7) / 8);
        for (uint256 i; i < committeeSize; ++i) {
            bitmap[i / 8] |= bytes1(uint8(1 << (i % 8)));
        }
        for (uint256 k; k < absent.length; ++k) {
            uint256 i = absent[k];
            bitmap[i / 8] &= ~bytes1(uint8(1 << (i % 8)));
        }
    }

    function _signed(bytes memory bitmap, uint256 i) internal pure returns (bool) {
        return uint8(bitmap[i / 8]) & (1 << (i % 8)) != 0;
    }

    /// @dev Sums in G2 (precompile 0x0d) the signatures of the members set in `bitmap`.
    function _aggregate(bytes[] memory sigs, bytes memory bitmap) internal view returns (bytes memory acc) {
        for (uint256 i; i < committeeSize; ++i) {
            if (!_signed(bitmap, i)) continue;
            if (acc.length == 0) {
                acc = sigs[i];
                continue;
            }
            (bool ok, bytes memory sum) = address(0x0d).staticcall(bytes.concat(acc, sigs[i]));
            assertTrue(ok && sum.length == 256, "G2ADD");
            acc = sum;
        }
    }

    /// @dev A certificate of message `name` signed by the members set in `bitmap`.
    function _cert(string memory name, uint32 epoch, bytes memory bitmap)
        internal
        view
        returns (IBlobRegistry.Certificate memory cert)
    {
        cert.epoch = epoch;
        cert.signers = bitmap;
        cert.signature = _aggregate(_signatures(name), bitmap);
    }

    /// @dev The aggregate signature over `message` of the members set in `bitmap` (committee
    /// member i = vector key i): (sum of their secret keys mod r) * H(message), with G2MSM (0x0e).
    function _sign(bytes memory message, bytes memory bitmap) internal view returns (bytes memory sig) {
        uint256 scalar;
        for (uint256 i; i < committeeSize; ++i) {
            if (_signed(bitmap, i)) scalar = addmod(scalar, secretKeys[i], R);
        }
        bytes memory h = BLS.hashToG2(message, BLS.DST);
        (bool ok, bytes memory out) = address(0x0e).staticcall(bytes.concat(h, bytes32(scalar)));
        assertTrue(ok && out.length == 256, "G2MSM");
        sig = out;
    }

    /// @dev The certify body over registrations `ids` (their blob ids and deletable flags as registered).
    function _certifyBody(uint256[] memory ids) internal view returns (bytes32) {
        bytes memory packed;
        for (uint256 k; k < ids.length; ++k) {
            IBlobRegistry.RegistrationInfo memory g = registry.registration(ids[k]);
            packed = abi.encodePacked(packed, g.blobId, ids[k], g.deletable);
        }
        return keccak256(packed);
    }

    /// @dev The 65-byte message of `intent` in `epoch` over `body`, for this chain and the registry.
    function _message(uint8 intent, uint32 epoch, bytes32 body) internal view returns (bytes memory) {
        return abi.encodePacked(intent, uint64(block.chainid), address(registry), epoch, body);
    }

    /// @dev A certify certificate over registrations `ids` in `epoch`, signed by the members in `bitmap`.
    function _certRegs(uint256[] memory ids, uint32 epoch, bytes memory bitmap)
        internal
        view
        returns (IBlobRegistry.Certificate memory cert)
    {
        cert.epoch = epoch;
        cert.signers = bitmap;
        cert.signature = _sign(_message(1, epoch, _certifyBody(ids)), bitmap);
    }

    /// @dev A certify certificate over registration `id` alone, signed by all members but `absent`.
    function _certReg(uint256 id, uint32 epoch, uint256[] memory absent)
        internal
        view
        returns (IBlobRegistry.Certificate memory)
    {
        return _certRegs(_ids(id), epoch, _bitmapAllBut(absent));
    }

    /// @dev An invalidity certificate for `blobId` in `epoch`, signed by the members in `bitmap`.
    function _certInvalid(bytes32 blobId, uint32 epoch, bytes memory bitmap)
        internal
        view
        returns (IBlobRegistry.Certificate memory cert)
    {
        cert.epoch = epoch;
        cert.signers = bitmap;
        cert.signature = _sign(_message(2, epoch, blobId), bitmap);
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = a;
        r[1] = b;
    }

    /// @dev A certificate of message `name` signed by all members but `absent`.
    function _certAllBut(string memory name, uint32 epoch, uint256[] memory absent)
        internal
        view
        returns (IBlobRegistry.Certificate memory)
    {
        return _cert(name, epoch, _bitmapAllBut(absent));
    }

    function _none() internal pure returns (uint256[] memory) {
        return new uint256[](0);
    }

    function _absent(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _absent(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = a;
        r[1] = b;
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
