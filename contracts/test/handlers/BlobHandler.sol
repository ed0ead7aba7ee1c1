// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Tests cast values they bounded themselves and build bit masks with `1 << i`.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {Test} from "../utils/Test.sol";
import {BlobRegistry} from "../../src/BlobRegistry.sol";
import {IBlobRegistry} from "../../src/interfaces/IBlobRegistry.sol";
import {Staking} from "../../src/Staking.sol";
import {WAL} from "../../src/WAL.sol";
import {BLS} from "../../src/libraries/BLS.sol";

/// @notice The certify body a certificate over registration `registrationId` signs: the test
/// contract answers with BlobFixture._certifyBody, so the handler and the unit tests sign the same
/// body by one definition.
interface ICertifyBody {
    function certifyBody(uint256 registrationId) external view returns (bytes32);
}

/// @notice Drives the blob registry for the invariant tests with bounded random calls by three
/// actors on three blob ids: registering (new or freed storage), certifying (certificates signed
/// here with the vector keys of a 10-member committee, random signer subsets), replaying every kind
/// of old certificate onto other registrations, deleting a certified registration and registering
/// the same blob again in the same epoch then replaying the old certificate onto it, extending,
/// deleting, invalidating and advancing epochs; transferring registrations and freed storage,
/// setting and removing attributes (20 keys for at most 16 slots, some too long), sharing,
/// funding and extending shared registrations from their funds. Every call's outcome is predicted from the ghost
/// state first (success, or the exact custom error the registry must raise first); the handler
/// counts calls, successes and reverts by error selector per action, and counts mismatches, which
/// the invariants require to be zero. So no revert is swallowed silently, and a handler that never
/// reaches its target shows in the counts.
contract BlobHandler is Test {
    BlobRegistry internal immutable registry;
    Staking internal immutable staking;
    WAL internal immutable wal;
    ICertifyBody internal immutable bodies;

    address[3] internal actors = [address(0xAC01), address(0xAC02), address(0xAC03)];
    uint256 internal constant MEMBERS = 10;
    uint256 internal constant SHARDS_EACH = 10;
    uint256 internal constant N = 100;
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 public constant BLOBS = 3;
    uint64 internal constant SIZE = 4096;

    uint256[] internal secretKeys;

    /// @notice A registration as the ghost state sees it.
    struct Ghost {
        uint256 id;
        bytes32 blobId;
        address owner;
        bool deletable;
        uint8 state; // 1 registered, 2 certified, 3 deleted
        uint32 end;
        uint256 storageId;
        /// @dev Certificates produced before this registration existed (serials below this).
        uint256 certsBefore;
        bool shared;
        uint8 attrs;
    }

    /// @notice A certificate the handler produced: for registration `id`, serial = index.
    struct Cert {
        uint256 id;
        IBlobRegistry.Certificate cert;
    }

    Ghost[] internal ghosts;
    mapping(uint256 registrationId => uint256 index) internal indexOf;
    Cert[] internal certs;
    mapping(bytes32 blobId => bool) public ghostInvalid;
    /// @notice Owner of each storage resource the handler bought (moves with transfers).
    mapping(uint256 storageId => address) public storageOwner;
    /// @notice Each shared registration's fund, and their sum.
    mapping(uint256 registrationId => uint256) public ghostFunds;
    uint256 public ghostFundsTotal;
    /// @dev Which of the KEYS attribute keys each registration has.
    mapping(uint256 registrationId => mapping(uint256 key => bool)) internal hasKey;
    uint256 internal constant KEYS = 20;

    // ---------------------------------------------------------------- counters

    /// @notice Calls, successes and reverts by selector, per action.
    mapping(bytes32 action => uint256) public calls;
    mapping(bytes32 action => uint256) public successes;
    mapping(bytes32 action => mapping(bytes4 selector => uint256)) public reverts;
    /// @notice Outcomes that differed from the prediction (success where a revert was due, or
    /// another error than the first the rules require).
    uint256 public mismatches;
    /// @notice Certificates accepted for a registration made after they were signed.
    uint256 public replaysAccepted;
    /// @notice Certifications accepted short of quorum, or of a registration that was not
    /// Registered, unexpired and of a valid blob.
    uint256 public certifiedWithoutQuorum;
    uint256 public certifiedDead;
    /// @notice WAL the actors paid, and byte-epochs bought or added.
    uint256 public ghostPaid;
    uint256 public ghostByteEpochs;
    uint256 public wrongCharges;
    /// @notice reRegisterReplay sequences started, and those skipped on an invalid blob (nothing
    /// to register); the replay that ends a sequence is booked as action "reRegisterReplay".
    uint256 public reRegisterCalls;
    uint256 public reRegisterSkipped;

    constructor(BlobRegistry registry_, Staking staking_, WAL wal_, string memory json, ICertifyBody bodies_) {
        registry = registry_;
        staking = staking_;
        wal = wal_;
        bodies = bodies_;
        uint256[] memory sks = vm.parseJsonUintArray(json, ".keys.secretKeys");
        for (uint256 i; i < MEMBERS; ++i) {
            secretKeys.push(sks[i]);
        }
        for (uint256 a; a < 3; ++a) {
            vm.startPrank(actors[a]);
            wal.faucet(1e17);
            wal.approve(address(registry), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function ghostCount() external view returns (uint256) {
        return ghosts.length;
    }

    function ghost(uint256 k) external view returns (Ghost memory) {
        return ghosts[k];
    }

    function certCount() external view returns (uint256) {
        return certs.length;
    }

    function blobId(uint256 j) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), SIZE, keccak256(abi.encode(j))));
    }

    // ---------------------------------------------------------------- helpers

    function _root(uint256 j) internal pure returns (bytes32) {
        return keccak256(abi.encode(j));
    }

    function _balances() internal view returns (uint256 total) {
        for (uint256 a; a < 3; ++a) {
            total += wal.balanceOf(actors[a]);
        }
    }

    function _units(uint256 size) internal pure returns (uint256) {
        return (size + (1 << 20) - 1) >> 20;
    }

    function _charged(uint256 before, uint256 expected) internal {
        uint256 paid = before - _balances();
        ghostPaid += paid;
        if (paid != expected) ++wrongCharges;
    }

    /// @dev Books the outcome of `action` against the prediction `expected` (0 = success).
    function _outcome(bytes32 action, bool ok, bytes memory err, bytes4 expected) internal {
        ++calls[action];
        if (ok) {
            ++successes[action];
            if (expected != bytes4(0)) ++mismatches;
            return;
        }
        bytes4 selector = err.length >= 4 ? bytes4(err) : bytes4(0xffffffff);
        ++reverts[action][selector];
        if (selector != expected) ++mismatches;
    }

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

    function _sign(bytes memory message, uint256 mask) internal view returns (IBlobRegistry.Certificate memory c) {
        uint256 scalar;
        for (uint256 i; i < MEMBERS; ++i) {
            if (mask & (1 << i) != 0) scalar = addmod(scalar, secretKeys[i], R);
        }
        (bool ok, bytes memory sig) =
            address(0x0e).staticcall(bytes.concat(BLS.hashToG2(message, BLS.DST), bytes32(scalar)));
        require(ok, "G2MSM");
        bytes memory bitmap = new bytes(2);
        bitmap[0] = bytes1(uint8(mask));
        bitmap[1] = bytes1(uint8(mask >> 8));
        c = IBlobRegistry.Certificate({epoch: staking.currentEpoch(), signers: bitmap, signature: sig});
    }

    function _message(uint8 intent, bytes32 body) internal view returns (bytes memory) {
        return abi.encodePacked(intent, uint64(block.chainid), address(registry), staking.currentEpoch(), body);
    }

    /// @dev Max end over the ghost registrations of `id` that are not deleted.
    function _liveEnd(bytes32 id) internal view returns (uint32 max) {
        for (uint256 k; k < ghosts.length; ++k) {
            Ghost storage g = ghosts[k];
            if (g.blobId == id && g.state != 3 && g.end > max) max = g.end;
        }
    }

    function _everRegistered(bytes32 id) internal view returns (bool) {
        for (uint256 k; k < ghosts.length; ++k) {
            if (ghosts[k].blobId == id) return true;
        }
        return false;
    }

    /// @dev A freed, unexpired, started storage resource of `who` (from a deleted registration), or 0.
    function _freed(address who) internal view returns (uint256) {
        uint32 current = staking.currentEpoch();
        for (uint256 k; k < ghosts.length; ++k) {
            Ghost storage g = ghosts[k];
            if (storageOwner[g.storageId] != who || g.state != 3) continue;
            IBlobRegistry.StorageResource memory r = registry.storageResource(g.storageId);
            if (r.usedBy == 0 && current < r.endEpoch && r.startEpoch <= current) return g.storageId;
        }
        return 0;
    }

    /// @dev The predicted first error of certifying ghost `g` with a certificate of `weight`.
    function _certifyError(Ghost storage g, uint256 weight) internal view returns (bytes4) {
        if (g.state != 1) return BlobRegistry.WrongRegistrationState.selector;
        if (staking.currentEpoch() >= g.end) return BlobRegistry.RegistrationExpired.selector;
        if (ghostInvalid[g.blobId]) return BlobRegistry.BlobIsInvalid.selector;
        if (3 * weight < 2 * N + 1) return BlobRegistry.ShortOfQuorum.selector;
        return bytes4(0);
    }

    // ---------------------------------------------------------------- actions

    /// @dev Registers blob `blobSeed % 3`, on freed storage of the actor if `reuse` and there is
    /// some, else with new storage for 1..5 epochs.
    function register(uint256 actorSeed, uint256 blobSeed, bool deletable, uint32 epochs, bool reuse) external {
        address who = actors[actorSeed % 3];
        uint256 j = blobSeed % BLOBS;
        epochs = uint32(bound(epochs, 1, 5));
        bytes4 expected = ghostInvalid[blobId(j)] ? BlobRegistry.BlobIsInvalid.selector : bytes4(0);
        uint256 storageId = reuse ? _freed(who) : 0;
        uint256 before = _balances();
        (bool ok, bytes memory ret) = _callRegister(who, j, deletable, epochs, storageId);
        _outcome(storageId != 0 ? bytes32("registerBlob") : bytes32("registerWithNewStorage"), ok, ret, expected);
        if (ok) _booked(who, j, deletable, epochs, storageId, ret, before);
    }

    function _callRegister(address who, uint256 j, bool deletable, uint32 epochs, uint256 storageId)
        internal
        returns (bool ok, bytes memory ret)
    {
        bytes memory data = storageId != 0
            ? abi.encodeCall(registry.registerBlob, (storageId, _root(j), SIZE, 1, deletable))
            : abi.encodeCall(registry.registerBlobWithNewStorage, (_root(j), SIZE, 1, deletable, epochs));
        vm.prank(who);
        (ok, ret) = address(registry).call(data);
    }

    function _booked(
        address who,
        uint256 j,
        bool deletable,
        uint32 epochs,
        uint256 storageId,
        bytes memory ret,
        uint256 before
    ) internal {
        (uint64 storagePrice, uint64 writePrice) = staking.prices();
        uint64 encoded = registry.encodedSize(SIZE);
        uint256 id = abi.decode(ret, (uint256));
        if (storageId == 0) {
            (,, storageId) = abi.decode(ret, (uint256, bytes32, uint256));
            _charged(before, _units(encoded) * (uint256(epochs) * storagePrice + writePrice));
            ghostByteEpochs += uint256(encoded) * epochs;
        } else {
            _charged(before, _units(encoded) * writePrice);
        }
        indexOf[id] = ghosts.length;
        storageOwner[storageId] = who;
        ghosts.push(
            Ghost({
                id: id,
                blobId: blobId(j),
                owner: who,
                deletable: deletable,
                state: 1,
                end: registry.storageResource(storageId).endEpoch,
                storageId: storageId,
                certsBefore: certs.length,
                shared: false,
                attrs: 0
            })
        );
    }

    /// @dev Certifies a ghost registration with a fresh certificate of a random signer subset.
    function certify(uint256 regSeed, uint256 maskSeed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        uint256 mask = _mask(maskSeed);
        bytes4 expected = _certifyError(g, _weight(mask));
        IBlobRegistry.Certificate memory c = _certificateFor(g, mask);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.certifyRegistration, (g.id, c)));
        _outcome("certify", ok, ret, expected);
        if (!ok) return;
        if (3 * _weight(mask) < 2 * N + 1) ++certifiedWithoutQuorum;
        if (expected != bytes4(0)) ++certifiedDead;
        g.state = 2;
    }

    /// @dev A fresh certificate over ghost `g` by the members in `mask`, kept for replays. The body
    /// comes from the test's signer (BlobFixture._certifyBody), which reads blob id and deletable
    /// flag from the registry: they must be the ghost's.
    function _certificateFor(Ghost storage g, uint256 mask) internal returns (IBlobRegistry.Certificate memory c) {
        IBlobRegistry.RegistrationInfo memory info = registry.registration(g.id);
        assertEq(info.blobId, g.blobId, "registered blob id as the ghost");
        assertEq(info.deletable, g.deletable, "registered deletable flag as the ghost");
        c = _sign(_message(1, bodies.certifyBody(g.id)), mask);
        certs.push(Cert({id: g.id, cert: c}));
    }

    /// @dev The finding-6 sequence in one epoch: actor registers blob `blobSeed % 3` (deletable,
    /// new storage), has it certified by every member, deletes it, registers the same blob again on
    /// the freed storage (same owner, blob id and flag: only the registration id differs), and
    /// replays the first certificate onto the new registration, which must refuse it
    /// (BadSignature). Every step's outcome is predicted and booked like the single actions; the
    /// replay is booked as action "reRegisterReplay" (a success there is a mismatch and a replay).
    function reRegisterReplay(uint256 actorSeed, uint256 blobSeed) external {
        address who = actors[actorSeed % 3];
        uint256 j = blobSeed % BLOBS;
        ++reRegisterCalls;
        if (ghostInvalid[blobId(j)]) {
            ++reRegisterSkipped; // register() covers BlobIsInvalid
            return;
        }
        uint256 before = _balances();
        (bool ok, bytes memory ret) = _callRegister(who, j, true, 2, 0);
        _outcome("registerWithNewStorage", ok, ret, bytes4(0));
        if (!ok) return;
        _booked(who, j, true, 2, 0, ret, before);
        Ghost storage first = ghosts[ghosts.length - 1];
        uint256 all = (1 << MEMBERS) - 1;
        IBlobRegistry.Certificate memory c = _certificateFor(first, all);
        uint256 serial = certs.length - 1;
        (ok, ret) = address(registry).call(abi.encodeCall(registry.certifyRegistration, (first.id, c)));
        _outcome("certify", ok, ret, bytes4(0));
        if (!ok) return;
        first.state = 2;
        vm.prank(who);
        (ok, ret) = address(registry).call(abi.encodeCall(registry.deleteRegistration, (first.id)));
        _outcome("delete", ok, ret, bytes4(0));
        if (!ok) return;
        first.state = 3;
        uint256 storageId = first.storageId;
        before = _balances();
        (ok, ret) = _callRegister(who, j, true, 0, storageId);
        _outcome("registerBlob", ok, ret, bytes4(0));
        if (!ok) return;
        _booked(who, j, true, 0, storageId, ret, before);
        Ghost storage second = ghosts[ghosts.length - 1];
        (ok, ret) = address(registry).call(abi.encodeCall(registry.certifyRegistration, (second.id, c)));
        _outcome("reRegisterReplay", ok, ret, BlobRegistry.BadSignature.selector);
        if (!ok) return;
        // Accepted: a certificate signed before `second` existed certified it.
        if (second.certsBefore > serial) ++replaysAccepted;
        second.state = 2;
    }

    /// @dev Replays certificate `certSeed` (any the handler ever produced) onto every registration
    /// made after it (the last 8 at most), and onto one other registration: none may be certified.
    function replay(uint256 certSeed, uint256 regSeed) external {
        if (certs.length == 0 || ghosts.length == 0) return;
        uint256 serial = certSeed % certs.length;
        Cert storage c = certs[serial];
        uint256 from = ghosts.length > 8 ? ghosts.length - 8 : 0;
        for (uint256 k = from; k <= ghosts.length; ++k) {
            Ghost storage g = ghosts[k == ghosts.length ? regSeed % ghosts.length : k];
            if (g.id == c.id) continue;
            (bool ok, bytes memory ret) =
                address(registry).call(abi.encodeCall(registry.certifyRegistration, (g.id, c.cert)));
            ++calls["replay"];
            if (ok) {
                ++mismatches;
                if (g.certsBefore > serial) ++replaysAccepted;
                g.state = 2;
            } else {
                ++reverts["replay"][bytes4(ret)];
            }
        }
    }

    function extend(uint256 actorSeed, uint256 regSeed, uint32 epochs) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 2 == 0 ? g.owner : actors[actorSeed % 3];
        epochs = uint32(bound(epochs, 1, 3));
        uint32 current = staking.currentEpoch();
        bytes4 expected;
        if (g.state == 3) expected = BlobRegistry.WrongRegistrationState.selector;
        else if (ghostInvalid[g.blobId]) expected = BlobRegistry.BlobIsInvalid.selector;
        else if (g.deletable && who != g.owner) expected = BlobRegistry.NotRegistrationOwner.selector;
        else if (current >= g.end) expected = BlobRegistry.RegistrationExpired.selector;
        else if (uint256(g.end) + epochs > uint256(current) + 200) expected = BlobRegistry.TooManyEpochs.selector;
        (uint64 price,) = staking.prices();
        uint64 size = registry.storageResource(g.storageId).size;
        uint256 before = _balances();
        vm.prank(who);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(registry.extendRegistration, (g.id, epochs)));
        _outcome("extend", ok, ret, expected);
        if (!ok) return;
        _charged(before, _units(size) * epochs * price);
        ghostByteEpochs += uint256(size) * epochs;
        g.end += epochs;
    }

    function remove(uint256 actorSeed, uint256 regSeed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 3 != 0 ? g.owner : actors[actorSeed % 3];
        bytes4 expected;
        if (g.state == 3) expected = BlobRegistry.WrongRegistrationState.selector;
        else if (who != g.owner) expected = BlobRegistry.NotRegistrationOwner.selector;
        else if (!g.deletable) expected = BlobRegistry.RegistrationNotDeletable.selector;
        else if (ghostInvalid[g.blobId]) expected = BlobRegistry.BlobIsInvalid.selector;
        else if (staking.currentEpoch() >= g.end) expected = BlobRegistry.RegistrationExpired.selector;
        vm.prank(who);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.deleteRegistration, (g.id)));
        _outcome("delete", ok, ret, expected);
        if (ok) g.state = 3;
    }

    function invalidate(uint256 blobSeed, uint256 maskSeed) external {
        bytes32 id = blobId(blobSeed % BLOBS);
        uint256 mask = _mask(maskSeed);
        bytes4 expected;
        if (!_everRegistered(id)) expected = BlobRegistry.UnknownBlob.selector;
        else if (ghostInvalid[id]) expected = BlobRegistry.BlobIsInvalid.selector;
        else if (staking.currentEpoch() >= _liveEnd(id)) expected = BlobRegistry.BlobNotLive.selector;
        else if (3 * _weight(mask) < N + 1) expected = BlobRegistry.ShortOfQuorum.selector;
        IBlobRegistry.Certificate memory c = _sign(_message(2, id), mask);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.invalidateBlob, (id, c)));
        _outcome("invalidate", ok, ret, expected);
        if (ok) ghostInvalid[id] = true;
    }

    /// @dev The first error the owner-only changes (transfer, attributes, share) must raise for
    /// `who` on ghost `g`, from the registration itself; 0 if none.
    function _mutableError(Ghost storage g, address who) internal view returns (bytes4) {
        if (g.state == 3) return BlobRegistry.WrongRegistrationState.selector;
        if (who != g.owner) return BlobRegistry.NotRegistrationOwner.selector;
        if (g.shared) return BlobRegistry.RegistrationIsShared.selector;
        return bytes4(0);
    }

    /// @dev The first error funding or extending ghost `g` from its fund must raise; 0 if none.
    function _sharedError(Ghost storage g) internal view returns (bytes4) {
        if (!g.shared) return BlobRegistry.RegistrationNotShared.selector;
        if (ghostInvalid[g.blobId]) return BlobRegistry.BlobIsInvalid.selector;
        if (staking.currentEpoch() >= g.end) return BlobRegistry.RegistrationExpired.selector;
        return bytes4(0);
    }

    /// @dev The owner (or, one call in three, another actor) transfers a registration to an actor
    /// (or, one call in four, to the zero address).
    function transfer(uint256 actorSeed, uint256 regSeed, uint256 toSeed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 3 != 0 ? g.owner : actors[actorSeed % 3];
        address to = toSeed % 4 == 3 ? address(0) : actors[toSeed % 3];
        bytes4 expected = _mutableError(g, who);
        if (expected == bytes4(0) && to == address(0)) expected = BlobRegistry.ZeroAddress.selector;
        vm.prank(who);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.transferRegistration, (g.id, to)));
        _outcome("transfer", ok, ret, expected);
        if (!ok) return;
        g.owner = to;
        storageOwner[g.storageId] = to;
    }

    /// @dev Transfers the storage resource of a ghost registration: free only once it was deleted
    /// and not reused.
    function transferStorage(uint256 actorSeed, uint256 regSeed, uint256 toSeed) external {
        if (ghosts.length == 0) return;
        uint256 storageId = ghosts[regSeed % ghosts.length].storageId;
        address owner = storageOwner[storageId];
        address who = actorSeed % 3 != 0 ? owner : actors[actorSeed % 3];
        address to = toSeed % 4 == 3 ? address(0) : actors[toSeed % 3];
        uint256 usedBy = registry.storageResource(storageId).usedBy;
        bytes4 expected;
        if (who != owner) expected = BlobRegistry.NotStorageOwner.selector;
        else if (usedBy != 0 && ghosts[indexOf[usedBy]].state != 3) expected = BlobRegistry.StorageInUse.selector;
        else if (to == address(0)) expected = BlobRegistry.ZeroAddress.selector;
        vm.prank(who);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.transferStorage, (storageId, to)));
        _outcome("transferStorage", ok, ret, expected);
        if (ok) storageOwner[storageId] = to;
    }

    function _key(uint256 k) internal pure returns (string memory) {
        return string.concat("key-", vm.toString(k));
    }

    /// @dev Sets one of KEYS keys (one call in ten an empty or 65-byte key) to a value of 0..1100
    /// bytes.
    function setAttr(uint256 actorSeed, uint256 regSeed, uint256 keySeed, uint256 valueLength) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 4 != 0 ? g.owner : actors[actorSeed % 3];
        uint256 k = keySeed % KEYS;
        string memory key = _key(k);
        if (keySeed % 10 == 9) key = (keySeed >> 8) % 2 == 0 ? "" : string(new bytes(65));
        valueLength = bound(valueLength, 0, 1100);
        bytes4 expected = _mutableError(g, who);
        bool validKey = bytes(key).length != 0 && bytes(key).length <= 64;
        if (expected == bytes4(0)) {
            if (!validKey) expected = BlobRegistry.AttributeKeyLength.selector;
            else if (valueLength > 1024) expected = BlobRegistry.AttributeValueTooLong.selector;
            else if (!hasKey[g.id][k] && g.attrs >= 16) expected = BlobRegistry.TooManyAttributes.selector;
        }
        vm.prank(who);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(registry.setAttribute, (g.id, key, string(new bytes(valueLength)))));
        _outcome("setAttribute", ok, ret, expected);
        if (!ok || hasKey[g.id][k]) return;
        hasKey[g.id][k] = true;
        ++g.attrs;
    }

    function removeAttr(uint256 actorSeed, uint256 regSeed, uint256 keySeed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 4 != 0 ? g.owner : actors[actorSeed % 3];
        uint256 k = keySeed % KEYS;
        bytes4 expected = _mutableError(g, who);
        if (expected == bytes4(0) && !hasKey[g.id][k]) expected = BlobRegistry.AttributeNotFound.selector;
        vm.prank(who);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.removeAttribute, (g.id, _key(k))));
        _outcome("removeAttribute", ok, ret, expected);
        if (!ok) return;
        hasKey[g.id][k] = false;
        --g.attrs;
    }

    function share(uint256 actorSeed, uint256 regSeed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actorSeed % 4 != 0 ? g.owner : actors[actorSeed % 3];
        bytes4 expected = _mutableError(g, who);
        if (expected == bytes4(0)) {
            if (g.deletable) expected = BlobRegistry.RegistrationNotPermanent.selector;
            else if (ghostInvalid[g.blobId]) expected = BlobRegistry.BlobIsInvalid.selector;
            else if (staking.currentEpoch() >= g.end) expected = BlobRegistry.RegistrationExpired.selector;
        }
        vm.prank(who);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.shareRegistration, (g.id)));
        _outcome("share", ok, ret, expected);
        if (ok) g.shared = true;
    }

    /// @dev Any actor funds a registration with 0..20,000 FROST (an extension by one epoch costs 5,000).
    function fund(uint256 actorSeed, uint256 regSeed, uint256 amount) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actors[actorSeed % 3];
        amount = bound(amount, 0, 20_000);
        bytes4 expected = _sharedError(g);
        if (expected == bytes4(0) && amount == 0) expected = BlobRegistry.ZeroAmount.selector;
        uint256 before = wal.balanceOf(who);
        vm.prank(who);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(registry.fundSharedRegistration, (g.id, amount)));
        _outcome("fund", ok, ret, expected);
        if (!ok) return;
        if (before - wal.balanceOf(who) != amount) ++wrongCharges;
        ghostFunds[g.id] += amount;
        ghostFundsTotal += amount;
    }

    /// @dev Anyone extends a registration from its fund by 1..3 epochs.
    function extendShared(uint256 actorSeed, uint256 regSeed, uint32 epochs) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[regSeed % ghosts.length];
        address who = actors[actorSeed % 3];
        epochs = uint32(bound(epochs, 1, 3));
        (uint64 price,) = staking.prices();
        uint64 size = registry.storageResource(g.storageId).size;
        uint256 cost = _units(size) * epochs * price;
        uint32 current = staking.currentEpoch();
        bytes4 expected = _sharedError(g);
        if (expected == bytes4(0)) {
            if (uint256(g.end) + epochs > uint256(current) + 200) expected = BlobRegistry.TooManyEpochs.selector;
            else if (ghostFunds[g.id] < cost) expected = BlobRegistry.InsufficientFunds.selector;
        }
        uint256 actorsBefore = _balances();
        uint256 stakingBefore = wal.balanceOf(address(staking));
        vm.prank(who);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(registry.extendSharedRegistration, (g.id, epochs)));
        _outcome("extendShared", ok, ret, expected);
        if (!ok) return;
        if (wal.balanceOf(address(staking)) - stakingBefore != cost || _balances() != actorsBefore) ++wrongCharges;
        ghostFunds[g.id] -= cost;
        ghostFundsTotal -= cost;
        ghostPaid += cost;
        ghostByteEpochs += uint256(size) * epochs;
        g.end += epochs;
    }

    /// @dev Ends the epoch one call in four, up to epoch 12.
    function advanceEpoch(uint256 seed) external {
        if (seed % 4 != 0 || staking.currentEpoch() >= 12) return;
        vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration());
        staking.advanceEpoch();
        ++calls["advanceEpoch"];
        ++successes["advanceEpoch"];
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
