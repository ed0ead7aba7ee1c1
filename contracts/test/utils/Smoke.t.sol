// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";

contract SmokeTest is Test {
    function test_bound_keepsRange(uint256 x) external pure {
        uint256 y = bound(x, 10, 20);
        assertGe(y, 10, "low");
        assertLe(y, 20, "high");
    }

    function test_expectRevert_exactData() external {
        vm.expectRevert(abi.encodeWithSelector(AssertionFailed.selector, "always"));
        this.failing();
    }

    function test_expectPartialRevert_bySelector() external {
        vm.expectPartialRevert(AssertionFailed.selector);
        this.failing();
    }

    function failing() external pure {
        assertTrue(false, "always");
    }
}
