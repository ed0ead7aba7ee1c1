// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IBlobRegistry} from "./interfaces/IBlobRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {BLS} from "./libraries/BLS.sol";

/// @title floe blob registry: storage resources, blobs and BLS availability certificates
/// @notice Implements {IBlobRegistry}. Storage is bought in WAL from the prices in force at the
/// staking contract; every FROST paid goes straight to the staking contract and is handed to
/// `fundRewards` for the epochs it pays for (storage: the epochs covered; write fee: the current
/// epoch).
/// @dev Rules the interface leaves open, fixed here:
/// - Storage resources cover epochs [startEpoch, endEpoch); a blob can be registered against a
///   free resource of its owner that covers the current epoch and holds at least its encoded size.
///   The blob's end epoch is the resource's end epoch. Only free resources can be split.
///   Only the owner may split or extend a resource; extending a used resource extends its blob.
/// - A blob id that is Registered or Certified and unexpired cannot be registered again
///   ({BlobAlreadyRegistered}). Once deleted or expired it may be registered anew: that is a
///   fresh registration (new owner, storage, epochs; the old record is overwritten). An Invalid
///   blob id can never be registered again: its id fixes its (inconsistent) metadata.
/// - Anyone may extend a certified blob (paying); only the owner may delete a deletable blob,
///   Registered or Certified and unexpired; its storage goes back to the owner, free.
/// - Invalidation needs a certificate of f+1 shards (3w >= n+1) and applies to Registered or
///   Certified unexpired blobs; the blob's storage stays used (no refund).
/// - Certificates: the committee of `cert.epoch`, which must be the current epoch. The aggregate
///   key is the epoch's aggregate key minus the non-signers' keys, so a certificate where most
///   members sign costs few G1 additions; weight = n - the non-signers' shards.
/// - Certificate checks (gas): one call to the staking contract returns the current epoch and the
///   address of the committee's certificate data ({IStaking-certificateData}); the header
///   (committee size, n, aggregate key) and each non-signer's key and shard count are read from
///   that contract's code with EXTCODECOPY: one cold account, then ~1.7k per non-signer (a warm
///   copy and a G1 addition).
/// - Ends are bounded: a resource may end at most {MAX_EPOCHS_AHEAD} epochs after the current one.
/// - Storage layout (gas): a blob is one packed slot keyed by its id; its root lives in its storage
///   resource (an existing slot, cheap to rewrite) rather than in a new slot, and moves to a slot of
///   its own only when the blob is deleted (its resource may then be reused). A resource's `usedBy`
///   is derived from the root, size and type it holds. A new resource's root slot is born non-zero,
///   so taking it rewrites a non-zero slot (the pattern OpenZeppelin's ReentrancyGuard uses).
///   A blob's owner is its storage resource's owner (resources are not transferable).
contract BlobRegistry is IBlobRegistry {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when no blob was ever registered under `blobId`.
    error UnknownBlob(bytes32 blobId);
    /// @notice Thrown when the blob's state does not allow the operation.
    error WrongBlobState(bytes32 blobId, BlobState state);
    /// @notice Thrown when registering a blob id that is Registered or Certified and unexpired.
    error BlobAlreadyRegistered(bytes32 blobId, BlobState state, uint32 endEpoch);
    /// @notice Thrown when registering a blob id that was marked invalid.
    error BlobIsInvalid(bytes32 blobId);
    /// @notice Thrown when the blob's end epoch has passed (`currentEpoch >= endEpoch`).
    error BlobExpired(bytes32 blobId, uint32 endEpoch, uint32 currentEpoch);
    /// @notice Thrown when deleting a permanent (not deletable) blob.
    error BlobNotDeletable(bytes32 blobId);
    /// @notice Thrown when someone other than the blob's owner deletes it.
    error NotBlobOwner(bytes32 blobId, address owner, address caller);
    /// @notice Thrown when the unencoded size exceeds the largest encodable blob.
    error BlobTooLarge(uint64 size, uint64 maxSize);
    /// @notice Thrown for an encoding type other than 1 (Red Stuff).
    error BadEncodingType(uint8 encodingType);
    /// @notice Thrown when no storage resource has id `storageId`.
    error UnknownStorage(uint256 storageId);
    /// @notice Thrown when the caller does not own the storage resource.
    error NotStorageOwner(uint256 storageId, address owner, address caller);
    /// @notice Thrown when the storage resource holds fewer encoded bytes than needed.
    error StorageTooSmall(uint256 storageId, uint64 size, uint64 needed);
    /// @notice Thrown when the storage resource no longer covers the current epoch.
    error StorageExpired(uint256 storageId, uint32 endEpoch, uint32 currentEpoch);
    /// @notice Thrown when the storage resource does not cover the current epoch yet.
    error StorageNotStarted(uint256 storageId, uint32 startEpoch, uint32 currentEpoch);
    /// @notice Thrown when the storage resource is used by blob `blobId`.
    error StorageInUse(uint256 storageId, bytes32 blobId);
    /// @notice Thrown when a split by size does not leave both parts non-empty.
    error InvalidSplitSize(uint256 storageId, uint64 size, uint64 totalSize);
    /// @notice Thrown when a split epoch is not strictly inside [startEpoch, endEpoch).
    error InvalidSplitEpoch(uint256 storageId, uint32 epoch, uint32 startEpoch, uint32 endEpoch);
    /// @notice Thrown when buying zero bytes.
    error ZeroSize();
    /// @notice Thrown when buying or extending by zero epochs.
    error ZeroEpochs();
    /// @notice Thrown when a resource would end later than `maxEndEpoch`.
    error TooManyEpochs(uint256 endEpoch, uint256 maxEndEpoch);
    /// @notice Thrown when a certificate is not for the current epoch.
    error WrongEpoch(uint32 certificateEpoch, uint32 currentEpoch);
    /// @notice Thrown when the epoch has no committee (genesis): nothing can be certified.
    error NoCommittee(uint32 epoch);
    /// @notice Thrown when the signers bitmap length is not ceil(committeeSize / 8).
    error BitmapLength(uint256 length, uint256 expected);
    /// @notice Thrown when the bitmap names a signer beyond the committee.
    error SignerOutOfRange(uint256 index, uint256 committeeSize);
    /// @notice Thrown when the signers hold too few shards: `weight` of `needed`.
    error ShortOfQuorum(uint256 weight, uint256 needed);
    /// @notice Thrown when the aggregate signature does not verify (or is not 256 bytes).
    error BadSignature();
    /// @notice Thrown when the epoch's certificate data (from the staking contract) is malformed:
    /// a code length other than 101 + 98 * size, an empty committee, a shard count other than
    /// n, non-signers holding more than n shards, or a key the G1 addition rejects.
    error InvalidCommitteeData(uint32 epoch);
    /// @notice Thrown when certifying an empty list of blobs.
    error EmptyBatch();

    // ------------------------------------------------------------------ constants

    /// @notice The only encoding type: Red Stuff.
    uint8 public constant RED_STUFF = 1;
    /// @notice How many epochs past the current one a resource may end at most.
    uint32 public constant MAX_EPOCHS_AHEAD = 200;
    /// @notice Prices are per MiB (rounded up) of encoded size.
    uint256 private constant MIB = 1 << 20;
    /// @dev Initial value of a new resource's root slot (meaningless while the resource is free).
    bytes32 private constant UNUSED_ROOT = bytes32(uint256(1));
    /// @dev The BLS12-381 base field modulus p: its top 16 bytes and its low 32 bytes.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint8 private constant INTENT_CERTIFY = 1;
    uint8 private constant INTENT_INVALID = 2;
    /// @dev Certificate data layout (IStaking.certificateData): header up to the first record, record size.
    uint256 private constant DATA_HEADER = 101;
    uint256 private constant DATA_RECORD = 98;
    /// @dev Gas handed to G1ADD (375 in Prague): a malformed point burns only this much.
    uint256 private constant G1_ADD_GAS = 1000;

    // ------------------------------------------------------------------ storage

    /// @dev A blob record, one slot; its root is in its resource (or `_deletedRoots` once deleted).
    struct Blob {
        uint64 storageId;
        BlobState state;
        bool deletable;
        uint32 registeredEpoch;
        uint32 certifiedEpoch;
        uint32 endEpoch;
        uint64 size;
        uint8 encodingType;
    }

    /// @dev A storage resource: [owner, start, end], [size, used, the blob's size and type], [the blob's root].
    struct Resource {
        address owner;
        uint32 startEpoch;
        uint32 endEpoch;
        uint64 size;
        bool used;
        uint64 blobSize;
        uint8 blobType;
        bytes32 root;
    }

    IStaking private immutable _staking;
    IERC20 private immutable _wal;
    /// @dev Shards n, and the Red Stuff shape derived from it.
    uint256 private immutable _n;
    uint256 private immutable _k1;
    uint256 private immutable _k2;
    uint64 private immutable _maxBlobSize;

    uint64 private _nextStorageId = 1;
    mapping(uint256 storageId => Resource) private _resources;
    mapping(bytes32 blobId => Blob) private _blobs;
    /// @dev Roots of deleted blobs (their resources may hold other blobs now).
    mapping(bytes32 blobId => bytes32) private _deletedRoots;

    // ------------------------------------------------------------------ construction

    /// @param staking_ The staking contract (its WAL and shard count are read once).
    constructor(address staking_) {
        _staking = IStaking(staking_);
        _wal = IERC20(IStaking(staking_).wal());
        uint256 n = IStaking(staking_).nShards();
        uint256 f = (n - 1) / 3;
        _n = n;
        _k1 = n - 2 * f;
        _k2 = n - f;
        _maxBlobSize = uint64((n - 2 * f) * (n - f) * 65534);
    }

    // ------------------------------------------------------------------ storage resources

    /// @inheritdoc IBlobRegistry
    function buyStorage(uint64 size, uint32 epochs) external returns (uint256 storageId) {
        uint32 current = _staking.currentEpoch();
        (uint64 storagePrice,) = _staking.prices();
        uint256 cost = _storagePrice(size, epochs, storagePrice);
        uint32 end = _checkedEnd(current, epochs);
        if (size == 0) revert ZeroSize();
        storageId = _newResource(msg.sender, current, end, size);
        emit StorageBought(storageId, msg.sender, size, current, end, cost);
        _pay(cost, current, epochs, 0, current);
    }

    /// @inheritdoc IBlobRegistry
    function splitStorageBySize(uint256 storageId, uint64 size) external returns (uint256 newStorageId) {
        Resource storage r = _ownedFree(storageId);
        uint64 total = r.size;
        if (size == 0 || size >= total) revert InvalidSplitSize(storageId, size, total);
        r.size = size;
        newStorageId = _newResource(msg.sender, r.startEpoch, r.endEpoch, total - size);
        emit StorageSplit(storageId, newStorageId);
    }

    /// @inheritdoc IBlobRegistry
    function splitStorageByEpoch(uint256 storageId, uint32 epoch) external returns (uint256 newStorageId) {
        Resource storage r = _ownedFree(storageId);
        (uint32 start, uint32 end) = (r.startEpoch, r.endEpoch);
        if (epoch <= start || epoch >= end) revert InvalidSplitEpoch(storageId, epoch, start, end);
        r.endEpoch = epoch;
        newStorageId = _newResource(msg.sender, epoch, end, r.size);
        emit StorageSplit(storageId, newStorageId);
    }

    /// @inheritdoc IBlobRegistry
    /// @dev Owner only; the resource must not have expired. If a blob uses it, the blob (which
    /// must be Registered or Certified) is extended too.
    function extendStorage(uint256 storageId, uint32 epochs) external {
        Resource storage r = _resources[storageId];
        address owner = r.owner;
        if (owner == address(0)) revert UnknownStorage(storageId);
        if (owner != msg.sender) revert NotStorageOwner(storageId, owner, msg.sender);
        uint32 current = _staking.currentEpoch();
        uint32 end = r.endEpoch;
        if (current >= end) revert StorageExpired(storageId, end, current);
        bytes32 usedBy = _usedBy(r);
        if (usedBy != bytes32(0)) {
            BlobState state = _blobs[usedBy].state;
            if (state != BlobState.Registered && state != BlobState.Certified) revert WrongBlobState(usedBy, state);
        }
        _extend(storageId, r, usedBy, epochs, false);
    }

    // ------------------------------------------------------------------ blobs

    /// @inheritdoc IBlobRegistry
    function registerBlob(uint256 storageId, bytes32 root, uint64 size, uint8 encodingType, bool deletable)
        external
        returns (bytes32 blobId)
    {
        uint32 current = _staking.currentEpoch();
        uint64 encoded = _encodedSize(size, encodingType);
        Resource storage r = _resources[storageId];
        address owner = r.owner;
        if (owner == address(0)) revert UnknownStorage(storageId);
        if (owner != msg.sender) revert NotStorageOwner(storageId, owner, msg.sender);
        uint32 end = r.endEpoch;
        if (current >= end) revert StorageExpired(storageId, end, current);
        if (r.startEpoch > current) revert StorageNotStarted(storageId, r.startEpoch, current);
        if (r.size < encoded) revert StorageTooSmall(storageId, r.size, encoded);
        if (r.used) revert StorageInUse(storageId, _usedBy(r));

        blobId = _register(storageId, root, size, encodingType, deletable, current, end);
        (, uint64 writePrice) = _staking.prices();
        uint256 fee = _units(encoded) * writePrice;
        _pay(fee, current, 1, 0, current);
    }

    /// @inheritdoc IBlobRegistry
    function registerBlobWithNewStorage(bytes32 root, uint64 size, uint8 encodingType, bool deletable, uint32 epochs)
        external
        returns (bytes32 blobId, uint256 storageId)
    {
        uint32 current = _staking.currentEpoch();
        uint64 encoded = _encodedSize(size, encodingType);
        (uint64 storagePrice, uint64 writePrice) = _staking.prices();
        uint256 cost = _storagePrice(encoded, epochs, storagePrice);
        uint32 end = _checkedEnd(current, epochs);
        storageId = _newResource(msg.sender, current, end, encoded);
        emit StorageBought(storageId, msg.sender, encoded, current, end, cost);
        blobId = _register(storageId, root, size, encodingType, deletable, current, end);
        _pay(cost, current, epochs, _units(encoded) * writePrice, current);
    }

    /// @inheritdoc IBlobRegistry
    function certifyBlob(bytes32 blobId, Certificate calldata cert) external {
        (uint32 current, address data) = _staking.currentCertificateData();
        bool deletable = _markCertified(blobId, current);
        bytes32 body;
        assembly ("memory-safe") {
            mstore(0x00, blobId)
            mstore8(0x20, deletable)
            body := keccak256(0x00, 33)
        }
        _verifyCertificate(cert, current, data, INTENT_CERTIFY, body, false);
    }

    /// @inheritdoc IBlobRegistry
    function certifyBlobs(bytes32[] calldata blobIds, Certificate calldata cert) external {
        uint256 count = blobIds.length;
        if (count == 0) revert EmptyBatch();
        (uint32 current, address data) = _staking.currentCertificateData();
        bytes memory packed = new bytes(count * 33);
        for (uint256 i; i < count; ++i) {
            bytes32 blobId = blobIds[i];
            bool deletable = _markCertified(blobId, current);
            assembly ("memory-safe") {
                let p := add(add(packed, 0x20), mul(i, 33))
                mstore(p, blobId)
                mstore8(add(p, 32), deletable)
            }
        }
        _verifyCertificate(cert, current, data, INTENT_CERTIFY, keccak256(packed), false);
    }

    /// @inheritdoc IBlobRegistry
    /// @dev Anyone may pay to extend a Certified, unexpired blob; its storage resource is extended with it.
    function extendBlob(bytes32 blobId, uint32 epochs) external {
        Blob storage b = _blobs[blobId];
        BlobState state = b.state;
        if (state == BlobState.None) revert UnknownBlob(blobId);
        if (state != BlobState.Certified) revert WrongBlobState(blobId, state);
        uint256 storageId = b.storageId;
        _extend(storageId, _resources[storageId], blobId, epochs, true);
    }

    /// @inheritdoc IBlobRegistry
    function deleteBlob(bytes32 blobId) external returns (uint256 storageId) {
        Blob storage b = _blobs[blobId];
        BlobState state = b.state;
        if (state == BlobState.None) revert UnknownBlob(blobId);
        if (state != BlobState.Registered && state != BlobState.Certified) revert WrongBlobState(blobId, state);
        storageId = b.storageId;
        Resource storage r = _resources[storageId];
        address owner = r.owner;
        if (owner != msg.sender) revert NotBlobOwner(blobId, owner, msg.sender);
        if (!b.deletable) revert BlobNotDeletable(blobId);
        uint32 current = _staking.currentEpoch();
        uint32 end = b.endEpoch;
        if (current >= end) revert BlobExpired(blobId, end, current);
        b.state = BlobState.Deleted;
        r.used = false;
        _deletedRoots[blobId] = r.root;
        emit BlobDeleted(blobId, current, storageId);
    }

    /// @inheritdoc IBlobRegistry
    function invalidateBlob(bytes32 blobId, Certificate calldata cert) external {
        Blob storage b = _blobs[blobId];
        BlobState state = b.state;
        if (state == BlobState.None) revert UnknownBlob(blobId);
        if (state != BlobState.Registered && state != BlobState.Certified) revert WrongBlobState(blobId, state);
        (uint32 current, address data) = _staking.currentCertificateData();
        uint32 end = b.endEpoch;
        if (current >= end) revert BlobExpired(blobId, end, current);
        b.state = BlobState.Invalid;
        emit BlobInvalidated(blobId, current);
        _verifyCertificate(cert, current, data, INTENT_INVALID, blobId, true);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IBlobRegistry
    function blob(bytes32 blobId) external view returns (BlobInfo memory info) {
        Blob storage b = _blobs[blobId];
        Resource storage r = _resources[b.storageId];
        BlobState state = b.state;
        info = BlobInfo({
            owner: r.owner,
            size: b.size,
            encodingType: b.encodingType,
            deletable: b.deletable,
            state: state,
            registeredEpoch: b.registeredEpoch,
            certifiedEpoch: b.certifiedEpoch,
            endEpoch: b.endEpoch,
            storageId: b.storageId,
            root: state == BlobState.Deleted ? _deletedRoots[blobId] : (state == BlobState.None ? bytes32(0) : r.root)
        });
    }

    /// @inheritdoc IBlobRegistry
    function storageResource(uint256 storageId) external view returns (StorageResource memory res) {
        Resource storage r = _resources[storageId];
        res = StorageResource({
            owner: r.owner, startEpoch: r.startEpoch, endEpoch: r.endEpoch, size: r.size, usedBy: _usedBy(r)
        });
    }

    /// @inheritdoc IBlobRegistry
    function encodedSize(uint64 size) external view returns (uint64) {
        return _encodedSize(size, RED_STUFF);
    }

    /// @inheritdoc IBlobRegistry
    /// @dev `storage_` = ceil(size / MiB) * epochs * storage price; `write` = ceil(size / MiB) * write price,
    /// both for `size` encoded bytes at the prices in force.
    function storageCost(uint64 size, uint32 epochs) external view returns (uint256 storage_, uint256 write) {
        (uint64 storagePrice, uint64 writePrice) = _staking.prices();
        storage_ = _units(size) * epochs * storagePrice;
        write = _units(size) * writePrice;
    }

    /// @inheritdoc IBlobRegistry
    function staking() external view returns (address) {
        return address(_staking);
    }

    /// @inheritdoc IBlobRegistry
    function wal() external view returns (address) {
        return address(_wal);
    }

    /// @notice The largest unencoded blob size, (n-2f)(n-f) * 65534 bytes.
    function maxBlobSize() external view returns (uint64) {
        return _maxBlobSize;
    }

    /// @notice The id the next storage resource will get (ids start at 1 and count up).
    function nextStorageId() external view returns (uint256) {
        return _nextStorageId;
    }

    // ------------------------------------------------------------------ internals

    function _newResource(address owner, uint32 start, uint32 end, uint64 size) private returns (uint256 id) {
        id = _nextStorageId;
        // forge-lint: disable-next-line(unsafe-typecast) ids count up by one from 1: never near 2^64
        _nextStorageId = uint64(id + 1);
        Resource storage r = _resources[id];
        r.owner = owner;
        r.startEpoch = start;
        r.endEpoch = end;
        r.size = size;
        r.root = UNUSED_ROOT;
    }

    function _ownedFree(uint256 storageId) private view returns (Resource storage r) {
        r = _resources[storageId];
        address owner = r.owner;
        if (owner == address(0)) revert UnknownStorage(storageId);
        if (owner != msg.sender) revert NotStorageOwner(storageId, owner, msg.sender);
        if (r.used) revert StorageInUse(storageId, _usedBy(r));
    }

    /// @dev The id of the blob using `r`, or zero if it is free.
    function _usedBy(Resource storage r) private view returns (bytes32) {
        if (!r.used) return bytes32(0);
        return keccak256(abi.encodePacked(r.blobType, r.blobSize, r.root));
    }

    /// @dev Records blob (`encodingType`, `size`, `root`) as Registered on `storageId` until `end`
    /// and marks the resource used; reverts if the id is live or invalid.
    function _register(
        uint256 storageId,
        bytes32 root,
        uint64 size,
        uint8 encodingType,
        bool deletable,
        uint32 current,
        uint32 end
    ) private returns (bytes32 blobId) {
        blobId = keccak256(abi.encodePacked(encodingType, size, root));
        Blob storage b = _blobs[blobId];
        {
            BlobState state = b.state;
            if (state == BlobState.Invalid) revert BlobIsInvalid(blobId);
            if ((state == BlobState.Registered || state == BlobState.Certified) && current < b.endEpoch) {
                revert BlobAlreadyRegistered(blobId, state, b.endEpoch);
            }
        }
        {
            // One SSTORE of the whole record (layout of `Blob`, low-order bytes first; certifiedEpoch 0).
            // forge-lint: disable-next-line(unsafe-typecast) storage ids are below 2^64 (see _newResource)
            uint256 word = uint256(uint64(storageId)) | (uint256(uint8(BlobState.Registered)) << 64)
                | (deletable ? uint256(1) << 72 : 0) | (uint256(current) << 80) | (uint256(end) << 144)
                | (uint256(size) << 176) | (uint256(encodingType) << 240);
            assembly ("memory-safe") {
                sstore(b.slot, word)
            }
        }
        Resource storage r = _resources[storageId];
        r.used = true;
        r.blobSize = size;
        r.blobType = encodingType;
        r.root = root;
        // emit BlobRegistered(blobId, msg.sender, size, encodingType, deletable, current, end, storageId, root),
        // in assembly: too many values for the stack otherwise.
        bytes32 topic = BlobRegistered.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, and(size, 0xffffffffffffffff))
            mstore(add(m, 0x20), and(encodingType, 0xff))
            mstore(add(m, 0x40), iszero(iszero(deletable)))
            mstore(add(m, 0x60), and(current, 0xffffffff))
            mstore(add(m, 0x80), and(end, 0xffffffff))
            mstore(add(m, 0xa0), storageId)
            mstore(add(m, 0xc0), root)
            log3(m, 0xe0, topic, blobId, caller())
        }
    }

    /// @dev Extends resource `r` (and blob `blobId`, if non-zero) by `epochs`; the caller pays.
    /// An expired target reverts with {BlobExpired} if `asBlob`, else {StorageExpired}.
    function _extend(uint256 storageId, Resource storage r, bytes32 blobId, uint32 epochs, bool asBlob) private {
        uint32 current = _staking.currentEpoch();
        uint32 end = r.endEpoch;
        if (current >= end) {
            if (asBlob) revert BlobExpired(blobId, end, current);
            revert StorageExpired(storageId, end, current);
        }
        (uint64 storagePrice,) = _staking.prices();
        uint256 cost = _storagePrice(r.size, epochs, storagePrice);
        uint32 newEnd = _checkedEnd(current, uint256(end - current) + epochs);
        r.endEpoch = newEnd;
        emit StorageExtended(storageId, newEnd, cost);
        if (blobId != bytes32(0)) {
            _blobs[blobId].endEpoch = newEnd;
            emit BlobExtended(blobId, newEnd);
        }
        _pay(cost, end, epochs, 0, current);
    }

    /// @dev Marks a Registered, unexpired blob Certified; returns its deletable flag. One SLOAD and
    /// one SSTORE of the packed record (layout of `Blob`, low-order bytes first).
    function _markCertified(bytes32 blobId, uint32 current) private returns (bool deletable) {
        Blob storage b = _blobs[blobId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(b.slot)
        }
        // Fields of the packed record: truncation to each field's width is the point.
        // forge-lint: disable-next-line(unsafe-typecast)
        BlobState state = BlobState(uint8(word >> 64));
        if (state != BlobState.Registered) {
            if (state == BlobState.None) revert UnknownBlob(blobId);
            revert WrongBlobState(blobId, state);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 end = uint32(word >> 144);
        if (current >= end) revert BlobExpired(blobId, end, current);
        // forge-lint: disable-next-line(unsafe-typecast)
        deletable = uint8(word >> 72) != 0;
        word = (word & ~((uint256(0xff) << 64) | (uint256(0xffffffff) << 112)))
            | (uint256(uint8(BlobState.Certified)) << 64) | (uint256(current) << 112);
        assembly ("memory-safe") {
            sstore(b.slot, word)
        }
        emit BlobCertified(blobId, current, end, deletable);
    }

    /// @dev Checks `cert` over the 65-byte message (intent, chain id, this, epoch, body) against the
    /// current committee, whose certificate data is at `data`; reverts with the reason if it does not hold.
    function _verifyCertificate(
        Certificate calldata cert,
        uint32 current,
        address data,
        uint8 intent,
        bytes32 body,
        bool invalidation
    ) private view {
        bytes memory key = _signersKey(cert, current, data, invalidation);
        if (cert.signature.length != 256) revert BadSignature();
        bytes memory message = abi.encodePacked(intent, uint64(block.chainid), address(this), current, body);
        if (!BLS.verify(key, message, cert.signature)) revert BadSignature();
    }

    /// @dev Checks the certificate's epoch, bitmap and quorum; returns the signers' aggregate key:
    /// the epoch's aggregate key minus the non-signers' keys.
    function _signersKey(Certificate calldata cert, uint32 current, address data, bool invalidation)
        private
        view
        returns (bytes memory aggregateKey)
    {
        uint32 epoch = cert.epoch;
        if (epoch != current) revert WrongEpoch(epoch, current);
        if (data == address(0)) revert NoCommittee(epoch);
        // The key (128 bytes), then an operand (128 bytes: G1ADD reads key | operand), then room
        // for one record copied from the data (98 of 128 bytes).
        assembly ("memory-safe") {
            aggregateKey := mload(0x40)
            mstore(aggregateKey, 128)
            mstore(0x40, add(aggregateKey, 0x1a0))
        }
        uint256 committeeSize = _readHeader(epoch, data, aggregateKey);
        uint256 missing = _nonSigners(epoch, data, cert.signers, committeeSize, aggregateKey);
        uint256 n = _n;
        if (missing > n) revert InvalidCommitteeData(epoch);
        uint256 weight = n - missing;
        uint256 needed = invalidation ? (n + 3) / 3 : (2 * n + 3) / 3;
        if (weight < needed) revert ShortOfQuorum(weight, needed);
    }

    /// @dev Reads the header of the certificate data at `data` (committee size, n, aggregate key),
    /// writes the aggregate key into `key` (EIP-2537, 128 bytes) and returns the committee size.
    /// Checks the code length against the size, and n against this registry's.
    function _readHeader(uint32 epoch, address data, bytes memory key) private view returns (uint256 size) {
        uint256 n;
        bool ok;
        assembly ("memory-safe") {
            let raw := add(key, 0x120)
            let codeSize := extcodesize(data)
            // [1, 3) size | [3, 5) n | [5, 101) x (48 bytes) | y (48 bytes)
            extcodecopy(data, raw, 1, 100)
            let word := mload(raw)
            size := shr(240, word)
            n := and(shr(224, word), 0xffff)
            ok := and(iszero(iszero(size)), eq(codeSize, add(DATA_HEADER, mul(size, DATA_RECORD))))
            let src := add(raw, 4)
            let dst := add(key, 0x20)
            mstore(dst, shr(128, mload(src)))
            mstore(add(dst, 0x20), mload(add(src, 16)))
            mstore(add(dst, 0x40), shr(128, mload(add(src, 48))))
            mstore(add(dst, 0x60), mload(add(src, 64)))
        }
        if (!ok || n != _n) revert InvalidCommitteeData(epoch);
    }

    /// @dev Shards of the members whose bit is clear; their keys are subtracted from `key`.
    /// Bytes with every bit set (the common case) cost one comparison.
    function _nonSigners(uint32 epoch, address data, bytes calldata signers, uint256 committeeSize, bytes memory key)
        private
        view
        returns (uint256 missing)
    {
        uint256 expected = (committeeSize + 7) >> 3;
        if (signers.length != expected) revert BitmapLength(signers.length, expected);
        uint256 last = expected - 1;
        for (uint256 j; j < expected; ++j) {
            uint256 bits;
            assembly ("memory-safe") {
                bits := byte(0, calldataload(add(signers.offset, j)))
            }
            // Members in this byte: 8, or fewer in the last one; bits past the committee must be clear.
            uint256 count = j == last ? committeeSize - (j << 3) : 8;
            // forge-lint: disable-next-line(incorrect-shift) a mask of `count` low bits
            uint256 all = (1 << count) - 1;
            if (bits == all) continue;
            if (bits > all) {
                uint256 k = count;
                while ((bits >> k) & 1 == 0) {
                    ++k;
                }
                revert SignerOutOfRange((j << 3) + k, committeeSize);
            }
            for (uint256 k; k < count; ++k) {
                if ((bits >> k) & 1 == 0) missing += _subtractMember(epoch, data, (j << 3) | k, key);
            }
        }
    }

    /// @dev key := key - member `index`'s key (G1, in place), both read from the certificate data
    /// at `data`; returns the member's shard count.
    function _subtractMember(uint32 epoch, address data, uint256 index, bytes memory key)
        private
        view
        returns (uint256 shards)
    {
        bool ok;
        assembly ("memory-safe") {
            let sum := add(key, 0x20)
            let op := add(key, 0xa0)
            let raw := add(key, 0x120)
            // Record: x (48 bytes) | y (48 bytes) | shards (2 bytes).
            extcodecopy(data, raw, add(DATA_HEADER, mul(index, DATA_RECORD)), DATA_RECORD)
            shards := shr(240, mload(add(raw, 96)))
            mstore(op, shr(128, mload(raw)))
            mstore(add(op, 0x20), mload(add(raw, 16)))
            let yHi := shr(128, mload(add(raw, 48)))
            let yLo := mload(add(raw, 64))
            // Negate: y := p - y unless the point is the identity (all zero).
            if or(yHi, yLo) {
                yHi := sub(sub(P_HI, yHi), lt(P_LO, yLo))
                yLo := sub(P_LO, yLo)
            }
            mstore(add(op, 0x40), yHi)
            mstore(add(op, 0x60), yLo)
            ok := staticcall(G1_ADD_GAS, 0x0b, sum, 256, sum, 128)
        }
        if (!ok) revert InvalidCommitteeData(epoch);
    }

    /// @dev Moves `amount + fee` FROST from the caller to staking and funds `amount` over
    /// [from, from + epochs) and `fee` to `feeEpoch`.
    function _pay(uint256 amount, uint32 from, uint32 epochs, uint256 fee, uint32 feeEpoch) private {
        uint256 total = amount + fee;
        if (total == 0) return;
        _wal.safeTransferFrom(msg.sender, address(_staking), total);
        if (amount != 0) _staking.fundRewards(from, epochs, amount);
        if (fee != 0) _staking.fundRewards(feeEpoch, 1, fee);
    }

    function _storagePrice(uint64 size, uint32 epochs, uint64 price) private pure returns (uint256) {
        if (epochs == 0) revert ZeroEpochs();
        return _units(size) * epochs * price;
    }

    function _checkedEnd(uint32 current, uint256 epochs) private pure returns (uint32) {
        uint256 end = uint256(current) + epochs;
        uint256 maxEnd = uint256(current) + MAX_EPOCHS_AHEAD;
        if (end > maxEnd) revert TooManyEpochs(end, maxEnd);
        // forge-lint: disable-next-line(unsafe-typecast) end <= current + MAX_EPOCHS_AHEAD, checked above
        return uint32(end);
    }

    function _units(uint64 size) private pure returns (uint256) {
        return (uint256(size) + MIB - 1) / MIB;
    }

    function _encodedSize(uint64 size, uint8 encodingType) private view returns (uint64) {
        if (encodingType != RED_STUFF) revert BadEncodingType(encodingType);
        if (size > _maxBlobSize) revert BlobTooLarge(size, _maxBlobSize);
        uint256 k = _k1 * _k2;
        uint256 symbol = (uint256(size) + k - 1) / k;
        symbol = (symbol + 1) & ~uint256(1);
        if (symbol < 2) symbol = 2;
        // forge-lint: disable-next-line(unsafe-typecast) n(k1 + k2) * 65534 + 64n < 2^50 for any uint16 n
        return uint64(_n * (_k1 + _k2) * symbol + _n * 64);
    }
}
