// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Tests cast values they bounded themselves and build bit masks with `1 << i`.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {Test} from "../utils/Test.sol";
import {BlobRegistry} from "../../src/BlobRegistry.sol";
import {IBlobRegistry} from "../../src/interfaces/IBlobRegistry.sol";
import {Staking} from "../../src/Staking.sol";
import {WAL} from "../../src/WAL.sol";

/// @notice Drives the blob registry for the invariant tests with bounded random calls by three
/// actors: buying, splitting and extending storage, registering, certifying (vector signatures
/// of random signer subsets of a 10-member committee), invalidating, extending, deleting, and
/// advancing epochs. It records what the invariants need: WAL paid, byte-epochs bought, every
/// blob id touched, and counters of outcomes that must never happen.
contract BlobHandler is Test {
    BlobRegistry internal immutable registry;
    Staking internal immutable staking;
    WAL internal immutable wal;

    address[3] internal actors = [address(0xAC01), address(0xAC02), address(0xAC03)];
    /// @dev Committee of 10 members, 10 shards each: certify needs 7 signers, invalidate 4.
    uint256 internal constant MEMBERS = 10;
    uint256 internal constant SHARDS_EACH = 10;
    uint256 internal constant N = 100;
    /// @dev Vector blobs usable here: 0..2 have certify signatures (blob 0 also invalid and epoch 2).
    uint256 internal constant BLOBS = 6;

    bytes32[BLOBS] internal roots;
    uint64[BLOBS] internal sizes;
    bool[BLOBS] internal deletable;
    bytes32[BLOBS] public ids;
    /// @dev Signatures: 0..2 certifyBlob{j}Epoch1, 3 certifyBlob0Epoch2, 4 invalidBlob0Epoch1.
    mapping(uint256 message => bytes[]) internal sigs;

    // ---------------------------------------------------------------- ghost state

    /// @notice WAL the actors paid, by balance difference around each call.
    uint256 public ghostPaid;
    /// @notice Byte-epochs bought and added by extensions (splits conserve them).
    uint256 public ghostByteEpochs;
    /// @notice Calls whose WAL charge differed from the price formula.
    uint256 public wrongCharges;
    /// @notice Certifications accepted with signers short of 2f+1 shards.
    uint256 public certifiedWithoutQuorum;
    /// @notice Certifications accepted for a blob that was not Registered and unexpired (deleted,
    /// expired, invalid, already certified).
    uint256 public certifiedNotRegistered;
    /// @notice Invalidations accepted with signers short of f+1 shards.
    uint256 public invalidatedWithoutQuorum;
    /// @notice Successful calls, by kind (to see that the run exercised them).
    mapping(bytes32 kind => uint256) public calls;

    constructor(BlobRegistry registry_, Staking staking_, WAL wal_, string memory json) {
        registry = registry_;
        staking = staking_;
        wal = wal_;
        uint256[] memory s = vm.parseJsonUintArray(json, ".blobs.sizes");
        bytes32[] memory r = vm.parseJsonBytes32Array(json, ".blobs.roots");
        bytes32[] memory id = vm.parseJsonBytes32Array(json, ".blobs.ids");
        bool[] memory d = VmBool(address(vm)).parseJsonBoolArray(json, ".blobs.deletable");
        for (uint256 j; j < BLOBS; ++j) {
            (sizes[j], roots[j], ids[j], deletable[j]) = (uint64(s[j]), r[j], id[j], d[j]);
        }
        string[5] memory names = [
            "certifyBlob0Epoch1", "certifyBlob1Epoch1", "certifyBlob2Epoch1", "certifyBlob0Epoch2", "invalidBlob0Epoch1"
        ];
        for (uint256 m; m < 5; ++m) {
            bytes[] memory all = vm.parseJsonBytesArray(json, string.concat(".messages.", names[m], ".signatures"));
            for (uint256 i; i < MEMBERS; ++i) {
                sigs[m].push(all[i]);
            }
        }
        for (uint256 a; a < 3; ++a) {
            vm.startPrank(actors[a]);
            wal.faucet(1e17);
            wal.approve(address(registry), type(uint256).max);
            vm.stopPrank();
        }
    }

    function blobCount() external pure returns (uint256) {
        return BLOBS;
    }

    // ---------------------------------------------------------------- helpers

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % 3];
    }

    function _units(uint256 size) internal pure returns (uint256) {
        return (size + (1 << 20) - 1) >> 20;
    }

    function _balances() internal view returns (uint256 total) {
        for (uint256 a; a < 3; ++a) {
            total += wal.balanceOf(actors[a]);
        }
    }

    /// @dev Books what the actors paid in the last call and checks it against `expected`.
    function _charged(uint256 before, uint256 expected) internal {
        uint256 paid = before - _balances();
        ghostPaid += paid;
        if (paid != expected) ++wrongCharges;
    }

    /// @dev A storage id the registry handed out (1..next-1), or 0 if none yet.
    function _storageId(uint256 seed) internal view returns (uint256) {
        uint256 next = registry.nextStorageId();
        if (next == 1) return 0;
        return 1 + seed % (next - 1);
    }

    /// @dev Blob index for a seed: the certifiable blobs 0..2 three times out of four.
    function _blobIndex(uint256 seed) internal pure returns (uint256) {
        return seed % 4 == 0 ? seed % BLOBS : seed % 3;
    }

    /// @dev A signer mask for a seed: half the time all but at most two members (a quorum),
    /// otherwise any non-empty subset.
    function _mask(uint256 seed) internal pure returns (uint256) {
        uint256 all = (1 << MEMBERS) - 1;
        if (seed % 2 == 0) return all & ~(1 << ((seed >> 8) % MEMBERS)) & ~(1 << ((seed >> 16) % MEMBERS));
        return bound(seed >> 1, 1, all);
    }

    function _weight(uint256 mask) internal pure returns (uint256 w) {
        for (uint256 i; i < MEMBERS; ++i) {
            if (mask & (1 << i) != 0) w += SHARDS_EACH;
        }
    }

    function _cert(uint256 message, uint256 mask) internal view returns (IBlobRegistry.Certificate memory cert) {
        bytes memory bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(mask));
        bitmap[1] = bytes1(uint8(mask >> 8));
        bytes memory acc;
        bytes[] storage all = sigs[message];
        for (uint256 i; i < MEMBERS; ++i) {
            if (mask & (1 << i) == 0) continue;
            if (acc.length == 0) {
                acc = all[i];
            } else {
                (bool ok, bytes memory sum) = address(0x0d).staticcall(bytes.concat(acc, all[i]));
                require(ok, "G2ADD");
                acc = sum;
            }
        }
        cert = IBlobRegistry.Certificate({epoch: staking.currentEpoch(), signers: bitmap, signature: acc});
    }

    function _live(bytes32 blobId) internal view returns (bool) {
        IBlobRegistry.BlobInfo memory b = registry.blob(blobId);
        return b.state == IBlobRegistry.BlobState.Registered && staking.currentEpoch() < b.endEpoch;
    }

    // ---------------------------------------------------------------- actions

    function buyStorage(uint256 actorSeed, uint64 size, uint32 epochs) external {
        address who = _actor(actorSeed);
        size = uint64(bound(size, 1, 64 << 20));
        epochs = uint32(bound(epochs, 1, 4));
        (uint64 price,) = staking.prices();
        uint256 before = _balances();
        vm.prank(who);
        registry.buyStorage(size, epochs);
        _charged(before, _units(size) * epochs * price);
        ghostByteEpochs += uint256(size) * epochs;
        ++calls["buyStorage"];
    }

    function splitStorageBySize(uint256 actorSeed, uint256 idSeed, uint64 cut) external {
        uint256 id = _storageId(idSeed);
        IBlobRegistry.StorageResource memory r = registry.storageResource(id);
        if (r.size < 2) return;
        cut = uint64(bound(cut, 1, r.size - 1));
        vm.prank(actorSeed % 2 == 0 ? r.owner : _actor(actorSeed));
        try registry.splitStorageBySize(id, cut) {
            ++calls["splitStorageBySize"];
        } catch {}
    }

    function splitStorageByEpoch(uint256 actorSeed, uint256 idSeed, uint32 epoch) external {
        uint256 id = _storageId(idSeed);
        IBlobRegistry.StorageResource memory r = registry.storageResource(id);
        epoch = uint32(bound(epoch, r.startEpoch, r.endEpoch));
        vm.prank(actorSeed % 2 == 0 ? r.owner : _actor(actorSeed));
        try registry.splitStorageByEpoch(id, epoch) {
            ++calls["splitStorageByEpoch"];
        } catch {}
    }

    function extendStorage(uint256 actorSeed, uint256 idSeed, uint32 epochs) external {
        uint256 id = _storageId(idSeed);
        IBlobRegistry.StorageResource memory r = registry.storageResource(id);
        epochs = uint32(bound(epochs, 1, 3));
        (uint64 price,) = staking.prices();
        uint256 before = _balances();
        vm.prank(actorSeed % 2 == 0 ? r.owner : _actor(actorSeed));
        try registry.extendStorage(id, epochs) {
            _charged(before, _units(r.size) * epochs * price);
            ghostByteEpochs += uint256(r.size) * epochs;
            ++calls["extendStorage"];
        } catch {}
    }

    /// @dev Registers vector blob `blobSeed` on an existing resource (the actor's or not).
    function registerBlob(uint256 actorSeed, uint256 blobSeed, uint256 idSeed) external {
        uint256 j = _blobIndex(blobSeed);
        uint256 id = _storageId(idSeed);
        address who = actorSeed % 2 == 0 ? registry.storageResource(id).owner : _actor(actorSeed);
        (, uint64 writePrice) = staking.prices();
        uint256 before = _balances();
        vm.prank(who);
        try registry.registerBlob(id, roots[j], sizes[j], 1, deletable[j]) {
            _charged(before, _units(registry.encodedSize(sizes[j])) * writePrice);
            ++calls["registerBlob"];
        } catch {}
    }

    function registerBlobWithNewStorage(uint256 actorSeed, uint256 blobSeed, uint32 epochs) external {
        uint256 j = _blobIndex(blobSeed);
        epochs = uint32(bound(epochs, 1, 4));
        (uint64 storagePrice, uint64 writePrice) = staking.prices();
        uint256 units = _units(registry.encodedSize(sizes[j]));
        uint256 before = _balances();
        vm.prank(_actor(actorSeed));
        try registry.registerBlobWithNewStorage(roots[j], sizes[j], 1, deletable[j], epochs) {
            _charged(before, units * (epochs * uint256(storagePrice) + writePrice));
            ghostByteEpochs += uint256(registry.encodedSize(sizes[j])) * epochs;
            ++calls["registerBlobWithNewStorage"];
        } catch {}
    }

    /// @dev Certifies blob 0..2 with a random signer subset, using the signatures that match the
    /// current epoch where the vectors have them (others must fail).
    function certifyBlob(uint256 blobSeed, uint256 mask) external {
        uint256 j = blobSeed % 3;
        mask = _mask(mask);
        uint256 message = staking.currentEpoch() == 2 && j == 0 ? 3 : j;
        bool live = _live(ids[j]);
        IBlobRegistry.Certificate memory cert = _cert(message, mask);
        try registry.certifyBlob(ids[j], cert) {
            if (3 * _weight(mask) < 2 * N + 1) ++certifiedWithoutQuorum;
            if (!live) ++certifiedNotRegistered;
            ++calls["certifyBlob"];
        } catch {}
    }

    /// @dev Batch of blobs 1 and 2 with the signatures over blob 1 alone: must never pass.
    function certifyBlobsMismatched(uint256 mask) external {
        mask = _mask(mask);
        bytes32[] memory batch = new bytes32[](2);
        (batch[0], batch[1]) = (ids[1], ids[2]);
        try registry.certifyBlobs(batch, _cert(1, mask)) {
            ++certifiedWithoutQuorum;
        } catch {}
    }

    function invalidateBlob(uint256 mask) external {
        mask = _mask(mask);
        IBlobRegistry.Certificate memory cert = _cert(4, mask);
        try registry.invalidateBlob(ids[0], cert) {
            if (3 * _weight(mask) < N + 1) ++invalidatedWithoutQuorum;
            ++calls["invalidateBlob"];
        } catch {}
    }

    function extendBlob(uint256 actorSeed, uint256 blobSeed, uint32 epochs) external {
        bytes32 blobId = ids[_blobIndex(blobSeed)];
        epochs = uint32(bound(epochs, 1, 3));
        IBlobRegistry.BlobInfo memory b = registry.blob(blobId);
        uint64 size = registry.storageResource(b.storageId).size;
        (uint64 price,) = staking.prices();
        uint256 before = _balances();
        vm.prank(_actor(actorSeed));
        try registry.extendBlob(blobId, epochs) {
            _charged(before, _units(size) * epochs * price);
            ghostByteEpochs += uint256(size) * epochs;
            ++calls["extendBlob"];
        } catch {}
    }

    function deleteBlob(uint256 actorSeed, uint256 blobSeed) external {
        bytes32 blobId = ids[_blobIndex(blobSeed)];
        address who = actorSeed % 2 == 0 ? registry.blob(blobId).owner : _actor(actorSeed);
        vm.prank(who);
        try registry.deleteBlob(blobId) {
            ++calls["deleteBlob"];
        } catch {}
    }

    /// @dev Ends the epoch, one call in eight (signatures exist for epochs 1 and 2 only, so the
    /// run should stay there a while), up to epoch 4.
    function advanceEpoch(uint256 seed) external {
        if (seed % 8 != 0 || staking.currentEpoch() >= 4) return;
        vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration());
        staking.advanceEpoch();
        ++calls["advanceEpoch"];
    }
}

/// @notice The JSON cheatcode the handler needs beyond utils/Test.sol.
interface VmBool {
    function parseJsonBoolArray(string calldata json, string calldata key) external pure returns (bool[] memory);
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
