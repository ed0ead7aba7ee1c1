// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {WAL} from "../../src/WAL.sol";
import {Staking} from "../../src/Staking.sol";

/// @notice Drives Staking through random sequences of stake, withdrawal, claims, price votes,
/// reward funding (it is the registry) and epoch advances, and keeps the ghost totals the
/// invariants compare against.
contract StakingHandler is Test {
    Staking internal immutable staking;
    WAL internal immutable wal;

    address[] internal _nodes;
    address[] internal _actors;

    /// @notice WAL funded as rewards, claimed as rewards, withdrawn as stake, over the run.
    uint256 public ghostFunded;
    uint256 public ghostClaimed;
    uint256 public ghostWithdrawn;
    uint256 public ghostStaked;
    /// @notice How often each action really ran (not skipped for lack of state).
    mapping(bytes32 action => uint256) public calls;

    constructor(Staking staking_, WAL wal_, address[] memory nodes_, address[] memory delegators) {
        staking = staking_;
        wal = wal_;
        _nodes = nodes_;
        for (uint256 i; i < nodes_.length; ++i) {
            _actors.push(nodes_[i]);
        }
        for (uint256 i; i < delegators.length; ++i) {
            _actors.push(delegators[i]);
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function nodes() external view returns (address[] memory) {
        return _nodes;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    // ------------------------------------------------------------------ actions

    function stake(uint256 actorSeed, uint256 nodeSeed, uint256 amount) external {
        address actor = _actors[actorSeed % _actors.length];
        address node = _nodes[nodeSeed % _nodes.length];
        amount = bound(amount, 1, 5_000e9);
        vm.startPrank(actor);
        wal.faucet(amount);
        wal.approve(address(staking), amount);
        staking.stake(node, amount);
        vm.stopPrank();
        ghostStaked += amount;
        ++calls["stake"];
    }

    /// @dev Starting at the seeded (actor, node) pair, the first pair for which `wanted` holds.
    function _findPair(uint256 seed, function(address, address) view returns (uint256) wanted)
        internal
        view
        returns (address actor, address node, uint256 value)
    {
        uint256 pairs = _actors.length * _nodes.length;
        for (uint256 k; k < pairs; ++k) {
            uint256 p = (seed % pairs + k) % pairs;
            actor = _actors[p / _nodes.length];
            node = _nodes[p % _nodes.length];
            value = wanted(actor, node);
            if (value != 0) return (actor, node, value);
        }
        return (address(0), address(0), 0);
    }

    function _active(address actor, address node) internal view returns (uint256 active) {
        (active,,,,) = staking.stakeOf(node, actor);
    }

    function _withdrawable(address actor, address node) internal view returns (uint256 withdrawable) {
        (,, withdrawable,,) = staking.stakeOf(node, actor);
    }

    function _pending(address actor, address node) internal view returns (uint256) {
        return staking.pendingRewards(node, actor);
    }

    function requestWithdrawal(uint256 seed, uint256 amount) external {
        (address actor, address node, uint256 active) = _findPair(seed, _active);
        if (active == 0) return;
        amount = bound(amount, 1, active);
        vm.prank(actor);
        staking.requestWithdrawal(node, amount);
        ++calls["requestWithdrawal"];
    }

    function withdraw(uint256 seed) external {
        (address actor, address node, uint256 withdrawable) = _findPair(seed, _withdrawable);
        if (withdrawable == 0) return;
        vm.prank(actor);
        uint256 paid = staking.withdraw(node);
        assertEq(paid, withdrawable, "withdraw pays what stakeOf promised");
        ghostWithdrawn += paid;
        ++calls["withdraw"];
    }

    function claim(uint256 seed) external {
        (address actor, address node, uint256 pending) = _findPair(seed, _pending);
        if (pending == 0) return;
        vm.prank(actor);
        uint256 paid = staking.claimRewards(node);
        assertEq(paid, pending, "claim pays what pendingRewards promised");
        ghostClaimed += paid;
        ++calls["claim"];
    }

    function fund(uint256 amount, uint256 offset, uint256 epochs) external {
        amount = bound(amount, 1, 1e15);
        uint32 from = staking.currentEpoch() + uint32(bound(offset, 0, 3));
        uint32 span = uint32(bound(epochs, 1, 10));
        wal.faucet(amount);
        wal.transfer(address(staking), amount);
        staking.fundRewards(from, span, amount);
        ghostFunded += amount;
        ++calls["fund"];
    }

    function vote(uint256 nodeSeed, uint64 storagePrice, uint64 writePrice) external {
        address node = _nodes[nodeSeed % _nodes.length];
        (address[] memory members,) = staking.committee(staking.currentEpoch());
        bool isMember;
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == node) isMember = true;
        }
        if (!isMember) return;
        vm.prank(node);
        staking.votePrices(storagePrice, writePrice);
        ++calls["vote"];
    }

    function setCommission(uint256 nodeSeed, uint16 bps) external {
        address node = _nodes[nodeSeed % _nodes.length];
        vm.prank(node);
        staking.updateNode("127.0.0.1:9000", uint16(bound(bps, 0, 10_000)));
        ++calls["setCommission"];
    }

    function advance(uint256 extraSeconds) external {
        if (staking.currentEpoch() != 0) {
            vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration() + bound(extraSeconds, 0, 1 days));
        }
        staking.advanceEpoch();
        ++calls["advance"];
    }
}
