// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title floe storage resources and blob registrations
/// @notice Storage (encoded bytes x epochs) is bought in WAL and owned as a resource that can be
/// split, extended and reused. A blob is registered against a storage resource: each registration
/// has a global id (counting from 1, never reused), an owner (its storage's owner), its own end
/// epoch, deletable flag and state. Several registrations of one blob id coexist. A registration
/// is certified with a BLS availability certificate of a quorum of shards that names it, extended,
/// deleted (if deletable, by its owner); a blob id is marked invalid with a certificate of f+1
/// shards, which kills every registration of it.
/// @dev Encoding (type 1, Red Stuff): k1 = n-2f, k2 = n-f, f = (n-1)/3;
/// symbolSize = max(2, ceil(size / (k1*k2)) rounded up to even), at most 65534;
/// encodedSize = n*(k1+k2)*symbolSize + n*64. Blob id =
/// keccak256(abi.encodePacked(uint8 encodingType, uint64 size, bytes32 root)).
/// Signed messages are 65 bytes: abi.encodePacked(uint8 intent, uint64 chainId, address verifier,
/// uint32 epoch, bytes32 body); intent 0 = proof of possession (verifier = staking, epoch 0,
/// body = keccak256(abi.encodePacked(address operator, bytes publicKey))), 1 = certify
/// (body = keccak256(abi.encodePacked(bytes32 blobId_1, uint256 registrationId_1, bool deletable_1,
/// ..., blobId_k, registrationId_k, deletable_k)), 65 bytes per registration), 2 = invalid
/// (body = blobId). Hash to G2 per RFC 9380 BLS12381G2_XMD:SHA-256_SSWU_RO_ with
/// DST "FLOE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_".
interface IBlobRegistry {
    /// @notice Lifecycle of a registration. Expiry is not a state: a registration is expired once
    /// `currentEpoch >= endEpoch`. Invalidity is a property of the blob id ({BlobStatus-invalid},
    /// {RegistrationInfo-invalid}): every registration of an invalid blob id counts as dead.
    enum RegistrationState {
        None,
        Registered,
        Certified,
        Deleted
    }

    /// @notice A storage resource.
    struct StorageResource {
        address owner;
        uint32 startEpoch;
        /// @notice First epoch no longer covered (exclusive).
        uint32 endEpoch;
        /// @notice Encoded bytes.
        uint64 size;
        /// @notice The registration using it, or zero if free.
        uint256 usedBy;
    }

    /// @notice One registration of a blob.
    struct RegistrationInfo {
        /// @notice keccak256(abi.encodePacked(encodingType, size, root)); zero if unknown.
        bytes32 blobId;
        /// @notice The owner of its storage resource (the registrant).
        address owner;
        /// @notice Unencoded size in bytes.
        uint64 size;
        uint8 encodingType;
        bool deletable;
        RegistrationState state;
        uint32 registeredEpoch;
        /// @notice Epoch of certification, 0 if never certified.
        uint32 certifiedEpoch;
        /// @notice First epoch no longer covered (exclusive); stays as it was once deleted.
        uint32 endEpoch;
        uint256 storageId;
        bytes32 root;
        /// @notice The blob id was marked invalid: the registration counts as dead.
        bool invalid;
        /// @notice Shared ({shareRegistration}): final; anyone may fund and extend it, nobody may
        /// transfer it or change its attributes.
        bool shared;
    }

    /// @notice One attribute of a registration: a key (1..64 bytes) and its value (at most 1024 bytes).
    struct Attribute {
        string key;
        string value;
    }

    /// @notice What holds for a blob id over all its registrations. The maxima are exact while they
    /// are above the current epoch; a value at or below the current epoch only says that nothing of
    /// that kind lives (it may be 0 or a past end epoch).
    struct BlobStatus {
        /// @notice Marked invalid (f+1 shards attested an inconsistent encoding); final.
        bool invalid;
        /// @notice Unencoded size, encoding type and root: set once any registration exists.
        uint64 size;
        uint8 encodingType;
        bytes32 root;
        /// @notice Registrations not deleted (expired ones included).
        uint32 registrations;
        /// @notice The first registration ever made of this blob id (0: never registered).
        uint256 firstRegistrationId;
        /// @notice Max end epoch over non-deleted registrations: nodes keep the data while this is
        /// above the current epoch (and the blob is not invalid).
        uint32 endEpoch;
        /// @notice Max end epoch over permanent (non-deletable) registrations.
        uint32 permanentEndEpoch;
        /// @notice Max end epoch over certified, non-deleted registrations: reads are guaranteed
        /// while this is above the current epoch.
        uint32 certifiedEndEpoch;
        /// @notice Max end epoch over certified permanent registrations; never decreases.
        uint32 permanentCertifiedEndEpoch;
    }

    /// @notice A BLS availability certificate.
    struct Certificate {
        /// @notice The epoch whose committee signed; must be the current epoch.
        uint32 epoch;
        /// @notice Bitmap over the committee: bit (i % 8) of byte (i / 8) set = member i signed.
        bytes signers;
        /// @notice Aggregate signature, G2, EIP-2537 encoding (256 bytes).
        bytes signature;
    }

    /// @notice A storage resource was bought (alone or by registerBlobWithNewStorage).
    event StorageBought(
        uint256 indexed storageId, address indexed owner, uint64 size, uint32 startEpoch, uint32 endEpoch, uint256 paid
    );
    /// @notice `storageId` was split; `newStorageId` holds the part split off.
    event StorageSplit(uint256 indexed storageId, uint256 indexed newStorageId);
    /// @notice A storage resource now ends at `endEpoch` (alone or with the registration using it).
    event StorageExtended(uint256 indexed storageId, uint32 endEpoch, uint256 paid);
    /// @notice A registration was made in `epoch` on `storageId`, ending with it at `endEpoch`.
    event BlobRegistered(
        uint256 indexed registrationId,
        bytes32 indexed blobId,
        address indexed owner,
        uint64 size,
        uint8 encodingType,
        bool deletable,
        uint32 epoch,
        uint32 endEpoch,
        uint256 storageId,
        bytes32 root
    );
    /// @notice A registration was certified in `epoch` (the point of availability).
    event BlobCertified(
        uint256 indexed registrationId, bytes32 indexed blobId, uint32 epoch, uint32 endEpoch, bool deletable
    );
    /// @notice A registration (and its storage) now ends at `endEpoch`.
    event BlobExtended(uint256 indexed registrationId, bytes32 indexed blobId, uint32 endEpoch);
    /// @notice A deletable registration was deleted in `epoch`; `storageId` is free again.
    event BlobDeleted(uint256 indexed registrationId, bytes32 indexed blobId, uint32 epoch, uint256 storageId);
    /// @notice A blob id was marked invalid in `epoch`: all its registrations are dead.
    event BlobInvalidated(bytes32 indexed blobId, uint32 epoch);
    /// @notice Registration `registrationId` (and the storage resource it uses) now belongs to `to`.
    event BlobTransferred(uint256 indexed registrationId, bytes32 indexed blobId, address indexed from, address to);
    /// @notice Free storage resource `storageId` now belongs to `to`.
    event StorageTransferred(uint256 indexed storageId, address indexed from, address indexed to);
    /// @notice Attribute `key` of a registration is now `value` (added or replaced).
    event AttributeSet(uint256 indexed registrationId, string key, string value);
    /// @notice Attribute `key` of a registration was removed.
    event AttributeRemoved(uint256 indexed registrationId, string key);
    /// @notice A permanent registration became shared: anyone may fund and extend it from now on.
    event BlobShared(uint256 indexed registrationId, bytes32 indexed blobId);
    /// @notice `funder` added `amount` FROST to a shared registration's fund, which now holds `balance`.
    event SharedBlobFunded(uint256 indexed registrationId, address indexed funder, uint256 amount, uint256 balance);
    /// @notice `amount` FROST of a shared registration's fund paid an extension; `balance` is left.
    event SharedBlobFundsUsed(uint256 indexed registrationId, uint256 amount, uint256 balance);

    /// @notice Buys `size` encoded bytes for `epochs` epochs from the current one; pays WAL.
    function buyStorage(uint64 size, uint32 epochs) external returns (uint256 storageId);
    /// @notice Splits free `storageId` (owner only) into [0, size) kept and the rest as a new resource.
    function splitStorageBySize(uint256 storageId, uint64 size) external returns (uint256 newStorageId);
    /// @notice Splits free `storageId` (owner only) at `epoch`: the original keeps [start, epoch),
    /// the new one [epoch, end).
    function splitStorageByEpoch(uint256 storageId, uint32 epoch) external returns (uint256 newStorageId);
    /// @notice Extends a storage resource (owner only, unexpired) by `epochs`; pays WAL. If a
    /// registration uses it, the registration is extended too.
    function extendStorage(uint256 storageId, uint32 epochs) external;
    /// @notice Registers blob (`encodingType`, `size`, `root`) against free, current storage the caller
    /// owns, holding at least the encoded size; pays the write price. Any number of registrations of
    /// one blob id may coexist; reverts only if the blob id is invalid.
    /// @return registrationId The new registration's id (ids count from 1 and are never reused).
    /// @return blobId keccak256(abi.encodePacked(encodingType, size, root)).
    function registerBlob(uint256 storageId, bytes32 root, uint64 size, uint8 encodingType, bool deletable)
        external
        returns (uint256 registrationId, bytes32 blobId);
    /// @notice Buys exactly the storage a blob needs for `epochs` epochs and registers it, in one call.
    function registerBlobWithNewStorage(bytes32 root, uint64 size, uint8 encodingType, bool deletable, uint32 epochs)
        external
        returns (uint256 registrationId, bytes32 blobId, uint256 storageId);
    /// @notice Certifies one Registered, unexpired registration of a valid blob with a quorum
    /// certificate (3w >= 2n+1) over body keccak256(abi.encodePacked(blobId, registrationId, deletable)).
    /// Anyone may submit.
    function certifyRegistration(uint256 registrationId, Certificate calldata cert) external;
    /// @notice Certifies many registrations with one certificate over all of them, in order.
    function certifyRegistrations(uint256[] calldata registrationIds, Certificate calldata cert) external;
    /// @notice Extends a Registered or Certified, unexpired registration of a valid blob (and its
    /// storage) by `epochs`; the caller pays. A deletable registration only by its owner, a
    /// permanent one by anyone.
    function extendRegistration(uint256 registrationId, uint32 epochs) external;
    /// @notice Deletes a deletable, Registered or Certified, unexpired registration of a valid blob
    /// (owner only). Ends only that registration; its storage becomes free and stays the owner's.
    function deleteRegistration(uint256 registrationId) external returns (uint256 storageId);
    /// @notice Marks a blob id invalid with a certificate of f+1 shards (3w >= n+1) over body = blobId;
    /// the blob id must have a registration that is not deleted and unexpired. Final: no new
    /// registration of it, and every registration of it counts as dead (storage is not freed).
    function invalidateBlob(bytes32 blobId, Certificate calldata cert) external;

    /// @notice Moves a registration (owner only; not deleted, not shared) and the storage resource it
    /// uses to `to` (not the zero address). Its attributes stay with it.
    function transferRegistration(uint256 registrationId, address to) external;
    /// @notice Moves a free storage resource (owner only) to `to` (not the zero address); a used
    /// resource moves with its registration ({transferRegistration}).
    function transferStorage(uint256 storageId, address to) external;
    /// @notice Sets attribute `key` (1..64 bytes) of a registration to `value` (at most 1024 bytes),
    /// replacing its value if the key exists; at most 16 keys per registration. Owner only; the
    /// registration must not be deleted nor shared.
    function setAttribute(uint256 registrationId, string calldata key, string calldata value) external;
    /// @notice Removes attribute `key` of a registration (owner only; not deleted, not shared);
    /// reverts if there is no such key.
    function removeAttribute(uint256 registrationId, string calldata key) external;
    /// @notice Makes a permanent, non-deleted, unexpired registration of a valid blob shared (owner
    /// only). Final: from then on anyone may fund it and extend it from its fund, and nobody may
    /// transfer it or change its attributes.
    function shareRegistration(uint256 registrationId) external;
    /// @notice Adds `amount` FROST of the caller's WAL to the fund of a shared, unexpired registration
    /// of a valid blob (anyone). The registry holds the fund; only extensions spend it.
    function fundSharedRegistration(uint256 registrationId, uint256 amount) external;
    /// @notice Extends a shared, unexpired registration of a valid blob by `epochs` (anyone), paid from
    /// its fund; the payment goes to staking like every other.
    function extendSharedRegistration(uint256 registrationId, uint32 epochs) external;

    /// @notice FROST in the fund of shared registration `registrationId` (0 if none).
    function sharedFunds(uint256 registrationId) external view returns (uint256);
    /// @notice The attributes of a registration, in no particular order (at most 16).
    function attributes(uint256 registrationId) external view returns (Attribute[] memory);
    /// @notice Attribute `key` of a registration: `found` false (and `value` empty) if it has none.
    function attribute(uint256 registrationId, string calldata key)
        external
        view
        returns (bool found, string memory value);
    /// @notice The current epoch (the staking contract's).
    function currentEpoch() external view returns (uint32);
    /// @notice A registration (state None and all zero if `registrationId` was never issued).
    function registration(uint256 registrationId) external view returns (RegistrationInfo memory);
    /// @notice What holds for `blobId` over its registrations (all zero if never registered).
    function blobStatus(bytes32 blobId) external view returns (BlobStatus memory);
    /// @notice A storage resource.
    function storageResource(uint256 storageId) external view returns (StorageResource memory);
    /// @notice Encoded size of a blob of `size` bytes (reverts if too large).
    function encodedSize(uint64 size) external view returns (uint64);
    /// @notice WAL cost of `size` encoded bytes for `epochs` epochs, plus the write fee for registering.
    function storageCost(uint64 size, uint32 epochs) external view returns (uint256 storage_, uint256 write);
    /// @notice The id the next storage resource will get (ids start at 1 and count up).
    function nextStorageId() external view returns (uint256);
    /// @notice The id the next registration will get (ids start at 1 and count up, never reused).
    function nextRegistrationId() external view returns (uint256);
    /// @notice The staking contract.
    function staking() external view returns (address);
    /// @notice The WAL token.
    function wal() external view returns (address);
}
