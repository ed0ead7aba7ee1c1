// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IBlobRegistry} from "./interfaces/IBlobRegistry.sol";
import {IFloeBlobs} from "./interfaces/IFloeBlobs.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {BLS} from "./libraries/BLS.sol";

/// @title floe blob registry: storage resources, registrations and BLS availability certificates
/// @notice Implements {IBlobRegistry} (and the dapp view {IFloeBlobs}). Storage is bought in WAL from the prices in force at the
/// staking contract; every FROST paid goes straight to the staking contract and is handed to
/// `fundRewards` for the epochs it pays for (storage: the epochs covered; write fee: the current
/// epoch).
/// @dev Rules the interface leaves open, fixed here:
/// - Storage resources cover epochs [startEpoch, endEpoch); a registration can be made against a
///   free resource of its owner that covers the current epoch and holds at least the encoded size.
///   The registration's end epoch is the resource's end epoch, and they move together. Only free
///   resources can be split. Only the owner may split or extend a resource; extending a used
///   resource extends its registration.
/// - Registrations: global ids from 1, never reused. Any number of registrations of one blob id
///   coexist, each with its own owner, storage, end, deletable flag and state. Certificates name
///   the registration (blob id, registration id, deletable flag), so a certificate can never
///   certify a registration made after it was signed, nor one with another deletable flag.
/// - Anyone may extend a permanent registration (paying); a deletable one only its owner (a third
///   party's payment could otherwise be deleted and its storage reused by the owner). Only the
///   owner may delete a deletable registration, Registered or Certified and unexpired; that ends
///   only that registration, and its storage goes back to the owner, free.
/// - Invalidity is per blob id: it needs a certificate of f+1 shards (3w >= n+1) and a live
///   (non-deleted, unexpired) registration of the id. Afterwards no registration of the id can be
///   made, certified, extended or deleted; storage stays used (no refund).
/// - Certificates: the committee of `cert.epoch`, which must be the current epoch. The aggregate
///   key is the epoch's aggregate key minus the non-signers' keys, so a certificate where most
///   members sign costs few G1 additions; weight = n - the non-signers' shards.
/// - Certificate checks (gas): one call to the staking contract returns the current epoch and the
///   address of the committee's certificate data ({IStaking-certificateData}); the header
///   (committee size, n, aggregate key) and each non-signer's key and shard count are read from
///   that contract's code with EXTCODECOPY: one cold account, then ~1.7k per non-signer (a warm
///   copy and a G1 addition).
/// - Ends are bounded: a resource may end at most {MAX_EPOCHS_AHEAD} epochs after the current one.
/// - Blob status maxima (gas-bounded whatever others do): permanent registrations are never
///   deleted, so their maxima only grow (one word). Deletable ones can go away: per blob id the
///   max end over non-deleted deletable registrations is cached; while the id has had at most one
///   such registration at a time, that is all. From the second concurrent one on, the id keeps
///   a multiset of their end epochs (a count per end epoch and a bitmap of ends with a nonzero
///   count, word = end >> 8); when the max's count drops to zero the next lower set bit above the
///   current epoch is found in at most two bitmap words (live ends lie within MAX_EPOCHS_AHEAD of
///   the current epoch; a max at or below the current epoch just means nothing lives). The same
///   for certified deletable registrations.
/// - Storage layout (gas): a registration is one packed slot keyed by its id; its root lives in its
///   storage resource (an existing slot, cheap to rewrite) and moves to a slot of its own only when
///   the registration is deleted (its resource may then be reused). A new resource's root slot is
///   born non-zero, so taking it rewrites a non-zero slot. A registration's owner is its storage
///   resource's owner. A blob id's status is one packed slot.
/// - Ownership moves: a free resource alone ({transferStorage}), a used one only with its
///   registration ({transferRegistration}: one write, the resource's owner). A deleted
///   registration's `owner` view is its former resource's current owner.
/// - Attributes: per registration at most {MAX_ATTRIBUTES} keys in an array, with an index by key
///   hash; removal swaps the last entry in. Every operation touches a bounded number of slots
///   (keys <= {MAX_KEY_LENGTH}, values <= {MAX_VALUE_LENGTH} bytes). A deleted registration's
///   attributes stay readable and frozen.
/// - Shared registrations (permanent; flag in bit 248 of the registration's slot): final. The
///   funds are the only WAL the registry ever holds (its balance is their sum); an extension from
///   a fund moves the cost to staking at once, like any payment. Funding an expired registration
///   or one of an invalid blob is refused: nothing could ever spend that money.
contract BlobRegistry is IBlobRegistry, IFloeBlobs {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when no registration has id `registrationId`.
    error UnknownRegistration(uint256 registrationId);
    /// @notice Thrown when the registration's state does not allow the operation.
    error WrongRegistrationState(uint256 registrationId, RegistrationState state);
    /// @notice Thrown when the registration's end epoch has passed (`currentEpoch >= endEpoch`).
    error RegistrationExpired(uint256 registrationId, uint32 endEpoch, uint32 currentEpoch);
    /// @notice Thrown when deleting a permanent (not deletable) registration.
    error RegistrationNotDeletable(uint256 registrationId);
    /// @notice Thrown when someone other than the owner deletes a registration or extends a deletable one.
    error NotRegistrationOwner(uint256 registrationId, address owner, address caller);
    /// @notice Thrown when no registration of `blobId` was ever made.
    error UnknownBlob(bytes32 blobId);
    /// @notice Thrown when the blob id was marked invalid.
    error BlobIsInvalid(bytes32 blobId);
    /// @notice Thrown when invalidating a blob id without a live registration (`endEpoch` is its
    /// status's max end over non-deleted registrations).
    error BlobNotLive(bytes32 blobId, uint32 endEpoch, uint32 currentEpoch);
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
    /// @notice Thrown when the storage resource is used by registration `registrationId`.
    error StorageInUse(uint256 storageId, uint256 registrationId);
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
    /// @notice Thrown when certifying an empty list of registrations.
    error EmptyBatch();
    /// @notice Thrown when transferring to the zero address.
    error ZeroAddress();
    /// @notice Thrown when funding a shared registration with zero FROST.
    error ZeroAmount();
    /// @notice Thrown when transferring, changing the attributes of or sharing again a shared registration.
    error RegistrationIsShared(uint256 registrationId);
    /// @notice Thrown when funding or extending from a fund a registration that is not shared.
    error RegistrationNotShared(uint256 registrationId);
    /// @notice Thrown when sharing a deletable registration (only permanent ones can be shared).
    error RegistrationNotPermanent(uint256 registrationId);
    /// @notice Thrown when a shared registration's fund (`balance`) is short of an extension's `cost`.
    error InsufficientFunds(uint256 registrationId, uint256 balance, uint256 cost);
    /// @notice Thrown when an attribute key is empty or longer than `maxLength` bytes.
    error AttributeKeyLength(uint256 length, uint256 maxLength);
    /// @notice Thrown when an attribute value is longer than `maxLength` bytes.
    error AttributeValueTooLong(uint256 length, uint256 maxLength);
    /// @notice Thrown when a new key would give a registration more than `maxAttributes` attributes.
    error TooManyAttributes(uint256 registrationId, uint256 maxAttributes);
    /// @notice Thrown when removing a key the registration has no attribute for.
    error AttributeNotFound(uint256 registrationId, string key);

    // ------------------------------------------------------------------ constants

    /// @notice The only encoding type: Red Stuff.
    uint8 public constant RED_STUFF = 1;
    /// @notice How many epochs past the current one a resource may end at most.
    uint32 public constant MAX_EPOCHS_AHEAD = 200;
    /// @notice Most attributes one registration may have.
    uint256 public constant MAX_ATTRIBUTES = 16;
    /// @notice Longest attribute key, in bytes (keys are 1..64 bytes).
    uint256 public constant MAX_KEY_LENGTH = 64;
    /// @notice Longest attribute value, in bytes.
    uint256 public constant MAX_VALUE_LENGTH = 1024;
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
    /// @dev Bytes per registration in a certify body: blob id, registration id, deletable flag.
    uint256 private constant CERTIFY_ITEM = 65;

    // ------------------------------------------------------------------ storage

    /// @dev A registration, one slot; its root is in its resource (or `_deletedRoots` once deleted).
    struct Registration {
        uint64 storageId;
        RegistrationState state;
        bool deletable;
        uint32 registeredEpoch;
        uint32 certifiedEpoch;
        uint32 endEpoch;
        uint64 size;
        uint8 encodingType;
        bool shared;
    }

    /// @dev A blob id's status, one slot. `delEnd`/`delCertEnd`: max end over the non-deleted
    /// (certified) deletable registrations; exact while above the current epoch (see the contract
    /// notes). `multi`/`multiCert`: the end multiset in `_delEnds`/`_delCertEnds` is in use.
    struct BlobRecord {
        bool invalid;
        bool multi;
        bool multiCert;
        uint32 registrations;
        uint32 permEnd;
        uint32 delEnd;
        uint32 permCertEnd;
        uint32 delCertEnd;
        uint64 firstRegistration;
    }

    /// @dev A multiset of end epochs: count per end, and a bitmap (word = end >> 8) of ends with a nonzero count.
    struct EndSet {
        mapping(uint256 end => uint256) count;
        mapping(uint256 word => uint256) bits;
    }

    /// @dev A storage resource: [owner, start, end], [size, the registration using it], [its root].
    struct Resource {
        address owner;
        uint32 startEpoch;
        uint32 endEpoch;
        uint64 size;
        uint64 usedBy;
        bytes32 root;
    }

    IStaking private immutable _staking;
    IERC20 private immutable _wal;
    /// @dev Shards n, and the Red Stuff shape derived from it.
    uint256 private immutable _n;
    uint256 private immutable _k1;
    uint256 private immutable _k2;
    uint64 private immutable _maxBlobSize;

    /// @dev Both counters share a slot.
    uint64 private _nextStorageId = 1;
    uint64 private _nextRegistrationId = 1;
    mapping(uint256 storageId => Resource) private _resources;
    mapping(uint256 registrationId => Registration) private _registrations;
    mapping(bytes32 blobId => BlobRecord) private _blobs;
    mapping(bytes32 blobId => EndSet) private _delEnds;
    mapping(bytes32 blobId => EndSet) private _delCertEnds;
    /// @dev Roots of deleted registrations (their resources may hold other registrations now).
    mapping(uint256 registrationId => bytes32) private _deletedRoots;

    /// @dev A registration's attributes, and where each key is in them (index + 1; 0 = absent).
    struct Attributes {
        Attribute[] items;
        mapping(bytes32 keyHash => uint256) position;
    }

    mapping(uint256 registrationId => Attributes) private _attributes;
    /// @dev FROST funding each shared registration, held by this contract.
    mapping(uint256 registrationId => uint256) private _sharedFunds;

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
        _pay(cost, current, epochs, 0, current, false);
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
    /// @dev If a registration uses the resource, its blob must not be invalid ({BlobIsInvalid}).
    function extendStorage(uint256 storageId, uint32 epochs) external {
        Resource storage r = _resources[storageId];
        address owner = r.owner;
        if (owner == address(0)) revert UnknownStorage(storageId);
        if (owner != msg.sender) revert NotStorageOwner(storageId, owner, msg.sender);
        uint32 current = _staking.currentEpoch();
        uint32 end = r.endEpoch;
        if (current >= end) revert StorageExpired(storageId, end, current);
        uint256 usedBy = r.usedBy;
        bytes32 blobId;
        if (usedBy != 0) {
            Registration storage g = _registrations[usedBy];
            blobId = _blobIdOf(g, r.root);
            if (_blobs[blobId].invalid) revert BlobIsInvalid(blobId);
        }
        _extend(storageId, r, usedBy, blobId, epochs, current, false);
    }

    // ------------------------------------------------------------------ registrations

    /// @inheritdoc IBlobRegistry
    function registerBlob(uint256 storageId, bytes32 root, uint64 size, uint8 encodingType, bool deletable)
        external
        returns (uint256 registrationId, bytes32 blobId)
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
        if (r.usedBy != 0) revert StorageInUse(storageId, r.usedBy);

        (registrationId, blobId) = _register(storageId, root, size, encodingType, deletable, current, end);
        (, uint64 writePrice) = _staking.prices();
        uint256 fee = _units(encoded) * writePrice;
        _pay(fee, current, 1, 0, current, false);
    }

    /// @inheritdoc IBlobRegistry
    function registerBlobWithNewStorage(bytes32 root, uint64 size, uint8 encodingType, bool deletable, uint32 epochs)
        external
        returns (uint256 registrationId, bytes32 blobId, uint256 storageId)
    {
        uint32 current = _staking.currentEpoch();
        uint64 encoded = _encodedSize(size, encodingType);
        (uint64 storagePrice, uint64 writePrice) = _staking.prices();
        uint256 cost = _storagePrice(encoded, epochs, storagePrice);
        uint32 end = _checkedEnd(current, epochs);
        storageId = _newResource(msg.sender, current, end, encoded);
        emit StorageBought(storageId, msg.sender, encoded, current, end, cost);
        (registrationId, blobId) = _register(storageId, root, size, encodingType, deletable, current, end);
        _pay(cost, current, epochs, _units(encoded) * writePrice, current, false);
    }

    /// @inheritdoc IBlobRegistry
    function certifyRegistration(uint256 registrationId, Certificate calldata cert) external {
        (uint32 current, address data) = _staking.currentCertificateData();
        (bytes32 blobId, bool deletable) = _markCertified(registrationId, current);
        bytes32 body;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, blobId)
            mstore(add(m, 0x20), registrationId)
            mstore8(add(m, 0x40), deletable)
            body := keccak256(m, CERTIFY_ITEM)
        }
        _verifyCertificate(cert, current, data, INTENT_CERTIFY, body, false);
    }

    /// @inheritdoc IBlobRegistry
    function certifyRegistrations(uint256[] calldata registrationIds, Certificate calldata cert) external {
        uint256 count = registrationIds.length;
        if (count == 0) revert EmptyBatch();
        (uint32 current, address data) = _staking.currentCertificateData();
        // One spare word at the end: each item's 32-byte write of the flag byte may run past it.
        bytes memory packed = new bytes(count * CERTIFY_ITEM + 32);
        for (uint256 i; i < count; ++i) {
            uint256 registrationId = registrationIds[i];
            (bytes32 blobId, bool deletable) = _markCertified(registrationId, current);
            assembly ("memory-safe") {
                let p := add(add(packed, 0x20), mul(i, CERTIFY_ITEM))
                mstore(p, blobId)
                mstore(add(p, 0x20), registrationId)
                mstore8(add(p, 0x40), deletable)
            }
        }
        bytes32 body;
        assembly ("memory-safe") {
            body := keccak256(add(packed, 0x20), mul(count, CERTIFY_ITEM))
        }
        _verifyCertificate(cert, current, data, INTENT_CERTIFY, body, false);
    }

    /// @inheritdoc IBlobRegistry
    function extendRegistration(uint256 registrationId, uint32 epochs) external {
        Registration storage g = _registrations[registrationId];
        RegistrationState state = g.state;
        if (state == RegistrationState.None) revert UnknownRegistration(registrationId);
        if (state == RegistrationState.Deleted) revert WrongRegistrationState(registrationId, state);
        uint256 storageId = g.storageId;
        Resource storage r = _resources[storageId];
        bytes32 blobId = _blobIdOf(g, r.root);
        if (_blobs[blobId].invalid) revert BlobIsInvalid(blobId);
        if (g.deletable && r.owner != msg.sender) revert NotRegistrationOwner(registrationId, r.owner, msg.sender);
        uint32 current = _staking.currentEpoch();
        uint32 end = g.endEpoch;
        if (current >= end) revert RegistrationExpired(registrationId, end, current);
        _extend(storageId, r, registrationId, blobId, epochs, current, false);
    }

    /// @inheritdoc IBlobRegistry
    function deleteRegistration(uint256 registrationId) external returns (uint256 storageId) {
        Registration storage g = _registrations[registrationId];
        RegistrationState state = g.state;
        if (state == RegistrationState.None) revert UnknownRegistration(registrationId);
        if (state == RegistrationState.Deleted) revert WrongRegistrationState(registrationId, state);
        storageId = g.storageId;
        Resource storage r = _resources[storageId];
        address owner = r.owner;
        if (owner != msg.sender) revert NotRegistrationOwner(registrationId, owner, msg.sender);
        if (!g.deletable) revert RegistrationNotDeletable(registrationId);
        bytes32 root = r.root;
        bytes32 blobId = _blobIdOf(g, root);
        BlobRecord storage b = _blobs[blobId];
        if (b.invalid) revert BlobIsInvalid(blobId);
        uint32 current = _staking.currentEpoch();
        uint32 end = g.endEpoch;
        if (current >= end) revert RegistrationExpired(registrationId, end, current);
        g.state = RegistrationState.Deleted;
        r.usedBy = 0;
        _deletedRoots[registrationId] = root;
        b.registrations -= 1;
        b.delEnd = _removeEnd(_delEnds[blobId], b.multi, b.delEnd, end, current);
        if (state == RegistrationState.Certified) {
            b.delCertEnd = _removeEnd(_delCertEnds[blobId], b.multiCert, b.delCertEnd, end, current);
        }
        emit BlobDeleted(registrationId, blobId, current, storageId);
    }

    /// @inheritdoc IBlobRegistry
    function invalidateBlob(bytes32 blobId, Certificate calldata cert) external {
        BlobRecord storage b = _blobs[blobId];
        if (b.firstRegistration == 0) revert UnknownBlob(blobId);
        if (b.invalid) revert BlobIsInvalid(blobId);
        (uint32 current, address data) = _staking.currentCertificateData();
        uint32 end = _max(b.permEnd, b.delEnd);
        if (current >= end) revert BlobNotLive(blobId, end, current);
        b.invalid = true;
        emit BlobInvalidated(blobId, current);
        _verifyCertificate(cert, current, data, INTENT_INVALID, blobId, true);
    }

    // ------------------------------------------------------------------ ownership and attributes

    /// @inheritdoc IBlobRegistry
    function transferRegistration(uint256 registrationId, address to) external {
        (Registration storage g, Resource storage r) = _mutable(registrationId);
        if (to == address(0)) revert ZeroAddress();
        r.owner = to;
        emit BlobTransferred(registrationId, _blobIdOf(g, r.root), msg.sender, to);
    }

    /// @inheritdoc IBlobRegistry
    function transferStorage(uint256 storageId, address to) external {
        Resource storage r = _ownedFree(storageId);
        if (to == address(0)) revert ZeroAddress();
        r.owner = to;
        emit StorageTransferred(storageId, msg.sender, to);
    }

    /// @inheritdoc IBlobRegistry
    function setAttribute(uint256 registrationId, string calldata key, string calldata value) external {
        _mutable(registrationId);
        uint256 keyLength = bytes(key).length;
        if (keyLength == 0 || keyLength > MAX_KEY_LENGTH) revert AttributeKeyLength(keyLength, MAX_KEY_LENGTH);
        if (bytes(value).length > MAX_VALUE_LENGTH) {
            revert AttributeValueTooLong(bytes(value).length, MAX_VALUE_LENGTH);
        }
        Attributes storage a = _attributes[registrationId];
        bytes32 h = keccak256(bytes(key));
        uint256 position = a.position[h];
        if (position != 0) {
            a.items[position - 1].value = value;
        } else {
            uint256 count = a.items.length;
            if (count >= MAX_ATTRIBUTES) revert TooManyAttributes(registrationId, MAX_ATTRIBUTES);
            a.items.push(Attribute({key: key, value: value}));
            a.position[h] = count + 1;
        }
        emit AttributeSet(registrationId, key, value);
    }

    /// @inheritdoc IBlobRegistry
    function removeAttribute(uint256 registrationId, string calldata key) external {
        _mutable(registrationId);
        Attributes storage a = _attributes[registrationId];
        bytes32 h = keccak256(bytes(key));
        uint256 position = a.position[h];
        if (position == 0) revert AttributeNotFound(registrationId, key);
        uint256 last = a.items.length;
        if (position != last) {
            Attribute storage moved = a.items[last - 1];
            a.items[position - 1] = moved;
            a.position[keccak256(bytes(moved.key))] = position;
        }
        a.items.pop();
        delete a.position[h];
        emit AttributeRemoved(registrationId, key);
    }

    // ------------------------------------------------------------------ shared registrations

    /// @inheritdoc IBlobRegistry
    function shareRegistration(uint256 registrationId) external {
        (Registration storage g, Resource storage r) = _mutable(registrationId);
        if (g.deletable) revert RegistrationNotPermanent(registrationId);
        bytes32 blobId = _blobIdOf(g, r.root);
        if (_blobs[blobId].invalid) revert BlobIsInvalid(blobId);
        uint32 current = _staking.currentEpoch();
        uint32 end = g.endEpoch;
        if (current >= end) revert RegistrationExpired(registrationId, end, current);
        g.shared = true;
        emit BlobShared(registrationId, blobId);
    }

    /// @inheritdoc IBlobRegistry
    function fundSharedRegistration(uint256 registrationId, uint256 amount) external {
        _liveShared(registrationId);
        if (amount == 0) revert ZeroAmount();
        uint256 balance = _sharedFunds[registrationId] + amount;
        _sharedFunds[registrationId] = balance;
        emit SharedBlobFunded(registrationId, msg.sender, amount, balance);
        _wal.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IBlobRegistry
    function extendSharedRegistration(uint256 registrationId, uint32 epochs) external {
        (Registration storage g, bytes32 blobId, uint32 current) = _liveShared(registrationId);
        uint256 storageId = g.storageId;
        _extend(storageId, _resources[storageId], registrationId, blobId, epochs, current, true);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IBlobRegistry
    function registration(uint256 registrationId)
        external
        view
        override(IBlobRegistry, IFloeBlobs)
        returns (RegistrationInfo memory info)
    {
        Registration storage g = _registrations[registrationId];
        RegistrationState state = g.state;
        if (state == RegistrationState.None) return info;
        Resource storage r = _resources[g.storageId];
        bytes32 root = state == RegistrationState.Deleted ? _deletedRoots[registrationId] : r.root;
        bytes32 blobId = _blobIdOf(g, root);
        info = RegistrationInfo({
            blobId: blobId,
            owner: r.owner,
            size: g.size,
            encodingType: g.encodingType,
            deletable: g.deletable,
            state: state,
            registeredEpoch: g.registeredEpoch,
            certifiedEpoch: g.certifiedEpoch,
            endEpoch: g.endEpoch,
            storageId: g.storageId,
            root: root,
            invalid: _blobs[blobId].invalid,
            shared: g.shared
        });
    }

    /// @inheritdoc IBlobRegistry
    function blobStatus(bytes32 blobId)
        external
        view
        override(IBlobRegistry, IFloeBlobs)
        returns (BlobStatus memory status)
    {
        BlobRecord storage b = _blobs[blobId];
        uint256 first = b.firstRegistration;
        if (first == 0) return status;
        Registration storage g = _registrations[first];
        status.invalid = b.invalid;
        status.size = g.size;
        status.encodingType = g.encodingType;
        status.root = g.state == RegistrationState.Deleted ? _deletedRoots[first] : _resources[g.storageId].root;
        status.registrations = b.registrations;
        status.firstRegistrationId = first;
        status.endEpoch = _max(b.permEnd, b.delEnd);
        status.permanentEndEpoch = b.permEnd;
        status.certifiedEndEpoch = _max(b.permCertEnd, b.delCertEnd);
        status.permanentCertifiedEndEpoch = b.permCertEnd;
    }

    /// @inheritdoc IBlobRegistry
    function storageResource(uint256 storageId) external view returns (StorageResource memory res) {
        Resource storage r = _resources[storageId];
        res = StorageResource({
            owner: r.owner, startEpoch: r.startEpoch, endEpoch: r.endEpoch, size: r.size, usedBy: r.usedBy
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
    function nextStorageId() external view returns (uint256) {
        return _nextStorageId;
    }

    /// @inheritdoc IBlobRegistry
    function nextRegistrationId() external view returns (uint256) {
        return _nextRegistrationId;
    }

    /// @inheritdoc IBlobRegistry
    function staking() external view returns (address) {
        return address(_staking);
    }

    /// @inheritdoc IBlobRegistry
    function wal() external view returns (address) {
        return address(_wal);
    }

    /// @inheritdoc IBlobRegistry
    function sharedFunds(uint256 registrationId) external view returns (uint256) {
        return _sharedFunds[registrationId];
    }

    /// @inheritdoc IBlobRegistry
    function attributes(uint256 registrationId)
        external
        view
        override(IBlobRegistry, IFloeBlobs)
        returns (Attribute[] memory)
    {
        return _attributes[registrationId].items;
    }

    /// @inheritdoc IBlobRegistry
    function attribute(uint256 registrationId, string calldata key)
        external
        view
        override(IBlobRegistry, IFloeBlobs)
        returns (bool found, string memory value)
    {
        Attributes storage a = _attributes[registrationId];
        uint256 position = a.position[keccak256(bytes(key))];
        if (position != 0) return (true, a.items[position - 1].value);
    }

    /// @inheritdoc IBlobRegistry
    function currentEpoch() external view override(IBlobRegistry, IFloeBlobs) returns (uint32) {
        return _staking.currentEpoch();
    }

    /// @notice The largest unencoded blob size, (n-2f)(n-f) * 65534 bytes.
    function maxBlobSize() external view returns (uint64) {
        return _maxBlobSize;
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
        if (r.usedBy != 0) revert StorageInUse(storageId, r.usedBy);
    }

    /// @dev Registration `registrationId` and its resource, for a change by its owner: it exists, is
    /// not deleted, the caller owns it and it is not shared.
    function _mutable(uint256 registrationId) private view returns (Registration storage g, Resource storage r) {
        g = _registrations[registrationId];
        RegistrationState state = g.state;
        if (state == RegistrationState.None) revert UnknownRegistration(registrationId);
        if (state == RegistrationState.Deleted) revert WrongRegistrationState(registrationId, state);
        r = _resources[g.storageId];
        address owner = r.owner;
        if (owner != msg.sender) revert NotRegistrationOwner(registrationId, owner, msg.sender);
        if (g.shared) revert RegistrationIsShared(registrationId);
    }

    /// @dev Shared registration `registrationId` (so not deleted and permanent), its blob id and the
    /// current epoch: it exists, is shared, its blob is valid and it is unexpired.
    function _liveShared(uint256 registrationId)
        private
        view
        returns (Registration storage g, bytes32 blobId, uint32 current)
    {
        g = _registrations[registrationId];
        if (g.state == RegistrationState.None) revert UnknownRegistration(registrationId);
        if (!g.shared) revert RegistrationNotShared(registrationId);
        blobId = _blobIdOf(g, _resources[g.storageId].root);
        if (_blobs[blobId].invalid) revert BlobIsInvalid(blobId);
        current = _staking.currentEpoch();
        uint32 end = g.endEpoch;
        if (current >= end) revert RegistrationExpired(registrationId, end, current);
    }

    /// @dev The blob id of registration `g` whose root is `root`.
    function _blobIdOf(Registration storage g, bytes32 root) private view returns (bytes32) {
        return keccak256(abi.encodePacked(g.encodingType, g.size, root));
    }

    function _max(uint32 a, uint32 b) private pure returns (uint32) {
        return a > b ? a : b;
    }

    /// @dev Records a new Registered registration of blob (`encodingType`, `size`, `root`) on
    /// `storageId` until `end`, marks the resource used by it and updates the blob's status;
    /// reverts if the blob id is invalid.
    function _register(
        uint256 storageId,
        bytes32 root,
        uint64 size,
        uint8 encodingType,
        bool deletable,
        uint32 current,
        uint32 end
    ) private returns (uint256 registrationId, bytes32 blobId) {
        blobId = keccak256(abi.encodePacked(encodingType, size, root));
        BlobRecord storage b = _blobs[blobId];
        if (b.invalid) revert BlobIsInvalid(blobId);
        registrationId = _nextRegistrationId;
        // forge-lint: disable-next-line(unsafe-typecast) ids count up by one from 1: never near 2^64
        _nextRegistrationId = uint64(registrationId + 1);
        _writeRegistration(registrationId, storageId, deletable, current, end, size, encodingType);
        Resource storage r = _resources[storageId];
        // forge-lint: disable-next-line(unsafe-typecast) ids below 2^64 (above)
        r.usedBy = uint64(registrationId);
        r.root = root;
        _addToBlob(b, blobId, registrationId, deletable, end);
        _emitRegistered(registrationId, blobId, storageId, root, size, encodingType, deletable, current, end);
    }

    /// @dev One SSTORE of a new registration's record (layout of `Registration`, low-order bytes
    /// first; state Registered, certifiedEpoch 0).
    function _writeRegistration(
        uint256 registrationId,
        uint256 storageId,
        bool deletable,
        uint32 current,
        uint32 end,
        uint64 size,
        uint8 encodingType
    ) private {
        // forge-lint: disable-next-line(unsafe-typecast) storage ids are below 2^64 (see _newResource)
        uint256 word = uint256(uint64(storageId)) | (uint256(uint8(RegistrationState.Registered)) << 64)
            | (deletable ? uint256(1) << 72 : 0) | (uint256(current) << 80) | (uint256(end) << 144)
            | (uint256(size) << 176) | (uint256(encodingType) << 240);
        Registration storage g = _registrations[registrationId];
        assembly ("memory-safe") {
            sstore(g.slot, word)
        }
    }

    /// @dev emit BlobRegistered(registrationId, blobId, msg.sender, size, encodingType, deletable,
    /// current, end, storageId, root), in assembly: too many values for the stack otherwise.
    function _emitRegistered(
        uint256 registrationId,
        bytes32 blobId,
        uint256 storageId,
        bytes32 root,
        uint64 size,
        uint8 encodingType,
        bool deletable,
        uint32 current,
        uint32 end
    ) private {
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
            log4(m, 0xe0, topic, registrationId, blobId, caller())
        }
    }

    /// @dev Adds a new registration ending at `end` to blob `b`'s status.
    function _addToBlob(BlobRecord storage b, bytes32 blobId, uint256 registrationId, bool deletable, uint32 end)
        private
    {
        BlobRecord memory m = b;
        m.registrations += 1;
        // forge-lint: disable-next-line(unsafe-typecast) ids below 2^64 (see _register)
        if (m.firstRegistration == 0) m.firstRegistration = uint64(registrationId);
        if (deletable) {
            (m.multi, m.delEnd) = _addEnd(_delEnds[blobId], m.multi, m.delEnd, end);
        } else if (end > m.permEnd) {
            m.permEnd = end;
        }
        _storeBlob(b, m);
    }

    /// @dev Writes `m` to `b` with one SSTORE (layout of `BlobRecord`, low-order bytes first).
    function _storeBlob(BlobRecord storage b, BlobRecord memory m) private {
        uint256 word = (m.invalid ? 1 : 0) | (m.multi ? uint256(1) << 8 : 0) | (m.multiCert ? uint256(1) << 16 : 0)
            | (uint256(m.registrations) << 24) | (uint256(m.permEnd) << 56) | (uint256(m.delEnd) << 88)
            | (uint256(m.permCertEnd) << 120) | (uint256(m.delCertEnd) << 152) | (uint256(m.firstRegistration) << 184);
        assembly ("memory-safe") {
            sstore(b.slot, word)
        }
    }

    /// @dev Adds `end` to a deletable end multiset whose cached max is `max` (0: empty while not
    /// `multi`); returns the new `multi` flag and max. The multiset comes into use with the second
    /// element (the first one, the cached max, moves into it) and stays in use.
    function _addEnd(EndSet storage s, bool multi, uint32 max, uint32 end) private returns (bool, uint32) {
        if (!multi) {
            if (max == 0) return (false, end);
            _setAdd(s, max);
        }
        _setAdd(s, end);
        return (true, end > max ? end : max);
    }

    /// @dev Removes `end` (unexpired: `current < end <= max`) from a deletable end multiset whose
    /// cached max is `max`; returns the new max (0 if nothing above `current` is left).
    function _removeEnd(EndSet storage s, bool multi, uint32 max, uint32 end, uint32 current) private returns (uint32) {
        if (!multi) return 0;
        uint256 left = s.count[end] - 1;
        s.count[end] = left;
        if (left != 0) return max;
        s.bits[end >> 8] &= ~(uint256(1) << (end & 0xff));
        if (end != max) return max;
        return _highestBelow(s, end, current);
    }

    /// @dev Moves one element of a deletable end multiset from `end` to `newEnd` (> end); returns the new max.
    function _moveEnd(EndSet storage s, bool multi, uint32 max, uint32 end, uint32 newEnd) private returns (uint32) {
        if (multi) {
            uint256 left = s.count[end] - 1;
            s.count[end] = left;
            if (left == 0) s.bits[end >> 8] &= ~(uint256(1) << (end & 0xff));
            _setAdd(s, newEnd);
        }
        return newEnd > max ? newEnd : max;
    }

    function _setAdd(EndSet storage s, uint32 end) private {
        uint256 count = s.count[end];
        s.count[end] = count + 1;
        if (count == 0) s.bits[end >> 8] |= uint256(1) << (end & 0xff);
    }

    /// @dev The highest end in `s` with `current < e < below`, or 0. `below <= current +
    /// MAX_EPOCHS_AHEAD`, so the range spans at most two bitmap words.
    function _highestBelow(EndSet storage s, uint32 below, uint32 current) private view returns (uint32) {
        uint256 lo = uint256(current) + 1;
        if (below <= lo) return 0;
        uint256 hi = uint256(below) - 1;
        for (uint256 w = hi >> 8;; --w) {
            uint256 bits = s.bits[w];
            // Keep bits at positions <= hi (in the top word) and >= lo (in the bottom word).
            if (w == hi >> 8) bits &= type(uint256).max >> (255 - (hi & 0xff));
            if (w == lo >> 8) bits &= type(uint256).max << (lo & 0xff);
            if (bits != 0) {
                // forge-lint: disable-next-line(unsafe-typecast) w << 8 | bit <= hi < 2^32
                return uint32((w << 8) | _msb(bits));
            }
            if (w == lo >> 8) return 0;
        }
    }

    /// @dev Index of the most significant set bit of `x` (x != 0).
    function _msb(uint256 x) private pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
            r := or(r, shl(4, lt(0xffff, shr(r, x))))
            r := or(r, shl(3, lt(0xff, shr(r, x))))
            r := or(r, shl(2, lt(0xf, shr(r, x))))
            r := or(r, shl(1, lt(0x3, shr(r, x))))
            r := or(r, lt(0x1, shr(r, x)))
        }
    }

    /// @dev Extends resource `r` (and registration `registrationId` of `blobId`, if non-zero) by
    /// `epochs`; the caller pays. The resource must be unexpired (checked by the callers).
    function _extend(
        uint256 storageId,
        Resource storage r,
        uint256 registrationId,
        bytes32 blobId,
        uint32 epochs,
        uint32 current,
        bool fromFund
    ) private {
        uint32 end = r.endEpoch;
        (uint64 storagePrice,) = _staking.prices();
        uint256 cost = _storagePrice(r.size, epochs, storagePrice);
        uint32 newEnd = _checkedEnd(current, uint256(end - current) + epochs);
        r.endEpoch = newEnd;
        emit StorageExtended(storageId, newEnd, cost);
        if (registrationId != 0) {
            Registration storage g = _registrations[registrationId];
            g.endEpoch = newEnd;
            BlobRecord storage b = _blobs[blobId];
            BlobRecord memory m = b;
            bool certified = g.state == RegistrationState.Certified;
            if (g.deletable) {
                m.delEnd = _moveEnd(_delEnds[blobId], m.multi, m.delEnd, end, newEnd);
                if (certified) m.delCertEnd = _moveEnd(_delCertEnds[blobId], m.multiCert, m.delCertEnd, end, newEnd);
            } else {
                if (newEnd > m.permEnd) m.permEnd = newEnd;
                if (certified && newEnd > m.permCertEnd) m.permCertEnd = newEnd;
            }
            _storeBlob(b, m);
            emit BlobExtended(registrationId, blobId, newEnd);
        }
        if (fromFund) {
            uint256 balance = _sharedFunds[registrationId];
            if (balance < cost) revert InsufficientFunds(registrationId, balance, cost);
            balance -= cost;
            _sharedFunds[registrationId] = balance;
            emit SharedBlobFundsUsed(registrationId, cost, balance);
        }
        _pay(cost, end, epochs, 0, current, fromFund);
    }

    /// @dev Marks a Registered, unexpired registration of a valid blob Certified and updates the
    /// blob's certified maxima; returns its blob id and deletable flag.
    function _markCertified(uint256 registrationId, uint32 current) private returns (bytes32 blobId, bool deletable) {
        Registration storage g = _registrations[registrationId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(g.slot)
        }
        // Fields of the packed record: truncation to each field's width is the point.
        // forge-lint: disable-next-line(unsafe-typecast)
        RegistrationState state = RegistrationState(uint8(word >> 64));
        if (state != RegistrationState.Registered) {
            if (state == RegistrationState.None) revert UnknownRegistration(registrationId);
            revert WrongRegistrationState(registrationId, state);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 end = uint32(word >> 144);
        if (current >= end) revert RegistrationExpired(registrationId, end, current);
        // forge-lint: disable-next-line(unsafe-typecast)
        deletable = uint8(word >> 72) != 0;
        bytes32 root = _resources[uint64(word)].root;
        // forge-lint: disable-next-line(unsafe-typecast)
        blobId = keccak256(abi.encodePacked(uint8(word >> 240), uint64(word >> 176), root));
        word = (word & ~((uint256(0xff) << 64) | (uint256(0xffffffff) << 112)))
            | (uint256(uint8(RegistrationState.Certified)) << 64) | (uint256(current) << 112);
        assembly ("memory-safe") {
            sstore(g.slot, word)
        }
        BlobRecord storage b = _blobs[blobId];
        BlobRecord memory m = b;
        if (m.invalid) revert BlobIsInvalid(blobId);
        if (deletable) {
            (m.multiCert, m.delCertEnd) = _addEnd(_delCertEnds[blobId], m.multiCert, m.delCertEnd, end);
        } else if (end > m.permCertEnd) {
            m.permCertEnd = end;
        }
        _storeBlob(b, m);
        emit BlobCertified(registrationId, blobId, current, end, deletable);
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

    /// @dev Moves `amount + fee` FROST from the caller (or, `fromSelf`, from this contract: a
    /// shared registration's fund) to staking and funds `amount` over [from, from + epochs) and
    /// `fee` to `feeEpoch`.
    function _pay(uint256 amount, uint32 from, uint32 epochs, uint256 fee, uint32 feeEpoch, bool fromSelf) private {
        uint256 total = amount + fee;
        if (total == 0) return;
        if (fromSelf) _wal.safeTransfer(address(_staking), total);
        else _wal.safeTransferFrom(msg.sender, address(_staking), total);
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
