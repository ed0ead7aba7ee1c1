// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlobFixture} from "./handlers/BlobFixture.sol";

/// @notice Every floe contract deploys on a real chain: its runtime code is within EIP-170's limit.
/// (forge itself does not enforce the limit on `new` in tests, so this checks it explicitly.)
contract CodeSizeTest is BlobFixture {
    /// @dev EIP-170: the largest runtime code a chain accepts.
    uint256 internal constant MAX_CODE_SIZE = 24_576;

    function setUp() public {
        _deploy();
    }

    function test_codeSize_everyContractFitsEip170() external view {
        assertLe(address(wal).code.length, MAX_CODE_SIZE, "WAL");
        assertLe(address(staking).code.length, MAX_CODE_SIZE, "Staking");
        assertLe(address(registry).code.length, MAX_CODE_SIZE, "BlobRegistry");
    }
}
