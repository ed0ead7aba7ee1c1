// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBlobRegistry} from "./IBlobRegistry.sol";

/// @title What a dapp reads about floe blobs
/// @notice The read-only part of the blob registry a dapp needs to decide whether a blob it points
/// at is (still) available: a blob id's status, one registration, its attributes and the current
/// epoch, all from the registry's one address. A blob's data is guaranteed readable while it is not
/// invalid and `currentEpoch() < blobStatus(id).certifiedEndEpoch`.
interface IFloeBlobs {
    /// @notice What holds for `blobId` over its registrations (all zero if never registered).
    function blobStatus(bytes32 blobId) external view returns (IBlobRegistry.BlobStatus memory);
    /// @notice A registration (state None and all zero if `registrationId` was never issued).
    function registration(uint256 registrationId) external view returns (IBlobRegistry.RegistrationInfo memory);
    /// @notice The attributes of a registration (at most 16).
    function attributes(uint256 registrationId) external view returns (IBlobRegistry.Attribute[] memory);
    /// @notice Attribute `key` of a registration: `found` false (and `value` empty) if it has none.
    function attribute(uint256 registrationId, string calldata key)
        external
        view
        returns (bool found, string memory value);
    /// @notice The current epoch.
    function currentEpoch() external view returns (uint32);
}
