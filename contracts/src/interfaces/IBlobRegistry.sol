// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title floe storage resources and blob registry
/// @notice Storage (encoded bytes x epochs) is bought in WAL and owned as a resource that can be
/// split, extended and reused. A blob is registered against a storage resource, certified with a
/// BLS availability certificate of a quorum of shards, extended, deleted (if deletable) or marked
/// invalid with a certificate of f+1 shards.
/// @dev Encoding (type 1, Red Stuff): k1 = n-2f, k2 = n-f, f = (n-1)/3;
/// symbolSize = max(2, ceil(size / (k1*k2)) rounded up to even), at most 65534;
/// encodedSize = n*(k1+k2)*symbolSize + n*64. Blob id =
/// keccak256(abi.encodePacked(uint8 encodingType, uint64 size, bytes32 root)).
/// Signed messages are 65 bytes: abi.encodePacked(uint8 intent, uint64 chainId, address verifier,
/// uint32 epoch, bytes32 body); intent 0 = proof of possession (verifier = staking, epoch 0,
/// body = keccak256(abi.encodePacked(address operator, bytes publicKey))), 1 = certify
/// (body = keccak256(abi.encodePacked(bytes32 blobId_1, bool deletable_1, ..., blobId_k, deletable_k))),
/// 2 = invalid (body = blobId). Hash to G2 per RFC 9380 BLS12381G2_XMD:SHA-256_SSWU_RO_ with
/// DST "FLOE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_".
interface IBlobRegistry {
    /// @notice Lifecycle of a registered blob. Expiry is not a state: a blob is expired once
    /// `currentEpoch >= endEpoch`.
    enum BlobState {
        None,
        Registered,
        Certified,
        Deleted,
        Invalid
    }

    /// @notice A storage resource.
    struct StorageResource {
        address owner;
        uint32 startEpoch;
        /// @notice First epoch no longer covered (exclusive).
        uint32 endEpoch;
        /// @notice Encoded bytes.
        uint64 size;
        /// @notice The blob using it, or zero if free.
        bytes32 usedBy;
    }

    /// @notice A blob's registration.
    struct BlobInfo {
        address owner;
        uint64 size;
        uint8 encodingType;
        bool deletable;
        BlobState state;
        uint32 registeredEpoch;
        uint32 certifiedEpoch;
        uint32 endEpoch;
        uint256 storageId;
        bytes32 root;
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

    event StorageBought(
        uint256 indexed storageId, address indexed owner, uint64 size, uint32 startEpoch, uint32 endEpoch, uint256 paid
    );
    event StorageSplit(uint256 indexed storageId, uint256 indexed newStorageId);
    event StorageExtended(uint256 indexed storageId, uint32 endEpoch, uint256 paid);
    event BlobRegistered(
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
    event BlobCertified(bytes32 indexed blobId, uint32 epoch, uint32 endEpoch, bool deletable);
    event BlobExtended(bytes32 indexed blobId, uint32 endEpoch);
    event BlobDeleted(bytes32 indexed blobId, uint32 epoch, uint256 storageId);
    event BlobInvalidated(bytes32 indexed blobId, uint32 epoch);

    /// @notice Buys `size` encoded bytes for `epochs` epochs from the current one; pays WAL.
    function buyStorage(uint64 size, uint32 epochs) external returns (uint256 storageId);
    /// @notice Splits `storageId` into [0, size) kept and the rest as a new resource.
    function splitStorageBySize(uint256 storageId, uint64 size) external returns (uint256 newStorageId);
    /// @notice Splits `storageId` at `epoch`: the original keeps [start, epoch), the new one [epoch, end).
    function splitStorageByEpoch(uint256 storageId, uint32 epoch) external returns (uint256 newStorageId);
    /// @notice Extends a free or used storage resource by `epochs`; pays WAL.
    function extendStorage(uint256 storageId, uint32 epochs) external;
    /// @notice Registers a blob against free storage the caller owns; pays the write price.
    function registerBlob(uint256 storageId, bytes32 root, uint64 size, uint8 encodingType, bool deletable)
        external
        returns (bytes32 blobId);
    /// @notice Buys exactly the storage a blob needs for `epochs` epochs and registers it, in one call.
    function registerBlobWithNewStorage(bytes32 root, uint64 size, uint8 encodingType, bool deletable, uint32 epochs)
        external
        returns (bytes32 blobId, uint256 storageId);
    /// @notice Certifies one registered blob with a quorum certificate (3w >= 2n+1).
    function certifyBlob(bytes32 blobId, Certificate calldata cert) external;
    /// @notice Certifies many registered blobs with one certificate over all of them.
    function certifyBlobs(bytes32[] calldata blobIds, Certificate calldata cert) external;
    /// @notice Extends a blob's end epoch by `epochs`, paying for its storage.
    function extendBlob(bytes32 blobId, uint32 epochs) external;
    /// @notice Deletes a deletable blob (owner only); its storage becomes free again and stays the owner's.
    function deleteBlob(bytes32 blobId) external returns (uint256 storageId);
    /// @notice Marks a blob invalid with a certificate of f+1 shards (3w >= n+1).
    function invalidateBlob(bytes32 blobId, Certificate calldata cert) external;

    /// @notice A blob's registration (state None if never registered).
    function blob(bytes32 blobId) external view returns (BlobInfo memory);
    /// @notice A storage resource.
    function storageResource(uint256 storageId) external view returns (StorageResource memory);
    /// @notice Encoded size of a blob of `size` bytes (reverts if too large).
    function encodedSize(uint64 size) external view returns (uint64);
    /// @notice WAL cost of `size` encoded bytes for `epochs` epochs, plus the write fee for registering.
    function storageCost(uint64 size, uint32 epochs) external view returns (uint256 storage_, uint256 write);
    /// @notice The staking contract.
    function staking() external view returns (address);
    /// @notice The WAL token.
    function wal() external view returns (address);
}
