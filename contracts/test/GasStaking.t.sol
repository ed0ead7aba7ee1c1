// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {StakingKeys} from "./handlers/StakingFixture.sol";
import {WAL} from "../src/WAL.sol";
import {Staking} from "../src/Staking.sol";
import {IStaking} from "../src/interfaces/IStaking.sol";

/// @notice Staking with the proof-of-possession check stubbed, so that 10,000 nodes register
/// quickly (keys are still real G1 points, checked on-chain). Everything measured is Staking's code.
contract StakingNoPop is Staking {
    constructor(IStaking.Config memory config) Staking(config) {}

    function _verifyPossession(address, bytes calldata, bytes calldata) internal pure override returns (bool) {
        return true;
    }
}

/// @notice Gas of Staking with many registered nodes, recorded under snapshots/<contract>.json
/// (groups GasStakingTest, GasStakingAscendingTest, GasStakingFullCommitteeTest). Preparation runs with gas metering paused; each measured call is
/// bracketed by startSnapshotGas/stopSnapshotGas and also asserted against a gasleft() budget.
/// Numbers include the CALL from the test contract but not a transaction's intrinsic cost.
abstract contract GasStakingBase is Test, StakingKeys {
    uint256 internal constant WAL_ = 1e9;
    /// @dev The block gas limit an advance must fit in, with room to spare.
    uint256 internal constant ADVANCE_BUDGET = 10_000_000;
    /// @dev A first (or entirely new) committee of the largest size, 249 members at n = 1000.
    /// (Staking is compiled through the IR pipeline to fit EIP-170, which costs ~3% more here.)
    uint256 internal constant FULL_COMMITTEE_BUDGET = 13_000_000;

    WAL internal wal;
    Staking internal staking;

    function _deployFor(uint16 n, uint16 maxCommittee) internal {
        wal = new WAL(true, type(uint256).max, address(0), 0);
        IStaking.Config memory c;
        c.wal = address(wal);
        c.nShards = n;
        c.epochDuration = 1 days;
        c.minStake = WAL_;
        c.maxCommitteeSize = maxCommittee;
        c.registrationBond = WAL_;
        c.initialStoragePrice = 1_000;
        c.maxStoragePrice = type(uint64).max;
        c.initialWritePrice = 500;
        c.maxWritePrice = type(uint64).max;
        staking = new StakingNoPop(c);
    }

    function _op(uint256 i) internal pure returns (address) {
        return address(uint160(0x1000000 + i));
    }

    function _register(uint256 i) internal {
        address op = _op(i);
        vm.startPrank(op);
        wal.faucet(WAL_);
        wal.approve(address(staking), WAL_);
        staking.registerNode(_g1Mul(i + 1), new bytes(256), "127.0.0.1:9000", 1_000, 1 << 40);
        vm.stopPrank();
    }

    function _stakeTo(uint256 i, uint256 amount) internal {
        address op = _op(i);
        vm.startPrank(op);
        wal.faucet(amount);
        wal.approve(address(staking), amount);
        staking.stake(op, amount);
        vm.stopPrank();
    }

    /// @dev Measures one call (snapshot and gasleft) and bubbles up a revert.
    function _measure(string memory name, address target, bytes memory data) internal returns (uint256 used) {
        vm.startSnapshotGas(name);
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        uint256 left = gasleft();
        uint256 snap = vm.stopSnapshotGas();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        used = before - left;
        assertLe(snap, used + 10_000, "snapshot and gasleft agree");
    }

    function _warpToEnd() internal {
        vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration());
    }

    function _checkCommittee(uint256 expectedSize) internal view {
        (address[] memory members, uint16[] memory counts) = staking.committee(staking.currentEpoch());
        assertEq(members.length, expectedSize, "committee size");
        uint256 total;
        for (uint256 i; i < counts.length; ++i) {
            total += counts[i];
            if (i != 0) assertLe(uint160(members[i - 1]) + 1, uint160(members[i]), "registration order");
        }
        assertEq(total, staking.nShards(), "all shards");
    }
}

/// @notice 10,000 registered candidates staked in ascending order (every stake evicts the
/// smallest candidate and sifts its successor to the bottom of the heap), committee cap 100, n 100.
contract GasStakingAscendingTest is GasStakingBase {
    uint256 internal constant NODES = 10_000;

    function setUp() public {
        vm.pauseGasMetering();
        _deployFor(100, 100);
        for (uint256 i; i < NODES; ++i) {
            _register(i);
            _stakeTo(i, WAL_ + i * 1_000); // ascending
        }
        staking.advanceEpoch(); // epoch 1: the top 100
        // The next committee differs: 100 more ascending stakes evict every member.
        for (uint256 i; i < 100; ++i) {
            _stakeTo(i, 20 * WAL_ + i * 1_000);
        }
        _warpToEnd();
        vm.resumeGasMetering();
    }

    function test_gas_advanceEpoch_10000candidates_ascending_newCommittee() external {
        uint256 used = _measure(
            "advanceEpoch_10000candidates_ascending_newCommittee_100members",
            address(staking),
            abi.encodeCall(staking.advanceEpoch, ())
        );
        assertLe(used, ADVANCE_BUDGET, "advance with 10,000 candidates");
        _checkCommittee(100);
        (address[] memory members,) = staking.committee(2);
        assertEq(members[0], _op(0), "the restaked nodes form the committee");
        assertEq(members[99], _op(99), "the restaked nodes form the committee");
    }
}

/// @notice The largest committee (249 members, n = 1000) over 10,000 candidates in a crafted
/// order: 249 descending stakes fill the set, then 9,751 ascending stakes each evict the root.
contract GasStakingFullCommitteeTest is GasStakingBase {
    uint256 internal constant NODES = 10_000;

    function setUp() public {
        vm.pauseGasMetering();
        _deployFor(1000, 249);
        for (uint256 i; i < NODES; ++i) {
            _register(i);
            uint256 amount = i < 249 ? 2 * WAL_ - i * 1_000 : 2 * WAL_ + i * 1_000;
            _stakeTo(i, amount);
        }
        _warpToEnd();
        vm.resumeGasMetering();
    }

    function test_gas_advanceEpoch_10000candidates_crafted_firstCommittee_249members() external {
        uint256 used = _measure(
            "advanceEpoch_10000candidates_crafted_firstCommittee_249members_1000shards",
            address(staking),
            abi.encodeCall(staking.advanceEpoch, ())
        );
        // Bounded by the committee, not by the 10,000 candidates: ~5M of it is the 24.5 kB
        // certificate data contract (200 gas per byte deposited), ~2M the 249 keys read from storage,
        // ~2.5M the member and shard-owner words. Only a committee change this complete costs this.
        assertLe(used, FULL_COMMITTEE_BUDGET, "advance, 249 members, 10,000 candidates");
        _checkCommittee(249);
    }
}

/// @notice Registration with bond, stake into a full candidate set (with eviction), withdrawal of a
/// candidate, and the advance at 100 nodes, with 10,000 nodes registered.
contract GasStakingTest is GasStakingBase {
    uint256 internal constant NODES = 10_000;
    bytes internal newKey;

    function setUp() public {
        vm.pauseGasMetering();
        _deployFor(100, 100);
        for (uint256 i; i < NODES; ++i) {
            _register(i);
            _stakeTo(i, WAL_ + i * 1_000);
        }
        staking.advanceEpoch();
        _warpToEnd();
        newKey = _g1Mul(NODES + 1);
        address op = _op(NODES);
        vm.startPrank(op);
        wal.faucet(10 * WAL_);
        wal.approve(address(staking), 10 * WAL_);
        vm.stopPrank();
        address staker = address(0x5555);
        vm.startPrank(staker);
        wal.faucet(100 * WAL_);
        wal.approve(address(staking), 100 * WAL_);
        vm.stopPrank();
        vm.resumeGasMetering();
    }

    function test_gas_registerNode_withBond() external {
        vm.prank(_op(NODES));
        uint256 used = _measure(
            "registerNode_withBond",
            address(staking),
            abi.encodeCall(staking.registerNode, (newKey, new bytes(256), "127.0.0.1:9000", 1_000, 1 << 40))
        );
        assertLe(used, 500_000, "register with bond");
    }

    function test_gas_stake_evictsFromFullCandidateSet() external {
        // Node 0 (smallest stake, not a candidate) jumps to the top: evicts the root, sifts to a leaf.
        vm.prank(address(0x5555));
        uint256 used = _measure(
            "stake_entersFullCandidateSet_evicts", address(staking), abi.encodeCall(staking.stake, (_op(0), 50 * WAL_))
        );
        assertLe(used, 300_000, "stake with eviction");
        (, bool candidate,,) = staking.nodeStatus(_op(0));
        assertTrue(candidate, "entered");
    }

    function test_gas_stake_nonCandidateStaysOut() external {
        vm.prank(address(0x5555));
        uint256 used =
            _measure("stake_belowSmallestCandidate", address(staking), abi.encodeCall(staking.stake, (_op(1), 1)));
        assertLe(used, 200_000, "stake outside the set");
    }

    function test_gas_requestWithdrawal_candidateLeaves() external {
        // The largest candidate drops below the minimum: removed from the middle of the heap.
        address op = _op(NODES - 1);
        (uint256 active,,,,) = staking.stakeOf(op, op);
        vm.prank(op);
        uint256 used = _measure(
            "requestWithdrawal_candidateLeavesSet",
            address(staking),
            abi.encodeCall(staking.requestWithdrawal, (op, active))
        );
        assertLe(used, 250_000, "withdrawal with removal");
    }

    function test_gas_advanceEpoch_100members_unchanged_10000registered() external {
        uint256 used = _measure(
            "advanceEpoch_100members_unchanged_10000registered",
            address(staking),
            abi.encodeCall(staking.advanceEpoch, ())
        );
        assertLe(used, 2_000_000, "steady advance");
    }
}
