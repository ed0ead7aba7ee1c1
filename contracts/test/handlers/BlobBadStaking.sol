// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice A staking contract (n = 10, epoch 1, free prices, so blobs register without WAL) whose
/// certificate data is whatever code the test gives: the registry must reject malformed data with
/// InvalidCommitteeData rather than misread it.
contract BlobBadStaking {
    /// @notice The test's data code could not be deployed.
    error DataNotDeployed();

    address public immutable wal;
    address public immutable data;

    /// @param code The runtime code of the certificate data contract (empty: no code at all).
    constructor(address wal_, bytes memory code) {
        wal = wal_;
        address created;
        if (code.length != 0) {
            // Initcode: PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN | code.
            bytes memory init = abi.encodePacked(bytes1(0x61), uint16(code.length), hex"80600a3d393df3", code);
            assembly ("memory-safe") {
                created := create(0, add(init, 0x20), mload(init))
            }
            if (created == address(0)) revert DataNotDeployed();
        } else {
            created = address(0xDA7A);
        }
        data = created;
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

    function currentCertificateData() external view returns (uint32, address) {
        return (1, data);
    }
}
