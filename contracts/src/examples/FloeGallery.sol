// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBlobRegistry} from "../interfaces/IBlobRegistry.sol";
import {IFloeBlobs} from "../interfaces/IFloeBlobs.sol";

/// @title An example dapp on floe: a gallery whose items are floe blobs
/// @notice Anyone may add an item pointing at a floe blob (its blob id, optionally one registration
/// of it, and a title). The gallery accepts only blobs that are certified, not invalid and
/// guaranteed readable for at least `minEpochs` more epochs, read through {IFloeBlobs} at the
/// registry's one address; each blob id is in the gallery at most once. Items stay listed; whether
/// an item's blob can still be read is answered live by {isAvailable}. The submitter may remove
/// their item.
/// @dev Every call makes a bounded number of view calls to the registry; nothing here loops over
/// items, so gas is bounded whatever other accounts submit.
contract FloeGallery {
    /// @notice One gallery item.
    struct Item {
        /// @notice The floe blob id.
        bytes32 blobId;
        /// @notice A registration of that blob the submitter vouches for, or 0 for any.
        uint256 registrationId;
        string title;
        address submitter;
        /// @notice Epoch the item was added in.
        uint32 addedEpoch;
        /// @notice Removed by its submitter (the id is not reused).
        bool removed;
    }

    /// @notice Thrown for a title that is empty or longer than `maxLength` bytes.
    error BadTitleLength(uint256 length, uint256 maxLength);
    /// @notice Thrown when the blob id was never registered on floe.
    error UnknownBlob(bytes32 blobId);
    /// @notice Thrown when the blob id was marked invalid on floe.
    error BlobInvalid(bytes32 blobId);
    /// @notice Thrown when the blob is not certified until at least `requiredEndEpoch`
    /// (`certifiedEndEpoch` is its certified end).
    error BlobTooShortLived(bytes32 blobId, uint32 certifiedEndEpoch, uint32 requiredEndEpoch);
    /// @notice Thrown when the named registration is not a certified registration of the blob
    /// lasting until at least `requiredEndEpoch`.
    error UnsuitableRegistration(uint256 registrationId, bytes32 blobId, uint32 requiredEndEpoch);
    /// @notice Thrown when the blob id is already in the gallery as item `itemId`.
    error AlreadyListed(bytes32 blobId, uint256 itemId);
    /// @notice Thrown when no item has id `itemId` (or it was removed).
    error UnknownItem(uint256 itemId);
    /// @notice Thrown when someone other than the submitter removes an item.
    error NotSubmitter(uint256 itemId, address submitter, address caller);
    /// @notice Thrown at construction for a zero registry address.
    error ZeroRegistry();

    /// @notice Item `itemId` pointing at `blobId` was added by `submitter`.
    event ItemAdded(
        uint256 indexed itemId, bytes32 indexed blobId, address indexed submitter, uint256 registrationId, string title
    );
    /// @notice Item `itemId` was removed by its submitter.
    event ItemRemoved(uint256 indexed itemId, bytes32 indexed blobId);

    /// @notice Longest title, in bytes.
    uint256 public constant MAX_TITLE_LENGTH = 128;

    /// @notice The floe blob registry, read through its dapp view.
    IFloeBlobs public immutable floe;
    /// @notice How many epochs past the current one a blob must stay certified to be accepted.
    uint32 public immutable minEpochs;

    Item[] private _items;
    /// @dev Item id + 1 of each listed blob id (0: not listed).
    mapping(bytes32 blobId => uint256) private _listed;

    /// @param floe_ The floe blob registry.
    /// @param minEpochs_ Epochs a blob must still be certified for when it is added.
    constructor(IFloeBlobs floe_, uint32 minEpochs_) {
        if (address(floe_) == address(0)) revert ZeroRegistry();
        floe = floe_;
        minEpochs = minEpochs_;
    }

    /// @notice Adds an item for blob `blobId` (and, if `registrationId` is non-zero, that
    /// registration of it) titled `title` (1..128 bytes). The blob must be certified, not invalid
    /// and certified until at least `currentEpoch + minEpochs`; so must the named registration.
    /// @return itemId The new item's id (ids count from 0).
    function addItem(bytes32 blobId, uint256 registrationId, string calldata title) external returns (uint256 itemId) {
        uint256 titleLength = bytes(title).length;
        if (titleLength == 0 || titleLength > MAX_TITLE_LENGTH) revert BadTitleLength(titleLength, MAX_TITLE_LENGTH);
        uint256 listed = _listed[blobId];
        if (listed != 0) revert AlreadyListed(blobId, listed - 1);
        uint32 current = floe.currentEpoch();
        uint32 required = current + minEpochs;
        IBlobRegistry.BlobStatus memory status = floe.blobStatus(blobId);
        if (status.firstRegistrationId == 0) revert UnknownBlob(blobId);
        if (status.invalid) revert BlobInvalid(blobId);
        if (status.certifiedEndEpoch <= current || status.certifiedEndEpoch < required) {
            revert BlobTooShortLived(blobId, status.certifiedEndEpoch, required);
        }
        if (registrationId != 0) {
            IBlobRegistry.RegistrationInfo memory g = floe.registration(registrationId);
            if (
                g.blobId != blobId || g.state != IBlobRegistry.RegistrationState.Certified || g.endEpoch <= current
                    || g.endEpoch < required
            ) revert UnsuitableRegistration(registrationId, blobId, required);
        }
        itemId = _items.length;
        _items.push(
            Item({
                blobId: blobId,
                registrationId: registrationId,
                title: title,
                submitter: msg.sender,
                addedEpoch: current,
                removed: false
            })
        );
        _listed[blobId] = itemId + 1;
        emit ItemAdded(itemId, blobId, msg.sender, registrationId, title);
    }

    /// @notice Removes item `itemId` (its submitter only); its blob id may be added again.
    function removeItem(uint256 itemId) external {
        if (itemId >= _items.length || _items[itemId].removed) revert UnknownItem(itemId);
        Item storage it = _items[itemId];
        if (it.submitter != msg.sender) revert NotSubmitter(itemId, it.submitter, msg.sender);
        it.removed = true;
        delete _listed[it.blobId];
        emit ItemRemoved(itemId, it.blobId);
    }

    /// @notice Item `itemId` (reverts with {UnknownItem} past the last one; removed items are returned
    /// with `removed` set).
    function item(uint256 itemId) external view returns (Item memory) {
        if (itemId >= _items.length) revert UnknownItem(itemId);
        return _items[itemId];
    }

    /// @notice How many items were ever added (ids are 0..itemCount-1).
    function itemCount() external view returns (uint256) {
        return _items.length;
    }

    /// @notice The item listing `blobId`: `found` false if it is not listed.
    function itemOf(bytes32 blobId) external view returns (bool found, uint256 itemId) {
        uint256 listed = _listed[blobId];
        if (listed != 0) return (true, listed - 1);
    }

    /// @notice Whether item `itemId`'s blob can still be read now: listed, its blob not invalid and
    /// certified past the current epoch, and (if it names one) its registration certified and
    /// unexpired. False for unknown or removed items.
    function isAvailable(uint256 itemId) external view returns (bool) {
        if (itemId >= _items.length) return false;
        Item storage it = _items[itemId];
        if (it.removed) return false;
        uint32 current = floe.currentEpoch();
        IBlobRegistry.BlobStatus memory status = floe.blobStatus(it.blobId);
        if (status.invalid || status.certifiedEndEpoch <= current) return false;
        uint256 registrationId = it.registrationId;
        if (registrationId == 0) return true;
        IBlobRegistry.RegistrationInfo memory g = floe.registration(registrationId);
        return g.state == IBlobRegistry.RegistrationState.Certified && !g.invalid && g.endEpoch > current;
    }
}
