// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StakingFixture} from "./handlers/StakingFixture.sol";
import {StakingHandler} from "./handlers/StakingHandler.sol";
import {BLS} from "../src/libraries/BLS.sol";
import {Staking} from "../src/Staking.sol";

/// @notice Invariants of Staking under random sequences of every user action (deregistration and
/// bond returns included) and epoch advances: WAL conservation, exact accounting of obligations
/// (bonds included), shards with exactly one owner each, the committee key, the certificate data of
/// every epoch, stake bookkeeping, and deregistered nodes leaving the candidate set and committees.
contract StakingInvariantTest is StakingFixture {
    uint256 internal constant NODES = 8;

    StakingHandler internal handler;

    function setUp() public {
        // Smaller shard count and committee cap, so drops and the size cap happen in runs.
        _deploy(N, 1 hours, MIN_STAKE, 6);
        _registerNodes(NODES);
        address[] memory nodes = new address[](NODES);
        for (uint256 i; i < NODES; ++i) {
            nodes[i] = _operator(i);
        }
        address[] memory delegators = new address[](3);
        delegators[0] = address(0xD1);
        delegators[1] = address(0xD2);
        delegators[2] = address(0xD3);
        handler = new StakingHandler(staking, wal, nodes, delegators);
        vm.prank(DEPLOYER);
        staking.setRegistry(address(handler));
        targetContract(address(handler));
    }

    /// @dev Every address that can hold WAL in these runs.
    function _holders() internal view returns (address[] memory all) {
        address[] memory actors = handler.actors();
        all = new address[](actors.length + 2);
        for (uint256 i; i < actors.length; ++i) {
            all[i] = actors[i];
        }
        all[actors.length] = address(handler);
        all[actors.length + 1] = address(staking);
    }

    /// @dev After each run: every handler call is accounted for (success, skip or an expected
    /// revert by reason), the actions that cannot lack state did their job whenever called, and a
    /// run reached its targets at all.
    function afterInvariant() external view {
        bytes32[10] memory names = handler.actionNames();
        uint256 calls;
        uint256 successes;
        for (uint256 i; i < names.length; ++i) {
            assertTrue(handler.accounted(names[i]), "every call counted once");
            calls += handler.calls(names[i]);
            successes += handler.successes(names[i]);
        }
        assertGe(calls, 1, "the handler was called");
        // A run of 8 calls or more in which nothing reached its target means a broken handler.
        if (calls >= 8) assertGe(successes, 1, "some calls reached their target");
        bytes32[3] memory always = [bytes32("stake"), "fund", "advance"];
        for (uint256 i; i < always.length; ++i) {
            assertEq(handler.successes(always[i]), handler.calls(always[i]), "never skipped nor reverted");
        }
        // The first deregistration is always allowed (no node left yet, under the cap).
        if (handler.calls("deregisterNode") != 0) {
            assertGe(handler.successes("deregisterNode"), 1, "a node deregistered");
        }
        assertEq(handler.successes("deregisterNode"), handler.ghostDeregistrations(), "deregistrations counted");
        assertLe(handler.ghostDeregistrations(), handler.MAX_DEREGISTRATIONS(), "deregistrations bounded");
        // Once a bond was returnable, every later withdrawBond call either returned one or found
        // every returnable bond already returned: so at least one return.
        if (handler.withdrawBondCallsWhileReady() != 0) {
            assertGe(handler.successes("withdrawBond"), 1, "a bond was returned");
        }
        assertEq(handler.skips("withdrawBond"), 0, "withdrawBond never skips");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_walHeldEqualsObligations() external view {
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "WAL held == obligations");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_bondsConserved() external view {
        address[] memory nodes = handler.nodes();
        uint256 held;
        for (uint256 i; i < nodes.length; ++i) {
            (bool active,, uint256 bond, uint32 ready) = staking.nodeStatus(nodes[i]);
            assertEq(bond, handler.ghostBond(nodes[i]), "bond held as the ghost");
            assertEq(ready, handler.ghostLeft(nodes[i]), "bond ready epoch as the ghost");
            assertEq(active, ready == 0, "active iff not deregistered");
            held += bond;
        }
        assertEq(staking.totalBonds(), held, "total bonds == sum of bonds held");
        assertEq(handler.ghostBondsPaid(), held + handler.ghostBondsReturned(), "bonds paid == held + returned");
    }

    /// @notice A node deregistered in epoch d sits in no committee from epoch d + 1 on (nor in the
    /// candidate set, checked by invariant_candidateSetBoundedAndExact).
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_deregisteredNodesLeaveTheCommittee() external view {
        uint32 current = staking.currentEpoch();
        for (uint32 e = 1; e <= current; ++e) {
            (address[] memory members,) = staking.committee(e);
            for (uint256 i; i < members.length; ++i) {
                uint32 left = handler.ghostLeft(members[i]);
                assertTrue(left == 0 || e < left, "deregistered node in a later committee");
            }
        }
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_balancesSumToSupply() external view {
        address[] memory holders = _holders();
        uint256 sum;
        for (uint256 i; i < holders.length; ++i) {
            sum += wal.balanceOf(holders[i]);
        }
        assertEq(sum, wal.totalSupply(), "sum of balances == supply");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_rewardsConserved() external view {
        assertEq(
            handler.ghostFunded(),
            staking.totalFutureRewards() + staking.totalUnclaimedRewards() + handler.ghostClaimed(),
            "funded == future pools + unclaimed + claimed"
        );
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_stakeConserved() external view {
        assertEq(
            handler.ghostStaked(),
            staking.totalActiveStake() + staking.totalPendingWithdrawals() + handler.ghostWithdrawn(),
            "staked == active + pending withdrawals + withdrawn"
        );
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_claimableWithinUnclaimed() external view {
        address[] memory nodes = handler.nodes();
        address[] memory actors = handler.actors();
        uint256 claimable;
        for (uint256 i; i < nodes.length; ++i) {
            for (uint256 a; a < actors.length; ++a) {
                claimable += staking.pendingRewards(nodes[i], actors[a]);
            }
        }
        assertLe(claimable, staking.totalUnclaimedRewards(), "claimable <= unclaimed");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_nodeStakeIsSumOfPositions() external view {
        address[] memory nodes = handler.nodes();
        address[] memory actors = handler.actors();
        uint256 total;
        for (uint256 i; i < nodes.length; ++i) {
            uint256 sum;
            for (uint256 a; a < actors.length; ++a) {
                (uint256 active,,,,) = staking.stakeOf(nodes[i], actors[a]);
                sum += active;
            }
            assertEq(staking.nodeInfo(nodes[i]).stake, sum, "node stake == sum of positions");
            total += sum;
        }
        assertEq(staking.totalActiveStake(), total, "total active stake");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_shardsHaveOneOwnerEach() external view {
        uint32 epoch = staking.currentEpoch();
        (address[] memory members,) = staking.committee(epoch);
        if (members.length == 0) {
            assertEq(staking.shardOwners(epoch).length, 0, "no owners without a committee");
            return;
        }
        assertLe(members.length, staking.maxCommitteeSize(), "committee size cap");
        _checkShards(epoch);
        // Members are ordered by registration and meet the minimum stake counted this epoch.
        for (uint256 i; i < members.length; ++i) {
            if (i != 0) assertLe(uint160(members[i - 1]) + 1, uint160(members[i]), "registration order");
            assertGe(staking.countedStake(members[i]), staking.minStake(), "members meet the minimum stake");
        }
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_candidateSetBoundedAndExact() external view {
        (address[] memory c, uint256[] memory stakes) = staking.candidates();
        assertLe(c.length, staking.maxCommitteeSize(), "at most maxCommitteeSize candidates");
        uint256 smallest = type(uint256).max;
        for (uint256 i; i < c.length; ++i) {
            assertEq(stakes[i], staking.nodeInfo(c[i]).stake, "candidate stake == node stake");
            assertGe(stakes[i], staking.minStake(), "candidates meet the minimum");
            (bool active, bool candidate,,) = staking.nodeStatus(c[i]);
            assertTrue(active && candidate, "active and marked");
            if (stakes[i] < smallest) smallest = stakes[i];
            for (uint256 j; j < i; ++j) {
                assertTrue(c[j] != c[i], "no duplicates");
            }
        }
        address[] memory nodes = handler.nodes();
        uint256 marked;
        for (uint256 i; i < nodes.length; ++i) {
            (, bool candidate,,) = staking.nodeStatus(nodes[i]);
            if (candidate) ++marked;
        }
        assertEq(marked, c.length, "marks == set");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_certificateDataMatchesViewsInEveryEpoch() external view {
        uint32 current = staking.currentEpoch();
        for (uint32 e; e <= current; ++e) {
            _checkCertificateData(e);
            if (e == 0) continue;
            // Consecutive epochs share their data exactly when committee and shard counts are equal.
            (address[] memory m0, uint16[] memory c0) = staking.committee(e - 1);
            (address[] memory m1, uint16[] memory c1) = staking.committee(e);
            bool same = keccak256(abi.encode(m0, c0)) == keccak256(abi.encode(m1, c1));
            assertEq(
                staking.certificateData(e) == staking.certificateData(e - 1),
                same,
                "data reused iff committee unchanged"
            );
        }
        (uint32 epoch, address data) = staking.currentCertificateData();
        assertEq(epoch, current, "current epoch");
        assertEq(data, staking.certificateData(current), "current data");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_committeeKeyIsSumOfMemberKeys() external view {
        uint32 epoch = staking.currentEpoch();
        (uint256 size,, bytes memory agg) = staking.certificateContext(epoch);
        if (size == 0) {
            assertEq(agg, new bytes(128), "identity without a committee");
            return;
        }
        bytes[] memory keys = new bytes[](size);
        for (uint256 i; i < size; ++i) {
            (keys[i],) = staking.member(epoch, i);
        }
        assertEq(agg, BLS.aggregate(keys), "aggregate key == sum of member keys");
    }
}

/// @notice The handler's deregistration and bond actions reach success and each expected revert on
/// a fixed sequence (so a handler that could never reach them fails here, not silently).
contract StakingHandlerCoverageTest is StakingFixture {
    StakingHandler internal handler;

    function setUp() public {
        _deploy(N, 1 hours, MIN_STAKE, 6);
        _registerNodes(8);
        address[] memory nodes = new address[](8);
        for (uint256 i; i < 8; ++i) {
            nodes[i] = _operator(i);
        }
        address[] memory delegators = new address[](1);
        delegators[0] = address(0xD1);
        handler = new StakingHandler(staking, wal, nodes, delegators);
        vm.prank(DEPLOYER);
        staking.setRegistry(address(handler));
    }

    function test_handler_reachesDeregistrationOutcomes() external {
        for (uint256 i; i < 8; ++i) {
            handler.stake(8, i, 2_000e9); // delegator 0xD1 stakes to every node
        }
        handler.advance(0); // epoch 1: committee of 6
        handler.withdrawBond(0); // node 0 active: NodeNotDeregistered
        handler.deregisterNode(0); // node 0 leaves in epoch 1
        handler.deregisterNode(0); // again: NodeNotActive
        handler.withdrawBond(0); // epoch 1 < 2: BondNotReady
        handler.setCommission(0, 500); // deregistered: NodeNotActive
        handler.stake(0, 0, 1e9); // node 0 refuses stake; goes to node 1
        handler.deregisterNode(1);
        handler.deregisterNode(2); // cap of 3 reached
        handler.deregisterNode(3); // active but capped: skip
        handler.requestWithdrawal(8 * 8, 2_000e9); // 0xD1 leaves node 0 (pair index 64 = (D1, node 0))
        handler.advance(0); // epoch 2: nodes 0..2 out of the committee
        handler.withdrawBond(0); // node 0's bond returned
        handler.withdrawBond(1); // node 1's
        handler.withdrawBond(2); // node 2's
        handler.withdrawBond(0); // none left returnable, node 0: BondAlreadyReturned
        handler.withdraw(8 * 8); // 0xD1's withdrawal from node 0
        handler.advance(0);

        assertEq(handler.successes("deregisterNode"), 3, "three deregistrations");
        assertEq(handler.skips("deregisterNode"), 1, "capped");
        assertEq(handler.expectedReverts("deregisterNode", Staking.NodeNotActive.selector), 1, "twice");
        assertEq(handler.successes("withdrawBond"), 3, "three bonds returned");
        assertEq(handler.expectedReverts("withdrawBond", Staking.NodeNotDeregistered.selector), 1, "active");
        assertEq(handler.expectedReverts("withdrawBond", Staking.BondNotReady.selector), 1, "too early");
        assertEq(handler.expectedReverts("withdrawBond", Staking.BondAlreadyReturned.selector), 1, "returned");
        assertEq(handler.expectedReverts("setCommission", Staking.NodeNotActive.selector), 1, "inactive update");
        assertEq(handler.successes("withdraw"), 1, "withdrawn after deregistration");
        assertEq(staking.totalBonds(), 5 * BOND, "five bonds held");
        assertEq(handler.ghostBondsReturned(), 3 * BOND, "three returned");
        (address[] memory members,) = staking.committee(staking.currentEpoch());
        // Nodes 3..5 stay; 6 and 7 were never candidates (they enter at their next stake change).
        assertEq(members.length, 3, "the remaining candidates");
        for (uint256 i; i < members.length; ++i) {
            assertEq(handler.ghostLeft(members[i]), 0, "only active nodes");
        }
        bytes32[10] memory names = handler.actionNames();
        for (uint256 i; i < names.length; ++i) {
            assertTrue(handler.accounted(names[i]), "every call counted once");
        }
    }
}
