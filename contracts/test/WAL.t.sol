// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {WAL} from "../src/WAL.sol";
import {IWAL} from "../src/interfaces/IWAL.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract WALTest is Test {
    uint256 internal constant CAP = 1_000e9;
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    WAL internal wal;

    function setUp() public {
        wal = new WAL(true, CAP, address(0), 0);
    }

    function test_constructor_metadata() external view {
        assertEq(wal.name(), "WAL", "name");
        assertEq(wal.symbol(), "WAL", "symbol");
        assertEq(wal.decimals(), 9, "9 decimals: 1 WAL = 10^9 FROST");
        assertEq(wal.faucetCap(), CAP, "cap");
        assertEq(wal.totalSupply(), 0, "nothing minted");
    }

    function test_faucet_mintsAndEmits() external {
        vm.expectEmit(true, true, true, true, address(wal));
        emit IERC20.Transfer(address(0), ALICE, 300);
        vm.expectEmit(true, true, true, true, address(wal));
        emit IWAL.FaucetMinted(ALICE, 300);
        vm.prank(ALICE);
        wal.faucet(300);
        assertEq(wal.balanceOf(ALICE), 300, "balance");
        assertEq(wal.faucetMinted(ALICE), 300, "tracked");
        assertEq(wal.totalSupply(), 300, "supply");
    }

    function test_faucet_upToCapAcrossCalls() external {
        vm.startPrank(ALICE);
        wal.faucet(CAP - 1);
        wal.faucet(1);
        vm.stopPrank();
        assertEq(wal.balanceOf(ALICE), CAP, "whole cap");
        assertEq(wal.faucetMinted(ALICE), CAP, "tracked");
    }

    function test_faucet_revertsOverCap() external {
        vm.prank(ALICE);
        wal.faucet(CAP - 10);
        vm.expectRevert(abi.encodeWithSelector(WAL.FaucetCapExceeded.selector, ALICE, 11, 10));
        vm.prank(ALICE);
        wal.faucet(11);
    }

    function test_faucet_revertsOnZero() external {
        vm.expectRevert(WAL.FaucetZeroAmount.selector);
        vm.prank(ALICE);
        wal.faucet(0);
    }

    function test_faucet_capIsPerAccount() external {
        vm.prank(ALICE);
        wal.faucet(CAP);
        vm.prank(BOB);
        wal.faucet(CAP);
        assertEq(wal.balanceOf(BOB), CAP, "Bob has his own cap");
    }

    function test_faucet_capCountsAfterTransfersAway() external {
        vm.startPrank(ALICE);
        wal.faucet(CAP);
        wal.transfer(BOB, CAP);
        vm.expectRevert(abi.encodeWithSelector(WAL.FaucetCapExceeded.selector, ALICE, 1, 0));
        wal.faucet(1);
        vm.stopPrank();
    }

    function test_transfer_movesBalance() external {
        vm.startPrank(ALICE);
        wal.faucet(100);
        assertTrue(wal.transfer(BOB, 40), "transfer");
        vm.stopPrank();
        assertEq(wal.balanceOf(ALICE), 60, "Alice");
        assertEq(wal.balanceOf(BOB), 40, "Bob");
    }

    function test_transfer_revertsOnInsufficientBalance() external {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, ALICE, 0, 1));
        vm.prank(ALICE);
        wal.transfer(BOB, 1);
    }

    function test_transferFrom_needsAllowance() external {
        vm.prank(ALICE);
        wal.faucet(100);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, BOB, 0, 50));
        vm.prank(BOB);
        wal.transferFrom(ALICE, BOB, 50);
        vm.prank(ALICE);
        wal.approve(BOB, 50);
        vm.prank(BOB);
        wal.transferFrom(ALICE, BOB, 50);
        assertEq(wal.balanceOf(BOB), 50, "moved with allowance");
        assertEq(wal.allowance(ALICE, BOB), 0, "allowance spent");
    }

    function test_fuzz_faucet_neverExceedsCap(uint256 first, uint256 second) external {
        first = bound(first, 1, CAP);
        second = bound(second, 1, 2 * CAP);
        vm.prank(ALICE);
        wal.faucet(first);
        uint256 remaining = CAP - first;
        if (second > remaining) {
            vm.expectRevert(abi.encodeWithSelector(WAL.FaucetCapExceeded.selector, ALICE, second, remaining));
            vm.prank(ALICE);
            wal.faucet(second);
            assertEq(wal.balanceOf(ALICE), first, "unchanged");
        } else {
            vm.prank(ALICE);
            wal.faucet(second);
            assertEq(wal.balanceOf(ALICE), first + second, "both minted");
        }
        assertLe(wal.faucetMinted(ALICE), CAP, "never past the cap");
        assertEq(wal.totalSupply(), wal.faucetMinted(ALICE), "supply == minted");
    }
}

/// @notice Non-devnet WAL: fixed supply minted at deployment, no faucet.
contract WALFixedSupplyTest is Test {
    address internal constant HOLDER = address(0x40D);
    address internal constant ALICE = address(0xA11CE);
    uint256 internal constant SUPPLY = 5_000_000_000e9;

    function test_constructor_mintsSupplyToHolderAndDisablesFaucet() external {
        vm.expectEmit(true, true, true, true);
        emit IWAL.InitialSupplyMinted(HOLDER, SUPPLY);
        WAL wal = new WAL(false, 0, HOLDER, SUPPLY);
        assertFalse(wal.faucetEnabled(), "no faucet");
        assertEq(wal.totalSupply(), SUPPLY, "fixed supply");
        assertEq(wal.balanceOf(HOLDER), SUPPLY, "to the holder");
        assertEq(wal.faucetCap(), 0, "no cap");
        vm.expectRevert(WAL.FaucetDisabled.selector);
        vm.prank(ALICE);
        wal.faucet(1);
        assertEq(wal.totalSupply(), SUPPLY, "still fixed");
    }

    function test_fuzz_faucetRevertsForAnyAmount(uint256 amount) external {
        WAL wal = new WAL(false, 0, HOLDER, SUPPLY);
        amount = bound(amount, 0, type(uint128).max);
        vm.expectRevert(WAL.FaucetDisabled.selector);
        vm.prank(ALICE);
        wal.faucet(amount);
    }

    function test_constructor_rejectsInconsistentParameters() external {
        vm.expectRevert(abi.encodeWithSelector(WAL.InvalidParameter.selector, "faucetCapPerAccount"));
        new WAL(false, 1, HOLDER, SUPPLY);
        vm.expectRevert(abi.encodeWithSelector(WAL.InvalidParameter.selector, "initialSupply"));
        new WAL(false, 0, HOLDER, 0);
        vm.expectRevert(abi.encodeWithSelector(WAL.InvalidParameter.selector, "initialHolder"));
        new WAL(false, 0, address(0), SUPPLY);
        vm.expectRevert(abi.encodeWithSelector(WAL.InvalidParameter.selector, "initialHolder"));
        new WAL(true, 1, address(0), SUPPLY);
    }

    function test_devnet_withPremintKeepsFaucet() external {
        WAL wal = new WAL(true, 10, HOLDER, 7);
        assertTrue(wal.faucetEnabled(), "faucet on");
        assertEq(wal.balanceOf(HOLDER), 7, "premint");
        vm.prank(ALICE);
        wal.faucet(10);
        assertEq(wal.totalSupply(), 17, "faucet still mints");
    }
}
