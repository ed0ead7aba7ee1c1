// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {WAL} from "../../src/WAL.sol";
import {Staking} from "../../src/Staking.sol";

/// @notice Drives Staking through random sequences of stake, withdrawal, claims, price votes,
/// commission changes, reward funding (it is the registry), node deregistration, bond returns and
/// epoch advances, and keeps the ghost totals the invariants compare against.
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
    /// @notice Per action: how often the fuzzer called it, how often it did what it targets, how
    /// often it had nothing to act on (skipped), and expected reverts by error selector. Every
    /// call ends in exactly one of these (`accounted`); an unexpected revert fails the run.
    mapping(bytes32 action => uint256) public calls;
    mapping(bytes32 action => uint256) public successes;
    mapping(bytes32 action => uint256) public skips;
    mapping(bytes32 action => mapping(bytes4 reason => uint256)) public expectedReverts;
    mapping(bytes32 action => uint256) public expectedRevertTotal;
    /// @notice Ghost: the commission advertised for epoch e (recorded at the start of epoch e - 1,
    /// when delegators could still leave), and delegator payouts checked against it.
    mapping(uint32 epoch => mapping(address node => uint256 bpsPlusOne)) public advertised;
    uint256 public ghostPayoutsChecked;
    /// @notice At most this many nodes deregister in a run, so the committee never empties for
    /// want of nodes (8 registered, 6 seats).
    uint256 public constant MAX_DEREGISTRATIONS = 3;
    /// @notice Ghost lifecycle: nodes deregistered so far, each node's deregistration epoch + 1
    /// (0: active; its bond is returnable from that epoch on) and bond still held.
    uint256 public ghostDeregistrations;
    mapping(address node => uint32 leftEpochPlusOne) public ghostLeft;
    mapping(address node => uint256 bond) public ghostBond;
    /// @notice Bonds paid at registration (all before the run) and returned during it.
    uint256 public ghostBondsPaid;
    uint256 public ghostBondsReturned;
    /// @notice withdrawBond calls made while some bond was returnable (each must succeed), and the
    /// epoch from which the first deregistered node's bond was returnable (0: none yet).
    uint256 public withdrawBondCallsWhileReady;
    uint32 public firstBondReadyEpoch;

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
        for (uint256 i; i < nodes_.length; ++i) {
            (,, uint256 bond,) = staking_.nodeStatus(nodes_[i]);
            ghostBond[nodes_[i]] = bond;
            ghostBondsPaid += bond;
        }
        _recordAdvertised(0);
        _recordAdvertised(1);
    }

    /// @notice The actions whose counters the invariant test checks.
    function actionNames() external pure returns (bytes32[10] memory) {
        return [
            bytes32("stake"),
            "requestWithdrawal",
            "withdraw",
            "claim",
            "fund",
            "vote",
            "setCommission",
            "advance",
            "deregisterNode",
            "withdrawBond"
        ];
    }

    /// @notice True if every call of `action` is counted exactly once.
    function accounted(bytes32 action) external view returns (bool) {
        return calls[action] == successes[action] + skips[action] + expectedRevertTotal[action];
    }

    function _skip(bytes32 action) internal {
        ++skips[action];
    }

    /// @dev Counts an expected revert, or re-raises an unexpected one (fails the run).
    function _expected(bytes32 action, bytes memory err, bytes4 a, bytes4 b) internal {
        bytes4 sel = err.length >= 4 ? bytes4(err) : bytes4(0);
        if (sel != a && sel != b) {
            assembly ("memory-safe") {
                revert(add(err, 0x20), mload(err))
            }
        }
        ++expectedReverts[action][sel];
        ++expectedRevertTotal[action];
    }

    /// @dev Counts an expected revert whose full revert data must be `want` (re-raises any other).
    function _expectedExact(bytes32 action, bytes memory err, bytes memory want) internal {
        if (keccak256(err) != keccak256(want)) {
            assembly ("memory-safe") {
                revert(add(err, 0x20), mload(err))
            }
        }
        ++expectedReverts[action][bytes4(want)];
        ++expectedRevertTotal[action];
    }

    function _recordAdvertised(uint32 epoch) internal {
        for (uint256 i; i < _nodes.length; ++i) {
            advertised[epoch][_nodes[i]] = uint256(staking.commissionAt(_nodes[i], epoch)) + 1;
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
        ++calls["stake"];
        address actor = _actors[actorSeed % _actors.length];
        uint256 n = nodeSeed % _nodes.length;
        amount = bound(amount, 1, 5_000e9);
        if (ghostLeft[_nodes[n]] != 0) {
            // A deregistered node takes no new stake; the action stakes to the next active node.
            vm.prank(actor);
            try staking.stake(_nodes[n], amount) {
                revert("stake to a deregistered node accepted");
            } catch (bytes memory err) {
                assertEq(err, abi.encodeWithSelector(Staking.NodeNotActive.selector, _nodes[n]), "NodeNotActive");
            }
            while (ghostLeft[_nodes[n]] != 0) {
                n = (n + 1) % _nodes.length; // at most MAX_DEREGISTRATIONS < nodes deregistered
            }
        }
        address node = _nodes[n];
        vm.startPrank(actor);
        wal.faucet(amount);
        wal.approve(address(staking), amount);
        staking.stake(node, amount);
        vm.stopPrank();
        ghostStaked += amount;
        ++successes["stake"];
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
        ++calls["requestWithdrawal"];
        (address actor, address node, uint256 active) = _findPair(seed, _active);
        if (active == 0) return _skip("requestWithdrawal");
        amount = bound(amount, 1, active);
        vm.prank(actor);
        staking.requestWithdrawal(node, amount);
        ++successes["requestWithdrawal"];
    }

    function withdraw(uint256 seed) external {
        ++calls["withdraw"];
        (address actor, address node, uint256 withdrawable) = _findPair(seed, _withdrawable);
        if (withdrawable == 0) return _skip("withdraw");
        vm.prank(actor);
        uint256 paid = staking.withdraw(node);
        assertEq(paid, withdrawable, "withdraw pays what stakeOf promised");
        ghostWithdrawn += paid;
        ++successes["withdraw"];
    }

    function claim(uint256 seed) external {
        ++calls["claim"];
        (address actor, address node, uint256 pending) = _findPair(seed, _pending);
        if (pending == 0) return _skip("claim");
        vm.prank(actor);
        uint256 paid = staking.claimRewards(node);
        assertEq(paid, pending, "claim pays what pendingRewards promised");
        ghostClaimed += paid;
        ++successes["claim"];
    }

    function fund(uint256 amount, uint256 offset, uint256 epochs) external {
        ++calls["fund"];
        amount = bound(amount, 1, 1e15);
        uint32 from = staking.currentEpoch() + uint32(bound(offset, 0, 3));
        uint32 span = uint32(bound(epochs, 1, 10));
        wal.faucet(amount);
        wal.transfer(address(staking), amount);
        staking.fundRewards(from, span, amount);
        ghostFunded += amount;
        ++successes["fund"];
    }

    function vote(uint256 nodeSeed, uint64 storagePrice, uint64 writePrice) external {
        ++calls["vote"];
        address node = _nodes[nodeSeed % _nodes.length];
        (address[] memory members,) = staking.committee(staking.currentEpoch());
        bool isMember;
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == node) isMember = true;
        }
        if (!isMember) return _skip("vote");
        vm.prank(node);
        staking.votePrices(storagePrice, writePrice);
        ++successes["vote"];
    }

    /// @dev Any target commission: steps above the limit and changes while an earlier one is
    /// pending are expected reverts. Checks that the commission of the current and next epochs
    /// never moves (delegators were told).
    function setCommission(uint256 nodeSeed, uint16 bps) external {
        ++calls["setCommission"];
        address node = _nodes[nodeSeed % _nodes.length];
        uint32 cur = staking.currentEpoch();
        uint16 now_ = staking.commissionAt(node, cur);
        uint16 next = staking.commissionAt(node, cur + 1);
        bool left = ghostLeft[node] != 0;
        vm.prank(node);
        try staking.updateNode("127.0.0.1:9000", uint16(bound(bps, 0, 10_000))) {
            assertFalse(left, "a deregistered node cannot update");
            ++successes["setCommission"];
        } catch (bytes memory err) {
            if (left) {
                // Deregistered: the first check, whatever the commission asked for.
                _expectedExact("setCommission", err, abi.encodeWithSelector(Staking.NodeNotActive.selector, node));
            } else {
                _expected(
                    "setCommission",
                    err,
                    Staking.CommissionStepTooLarge.selector,
                    Staking.CommissionChangePending.selector
                );
            }
        }
        assertEq(staking.commissionAt(node, cur), now_, "commission of the running epoch never changes");
        assertEq(staking.commissionAt(node, cur + 1), next, "commission of the next epoch never changes");
    }

    /// @dev The seeded node deregisters: success if it is active and fewer than
    /// MAX_DEREGISTRATIONS nodes left (its bond becomes returnable next epoch, it leaves the
    /// candidate set at once and the committee from next epoch on), skipped if active but the cap
    /// is reached, and exactly NodeNotActive(node) if it already deregistered.
    function deregisterNode(uint256 nodeSeed) external {
        ++calls["deregisterNode"];
        address node = _nodes[nodeSeed % _nodes.length];
        uint32 cur = staking.currentEpoch();
        if (ghostLeft[node] == 0 && ghostDeregistrations >= MAX_DEREGISTRATIONS) return _skip("deregisterNode");
        vm.prank(node);
        try staking.deregisterNode() {
            assertEq(ghostLeft[node], 0, "deregistered twice");
            ghostLeft[node] = cur + 1;
            ++ghostDeregistrations;
            if (firstBondReadyEpoch == 0) firstBondReadyEpoch = cur + 1;
            (bool active, bool candidate, uint256 bond, uint32 ready) = staking.nodeStatus(node);
            assertFalse(active, "inactive after deregistering");
            assertFalse(candidate, "out of the candidate set at once");
            assertEq(bond, ghostBond[node], "bond still held");
            assertEq(ready, cur + 1, "bond returnable from the next epoch");
            ++successes["deregisterNode"];
        } catch (bytes memory err) {
            _expectedExact("deregisterNode", err, abi.encodeWithSelector(Staking.NodeNotActive.selector, node));
        }
    }

    /// @dev Starting at the seeded node, the first whose bond is returnable now: it withdraws it
    /// (must succeed and pay the bond). If there is none, the seeded node tries and gets exactly the
    /// error its state requires: NodeNotDeregistered, BondNotReady or BondAlreadyReturned.
    function withdrawBond(uint256 nodeSeed) external {
        ++calls["withdrawBond"];
        uint32 cur = staking.currentEpoch();
        if (firstBondReadyEpoch != 0 && cur >= firstBondReadyEpoch) ++withdrawBondCallsWhileReady;
        address node;
        for (uint256 k; k < _nodes.length; ++k) {
            address c = _nodes[(nodeSeed % _nodes.length + k) % _nodes.length];
            if (ghostLeft[c] != 0 && cur >= ghostLeft[c] && ghostBond[c] != 0) {
                node = c;
                break;
            }
        }
        if (node != address(0)) {
            uint256 bond = ghostBond[node];
            uint256 balance = wal.balanceOf(node);
            vm.prank(node);
            uint256 paid = staking.withdrawBond();
            assertEq(paid, bond, "the bond is returned in full");
            assertEq(wal.balanceOf(node) - balance, bond, "operator received the bond");
            (,, uint256 held,) = staking.nodeStatus(node);
            assertEq(held, 0, "no bond held after the return");
            ghostBond[node] = 0;
            ghostBondsReturned += paid;
            ++successes["withdrawBond"];
            return;
        }
        node = _nodes[nodeSeed % _nodes.length];
        uint32 left = ghostLeft[node];
        bytes memory want;
        if (left == 0) want = abi.encodeWithSelector(Staking.NodeNotDeregistered.selector, node);
        else if (cur < left) want = abi.encodeWithSelector(Staking.BondNotReady.selector, node, left, cur);
        else want = abi.encodeWithSelector(Staking.BondAlreadyReturned.selector, node);
        vm.prank(node);
        try staking.withdrawBond() {
            revert("withdrawBond succeeded where a revert was due");
        } catch (bytes memory err) {
            _expectedExact("withdrawBond", err, want);
        }
    }

    function advance(uint256 extraSeconds) external {
        ++calls["advance"];
        uint32 e = staking.currentEpoch();
        if (e != 0) {
            vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration() + bound(extraSeconds, 0, 1 days));
        }
        (address[] memory members,) = staking.committee(e);
        uint256[][] memory before = new uint256[][](members.length);
        uint256[][] memory counted = new uint256[][](members.length);
        for (uint256 m; m < members.length; ++m) {
            before[m] = new uint256[](_actors.length);
            counted[m] = new uint256[](_actors.length);
            for (uint256 a; a < _actors.length; ++a) {
                before[m][a] = staking.pendingRewards(members[m], _actors[a]);
                (, counted[m][a],,,) = staking.stakeOf(members[m], _actors[a]);
            }
        }
        uint256[] memory nodeCounted = new uint256[](members.length);
        for (uint256 m; m < members.length; ++m) {
            nodeCounted[m] = staking.countedStake(members[m]);
        }
        staking.advanceEpoch();
        for (uint256 m; m < members.length; ++m) {
            _checkPayout(e, members[m], before[m], counted[m], nodeCounted[m]);
        }
        // The next epoch's commission is fixed from now on.
        for (uint256 i; i < _nodes.length; ++i) {
            uint256 recorded = advertised[e + 1][_nodes[i]];
            assertEq(uint256(staking.commissionAt(_nodes[i], e + 1)) + 1, recorded, "advertised commission kept");
        }
        _recordAdvertised(e + 2);
        ++successes["advance"];
    }

    /// @dev Epoch `e`'s payout to `node`: every delegator (not the operator) got its pro-rata share
    /// of the part left after the commission advertised for `e`, up to rounding.
    function _checkPayout(
        uint32 e,
        address node,
        uint256[] memory before,
        uint256[] memory counted,
        uint256 nodeCounted
    ) internal {
        if (nodeCounted == 0) return;
        uint256 total;
        uint256[] memory delta = new uint256[](_actors.length);
        for (uint256 a; a < _actors.length; ++a) {
            delta[a] = staking.pendingRewards(node, _actors[a]) - before[a];
            total += delta[a];
        }
        if (total == 0) return;
        uint256 bps = advertised[e][node] - 1;
        // `total` is the node's part minus at most 1 FROST per staker of accumulator rounding.
        uint256 delegated = total - total * bps / 10_000;
        for (uint256 a; a < _actors.length; ++a) {
            if (_actors[a] == node || counted[a] == 0) continue;
            uint256 expected = delegated * counted[a] / nodeCounted;
            uint256 diff = expected > delta[a] ? expected - delta[a] : delta[a] - expected;
            assertLe(diff, _actors.length + 2, "delegator paid at the advertised commission");
            ++ghostPayoutsChecked;
        }
    }
}
