// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice A staking contract that answers committee queries in the wrong shape (a 96-byte key):
/// the registry must reject it with InvalidCommitteeData rather than misread it. Free prices, so
/// blobs can be registered without WAL.
contract BlobBadStaking {
    address public immutable wal;

    constructor(address wal_) {
        wal = wal_;
    }

    function nShards() external pure returns (uint16) {
        return 10;
    }

    function currentEpoch() external pure returns (uint32) {
        return 1;
    }

    function prices() external pure returns (uint64, uint64) {
        return (0, 0);
    }

    function certificateContext(uint32) external pure returns (uint256, uint16, bytes memory) {
        return (4, 10, new bytes(96));
    }
}
