// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StakingFixture} from "./handlers/StakingFixture.sol";
import {Staking} from "../src/Staking.sol";
import {IStaking} from "../src/interfaces/IStaking.sol";
import {WAL} from "../src/WAL.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice Unit tests of Staking: every external function and every revert, on real BLS keys.
contract StakingTest is StakingFixture {
    address internal constant REGISTRY = address(0x5E61);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    function setUp() public {
        _deployDefault();
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
    }

    // ------------------------------------------------------------------ helpers

    function _node(uint256 i) internal pure returns (address) {
        return _operator(i);
    }

    /// @dev Funds `amount` of rewards as the registry over [fromEpoch, fromEpoch + epochs).
    function _fund(uint32 fromEpoch, uint32 epochs, uint256 amount) internal {
        vm.startPrank(REGISTRY);
        wal.faucet(amount);
        wal.transfer(address(staking), amount);
        staking.fundRewards(fromEpoch, epochs, amount);
        vm.stopPrank();
    }

    function _assertAccounted() internal view {
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "WAL held == obligations");
    }

    // ------------------------------------------------------------------ deployment & constructor

    function test_deploy_deterministicAddresses() external view {
        assertEq(address(wal), WAL_ADDRESS, "WAL at nonce 0");
        assertEq(address(staking), STAKING_ADDRESS, "Staking at nonce 1");
    }

    function test_constructor_setsParameters() external view {
        assertEq(staking.wal(), address(wal), "wal");
        assertEq(staking.nShards(), N, "nShards");
        assertEq(staking.epochDuration(), DURATION, "duration");
        assertEq(staking.minStake(), MIN_STAKE, "minStake");
        assertEq(staking.maxCommitteeSize(), MAX_COMMITTEE, "maxCommitteeSize");
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, STORAGE_PRICE, "storage price");
        assertEq(wp, WRITE_PRICE, "write price");
        assertEq(staking.currentEpoch(), 0, "genesis epoch");
        assertEq(staking.epochStartTime(), block.timestamp, "start time");
        assertEq(staking.registry(), REGISTRY, "registry");
        assertEq(staking.nodeCount(), 0, "no nodes");
    }

    function test_constructor_revertsOnZeroWal() external {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.wal = address(0);
        vm.expectRevert(Staking.ZeroAddress.selector);
        new Staking(c);
    }

    function _expectInvalid(IStaking.Config memory c, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidParameter.selector, name));
        new Staking(c);
    }

    function test_constructor_revertsOnZeroShards() external {
        _expectInvalid(_config(0, DURATION, MIN_STAKE, MAX_COMMITTEE), "nShards");
    }

    function test_constructor_revertsOnZeroDuration() external {
        _expectInvalid(_config(N, 0, MIN_STAKE, MAX_COMMITTEE), "epochDuration");
    }

    function test_constructor_revertsOnZeroMaxCommittee() external {
        _expectInvalid(_config(N, DURATION, MIN_STAKE, 0), "maxCommitteeSize");
    }

    function test_constructor_revertsOnMaxCommitteeAboveDataLimit() external {
        _expectInvalid(_config(N, DURATION, MIN_STAKE, 250), "maxCommitteeSize");
    }

    function test_constructor_revertsOnZeroBond() external {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.registrationBond = 0;
        _expectInvalid(c, "registrationBond");
        c.registrationBond = uint256(type(uint128).max) + 1;
        _expectInvalid(c, "registrationBond");
    }

    function test_constructor_revertsOnBadPriceRanges() external {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.minStoragePrice = STORAGE_PRICE + 1; // initial below min
        _expectInvalid(c, "storagePrice");
        c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.maxStoragePrice = STORAGE_PRICE - 1; // initial above max
        _expectInvalid(c, "storagePrice");
        c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.minWritePrice = WRITE_PRICE + 1;
        _expectInvalid(c, "writePrice");
        c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        c.maxWritePrice = WRITE_PRICE - 1;
        _expectInvalid(c, "writePrice");
    }

    function test_constructor_exposesBondAndPriceRanges() external {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        (c.minStoragePrice, c.maxStoragePrice, c.minWritePrice, c.maxWritePrice) = (10, 10_000, 20, 20_000);
        Staking s = new Staking(c);
        assertEq(s.registrationBond(), BOND, "bond");
        assertEq(s.minStoragePrice(), 10, "min storage");
        assertEq(s.maxStoragePrice(), 10_000, "max storage");
        assertEq(s.minWritePrice(), 20, "min write");
        assertEq(s.maxWritePrice(), 20_000, "max write");
        assertEq(s.MAX_COMMISSION_STEP_BPS(), 500, "commission step");
    }

    function test_constructor_acceptsMaxCommitteeAtDataLimit() external {
        Staking s = new Staking(_config(N, DURATION, MIN_STAKE, 249));
        assertEq(s.maxCommitteeSize(), s.MAX_COMMITTEE_SIZE(), "249 members fit the data contract");
        // The largest committee's certificate data fits EIP-170's 24576-byte code limit.
        assertLe(101 + 98 * uint256(s.MAX_COMMITTEE_SIZE()), 24_576, "fits");
        assertGe(101 + 98 * (uint256(s.MAX_COMMITTEE_SIZE()) + 1), 24_577, "one more would not");
    }

    // ------------------------------------------------------------------ setRegistry

    function test_setRegistry_setsOnceAndEmits() external {
        _deployDefault();
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RegistrySet(REGISTRY);
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
        assertEq(staking.registry(), REGISTRY, "registry set");
    }

    function test_setRegistry_revertsForNonDeployer() external {
        _deployDefault();
        vm.expectRevert(abi.encodeWithSelector(Staking.NotDeployer.selector, ALICE, DEPLOYER));
        vm.prank(ALICE);
        staking.setRegistry(REGISTRY);
    }

    function test_setRegistry_revertsWhenAlreadySet() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.RegistryAlreadySet.selector, REGISTRY));
        vm.prank(DEPLOYER);
        staking.setRegistry(ALICE);
    }

    function test_setRegistry_revertsOnZero() external {
        _deployDefault();
        vm.expectRevert(Staking.ZeroAddress.selector);
        vm.prank(DEPLOYER);
        staking.setRegistry(address(0));
    }

    // ------------------------------------------------------------------ registerNode

    function test_registerNode_storesInfoAndEmits() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        _payBond(_node(0));
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.NodeRegistered(_node(0), pk, "127.0.0.1:9100", COMMISSION, CAPACITY);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.BondPaid(_node(0), BOND);
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "127.0.0.1:9100", COMMISSION, CAPACITY);
        assertEq(wal.balanceOf(address(staking)), BOND, "bond held");
        assertEq(staking.totalBonds(), BOND, "bond counted");
        (bool active, bool candidate, uint256 bond, uint32 ready) = staking.nodeStatus(_node(0));
        assertTrue(active, "active");
        assertFalse(candidate, "no stake: not a candidate");
        assertEq(bond, BOND, "bond");
        assertEq(ready, 0, "no bond return while active");

        IStaking.NodeInfo memory info = staking.nodeInfo(_node(0));
        assertEq(info.publicKey, pk, "key");
        assertEq(info.networkAddress, "127.0.0.1:9100", "network address");
        assertEq(info.commissionBps, COMMISSION, "commission");
        assertEq(info.capacity, CAPACITY, "capacity");
        assertEq(info.stake, 0, "no stake yet");
        assertTrue(info.registered, "registered");
        assertEq(staking.nodeCount(), 1, "one node");
        assertEq(staking.nodeAt(0), _node(0), "node 0");
    }

    function test_registerNode_acceptsEveryVectorKey() external {
        assertEq(address(staking), STAKING_ADDRESS, "the address the vector proofs are made for");
        (bytes32[] memory sks, bytes[] memory pks, bytes[] memory pops) = _loadKeys();
        assertEq(pks.length, 110, "110 vector keys");
        for (uint256 i; i < pks.length; ++i) {
            _payBond(_operator(i));
            vm.prank(_operator(i));
            staking.registerNode(pks[i], pops[i], "127.0.0.1:1", 0, 0);
            assertEq(staking.nodeInfo(_operator(i)).publicKey, pks[i], "stored key");
        }
        assertEq(staking.nodeCount(), 110, "all registered");
        assertEq(pks[7], _g1Mul(uint256(sks[7])), "vector key = sk * G1");
    }

    function test_registerNode_rejectsVectorProofOfAnotherNode() external {
        (, bytes[] memory pks, bytes[] memory pops) = _loadKeys();
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidProofOfPossession.selector, _operator(0)));
        vm.prank(_operator(0));
        staking.registerNode(pks[0], pops[1], "x", 0, 0);
    }

    function test_registerNode_revertsWhenAlreadyRegistered() external {
        _registerNode(0);
        uint256 sk = _sk(1);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeAlreadyRegistered.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_registerNode_revertsOnKeyLength() external {
        bytes memory pk = new bytes(127);
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidPublicKeyLength.selector, 127));
        vm.prank(_node(0));
        staking.registerNode(pk, new bytes(256), "x", 0, 0);
    }

    function test_registerNode_revertsOnKeyOffCurve() external {
        bytes memory pk = _g1Mul(_sk(0));
        pk[127] = bytes1(uint8(pk[127]) ^ 1); // y changes: (x, y') is not on the curve
        vm.expectRevert(Staking.InvalidPublicKey.selector);
        vm.prank(_node(0));
        staking.registerNode(pk, new bytes(256), "x", 0, 0);
    }

    function test_registerNode_revertsOnNonCanonicalCoordinate() external {
        bytes memory pk = _g1Mul(_sk(0));
        pk[0] = 0x01; // the 16 padding bytes of x must be zero
        vm.expectRevert(Staking.InvalidPublicKey.selector);
        vm.prank(_node(0));
        staking.registerNode(pk, new bytes(256), "x", 0, 0);
    }

    function test_registerNode_revertsOnInfinityKey() external {
        vm.expectRevert(Staking.InvalidPublicKey.selector);
        vm.prank(_node(0));
        staking.registerNode(new bytes(128), new bytes(256), "x", 0, 0);
    }

    function test_registerNode_revertsOnProofForOtherOperator() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(1));
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidProofOfPossession.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_registerNode_revertsOnProofForOtherContract() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(0xdead), _node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidProofOfPossession.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_registerNode_revertsOnProofWithOtherKey() external {
        bytes memory pk = _g1Mul(_sk(0));
        bytes memory pop = _sign(_sk(1), _popMessage(address(staking), _node(0), pk));
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidProofOfPossession.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_registerNode_revertsOnMalformedProof() external {
        bytes memory pk = _g1Mul(_sk(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidProofOfPossession.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, new bytes(255), "x", 0, 0);
    }

    function test_registerNode_revertsOnKeyInUse() external {
        _registerNode(0);
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(1));
        vm.expectRevert(abi.encodeWithSelector(Staking.PublicKeyInUse.selector, _node(0)));
        vm.prank(_node(1));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_registerNode_revertsOnCommissionTooHigh() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.CommissionTooHigh.selector, 10_001, 10_000));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 10_001, 0);
    }

    function test_registerNode_acceptsFullCommission() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        _payBond(_node(0));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 10_000, 0);
        assertEq(staking.nodeInfo(_node(0)).commissionBps, 10_000, "100% commission");
    }

    function test_registerNode_revertsOnEmptyNetworkAddress() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(Staking.EmptyNetworkAddress.selector);
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "", 0, 0);
    }

    function test_registerNode_revertsWithoutBond() external {
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(staking), 0, BOND)
        );
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
        assertEq(staking.nodeCount(), 0, "nothing registered");
    }

    function test_registerNode_idsAreNotCappedAt16Bits() external {
        // Slot 6 is `_nodeCount` (forge inspect Staking storageLayout): past the old 65535 cap.
        vmx.store(address(staking), bytes32(uint256(6)), bytes32(uint256(70_000)));
        _registerNode(0);
        assertEq(staking.nodeAt(70_000), _node(0), "id 70000");
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance();
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, 1, "one member");
        assertEq(members[0], _node(0), "a 17-bit id in the committee");
        _checkCertificateData(1);
    }

    function test_registerNode_revertsWhenFull() external {
        vmx.store(address(staking), bytes32(uint256(6)), bytes32(uint256(type(uint32).max)));
        uint256 sk = _sk(0);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.TooManyNodes.selector, uint256(type(uint32).max)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    // ------------------------------------------------------------------ updateNode

    function test_updateNode_changesAddressAndCommission() external {
        _registerNode(0);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.NodeUpdated(_node(0), "10.0.0.1:80", COMMISSION);
        vm.prank(_node(0));
        staking.updateNode("10.0.0.1:80", 600);
        IStaking.NodeInfo memory info = staking.nodeInfo(_node(0));
        assertEq(info.networkAddress, "10.0.0.1:80", "address");
        assertEq(info.commissionBps, COMMISSION, "commission in force unchanged");
        assertEq(staking.commissionAt(_node(0), 2), 600, "announced: from epoch 2");
        assertEq(info.capacity, CAPACITY, "capacity unchanged");
    }

    function test_updateNode_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, ALICE));
        vm.prank(ALICE);
        staking.updateNode("x", 0);
    }

    function test_updateNode_revertsOnCommissionTooHigh() external {
        _registerNode(0);
        vm.expectRevert(abi.encodeWithSelector(Staking.CommissionTooHigh.selector, 20_000, 10_000));
        vm.prank(_node(0));
        staking.updateNode("x", 20_000);
    }

    function test_updateNode_revertsOnEmptyNetworkAddress() external {
        _registerNode(0);
        vm.expectRevert(Staking.EmptyNetworkAddress.selector);
        vm.prank(_node(0));
        staking.updateNode("", 0);
    }

    // ------------------------------------------------------------------ stake

    function test_stake_movesWalAndCountsFromNextEpoch() external {
        _registerNode(0);
        _advance(); // epoch 1, no stake yet
        vm.startPrank(ALICE);
        wal.faucet(MIN_STAKE);
        wal.approve(address(staking), MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.Staked(_node(0), ALICE, MIN_STAKE);
        staking.stake(_node(0), MIN_STAKE);
        vm.stopPrank();
        assertEq(wal.balanceOf(address(staking)), BOND + MIN_STAKE, "WAL moved (next to the bond)");
        assertEq(wal.balanceOf(ALICE), 0, "from Alice");
        assertEq(staking.nodeInfo(_node(0)).stake, MIN_STAKE, "stake for the next committee");
        assertEq(staking.countedStake(_node(0)), 0, "not counting this epoch");
        (uint256 active, uint256 counting,,,) = staking.stakeOf(_node(0), ALICE);
        assertEq(active, MIN_STAKE, "active");
        assertEq(counting, 0, "counting");
        assertEq(staking.totalActiveStake(), MIN_STAKE, "total active");
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, 0, "no committee in epoch 1");

        _advance(); // epoch 2
        (, counting,,,) = staking.stakeOf(_node(0), ALICE);
        assertEq(counting, MIN_STAKE, "counting from epoch 2");
        assertEq(staking.countedStake(_node(0)), MIN_STAKE, "node counted stake");
        (members,) = staking.committee(2);
        assertEq(members.length, 1, "node joins the epoch-2 committee");
        _assertAccounted();
    }

    function test_stake_operatorAndDelegatorsAdd() external {
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(ALICE, _node(0), 2 * MIN_STAKE);
        _stake(ALICE, _node(0), 3 * MIN_STAKE);
        assertEq(staking.nodeInfo(_node(0)).stake, 6 * MIN_STAKE, "sum of stakes");
        (uint256 active,,,,) = staking.stakeOf(_node(0), ALICE);
        assertEq(active, 5 * MIN_STAKE, "Alice's stake");
        (active,,,,) = staking.stakeOf(_node(0), _node(0));
        assertEq(active, MIN_STAKE, "operator's stake");
        _assertAccounted();
    }

    function test_stake_revertsOnZeroAmount() external {
        _registerNode(0);
        vm.expectRevert(Staking.ZeroAmount.selector);
        vm.prank(ALICE);
        staking.stake(_node(0), 0);
    }

    function test_stake_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, BOB));
        vm.prank(ALICE);
        staking.stake(BOB, 1);
    }

    function test_stake_revertsWithoutAllowance() external {
        _registerNode(0);
        vm.startPrank(ALICE);
        wal.faucet(100);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(staking), 0, 100)
        );
        staking.stake(_node(0), 100);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ requestWithdrawal / withdraw

    function test_requestWithdrawal_stopsCountingAtNextBoundary() external {
        _registerNode(0);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // epoch 1: node in committee
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.WithdrawalRequested(_node(0), ALICE, MIN_STAKE, 2);
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), MIN_STAKE);

        assertEq(staking.nodeInfo(_node(0)).stake, 0, "no stake for the next committee");
        assertEq(staking.countedStake(_node(0)), MIN_STAKE, "still counting in epoch 1");
        (uint256 active, uint256 counting, uint256 withdrawable, uint256 pending, uint32 readyAt) =
            staking.stakeOf(_node(0), ALICE);
        assertEq(active, 0, "active");
        assertEq(counting, MIN_STAKE, "counting");
        assertEq(withdrawable, 0, "not yet payable");
        assertEq(pending, MIN_STAKE, "pending");
        assertEq(readyAt, 2, "payable from epoch 2");
        assertEq(staking.totalPendingWithdrawals(), MIN_STAKE, "total pending");
        assertEq(staking.totalActiveStake(), 0, "total active");
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, 1, "epoch-1 committee unchanged");

        _advance(); // epoch 2
        (members,) = staking.committee(2);
        assertEq(members.length, 0, "node left the committee");
        (,, withdrawable, pending,) = staking.stakeOf(_node(0), ALICE);
        assertEq(withdrawable, MIN_STAKE, "payable now");
        assertEq(pending, 0, "nothing pending");
        _assertAccounted();
    }

    function test_requestWithdrawal_revertsOnZeroAmount() external {
        _registerNode(0);
        vm.expectRevert(Staking.ZeroAmount.selector);
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 0);
    }

    function test_requestWithdrawal_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, BOB));
        vm.prank(ALICE);
        staking.requestWithdrawal(BOB, 1);
    }

    function test_requestWithdrawal_revertsOnInsufficientStake() external {
        _registerNode(0);
        _stake(ALICE, _node(0), 100);
        vm.expectRevert(abi.encodeWithSelector(Staking.InsufficientStake.selector, _node(0), ALICE, 101, 100));
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 101);
    }

    function test_requestWithdrawal_sameEpochAsStakeNeverCounts() external {
        _registerNode(0);
        _advance();
        _stake(ALICE, _node(0), MIN_STAKE);
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), MIN_STAKE);
        _advance();
        (address[] memory members,) = staking.committee(2);
        assertEq(members.length, 0, "never joined");
        vm.prank(ALICE);
        assertEq(staking.withdraw(_node(0)), MIN_STAKE, "refunded at the boundary");
    }

    function test_withdraw_paysAtBoundary() external {
        _registerNode(0);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance();
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 400);
        _advance();
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.Withdrawn(_node(0), ALICE, 400);
        vm.prank(ALICE);
        uint256 paid = staking.withdraw(_node(0));
        assertEq(paid, 400, "returned amount");
        assertEq(wal.balanceOf(ALICE), 400, "paid out");
        assertEq(staking.totalPendingWithdrawals(), 0, "nothing pending");
        assertEq(staking.nodeInfo(_node(0)).stake, MIN_STAKE - 400, "rest still staked");
        _assertAccounted();
    }

    function test_withdraw_revertsBeforeBoundary() external {
        _registerNode(0);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance();
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 1);
        vm.expectRevert(abi.encodeWithSelector(Staking.WithdrawalNotReady.selector, _node(0), ALICE, 2, 1));
        vm.prank(ALICE);
        staking.withdraw(_node(0));
    }

    function test_withdraw_revertsWithNothingRequested() external {
        _registerNode(0);
        _stake(ALICE, _node(0), MIN_STAKE);
        vm.expectRevert(abi.encodeWithSelector(Staking.NothingToWithdraw.selector, _node(0), ALICE));
        vm.prank(ALICE);
        staking.withdraw(_node(0));
    }

    function test_withdraw_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, BOB));
        vm.prank(ALICE);
        staking.withdraw(BOB);
    }

    function test_withdraw_paysEachRequestWhenDue() external {
        _registerNode(0);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // 1
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 100);
        _advance(); // 2
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), 200); // the first is payable, the second from epoch 3
        vm.prank(ALICE);
        assertEq(staking.withdraw(_node(0)), 100, "first request");
        vm.expectRevert(abi.encodeWithSelector(Staking.WithdrawalNotReady.selector, _node(0), ALICE, 3, 2));
        vm.prank(ALICE);
        staking.withdraw(_node(0));
        _advance(); // 3
        vm.prank(ALICE);
        assertEq(staking.withdraw(_node(0)), 200, "second request");
        _assertAccounted();
    }

    // ------------------------------------------------------------------ advanceEpoch

    function test_advanceEpoch_genesisAnyTime() external {
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.EpochAdvanced(1, uint64(block.timestamp), 0);
        staking.advanceEpoch();
        assertEq(staking.currentEpoch(), 1, "epoch 1");
        assertEq(staking.epochStartTime(), block.timestamp, "starts now");
    }

    function test_advanceEpoch_revertsBeforeDuration() external {
        staking.advanceEpoch();
        vm.warp(block.timestamp + DURATION - 10);
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotOver.selector, 1, 10));
        staking.advanceEpoch();
        vm.warp(block.timestamp + 10);
        staking.advanceEpoch();
        assertEq(staking.currentEpoch(), 2, "advanced at exactly the duration");
    }

    function test_advanceEpoch_apportionsShardsByStake() external {
        _registerNodes(4);
        for (uint256 i; i < 4; ++i) {
            _stake(_node(i), _node(i), (i + 1) * MIN_STAKE);
        }
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.EpochAdvanced(1, uint64(block.timestamp), 4);
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 4, "four members");
        for (uint256 i; i < 4; ++i) {
            assertEq(members[i], _node(i), "registration order");
            assertEq(counts[i], 10 * (i + 1), "shards proportional to stake");
        }
        _checkShards(1);
        // First committee: shards handed out in order.
        uint16[] memory owners = staking.shardOwners(1);
        assertEq(owners[0], 0, "shard 0");
        assertEq(owners[9], 0, "shard 9");
        assertEq(owners[10], 1, "shard 10");
        assertEq(owners[99], 3, "shard 99");
    }

    function test_advanceEpoch_largestRemainderTieBreak() external {
        _registerNodes(3);
        for (uint256 i; i < 3; ++i) {
            _stake(_node(i), _node(i), MIN_STAKE);
        }
        _advance();
        (, uint16[] memory counts) = staking.committee(1);
        assertEq(counts[0], 34, "the earliest registered takes the extra shard");
        assertEq(counts[1], 33, "node 1");
        assertEq(counts[2], 33, "node 2");
        _checkShards(1);
    }

    function test_advanceEpoch_excludesStakeBelowMinimum() external {
        _registerNodes(3);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(_node(1), _node(1), MIN_STAKE - 1);
        _stake(_node(2), _node(2), MIN_STAKE);
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 2, "two members");
        assertEq(members[0], _node(0), "node 0");
        assertEq(members[1], _node(2), "node 2");
        assertEq(counts[0], 50, "half");
        assertEq(counts[1], 50, "half");
        _checkShards(1);
    }

    function test_advanceEpoch_capsCommitteeByLargestStake() external {
        _deploy(N, DURATION, MIN_STAKE, 3);
        _registerNodes(5);
        _stake(_node(0), _node(0), 2 * MIN_STAKE);
        _stake(_node(1), _node(1), 5 * MIN_STAKE);
        _stake(_node(2), _node(2), 2 * MIN_STAKE);
        _stake(_node(3), _node(3), 1 * MIN_STAKE);
        _stake(_node(4), _node(4), 2 * MIN_STAKE);
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 3, "capped at 3");
        // Node 1 (largest), then the tie at 2 broken by registration: nodes 0 and 2; node 4 is out.
        assertEq(members[0], _node(0), "node 0");
        assertEq(members[1], _node(1), "node 1");
        assertEq(members[2], _node(2), "node 2");
        assertEq(counts[0], 22, "2/9 of 100, remainder order");
        assertEq(counts[1], 56, "5/9 of 100");
        assertEq(counts[2], 22, "2/9 of 100");
        _checkShards(1);
    }

    function test_advanceEpoch_dropsMembersWithoutShards() external {
        _deploy(10, DURATION, 1, MAX_COMMITTEE);
        _registerNodes(3);
        _stake(_node(0), _node(0), 1_000_000);
        _stake(_node(1), _node(1), 1);
        _stake(_node(2), _node(2), 1_000_000);
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 2, "the tiny stake gets no shard and is dropped");
        assertEq(members[0], _node(0), "node 0");
        assertEq(members[1], _node(2), "node 2");
        assertEq(counts[0], 5, "5");
        assertEq(counts[1], 5, "5");
        _checkShards(1);
    }

    function test_advanceEpoch_moreMembersThanShards() external {
        _deploy(4, DURATION, 1, MAX_COMMITTEE);
        _registerNodes(6);
        for (uint256 i; i < 6; ++i) {
            _stake(_node(i), _node(i), 1000 + i);
        }
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 4, "only 4 can hold a shard");
        for (uint256 i; i < 4; ++i) {
            assertEq(counts[i], 1, "one shard each");
        }
        // Quotas are equal-ish (0.66..0.67); the largest remainders are the largest stakes.
        assertEq(members[0], _node(2), "node 2");
        assertEq(members[3], _node(5), "node 5");
        _checkShards(1);
    }

    function test_advanceEpoch_followsStakeCrossingTheMinimum() external {
        _registerNodes(5);
        for (uint256 i; i < 5; ++i) {
            _stake(_node(i), _node(i), MIN_STAKE);
        }
        // Node 1 and node 4 (the last candidate) drop below the minimum, node 1 comes back.
        vm.prank(_node(1));
        staking.requestWithdrawal(_node(1), 1);
        vm.prank(_node(4));
        staking.requestWithdrawal(_node(4), MIN_STAKE);
        _advance();
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, 3, "nodes 0, 2, 3");
        assertEq(members[0], _node(0), "node 0");
        assertEq(members[1], _node(2), "node 2");
        assertEq(members[2], _node(3), "node 3");
        _stake(_node(1), _node(1), 1);
        vm.prank(_node(0));
        staking.requestWithdrawal(_node(0), MIN_STAKE);
        _advance();
        (members,) = staking.committee(2);
        assertEq(members.length, 3, "nodes 1, 2, 3");
        assertEq(members[0], _node(1), "node 1 is back");
        assertEq(members[1], _node(2), "node 2");
        assertEq(members[2], _node(3), "node 3");
        _checkShards(2);
    }

    function test_advanceEpoch_emptyCommittee() external {
        _registerNode(0);
        _advance();
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertEq(members.length, 0, "no members");
        assertEq(counts.length, 0, "no counts");
        assertEq(staking.shardOwners(1).length, 0, "no owners");
        (uint256 size, uint16 n, bytes memory agg) = staking.certificateContext(1);
        assertEq(size, 0, "size 0");
        assertEq(n, N, "n");
        assertEq(agg, new bytes(128), "identity");
    }

    function test_advanceEpoch_keepsCommitteeWhenStakeUnchanged() external {
        _registerNodes(3);
        for (uint256 i; i < 3; ++i) {
            _stake(_node(i), _node(i), (i + 1) * MIN_STAKE);
        }
        _advance();
        _advance();
        (address[] memory m1, uint16[] memory c1) = staking.committee(1);
        (address[] memory m2, uint16[] memory c2) = staking.committee(2);
        assertEq(keccak256(abi.encode(m1, c1)), keccak256(abi.encode(m2, c2)), "same committee");
        assertEq(
            keccak256(abi.encode(staking.shardOwners(1))), keccak256(abi.encode(staking.shardOwners(2))), "same owners"
        );
        assertEq(staking.aggregatePublicKey(1), staking.aggregatePublicKey(2), "same aggregate key");
    }

    function test_advanceEpoch_movesFewestShards() external {
        _registerNodes(4);
        _stake(_node(0), _node(0), 4 * MIN_STAKE);
        _stake(_node(1), _node(1), 3 * MIN_STAKE);
        _stake(_node(2), _node(2), 2 * MIN_STAKE);
        _stake(_node(3), _node(3), 1 * MIN_STAKE);
        _advance(); // 40 30 20 10
        // Node 0 leaves, node 3 grows to 4, node 4 joins with 2.
        vm.prank(_node(0));
        staking.requestWithdrawal(_node(0), 4 * MIN_STAKE);
        _stake(_node(3), _node(3), 3 * MIN_STAKE);
        _registerNode(4);
        _stake(_node(4), _node(4), 2 * MIN_STAKE);
        _advance(); // members 1,2,3,4 with 3,2,4,2 of 11 -> 27 18 37 18
        (address[] memory members, uint16[] memory counts) = staking.committee(2);
        assertEq(members.length, 4, "four members");
        assertEq(members[0], _node(1), "node 1");
        assertEq(members[3], _node(4), "node 4");
        assertEq(counts[0], 27, "node 1");
        assertEq(counts[1], 18, "node 2");
        assertEq(counts[2], 37, "node 3");
        assertEq(counts[3], 18, "node 4");
        _checkShards(2);
        uint16[] memory before = staking.shardOwners(1);
        uint16[] memory afterwards = staking.shardOwners(2);
        uint256 moved;
        for (uint256 s; s < N; ++s) {
            address was = _node(before[s]);
            address now_ = members[afterwards[s]];
            if (was != now_) ++moved;
        }
        // Shrinking members keep the rest of their shards; growing ones keep all theirs.
        // Lower bound on moves: node 3 gains 27 and node 4 gains 18 = 45 (node 1 and 2 shrink).
        assertEq(moved, 45, "minimal movement");
    }

    function test_advanceEpoch_aggregateKeyIsSumOfMemberKeys() external {
        _registerNodes(5);
        uint256 skSum;
        for (uint256 i; i < 5; ++i) {
            _stake(_node(i), _node(i), MIN_STAKE);
            skSum = addmod(skSum, _sk(i), GROUP_ORDER);
        }
        _advance();
        bytes memory expected = _g1Mul(skSum);
        assertEq(staking.aggregatePublicKey(1), expected, "sum of keys");
        (uint256 size, uint16 n, bytes memory agg) = staking.certificateContext(1);
        assertEq(size, 5, "size");
        assertEq(n, N, "n");
        assertEq(agg, expected, "context key");
        // A member leaves: the aggregate follows.
        vm.prank(_node(2));
        staking.requestWithdrawal(_node(2), MIN_STAKE);
        _advance();
        assertEq(
            staking.aggregatePublicKey(2), _g1Mul(addmod(skSum, GROUP_ORDER - _sk(2), GROUP_ORDER)), "without node 2"
        );
        assertEq(staking.aggregatePublicKey(1), expected, "epoch 1 unchanged");
    }

    function test_advanceEpoch_stakeShiftKeepsAggregateKey() external {
        _registerNodes(2);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(_node(1), _node(1), MIN_STAKE);
        _advance();
        _stake(_node(1), _node(1), 3 * MIN_STAKE);
        _advance();
        (, uint16[] memory counts) = staking.committee(2);
        assertEq(counts[0], 20, "node 0 shrinks");
        assertEq(counts[1], 80, "node 1 grows");
        assertEq(staking.aggregatePublicKey(2), _g1Mul(addmod(_sk(0), _sk(1), GROUP_ORDER)), "same members, same key");
        _checkShards(2);
    }

    function test_advanceEpoch_revertsOnCorruptedKey() external {
        // Unreachable with keys validated at registration: corrupt node 1's stored key to reach
        // the guard. The `_keys` mapping's slot is found by looking for node 0's key.
        _registerNodes(2);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(_node(1), _node(1), MIN_STAKE);
        bytes memory key0 = staking.nodeInfo(_node(0)).publicKey;
        bytes32 firstWord;
        assembly {
            firstWord := mload(add(key0, 32))
        }
        uint256 mappingSlot = type(uint256).max;
        for (uint256 s; s < 64; ++s) {
            if (vmx.load(address(staking), keccak256(abi.encode(uint256(0), s))) == firstWord) mappingSlot = s;
        }
        assertLe(mappingSlot, 63, "found the key mapping");
        bytes32 slot = keccak256(abi.encode(uint256(1), mappingSlot));
        vmx.store(address(staking), bytes32(uint256(slot) + 3), bytes32(uint256(1)));
        vm.expectRevert(Staking.KeyAggregationFailed.selector);
        staking.advanceEpoch();
    }

    // ------------------------------------------------------------------ member & views

    function test_member_returnsKeyAndShards() external {
        _registerNodes(3);
        for (uint256 i; i < 3; ++i) {
            _stake(_node(i), _node(i), (i + 1) * MIN_STAKE);
        }
        _advance();
        for (uint256 i; i < 3; ++i) {
            (bytes memory pk, uint16 shards) = staking.member(1, i);
            assertEq(pk, _g1Mul(_sk(i)), "key");
            assertEq(shards, [17, 33, 50][i], "shards");
        }
    }

    function test_member_revertsOutOfRange() external {
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance();
        vm.expectRevert(abi.encodeWithSelector(Staking.MemberIndexOutOfRange.selector, 1, 1, 1));
        staking.member(1, 1);
    }

    function test_member_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 1, 0));
        staking.member(1, 0);
    }

    function test_committee_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 3, 0));
        staking.committee(3);
    }

    function test_shardOwners_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 1, 0));
        staking.shardOwners(1);
    }

    function test_aggregatePublicKey_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 1, 0));
        staking.aggregatePublicKey(1);
    }

    function test_certificateContext_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 2, 0));
        staking.certificateContext(2);
    }

    // ------------------------------------------------------------------ certificate data

    /// @dev Sets Staking's committee counter (slot 1, bytes 20..23: forge inspect Staking storageLayout).
    function _setCommitteeCount(uint256 count) internal {
        bytes32 slot = bytes32(uint256(1));
        uint256 word = uint256(vmx.load(address(staking), slot));
        word = (word & ~(uint256(type(uint32).max) << 160)) | (count << 160);
        vmx.store(address(staking), slot, bytes32(word));
    }

    /// @dev Nodes 0..count-1 staked (i + 1) * MIN_STAKE each.
    function _stakedNodes(uint256 count) internal {
        _registerNodes(count);
        for (uint256 i; i < count; ++i) {
            _stake(_node(i), _node(i), (i + 1) * MIN_STAKE);
        }
    }

    function test_certificateData_zeroWithoutCommittee() external {
        assertEq(staking.certificateData(0), address(0), "genesis");
        (uint32 epoch, address data) = staking.currentCertificateData();
        assertEq(epoch, 0, "epoch 0");
        assertEq(data, address(0), "no data");
        _registerNode(0); // registered, not staked: epoch 1 has no committee either
        _advance();
        assertEq(staking.certificateData(1), address(0), "empty committee");
        (epoch, data) = staking.currentCertificateData();
        assertEq(epoch, 1, "epoch 1");
        assertEq(data, address(0), "still no data");
        _checkCertificateData(1);
    }

    function test_certificateData_matchesViews() external {
        _stakedNodes(5);
        _advance();
        address data = staking.certificateData(1);
        assertTrue(data != address(0), "deployed");
        _checkCertificateData(1);
        (uint32 epoch, address current) = staking.currentCertificateData();
        assertEq(epoch, 1, "current epoch");
        assertEq(current, data, "current data");
        // Committee 1 is CREATEd at Staking's nonce 1.
        assertEq(data, _createAddress(address(staking), 1), "CREATE address of nonce 1");
        // The code starts with STOP: calling it does nothing.
        (bool ok, bytes memory ret) = data.call(abi.encodeWithSignature("anything()"));
        assertTrue(ok, "call succeeds");
        assertEq(ret.length, 0, "and returns nothing");
    }

    function test_certificateData_revertsForFutureEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.EpochNotReached.selector, 1, 0));
        staking.certificateData(1);
    }

    function test_certificateData_reusedWhileCommitteeUnchanged() external {
        _stakedNodes(3); // 17 33 50 shards
        _advance();
        address first = staking.certificateData(1);
        _advance(); // no stake change: the committee is not even recomputed
        assertEq(staking.certificateData(2), first, "reused without stake changes");
        uint256 nonce = vm.getNonce(address(staking));
        _stake(ALICE, _node(0), 1); // recomputed, same members and shard counts
        _advance();
        assertEq(staking.certificateData(3), first, "reused when the apportionment is unchanged");
        assertEq(vm.getNonce(address(staking)), nonce, "nothing deployed");
        (, address current) = staking.currentCertificateData();
        assertEq(current, first, "current data");
        _checkCertificateData(3);
    }

    function test_certificateData_newWhenShardCountsChange() external {
        _stakedNodes(3);
        _advance();
        _stake(_node(0), _node(0), 3 * MIN_STAKE); // 4 2 3 of 9 -> 45 22 33
        _advance();
        address first = staking.certificateData(1);
        address second = staking.certificateData(2);
        assertTrue(second != first && second != address(0), "new data");
        assertEq(second, _createAddress(address(staking), 2), "CREATE address of nonce 2");
        (, uint16[] memory counts) = staking.committee(2);
        assertEq(counts[0], 45, "node 0 grew");
        _checkCertificateData(1); // the old data is untouched
        _checkCertificateData(2);
    }

    function test_certificateData_newWhenMembersChange() external {
        _stakedNodes(5);
        _advance();
        // One leaves, one joins: the aggregate key is updated (2 changes < 5 members).
        vm.prank(_node(1));
        staking.requestWithdrawal(_node(1), 2 * MIN_STAKE);
        _registerNode(5);
        _stake(_node(5), _node(5), MIN_STAKE);
        _advance();
        (address[] memory members,) = staking.committee(2);
        assertEq(members.length, 5, "five members");
        assertEq(members[1], _node(2), "node 1 left");
        assertEq(members[4], _node(5), "node 5 joined");
        assertTrue(staking.certificateData(2) != staking.certificateData(1), "new data");
        _checkCertificateData(1);
        _checkCertificateData(2);
    }

    function test_certificateData_wholeCommitteeReplaced() external {
        _stakedNodes(2);
        _advance();
        // Both leave, two others join: 4 changes >= 2 members, so the key is summed afresh.
        for (uint256 i; i < 2; ++i) {
            vm.prank(_node(i));
            staking.requestWithdrawal(_node(i), (i + 1) * MIN_STAKE);
        }
        _registerNode(2);
        _registerNode(3);
        _stake(_node(2), _node(2), MIN_STAKE);
        _stake(_node(3), _node(3), MIN_STAKE);
        _advance();
        (address[] memory members,) = staking.committee(2);
        assertEq(members[0], _node(2), "node 2");
        assertEq(members[1], _node(3), "node 3");
        _checkCertificateData(2);
    }

    function test_certificateData_afterEpochWithoutCommittee() external {
        _stakedNodes(2);
        _advance();
        for (uint256 i; i < 2; ++i) {
            vm.prank(_node(i));
            staking.requestWithdrawal(_node(i), (i + 1) * MIN_STAKE);
        }
        _advance();
        assertEq(staking.certificateData(2), address(0), "no committee in epoch 2");
        (, address current) = staking.currentCertificateData();
        assertEq(current, address(0), "no current data");
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance();
        address third = staking.certificateData(3);
        assertEq(third, _createAddress(address(staking), 2), "committee 2");
        _checkCertificateData(3);
    }

    /// @dev Committee ids whose nonce takes every RLP length (1 to 4 bytes), and the ids from
    /// which `currentCertificateData` no longer finds the id next to the epoch.
    function test_certificateData_addressForEveryNonceLength() external {
        uint32[10] memory ids =
            [uint32(0x7f), 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xfffffe, 0xffffff, 0x1000000, type(uint32).max];
        for (uint256 t; t < ids.length; ++t) {
            _checkCommitteeId(ids[t]);
        }
    }

    function test_fuzz_certificateData_addressForAnyCommitteeId(uint256 id) external {
        _checkCommitteeId(uint32(bound(id, 2, type(uint32).max)));
    }

    /// @dev On a fresh deployment whose next committee gets id `id` (counter and nonce set): the
    /// advance deploys its data at the CREATE address of nonce `id` and the views find it.
    function _checkCommitteeId(uint32 id) internal {
        _deployDefault();
        _registerNodes(2);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(_node(1), _node(1), 2 * MIN_STAKE);
        _setCommitteeCount(id - 1);
        vm.setNonce(address(staking), id);
        _advance();
        address data = staking.certificateData(1);
        assertEq(data, _createAddress(address(staking), id), "CREATE address of nonce id");
        (uint32 epoch, address current) = staking.currentCertificateData();
        assertEq(epoch, 1, "epoch");
        assertEq(current, data, "current data");
        _checkCertificateData(1);
    }

    function test_advanceEpoch_revertsWhenDataMissesItsAddress() external {
        _stakedNodes(2);
        // Committee ids and Staking's nonce out of step (cannot happen: Staking creates nothing else).
        _setCommitteeCount(5);
        vm.expectRevert(abi.encodeWithSelector(Staking.CertificateDataNotDeployed.selector, 6));
        staking.advanceEpoch();
    }

    /// @dev The CREATE address of `deployer` at `nonce`, written independently of Staking's
    /// (RLP of [deployer, nonce] with the nonce's minimal big-endian bytes).
    function _createAddress(address deployer, uint256 nonce) internal pure returns (address) {
        bytes memory n;
        if (nonce == 0) {
            n = hex"80";
        } else if (nonce < 0x80) {
            n = abi.encodePacked(uint8(nonce));
        } else {
            bytes memory be;
            for (uint256 v = nonce; v != 0; v >>= 8) {
                be = abi.encodePacked(uint8(v), be);
            }
            n = abi.encodePacked(uint8(0x80 + be.length), be);
        }
        bytes memory payload = abi.encodePacked(uint8(0x94), deployer, n);
        return address(uint160(uint256(keccak256(abi.encodePacked(uint8(0xc0 + payload.length), payload)))));
    }

    function test_nodeAt_revertsOutOfRange() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.MemberIndexOutOfRange.selector, 0, 0, 0));
        staking.nodeAt(0);
    }

    function test_nodeInfo_unknownNodeIsEmpty() external view {
        IStaking.NodeInfo memory info = staking.nodeInfo(ALICE);
        assertFalse(info.registered, "not registered");
        assertEq(info.publicKey.length, 0, "no key");
        assertEq(info.stake, 0, "no stake");
    }

    function test_views_unknownNodeReadsZero() external view {
        assertEq(staking.pendingRewards(ALICE, BOB), 0, "no rewards");
        assertEq(staking.countedStake(ALICE), 0, "no counted stake");
        (uint256 active, uint256 counting, uint256 withdrawable, uint256 pending, uint32 at) =
            staking.stakeOf(ALICE, BOB);
        assertEq(active + counting + withdrawable + pending + at, 0, "empty position");
    }

    function test_priceVotes_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, ALICE));
        staking.priceVotes(ALICE);
    }

    // ------------------------------------------------------------------ prices

    function _fourNodeCommittee() internal {
        _registerNodes(4);
        for (uint256 i; i < 4; ++i) {
            _stake(_node(i), _node(i), (i + 1) * MIN_STAKE); // 10 20 30 40 shards
        }
        _advance();
    }

    function test_votePrices_recordsAndEmits() external {
        _fourNodeCommittee();
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.PricesVoted(_node(1), 7, 9);
        vm.prank(_node(1));
        staking.votePrices(7, 9);
        (uint64 sp, uint64 wp, bool voted) = staking.priceVotes(_node(1));
        assertEq(sp, 7, "storage vote");
        assertEq(wp, 9, "write vote");
        assertTrue(voted, "voted");
        (sp, wp) = staking.prices();
        assertEq(sp, STORAGE_PRICE, "prices in force unchanged until the advance");
    }

    function test_votePrices_revertsForNonMember() external {
        _fourNodeCommittee();
        _registerNode(4);
        vm.expectRevert(abi.encodeWithSelector(Staking.NotCommitteeMember.selector, _node(4), 1));
        vm.prank(_node(4));
        staking.votePrices(1, 1);
    }

    function test_votePrices_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, ALICE));
        vm.prank(ALICE);
        staking.votePrices(1, 1);
    }

    function test_votePrices_revertsInGenesisEpoch() external {
        _registerNode(0);
        vm.expectRevert(abi.encodeWithSelector(Staking.NotCommitteeMember.selector, _node(0), 0));
        vm.prank(_node(0));
        staking.votePrices(1, 1);
    }

    function test_advanceEpoch_pricesAreTheQuorumQuantile() external {
        _fourNodeCommittee(); // shards 10 20 30 40; 2f+1 = 67
        // Within a factor 2 of the prices in force (1000, 500).
        uint64[4] memory storageVotes = [uint64(600), 700, 800, 900];
        uint64[4] memory writeVotes = [uint64(450), 440, 430, 420];
        for (uint256 i; i < 4; ++i) {
            vm.prank(_node(i));
            staking.votePrices(storageVotes[i], writeVotes[i]);
        }
        // storage: <=600:10, <=700:30, <=800:60, <=900:100 -> 900.
        // write: <=420:40, <=430:70 -> 430.
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.PricesSet(2, 900, 430);
        _advance();
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, 900, "storage price");
        assertEq(wp, 430, "write price");
    }

    function test_advanceEpoch_nonVotersCountAsCurrentPrice() external {
        _fourNodeCommittee();
        // Only the 40-shard node votes, lower: 40 < 67, the rest count at the current price.
        vm.prank(_node(3));
        staking.votePrices(1, 1);
        _advance();
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, STORAGE_PRICE, "storage price held");
        assertEq(wp, WRITE_PRICE, "write price held");
        // With node 2 (30 shards) also voting low: 70 >= 67 -> the higher of the two low votes.
        vm.prank(_node(2));
        staking.votePrices(600, 300);
        _advance();
        (sp, wp) = staking.prices();
        assertEq(sp, 600, "storage price lowered");
        assertEq(wp, 300, "write price lowered");
    }

    function test_advanceEpoch_pricesUnchangedWithoutCommittee() external {
        _advance();
        _advance();
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, STORAGE_PRICE, "storage");
        assertEq(wp, WRITE_PRICE, "write");
    }

    // ------------------------------------------------------------------ fundRewards

    function test_fundRewards_revertsForNonRegistry() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.NotRegistry.selector, ALICE, REGISTRY));
        vm.prank(ALICE);
        staking.fundRewards(0, 1, 0);
    }

    function test_fundRewards_revertsOnZeroEpochs() external {
        vm.expectRevert(Staking.ZeroEpochs.selector);
        vm.prank(REGISTRY);
        staking.fundRewards(0, 0, 0);
    }

    function test_fundRewards_revertsForPastEpoch() external {
        _advance();
        _advance();
        vm.expectRevert(abi.encodeWithSelector(Staking.FundingEpochInPast.selector, 1, 2));
        vm.prank(REGISTRY);
        staking.fundRewards(1, 1, 0);
    }

    function test_fundRewards_revertsPastLastEpoch() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.FundingRangeTooLong.selector, type(uint32).max, 1));
        vm.prank(REGISTRY);
        staking.fundRewards(type(uint32).max, 1, 0);
    }

    function test_fundRewards_revertsWhenWalNotReceived() external {
        vm.startPrank(REGISTRY);
        wal.faucet(99);
        wal.transfer(address(staking), 99);
        vm.expectRevert(abi.encodeWithSelector(Staking.RewardsNotReceived.selector, 99, 100));
        staking.fundRewards(0, 1, 100);
        vm.stopPrank();
    }

    function test_fundRewards_splitsWithRemainderToFirstEpoch() external {
        registrationCommission = 0;
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance(); // epoch 1: the node holds all shards
        vm.startPrank(REGISTRY);
        wal.faucet(10);
        wal.transfer(address(staking), 10);
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsFunded(1, 3, 10);
        staking.fundRewards(1, 3, 10);
        vm.stopPrank();
        assertEq(staking.totalFutureRewards(), 10, "funded");
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsDistributed(1, 4, 0); // 3 + the remainder 1
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 4, "first epoch: 3 + remainder 1");
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 7, "second epoch: 3");
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 10, "third epoch: 3");
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 10, "nothing after the range");
        assertEq(staking.totalFutureRewards(), 0, "all paid out");
        assertEq(staking.totalUnclaimedRewards(), 10, "all owed");
        _assertAccounted();
    }

    function test_fundRewards_overlappingRanges() external {
        registrationCommission = 0;
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 2, 100); // 50 50
        _fund(2, 3, 30); // 10 10 10
        _fund(4, 1, 7); // 7
        uint256[5] memory expected = [uint256(50), 60, 10, 17, 0];
        uint256 total;
        for (uint256 i; i < 5; ++i) {
            _advance();
            total += expected[i];
            assertEq(staking.pendingRewards(_node(0), _node(0)), total, "cumulative rewards");
        }
        _assertAccounted();
    }

    // ------------------------------------------------------------------ rewards & claims

    function test_claimRewards_commissionAndDelegatorShare() external {
        _registerNode(0); // 10% commission
        _stake(_node(0), _node(0), 3 * MIN_STAKE);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 1, 1000);
        _advance(); // 2: epoch 1 paid: 100 commission, 900 shared 3:1
        assertEq(staking.pendingRewards(_node(0), _node(0)), 100 + 675, "operator: commission + share");
        assertEq(staking.pendingRewards(_node(0), ALICE), 225, "delegator share");

        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.RewardsClaimed(_node(0), ALICE, 225);
        vm.prank(ALICE);
        assertEq(staking.claimRewards(_node(0)), 225, "Alice claims");
        vm.prank(_node(0));
        assertEq(staking.claimRewards(_node(0)), 775, "operator claims");
        assertEq(wal.balanceOf(ALICE), 225, "Alice paid");
        assertEq(wal.balanceOf(_node(0)), 775, "operator paid");
        assertEq(staking.pendingRewards(_node(0), ALICE), 0, "nothing left");
        assertEq(staking.totalUnclaimedRewards(), 0, "all claimed");
        _assertAccounted();
    }

    function test_claimRewards_revertsWithNothing() external {
        _registerNode(0);
        vm.expectRevert(abi.encodeWithSelector(Staking.NoRewards.selector, _node(0), ALICE));
        vm.prank(ALICE);
        staking.claimRewards(_node(0));
    }

    function test_claimRewards_revertsForUnknownNode() external {
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, BOB));
        vm.prank(ALICE);
        staking.claimRewards(BOB);
    }

    function test_rewards_splitByShards() external {
        registrationCommission = 0;
        _registerNodes(2);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(_node(1), _node(1), 3 * MIN_STAKE);
        _advance(); // shards 25 / 75
        _fund(1, 1, 1000);
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 250, "25 shards");
        assertEq(staking.pendingRewards(_node(1), _node(1)), 750, "75 shards");
        _assertAccounted();
    }

    function test_rewards_shardSplitRemainderToFirstMember() external {
        registrationCommission = 0;
        _registerNodes(3); // 34 / 33 / 33 shards
        for (uint256 i; i < 3; ++i) {
            _stake(_node(i), _node(i), MIN_STAKE);
        }
        _advance();
        _fund(1, 1, 10); // parts 3, 3, 3 and the remainder 1 to member 0
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsDistributed(1, 10, 0);
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 4, "first member");
        assertEq(staking.pendingRewards(_node(1), _node(1)), 3, "second");
        assertEq(staking.pendingRewards(_node(2), _node(2)), 3, "third");
        assertEq(staking.totalFutureRewards(), 0, "nothing carried");
        _assertAccounted();
    }

    function test_rewards_noCommitteeCarriesPool() external {
        vm.startPrank(REGISTRY);
        wal.faucet(500);
        wal.transfer(address(staking), 500);
        staking.fundRewards(0, 1, 500);
        vm.stopPrank();
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit Staking.RewardsDistributed(0, 0, 500);
        _advance(); // epoch 0 had no committee: 500 carried into epoch 1
        assertEq(staking.totalFutureRewards(), 500, "carried");
        _advance();
        assertEq(staking.pendingRewards(_node(0), _node(0)), 500, "paid to epoch 1's committee");
        _assertAccounted();
    }

    function test_rewards_newStakeEarnsFromNextEpoch() external {
        registrationCommission = 0;
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance(); // 1
        _stake(ALICE, _node(0), MIN_STAKE); // counts from epoch 2
        _fund(1, 2, 2000); // 1000 per epoch
        _advance(); // epoch 1 paid to the operator alone
        assertEq(staking.pendingRewards(_node(0), ALICE), 0, "Alice earns nothing for epoch 1");
        assertEq(staking.pendingRewards(_node(0), _node(0)), 1000, "operator");
        _advance(); // epoch 2 shared 1:1
        assertEq(staking.pendingRewards(_node(0), ALICE), 500, "Alice's half of epoch 2");
        assertEq(staking.pendingRewards(_node(0), _node(0)), 1500, "operator");
        _assertAccounted();
    }

    function test_rewards_withdrawnStakeEarnsUntilBoundary() external {
        registrationCommission = 0;
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 2, 2000);
        vm.prank(ALICE);
        staking.requestWithdrawal(_node(0), MIN_STAKE);
        _advance(); // epoch 1 still shared
        assertEq(staking.pendingRewards(_node(0), ALICE), 500, "Alice's half of epoch 1");
        _advance(); // epoch 2: operator alone
        assertEq(staking.pendingRewards(_node(0), ALICE), 500, "nothing for epoch 2");
        assertEq(staking.pendingRewards(_node(0), _node(0)), 1500, "operator");
        vm.prank(ALICE);
        assertEq(staking.claimRewards(_node(0)), 500, "claim");
        vm.prank(ALICE);
        assertEq(staking.withdraw(_node(0)), MIN_STAKE, "withdraw");
        _assertAccounted();
    }

    function test_rewards_lazySettlementAcrossManyEpochs() external {
        registrationCommission = 0;
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 6, 6000);
        _stake(ALICE, _node(0), MIN_STAKE); // counts from 2
        _advance(); // 2
        _advance(); // 3
        _stake(ALICE, _node(0), 2 * MIN_STAKE); // Alice 3x from 4
        _advance(); // 4
        _advance(); // 5
        _advance(); // 6
        _advance(); // 7
        // epoch 1: op 1000; epochs 2, 3: 1:1 -> 500 each; epochs 4..6: op 1 : Alice 3 -> 750 each.
        assertEq(staking.pendingRewards(_node(0), ALICE), 500 + 500 + 3 * 750, "Alice");
        assertEq(staking.pendingRewards(_node(0), _node(0)), 1000 + 500 + 500 + 3 * 250, "operator");
        vm.prank(ALICE);
        staking.claimRewards(_node(0));
        assertEq(wal.balanceOf(ALICE), 500 + 500 + 3 * 750, "claimed");
        _assertAccounted();
    }
}

/// @notice WAL conservation across a whole life cycle: stake, rewards, withdrawals, claims.
contract StakingLifecycleTest is StakingFixture {
    address internal constant REGISTRY = address(0x5E61);

    function setUp() public {
        _deployDefault();
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
        _registerNodes(6);
    }

    function test_lifecycle_everyFrostAccounted() external {
        address[3] memory delegators = [address(0xD1), address(0xD2), address(0xD3)];
        for (uint256 i; i < 6; ++i) {
            _stake(_operator(i), _operator(i), (i + 1) * MIN_STAKE);
            _stake(delegators[i % 3], _operator(i), (7 - i) * MIN_STAKE / 3 + 17);
        }
        _advance();
        vm.startPrank(REGISTRY);
        wal.faucet(1_000_003);
        wal.transfer(address(staking), 1_000_003);
        staking.fundRewards(1, 7, 1_000_003);
        vm.stopPrank();
        for (uint256 e; e < 9; ++e) {
            if (e == 2) {
                vm.prank(delegators[0]);
                staking.requestWithdrawal(_operator(0), MIN_STAKE);
            }
            if (e == 4) _stake(delegators[1], _operator(5), 11 * MIN_STAKE);
            _advance();
            assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
            _checkShards(staking.currentEpoch());
        }
        // Everyone claims and withdraws: what is left is at most rounding dust of unclaimed rewards.
        uint256 claimed;
        for (uint256 i; i < 6; ++i) {
            claimed += _claimAll(_operator(i), _operator(i));
            for (uint256 d; d < 3; ++d) {
                claimed += _claimAll(_operator(i), delegators[d]);
            }
        }
        assertEq(staking.totalFutureRewards(), 0, "all pools paid");
        assertEq(staking.totalUnclaimedRewards(), 1_000_003 - claimed, "unclaimed == funded - claimed");
        assertLe(staking.totalUnclaimedRewards(), 24, "dust at most 1 FROST per position and change");
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
    }

    function _claimAll(address node, address account) internal returns (uint256 amount) {
        if (staking.pendingRewards(node, account) == 0) return 0;
        vm.prank(account);
        amount = staking.claimRewards(node);
    }
}

/// @notice Fuzz tests: shard apportionment, minimal movement and reward conservation over random stakes.
contract StakingFuzzTest is StakingFixture {
    address internal constant REGISTRY = address(0x5E61);
    uint256 internal constant NODES = 40;

    function setUp() public {
        _deployDefault();
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
        _registerNodes(NODES);
    }

    /// @dev A stake between MIN_STAKE and MIN_STAKE * 2^20, spread over orders of magnitude.
    function _randomStake(uint256 seed, uint256 i) internal pure returns (uint256) {
        uint256 r = uint256(keccak256(abi.encode(seed, i)));
        return MIN_STAKE + (r >> 8) % (MIN_STAKE << (r % 21));
    }

    /// @dev Index of `node` in `members`, or type(uint256).max.
    function _find(address[] memory members, address node) internal pure returns (uint256) {
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == node) return i;
        }
        return type(uint256).max;
    }

    function test_fuzz_advanceEpoch_apportionment(uint256 seed, uint256 count) external {
        count = bound(count, 1, NODES);
        uint256[] memory stakes = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            stakes[i] = _randomStake(seed, i);
            _stake(_operator(i), _operator(i), stakes[i]);
        }
        _advance();
        _checkShards(1);
        (address[] memory members, uint16[] memory counts) = staking.committee(1);
        assertGe(members.length, 1, "someone holds the shards");
        uint256 total;
        uint256 minMember = type(uint256).max;
        for (uint256 j; j < members.length; ++j) {
            uint256 s = stakes[uint160(members[j]) - 0x10000];
            total += s;
            if (s < minMember) minMember = s;
        }
        for (uint256 j; j < members.length; ++j) {
            uint256 exact = uint256(N) * stakes[uint160(members[j]) - 0x10000]; // quota * total
            // floor(quota) <= count <= floor(quota) + 1, i.e. within one shard of the exact quota.
            assertLe(uint256(counts[j]) * total, exact + total, "at most one shard above the quota");
            assertGe(uint256(counts[j]) * total + total, exact + 1, "less than one shard below the quota");
        }
        // Whoever was dropped (no shard) had no more stake than any member.
        for (uint256 i; i < count; ++i) {
            if (_find(members, _operator(i)) == type(uint256).max) {
                assertLe(stakes[i], minMember, "dropped nodes are the smallest");
            }
        }
    }

    function test_fuzz_advanceEpoch_minimalMovement(uint256 seed, uint256 count) external {
        count = bound(count, 1, NODES);
        for (uint256 i; i < count; ++i) {
            _stake(_operator(i), _operator(i), _randomStake(seed, i));
        }
        _advance();
        (address[] memory before, uint16[] memory beforeCounts) = staking.committee(1);
        uint16[] memory beforeOwners = staking.shardOwners(1);
        // Random changes: some leave, some grow, some newcomers among the other registered nodes.
        for (uint256 i; i < NODES; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, "change", i)));
            if (i < count && r % 4 == 0) {
                uint256 all = staking.nodeInfo(_operator(i)).stake;
                vm.prank(_operator(i));
                staking.requestWithdrawal(_operator(i), all);
            } else if (r % 4 == 1) {
                _stake(_operator(i), _operator(i), _randomStake(r, i));
            }
        }
        _advance();
        _checkShards(2);
        (address[] memory afterwards, uint16[] memory afterCounts) = staking.committee(2);
        if (afterwards.length == 0) return;
        uint16[] memory afterOwners = staking.shardOwners(2);
        uint256 lowerBound;
        for (uint256 j; j < afterwards.length; ++j) {
            uint256 p = _find(before, afterwards[j]);
            uint256 had = p == type(uint256).max ? 0 : beforeCounts[p];
            if (afterCounts[j] > had) lowerBound += afterCounts[j] - had;
            uint256 kept;
            for (uint256 s; s < N; ++s) {
                if (afterOwners[s] == j && before[beforeOwners[s]] == afterwards[j]) ++kept;
            }
            assertEq(kept, had < afterCounts[j] ? had : afterCounts[j], "keeps min(previous, new) shards");
        }
        uint256 moved;
        for (uint256 s; s < N; ++s) {
            if (before[beforeOwners[s]] != afterwards[afterOwners[s]]) ++moved;
        }
        assertEq(moved, lowerBound, "moves exactly the shards the new counts force");
    }

    function test_fuzz_fundRewards_split(uint256 amount, uint32 epochs) external {
        amount = bound(amount, 0, 1e27);
        epochs = uint32(bound(epochs, 1, 30));
        // The operator is the only staker: it gets every FROST whatever its commission.
        _stake(_operator(0), _operator(0), MIN_STAKE);
        _advance(); // 1: node 0 holds every shard
        vm.startPrank(REGISTRY);
        if (amount != 0) {
            wal.faucet(amount);
            wal.transfer(address(staking), amount);
        }
        staking.fundRewards(1, epochs, amount);
        vm.stopPrank();
        uint256 paid;
        for (uint256 e; e < epochs; ++e) {
            _advance();
            uint256 expected = amount / epochs + (e == 0 ? amount % epochs : 0);
            uint256 nowPaid = staking.pendingRewards(_operator(0), _operator(0));
            assertEq(nowPaid - paid, expected, "per-epoch share");
            paid = nowPaid;
        }
        assertEq(paid, amount, "every FROST paid");
        assertEq(staking.totalFutureRewards(), 0, "nothing left to pay");
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
    }

    function test_fuzz_rewards_conserved(uint256 seed, uint256 count, uint256 amount, uint32 epochs) external {
        count = bound(count, 1, 12);
        amount = bound(amount, 1, 1e24);
        epochs = uint32(bound(epochs, 1, 6));
        address[3] memory delegators = [address(0xD1), address(0xD2), address(0xD3)];
        for (uint256 i; i < count; ++i) {
            vm.prank(_operator(i));
            // A random announced change within the step (in force from epoch 2).
            staking.updateNode("x", uint16(500 + uint256(keccak256(abi.encode(seed, "fee", i))) % 1_001));
            _stake(_operator(i), _operator(i), _randomStake(seed, i));
            _stake(delegators[i % 3], _operator(i), _randomStake(seed, i + 1000));
        }
        _advance();
        vm.startPrank(REGISTRY);
        wal.faucet(amount);
        wal.transfer(address(staking), amount);
        staking.fundRewards(1, epochs, amount);
        vm.stopPrank();
        for (uint256 e; e < epochs; ++e) {
            if (e == 1) {
                // A stake change mid-way exercises the accumulator checkpoints.
                vm.prank(delegators[0]);
                staking.requestWithdrawal(_operator(0), 1);
                _stake(delegators[2], _operator(0), MIN_STAKE);
            }
            _advance();
        }
        uint256 pending;
        for (uint256 i; i < count; ++i) {
            pending += staking.pendingRewards(_operator(i), _operator(i));
            for (uint256 d; d < 3; ++d) {
                pending += staking.pendingRewards(_operator(i), delegators[d]);
            }
        }
        assertEq(staking.totalFutureRewards(), 0, "all pools paid");
        assertEq(staking.totalUnclaimedRewards(), amount, "all owed");
        assertLe(pending, amount, "never more claimable than funded");
        // Rounding: < 1 FROST per node and epoch, plus < 1 per position settlement.
        assertLe(amount - pending, count * epochs + 4 * count * 2, "dust bounded");
        // Claim everything: the contract can pay every claim.
        for (uint256 i; i < count; ++i) {
            if (staking.pendingRewards(_operator(i), _operator(i)) != 0) {
                vm.prank(_operator(i));
                staking.claimRewards(_operator(i));
            }
            for (uint256 d; d < 3; ++d) {
                if (staking.pendingRewards(_operator(i), delegators[d]) != 0) {
                    vm.prank(delegators[d]);
                    staking.claimRewards(_operator(i));
                }
            }
        }
        assertEq(staking.totalUnclaimedRewards(), amount - pending, "only dust left");
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
    }
}

/// @notice Gas of the epoch advance with 100 staked nodes and of the certificate hot-path views.
/// Each scenario prepares in `setUp` (its own transaction), so the measured call sees cold storage
/// and clean slots as a real transaction would; `npx forge snapshot` records the tests and the
/// exact call gas is printed with -vv. n = 100 shards and 100 equal stakes: every node is a
/// member with one shard. An advance that forms a new committee (members or shard counts change)
/// deploys its certificate data, 101 + 98 bytes per member: at 100 members ~2.0M of the budgets
/// below is that code's deposit (200 gas a byte); advances that keep the committee deploy nothing.
abstract contract StakingGasBase is StakingFixture {
    /// @dev Foundry's console address: forge prints calls to it with -vv (no code there, so a low-level call).
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;
    uint256 internal constant NODES = 100;
    uint256 internal constant FUNDED = 1e15 + 7;

    function setUp() public virtual {
        _deploy(_shards(), DURATION, MIN_STAKE, MAX_COMMITTEE);
        vm.prank(DEPLOYER);
        staking.setRegistry(address(this));
        _registerNodes(NODES + 10);
        for (uint256 i; i < NODES; ++i) {
            _stake(_operator(i), _operator(i), _nodeStake(i));
            _stake(address(uint160(0xD000 + i % 10)), _operator(i), MIN_STAKE);
        }
    }

    function _shards() internal pure virtual returns (uint16) {
        return N;
    }

    /// @dev The operator's own stake in node `i` (equal: with n = 100 every node holds one shard).
    function _nodeStake(uint256) internal pure virtual returns (uint256) {
        return MIN_STAKE;
    }

    function _log(string memory label, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }

    function _fundTenEpochs() internal {
        wal.faucet(FUNDED);
        wal.transfer(address(staking), FUNDED);
        staking.fundRewards(staking.currentEpoch(), 10, FUNDED);
    }

    /// @dev Advances (the warp is done in setUp) and returns the gas of the advanceEpoch call alone.
    function _measuredAdvance(string memory label) internal returns (uint256 used) {
        uint256 before = gasleft();
        staking.advanceEpoch();
        used = before - gasleft();
        _log(label, used);
    }

    function _warpToEpochEnd() internal {
        vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration());
    }
}

contract StakingGasFirstCommitteeTest is StakingGasBase {
    function test_gas_advanceEpoch_100nodes_firstCommittee() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, first committee");
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, NODES, "100 members");
        _checkShards(1);
        _checkCertificateData(1);
        assertLe(used, 4_500_000, "gas budget");
    }
}

contract StakingGasFirstPayoutTest is StakingGasBase {
    function setUp() public override {
        super.setUp();
        _advance();
        _fundTenEpochs();
        _warpToEpochEnd();
    }

    function test_gas_advanceEpoch_100nodes_firstPayout() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, same committee, first payout");
        assertEq(staking.totalFutureRewards(), FUNDED - (FUNDED / 10 + FUNDED % 10), "epoch 1 paid");
        assertLe(used, 2_500_000, "gas budget");
    }
}

contract StakingGasSteadyStateTest is StakingGasBase {
    function setUp() public override {
        super.setUp();
        _advance();
        _fundTenEpochs();
        _advance();
        _warpToEpochEnd();
    }

    function test_gas_advanceEpoch_100nodes_steadyState() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, same committee, payout");
        assertEq(staking.totalFutureRewards(), FUNDED - (2 * (FUNDED / 10) + FUNDED % 10), "epochs 1-2 paid");
        assertLe(used, 2_000_000, "gas budget");
    }
}

contract StakingGasVotesTest is StakingGasBase {
    function setUp() public override {
        super.setUp();
        _advance();
        _fundTenEpochs();
        for (uint256 i; i < NODES; ++i) {
            vm.prank(_operator(i));
            staking.votePrices(uint64(1000 + i), uint64(500 + i));
        }
        _advance();
        _warpToEpochEnd();
    }

    function test_gas_advanceEpoch_100nodes_steadyStateWithVotes() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, same committee, payout, 100 price votes");
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, 1000 + 66, "67th lowest storage vote");
        assertEq(wp, 500 + 66, "67th lowest write vote");
        assertLe(used, 2_500_000, "gas budget");
    }
}

contract StakingGasTenReplacedTest is StakingGasBase {
    function setUp() public override {
        super.setUp();
        _advance();
        _fundTenEpochs();
        _advance();
        for (uint256 i; i < 10; ++i) {
            vm.prank(_operator(i * 10));
            staking.requestWithdrawal(_operator(i * 10), MIN_STAKE);
            // Outweighs what the leaving node keeps (its delegator's stake), so it takes the seat.
            _stake(_operator(NODES + i), _operator(NODES + i), 3 * MIN_STAKE);
        }
        _warpToEpochEnd();
    }

    function test_gas_advanceEpoch_100nodes_tenReplaced() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, 10 replaced, payout");
        (address[] memory members,) = staking.committee(3);
        assertEq(members.length, NODES, "still 100 members");
        assertEq(members[0], _operator(1), "node 0 left");
        assertEq(members[NODES - 1], _operator(NODES + 9), "node 109 joined");
        _checkShards(3);
        _checkCertificateData(3);
        // 5.75M: 32-bit node ids pack 5 members per word (8 before), 7 more slots at 100 members.
        assertLe(used, 5_750_000, "gas budget");
    }
}

contract StakingGasHotPathTest is StakingGasBase {
    function setUp() public override {
        super.setUp();
        _advance();
    }

    function test_gas_certificateContext_100nodes() external view {
        uint256 before = gasleft();
        (uint256 size,,) = staking.certificateContext(1);
        uint256 used = before - gasleft();
        _log("certificateContext, cold", used);
        assertEq(size, NODES, "size");
        assertLe(used, 25_000, "certificateContext budget");
    }

    function test_gas_currentCertificateData_100nodes() external view {
        uint256 before = gasleft();
        (uint32 epoch, address data) = staking.currentCertificateData();
        uint256 used = before - gasleft();
        _log("currentCertificateData, cold", used);
        assertEq(epoch, 1, "epoch");
        assertEq(data.code.length, 101 + 98 * NODES, "data of 100 members");
        // One cold slot (epoch and committee id) and the CREATE address: no per-epoch lookup. The
        // call is ~2.7k plus the cold account (2.6k); the rest is this test's call and decoding.
        assertLe(used, 9_000, "currentCertificateData budget");
    }

    function test_gas_member_100nodes() external view {
        uint256 before = gasleft();
        (, uint16 shards) = staking.member(1, 57);
        uint256 used = before - gasleft();
        _log("member, cold", used);
        assertEq(shards, 1, "one shard each");
        assertLe(used, 25_000, "member budget");
    }
}

/// @notice Mainnet-like shard count: n = 1000 over 100 nodes of unequal stake.
contract StakingGasThousandShardsTest is StakingGasBase {
    function _shards() internal pure override returns (uint16) {
        return 1000;
    }

    function _nodeStake(uint256 i) internal pure override returns (uint256) {
        return (1 + i % 7) * MIN_STAKE;
    }

    function test_gas_advanceEpoch_100nodes_1000shards_firstCommittee() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, n = 1000, first committee");
        (address[] memory members,) = staking.committee(1);
        assertEq(members.length, NODES, "100 members");
        _checkShards(1);
        assertLe(used, 6_750_000, "gas budget (IR pipeline, to fit EIP-170)");
    }
}

/// @notice As above, one epoch later: ten stakes grow, so shards move between members.
contract StakingGasThousandShardsMoveTest is StakingGasBase {
    function _shards() internal pure override returns (uint16) {
        return 1000;
    }

    function _nodeStake(uint256 i) internal pure override returns (uint256) {
        return (1 + i % 7) * MIN_STAKE;
    }

    function setUp() public override {
        super.setUp();
        _advance();
        _fundTenEpochs();
        for (uint256 i; i < NODES; i += 10) {
            _stake(_operator(i), _operator(i), 5 * MIN_STAKE);
        }
        _warpToEpochEnd();
    }

    function test_gas_advanceEpoch_100nodes_1000shards_tenGrow() external {
        uint256 used = _measuredAdvance("advanceEpoch, 100 nodes, n = 1000, 10 stakes grow, payout");
        _checkShards(2);
        _checkCertificateData(2);
        assertLe(used, 7_500_000, "gas budget"); // 5 members per word (32-bit ids), as above
    }
}

/// @notice Gas of registering a node (proof of possession checked on-chain) and of staking.
contract StakingGasRegisterTest is StakingFixture {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    bytes internal pk;
    bytes internal pop;

    function setUp() public {
        _deployDefault();
        (, bytes[] memory pks, bytes[] memory pops) = _loadKeys();
        pk = pks[0];
        pop = pops[0];
        _registerNode(1);
        vm.startPrank(address(0xA11CE));
        wal.faucet(2 * MIN_STAKE);
        wal.approve(address(staking), 2 * MIN_STAKE);
        vm.stopPrank();
    }

    function _log(string memory label, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }

    function test_gas_registerNode() external {
        bytes memory key = pk;
        bytes memory proof = pop;
        _payBond(_operator(0));
        vm.prank(_operator(0));
        uint256 before = gasleft();
        staking.registerNode(key, proof, "127.0.0.1:9100", COMMISSION, CAPACITY);
        uint256 used = before - gasleft();
        _log("registerNode", used);
        assertTrue(staking.nodeInfo(_operator(0)).registered, "registered");
        assertLe(used, 500_000, "gas budget");
    }

    function test_gas_stake_firstStakeInNode() external {
        vm.prank(address(0xA11CE));
        uint256 before = gasleft();
        staking.stake(_operator(1), MIN_STAKE);
        uint256 used = before - gasleft();
        _log("stake, first position in a node", used);
        assertEq(staking.nodeInfo(_operator(1)).stake, MIN_STAKE, "staked");
        assertLe(used, 250_000, "gas budget");
    }
}

/// @notice Registration bond, deregistration, the bounded candidate set, commission announcements
/// and price bounds.
contract StakingBoundsTest is StakingFixture {
    address internal constant REGISTRY = address(0x5E61);
    address internal constant ALICE = address(0xA11CE);

    function setUp() public {
        _deployDefault();
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
    }

    function _fund(uint32 fromEpoch, uint32 epochs, uint256 amount) internal {
        vm.startPrank(REGISTRY);
        wal.faucet(amount);
        wal.transfer(address(staking), amount);
        staking.fundRewards(fromEpoch, epochs, amount);
        vm.stopPrank();
    }

    function _node(uint256 i) internal pure returns (address) {
        return _operator(i);
    }

    function _members(uint32 epoch) internal view returns (address[] memory members) {
        (members,) = staking.committee(epoch);
    }

    function _isCandidate(address node) internal view returns (bool candidate) {
        (, candidate,,) = staking.nodeStatus(node);
    }

    // ------------------------------------------------------------------ deregistration and bond

    function test_deregister_leavesCandidacyAtOnceAndCommitteeAtBoundary() external {
        _registerNodes(2);
        _stake(_node(0), _node(0), MIN_STAKE);
        _stake(ALICE, _node(1), MIN_STAKE);
        _advance(); // 1: both members
        assertTrue(_isCandidate(_node(1)), "candidate");
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CandidateChanged(_node(1), false);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.NodeDeregistered(_node(1), 1, 2);
        vm.prank(_node(1));
        staking.deregisterNode();
        assertFalse(_isCandidate(_node(1)), "left candidacy at once");
        assertEq(_members(1).length, 2, "still serving epoch 1");
        // No new stake, no updates, no second deregistration.
        vm.startPrank(ALICE);
        wal.faucet(1);
        wal.approve(address(staking), 1);
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeNotActive.selector, _node(1)));
        staking.stake(_node(1), 1);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeNotActive.selector, _node(1)));
        vm.prank(_node(1));
        staking.updateNode("x", COMMISSION);
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeNotActive.selector, _node(1)));
        vm.prank(_node(1));
        staking.deregisterNode();
        // The bond waits for the boundary.
        vm.expectRevert(abi.encodeWithSelector(Staking.BondNotReady.selector, _node(1), 2, 1));
        vm.prank(_node(1));
        staking.withdrawBond();
        _fund(1, 1, 1000);
        _advance(); // 2: node 1 is out
        address[] memory members = _members(2);
        assertEq(members.length, 1, "left the committee at the boundary");
        assertEq(members[0], _node(0), "node 0 stays");
        _checkShards(2);
        _checkCertificateData(2);
        // Its delegator still claims epoch 1's rewards and withdraws.
        assertEq(staking.pendingRewards(_node(1), ALICE), 450, "epoch 1 rewards (50 shards, 10%)");
        vm.startPrank(ALICE);
        staking.claimRewards(_node(1));
        staking.requestWithdrawal(_node(1), MIN_STAKE);
        vm.stopPrank();
        assertFalse(_isCandidate(_node(1)), "a withdrawal does not bring it back");
        _advance(); // 3
        vm.prank(ALICE);
        assertEq(staking.withdraw(_node(1)), MIN_STAKE, "withdrawn");
        // The bond comes back once.
        uint256 before = wal.balanceOf(_node(1));
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.BondReturned(_node(1), BOND);
        vm.prank(_node(1));
        assertEq(staking.withdrawBond(), BOND, "bond");
        assertEq(wal.balanceOf(_node(1)) - before, BOND, "paid");
        assertEq(staking.totalBonds(), BOND, "node 0's bond left");
        vm.expectRevert(abi.encodeWithSelector(Staking.BondAlreadyReturned.selector, _node(1)));
        vm.prank(_node(1));
        staking.withdrawBond();
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
        // Past committees are untouched: epoch 1 still names node 1.
        assertEq(_members(1)[1], _node(1), "epoch 1 committee kept");
        _checkCertificateData(1);
    }

    function test_deregister_addressCannotRegisterAgain() external {
        _registerNode(0);
        vm.prank(_node(0));
        staking.deregisterNode();
        uint256 sk = _sk(1);
        bytes memory pk = _g1Mul(sk);
        bytes memory pop = _pop(sk, address(staking), _node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeAlreadyRegistered.selector, _node(0)));
        vm.prank(_node(0));
        staking.registerNode(pk, pop, "x", 0, 0);
    }

    function test_withdrawBond_revertsForActiveOrUnknownNode() external {
        _registerNode(0);
        vm.expectRevert(abi.encodeWithSelector(Staking.NodeNotDeregistered.selector, _node(0)));
        vm.prank(_node(0));
        staking.withdrawBond();
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, ALICE));
        vm.prank(ALICE);
        staking.withdrawBond();
        vm.expectRevert(abi.encodeWithSelector(Staking.UnknownNode.selector, ALICE));
        vm.prank(ALICE);
        staking.deregisterNode();
    }

    function test_deregister_beforeAnyCommitteeFreesBondNextEpoch() external {
        _registerNode(0);
        _stake(_node(0), _node(0), MIN_STAKE);
        vm.prank(_node(0));
        staking.deregisterNode();
        _advance(); // 1: no committee
        assertEq(_members(1).length, 0, "never joined");
        vm.prank(_node(0));
        assertEq(staking.withdrawBond(), BOND, "bond back");
    }

    // ------------------------------------------------------------------ candidate set

    function test_candidates_boundedByCommitteeSize() external {
        _deploy(N, DURATION, MIN_STAKE, 3);
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
        _registerNodes(5);
        for (uint256 i; i < 3; ++i) {
            _stake(_node(i), _node(i), (i + 2) * MIN_STAKE); // 2 3 4
        }
        // Node 3 at 2 (a tie with node 0, later registration): stays out.
        _stake(_node(3), _node(3), 2 * MIN_STAKE);
        assertFalse(_isCandidate(_node(3)), "a tie does not evict the earlier registration");
        // Node 4 at 5: evicts the smallest (node 0).
        vm.startPrank(_node(4));
        wal.faucet(5 * MIN_STAKE);
        wal.approve(address(staking), 5 * MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CandidateChanged(_node(0), false);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CandidateChanged(_node(4), true);
        staking.stake(_node(4), 5 * MIN_STAKE);
        vm.stopPrank();
        (address[] memory c,) = staking.candidates();
        assertEq(c.length, 3, "at most maxCommitteeSize candidates");
        assertFalse(_isCandidate(_node(0)), "evicted");
        // Node 0 returns only by exceeding the smallest member (node 1 at 3).
        _stake(_node(0), _node(0), MIN_STAKE); // 3: a tie with node 1, earlier registration: enters
        assertTrue(_isCandidate(_node(0)), "node 0 back (tie, earlier registration)");
        assertFalse(_isCandidate(_node(1)), "node 1 out");
        _advance();
        address[] memory m = _members(1);
        assertEq(m.length, 3, "three members");
        assertEq(m[0], _node(0), "registration order");
        assertEq(m[1], _node(2), "registration order");
        assertEq(m[2], _node(4), "registration order");
        _checkShards(1);
        _checkCertificateData(1);
    }

    function test_candidates_leaveBelowMinimumAndShrinkInPlace() external {
        _registerNodes(2);
        _stake(_node(0), _node(0), 3 * MIN_STAKE);
        _stake(_node(1), _node(1), 2 * MIN_STAKE);
        vm.prank(_node(0));
        staking.requestWithdrawal(_node(0), MIN_STAKE); // 2: still a candidate
        assertTrue(_isCandidate(_node(0)), "shrunk in place");
        (, uint256[] memory stakes) = staking.candidates();
        assertEq(stakes[0] + stakes[1], 4 * MIN_STAKE, "stakes updated");
        vm.prank(_node(1));
        staking.requestWithdrawal(_node(1), MIN_STAKE + 1); // below the minimum
        assertFalse(_isCandidate(_node(1)), "left");
        (address[] memory c,) = staking.candidates();
        assertEq(c.length, 1, "one candidate");
        assertEq(c[0], _node(0), "node 0");
    }

    /// @dev The heap against a reference: after random stake changes, the candidate set is a set of
    /// at most K eligible nodes, and every candidate's stake matches its node.
    function test_fuzz_candidates_heapConsistent(uint256 seed) external {
        _deploy(N, DURATION, MIN_STAKE, 4);
        vm.prank(DEPLOYER);
        staking.setRegistry(REGISTRY);
        _registerNodes(8);
        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            address node = _node(r % 8);
            (uint256 active,,,,) = staking.stakeOf(node, node);
            if ((r >> 8) % 3 == 0 && active != 0) {
                vm.prank(node);
                staking.requestWithdrawal(node, bound(r >> 16, 1, active));
            } else {
                _stake(node, node, bound(r >> 16, 1, 4 * MIN_STAKE));
            }
            (address[] memory c, uint256[] memory stakes) = staking.candidates();
            assertLe(c.length, 4, "bounded");
            for (uint256 i; i < c.length; ++i) {
                assertEq(stakes[i], staking.nodeInfo(c[i]).stake, "heap stake == node stake");
                assertGe(stakes[i], MIN_STAKE, "eligible");
                assertTrue(_isCandidate(c[i]), "position recorded");
            }
            if (node != address(0) && !_isCandidate(node)) {
                // A node that just changed and is out: below the minimum, or not above the smallest.
                uint256 s = staking.nodeInfo(node).stake;
                if (s >= MIN_STAKE) {
                    assertEq(c.length, 4, "out with room only below the minimum");
                    for (uint256 i; i < c.length; ++i) {
                        assertGe(stakes[i], s, "out only if no member is smaller");
                    }
                }
            }
        }
        _advance();
        _checkShards(1);
        _checkCertificateData(1);
    }

    // ------------------------------------------------------------------ prices

    function _pricedDeployment() internal {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        (c.minStoragePrice, c.maxStoragePrice, c.minWritePrice, c.maxWritePrice) = (100, 3_000, 50, 1_000);
        vm.prank(DEPLOYER);
        staking = new Staking(c);
        _registerNodes(1);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance(); // node 0 holds every shard
    }

    function test_votePrices_rejectsOutOfRange() external {
        _pricedDeployment();
        vm.startPrank(_node(0));
        vm.expectRevert(abi.encodeWithSelector(Staking.StoragePriceOutOfRange.selector, 99, 100, 3_000));
        staking.votePrices(99, 500);
        vm.expectRevert(abi.encodeWithSelector(Staking.StoragePriceOutOfRange.selector, type(uint64).max, 100, 3_000));
        staking.votePrices(type(uint64).max, 500);
        vm.expectRevert(abi.encodeWithSelector(Staking.WritePriceOutOfRange.selector, 49, 50, 1_000));
        staking.votePrices(1_000, 49);
        vm.expectRevert(abi.encodeWithSelector(Staking.WritePriceOutOfRange.selector, 1_001, 50, 1_000));
        staking.votePrices(1_000, 1_001);
        vm.stopPrank();
    }

    function test_prices_moveAtMostAFactorTwoPerEpoch() external {
        _pricedDeployment(); // 1000 / 500 in force
        vm.prank(_node(0));
        staking.votePrices(3_000, 50);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.PricesSet(2, 2_000, 250);
        _advance();
        _advance(); // 3: the vote persists: 3000 (capped by the vote), 125
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, 3_000, "reaches the vote");
        assertEq(wp, 125, "halves again");
        _advance();
        _advance();
        (sp, wp) = staking.prices();
        assertEq(wp, 50, "reaches the range minimum, never below");
    }

    function test_fuzz_prices_boundedPerEpoch(uint64 storageVote, uint64 writeVote) external {
        _pricedDeployment();
        storageVote = uint64(bound(storageVote, 100, 3_000));
        writeVote = uint64(bound(writeVote, 50, 1_000));
        vm.prank(_node(0));
        staking.votePrices(storageVote, writeVote);
        for (uint256 e; e < 4; ++e) {
            (uint64 sp0, uint64 wp0) = staking.prices();
            _advance();
            (uint64 sp, uint64 wp) = staking.prices();
            assertLe(sp, 2 * uint256(sp0), "storage at most doubles");
            assertGe(sp, sp0 / 2, "storage at most halves");
            assertLe(wp, 2 * uint256(wp0), "write at most doubles");
            assertGe(wp, wp0 / 2, "write at most halves");
            assertGe(sp, 100, "in range");
            assertLe(sp, 3_000, "in range");
            assertGe(wp, 50, "in range");
            assertLe(wp, 1_000, "in range");
        }
    }

    function test_prices_fromZeroMoveUpByOne() external {
        IStaking.Config memory c = _config(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
        (c.initialStoragePrice, c.initialWritePrice) = (0, 0);
        vm.prank(DEPLOYER);
        staking = new Staking(c);
        _registerNodes(1);
        _stake(_node(0), _node(0), MIN_STAKE);
        _advance();
        vm.prank(_node(0));
        staking.votePrices(type(uint64).max, 7);
        _advance();
        (uint64 sp, uint64 wp) = staking.prices();
        assertEq(sp, 1, "0 -> 1");
        assertEq(wp, 1, "0 -> 1");
        _advance();
        (sp, wp) = staking.prices();
        assertEq(sp, 2, "then doubles");
        assertEq(wp, 2, "then doubles");
    }

    // ------------------------------------------------------------------ commission

    function test_rewards_commissionChangeAppliesTwoEpochsLater() external {
        _registerNode(0); // 10%
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 3, 3000);
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CommissionChangeAnnounced(_node(0), 1_500, 3);
        vm.prank(_node(0));
        staking.updateNode("x", 1_500); // announced in epoch 1: in force from epoch 3
        assertEq(staking.commissionAt(_node(0), 1), 1_000, "epoch 1: 10%");
        assertEq(staking.commissionAt(_node(0), 2), 1_000, "epoch 2: 10%");
        assertEq(staking.commissionAt(_node(0), 3), 1_500, "epoch 3: 15%");
        (uint16 bps, uint32 at) = staking.pendingCommission(_node(0));
        assertEq(bps, 1_500, "pending");
        assertEq(at, 3, "from epoch 3");
        assertEq(staking.nodeInfo(_node(0)).commissionBps, 1_000, "in force now");
        _advance(); // epoch 1 paid at 10%
        _advance(); // epoch 2 paid at 10%
        assertEq(staking.pendingRewards(_node(0), _node(0)), 200, "two epochs at 10%");
        assertEq(staking.pendingRewards(_node(0), ALICE), 1_800, "delegator");
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CommissionActivated(_node(0), 1_500, 3);
        _advance(); // epoch 3 paid at 15%
        assertEq(staking.pendingRewards(_node(0), _node(0)), 200 + 150, "then 15%");
        assertEq(staking.pendingRewards(_node(0), ALICE), 1_800 + 850, "delegator");
        assertEq(staking.nodeInfo(_node(0)).commissionBps, 1_500, "in force");
        (, at) = staking.pendingCommission(_node(0));
        assertEq(at, 0, "nothing pending");
        assertEq(wal.balanceOf(address(staking)), staking.accountedBalance(), "held == owed");
    }

    /// @dev The attack the rule stops: 100% just before an advance and back just after.
    function test_rewards_commissionCannotJumpBeforeAnAdvance() external {
        _registerNode(0); // 10%
        _stake(ALICE, _node(0), MIN_STAKE);
        _advance(); // 1
        _fund(1, 1, 1000);
        vm.expectRevert(abi.encodeWithSelector(Staking.CommissionStepTooLarge.selector, 1_000, 10_000, 500));
        vm.prank(_node(0));
        staking.updateNode("x", 10_000);
        vm.prank(_node(0));
        staking.updateNode("x", 1_500); // the largest step: not in force before epoch 3
        _advance(); // epoch 1 paid at the advertised 10%
        assertEq(staking.pendingRewards(_node(0), ALICE), 900, "delegator paid at the advertised rate");
    }

    function test_updateNode_replacesThisEpochsAnnouncementAndWithdrawsIt() external {
        _registerNode(0); // 10%
        vm.startPrank(_node(0));
        staking.updateNode("x", 1_200);
        staking.updateNode("x", 800); // replaces it; the step counts from the 10% in force
        (uint16 bps, uint32 at) = staking.pendingCommission(_node(0));
        assertEq(bps, 800, "replaced");
        assertEq(at, 2, "from epoch 2");
        vm.expectEmit(true, true, true, true, address(staking));
        emit IStaking.CommissionChangeAnnounced(_node(0), 1_000, 0);
        staking.updateNode("x", 1_000); // back to the commission in force: withdrawn
        vm.stopPrank();
        (, at) = staking.pendingCommission(_node(0));
        assertEq(at, 0, "withdrawn");
        assertEq(staking.commissionAt(_node(0), 5), 1_000, "unchanged");
    }

    function test_updateNode_revertsWhileAnEarlierChangeIsPending() external {
        _registerNode(0);
        vm.prank(_node(0));
        staking.updateNode("x", 1_500); // epoch 0: from epoch 2
        _advance(); // 1
        vm.expectRevert(abi.encodeWithSelector(Staking.CommissionChangePending.selector, 1_500, 2));
        vm.prank(_node(0));
        staking.updateNode("x", 2_000);
        // The same value (no change) still updates the address.
        vm.prank(_node(0));
        staking.updateNode("y", 1_500);
        assertEq(staking.nodeInfo(_node(0)).networkAddress, "y", "address changed");
        _advance(); // 2: in force
        vm.prank(_node(0));
        staking.updateNode("y", 2_000); // folded, then a new step from 15%
        assertEq(staking.commissionAt(_node(0), 2), 1_500, "15% now");
        assertEq(staking.commissionAt(_node(0), 4), 2_000, "20% from epoch 4");
    }

    function test_fuzz_updateNode_stepBound(uint16 target) external {
        _registerNode(0); // 10%
        target = uint16(bound(target, 0, 10_000));
        uint256 step = target > 1_000 ? target - 1_000 : 1_000 - target;
        if (step > 500) {
            vm.expectRevert(abi.encodeWithSelector(Staking.CommissionStepTooLarge.selector, 1_000, target, 500));
        }
        vm.prank(_node(0));
        staking.updateNode("x", target);
        if (step <= 500) assertEq(staking.commissionAt(_node(0), 2), target, "announced");
    }
}
