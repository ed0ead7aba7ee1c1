// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {WAL} from "../../src/WAL.sol";
import {Staking} from "../../src/Staking.sol";
import {IStaking} from "../../src/interfaces/IStaking.sol";
import {BLS} from "../../src/libraries/BLS.sol";

/// @notice Cheatcodes the staking tests need beyond utils/Test.sol.
interface VmStaking {
    function store(address target, bytes32 slot, bytes32 value) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
}

/// @notice Real BLS12-381 key material made on-chain with the EIP-2537 precompiles: secret key
/// `sk`, public key `sk·G1` (G1MSM) and proofs of possession `sk·H(m)` (hash to G2, then G2MSM).
abstract contract StakingKeys {
    /// @dev The G1 generator, EIP-2537 encoding.
    bytes internal constant G1_GENERATOR =
        hex"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1";

    error PrecompileCallFailed(address precompile);

    /// @dev sk·G1.
    function _g1Mul(uint256 sk) internal view returns (bytes memory out) {
        bool ok;
        (ok, out) = address(0x0c).staticcall(abi.encodePacked(G1_GENERATOR, sk));
        if (!ok) revert PrecompileCallFailed(address(0x0c));
    }

    /// @dev sk·P in G2.
    function _g2Mul(bytes memory point, uint256 sk) internal view returns (bytes memory out) {
        bool ok;
        (ok, out) = address(0x0e).staticcall(abi.encodePacked(point, sk));
        if (!ok) revert PrecompileCallFailed(address(0x0e));
    }

    /// @dev The 65-byte proof-of-possession message (IBlobRegistry NatSpec, intent 0).
    function _popMessage(address stakingAddress, address operator, bytes memory publicKey)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodePacked(
            uint8(0), uint64(block.chainid), stakingAddress, uint32(0), keccak256(abi.encodePacked(operator, publicKey))
        );
    }

    /// @dev A BLS signature with `sk` over `message` under floe's DST.
    function _sign(uint256 sk, bytes memory message) internal view returns (bytes memory) {
        return _g2Mul(BLS.hashToG2(message, BLS.DST), sk);
    }

    /// @dev A proof of possession of `sk` for `operator` registering at `stakingAddress`.
    function _pop(uint256 sk, address stakingAddress, address operator) internal view returns (bytes memory) {
        return _sign(sk, _popMessage(stakingAddress, operator, _g1Mul(sk)));
    }
}

/// @notice Deploys WAL and Staking deterministically and registers/stakes nodes with real keys.
abstract contract StakingFixture is Test, StakingKeys {
    VmStaking internal constant vmx = VmStaking(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant DEPLOYER = address(0xF10E);
    address internal constant WAL_ADDRESS = 0x1B1e7bdeD063218d23582BF781Dcba6D9C079b8F;
    address internal constant STAKING_ADDRESS = 0xa9f6c36B964AF4F8E535810c7a4D832cBB9771cC;
    uint256 internal constant FROST_PER_WAL = 1e9;

    uint16 internal constant N = 100;
    uint64 internal constant DURATION = 1 days;
    uint256 internal constant MIN_STAKE = 1_000 * FROST_PER_WAL;
    uint16 internal constant MAX_COMMITTEE = 100;
    uint64 internal constant STORAGE_PRICE = 1_000;
    uint64 internal constant WRITE_PRICE = 500;
    uint16 internal constant COMMISSION = 1_000; // 10%
    uint64 internal constant CAPACITY = 1 << 40;
    uint256 internal constant FAUCET_CAP = 1e30;
    /// @dev Registration bond of the default deployment.
    uint256 internal constant BOND = 10 * FROST_PER_WAL;

    WAL internal wal;
    Staking internal staking;
    /// @dev Commission `_registerNode(s)` registers with.
    uint16 internal registrationCommission = COMMISSION;

    /// @dev Operator address of test node `i` (matches contracts/test/vectors/bls.json).
    function _operator(uint256 i) internal pure returns (address) {
        return address(uint160(0x10000 + i));
    }

    /// @dev The BLS12-381 group order.
    uint256 internal constant GROUP_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    /// @dev The shared vector file (keys made by floe-core with blst).
    function _vectors() internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/bls.json"));
    }

    /// @dev Test node keys from the vector file: secret keys, public keys (EIP-2537) and proofs
    /// of possession for chain 31337 and Staking at STAKING_ADDRESS.
    function _loadKeys() internal view returns (bytes32[] memory sks, bytes[] memory pks, bytes[] memory pops) {
        string memory json = _vectors();
        sks = vm.parseJsonBytes32Array(json, ".keys.secretKeys");
        pks = vm.parseJsonBytesArray(json, ".keys.publicKeys");
        pops = vm.parseJsonBytesArray(json, ".keys.pops");
    }

    /// @dev Secret key of test node `i` (from the vector file).
    function _sk(uint256 i) internal view returns (uint256) {
        return uint256(vm.parseJsonBytes32(_vectors(), string.concat(".keys.secretKeys[", _itoa(i), "]")));
    }

    function _networkAddress(uint256 i) internal pure returns (string memory) {
        return string.concat("127.0.0.1:", _itoa(9100 + i));
    }

    function _itoa(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory out;
        while (v != 0) {
            out = abi.encodePacked(bytes1(uint8(48 + v % 10)), out);
            v /= 10;
        }
        return string(out);
    }

    /// @dev A configuration with the default bond and prices and the full price range.
    function _config(uint16 n, uint64 duration, uint256 minStake, uint16 maxCommittee)
        internal
        view
        returns (IStaking.Config memory c)
    {
        c.wal = address(wal);
        c.nShards = n;
        c.epochDuration = duration;
        c.minStake = minStake;
        c.maxCommitteeSize = maxCommittee;
        c.registrationBond = BOND;
        c.initialStoragePrice = STORAGE_PRICE;
        c.maxStoragePrice = type(uint64).max;
        c.initialWritePrice = WRITE_PRICE;
        c.maxWritePrice = type(uint64).max;
    }

    function _deploy(uint16 n, uint64 duration, uint256 minStake, uint16 maxCommittee) internal {
        vm.prank(DEPLOYER);
        wal = new WAL(true, FAUCET_CAP, address(0), 0);
        vm.prank(DEPLOYER);
        staking = new Staking(_config(n, duration, minStake, maxCommittee));
    }

    function _deployDefault() internal {
        _deploy(N, DURATION, MIN_STAKE, MAX_COMMITTEE);
    }

    /// @dev Registers test node `i` with its vector key and proof of possession (made by blst);
    /// a Staking deployed elsewhere than STAKING_ADDRESS gets a proof signed here with the same key.
    function _registerNode(uint256 i) internal {
        (bytes32[] memory sks, bytes[] memory pks, bytes[] memory pops) = _loadKeys();
        _registerWith(i, sks[i], pks[i], pops[i]);
    }

    function _registerNodes(uint256 count) internal {
        (bytes32[] memory sks, bytes[] memory pks, bytes[] memory pops) = _loadKeys();
        for (uint256 i; i < count; ++i) {
            _registerWith(i, sks[i], pks[i], pops[i]);
        }
    }

    function _registerWith(uint256 i, bytes32 sk, bytes memory pk, bytes memory pop) private {
        if (address(staking) != STAKING_ADDRESS) pop = _pop(uint256(sk), address(staking), _operator(i));
        _payBond(_operator(i));
        vm.prank(_operator(i));
        staking.registerNode(pk, pop, _networkAddress(i), registrationCommission, CAPACITY);
    }

    /// @dev `operator` takes the registration bond from the faucet and approves it to Staking.
    function _payBond(address operator) internal {
        uint256 bond = staking.registrationBond();
        vm.startPrank(operator);
        wal.faucet(bond);
        wal.approve(address(staking), bond);
        vm.stopPrank();
    }

    /// @dev `staker` takes `amount` from the faucet and stakes it to `node`.
    function _stake(address staker, address node, uint256 amount) internal {
        vm.startPrank(staker);
        wal.faucet(amount);
        wal.approve(address(staking), amount);
        staking.stake(node, amount);
        vm.stopPrank();
    }

    /// @dev Warps to the end of the current epoch and advances.
    function _advance() internal {
        if (staking.currentEpoch() != 0) vm.warp(uint256(staking.epochStartTime()) + staking.epochDuration());
        staking.advanceEpoch();
    }

    /// @dev Sum of a shard-count array.
    function _sum(uint16[] memory a) internal pure returns (uint256 s) {
        for (uint256 i; i < a.length; ++i) {
            s += a[i];
        }
    }

    /// @dev Checks `epoch`'s certificate data contract byte by byte against the views that read
    /// storage (`committee`, `member`, `nShards`), its aggregate key against the sum of the member
    /// keys, and `certificateContext` against it (layout: IStaking.certificateData).
    function _checkCertificateData(uint32 epoch) internal view {
        address data = staking.certificateData(epoch);
        (address[] memory members, uint16[] memory counts) = staking.committee(epoch);
        (uint256 size, uint16 n, bytes memory agg) = staking.certificateContext(epoch);
        assertEq(size, members.length, "context size == committee size");
        assertEq(n, staking.nShards(), "context n");
        if (members.length == 0) {
            assertEq(data, address(0), "no data without a committee");
            assertEq(agg, new bytes(128), "identity without a committee");
            return;
        }
        bytes memory code = data.code;
        assertEq(code.length, 101 + 98 * members.length, "data length");
        assertEq(uint8(code[0]), 0, "data starts with STOP");
        assertEq(_u16At(code, 1), members.length, "data committee size");
        assertEq(_u16At(code, 3), n, "data n");
        bytes[] memory keys = new bytes[](members.length);
        for (uint256 i; i < members.length; ++i) {
            uint16 shards;
            (keys[i], shards) = staking.member(epoch, i);
            assertEq(shards, counts[i], "member shards == committee shards");
            assertEq(keys[i], staking.nodeInfo(members[i]).publicKey, "member key == registered key");
            uint256 at = 101 + 98 * i;
            assertEq(_keyAt(code, at), keys[i], "data key == member key");
            assertEq(_u16At(code, at + 96), shards, "data shards == member shards");
        }
        bytes memory sum = BLS.aggregate(keys);
        assertEq(_keyAt(code, 5), sum, "data aggregate key == sum of member keys");
        assertEq(agg, sum, "context aggregate key == sum of member keys");
    }

    /// @dev The big-endian uint16 at `at` of `b`.
    function _u16At(bytes memory b, uint256 at) internal pure returns (uint256) {
        return (uint256(uint8(b[at])) << 8) | uint8(b[at + 1]);
    }

    /// @dev The 96-byte key (x | y) at `at` of `b`, in the EIP-2537 encoding (each coordinate
    /// after 16 zero bytes).
    function _keyAt(bytes memory b, uint256 at) internal pure returns (bytes memory key) {
        key = new bytes(128);
        for (uint256 j; j < 48; ++j) {
            key[16 + j] = b[at + j];
            key[80 + j] = b[at + 48 + j];
        }
    }

    /// @dev Checks that `epoch`'s shard owners and shard counts agree and cover all `n` shards.
    function _checkShards(uint32 epoch) internal view {
        (address[] memory members, uint16[] memory counts) = staking.committee(epoch);
        uint16[] memory owners = staking.shardOwners(epoch);
        uint256 n = staking.nShards();
        assertEq(owners.length, n, "one owner per shard");
        assertEq(_sum(counts), n, "shard counts sum to n");
        uint256[] memory tally = new uint256[](members.length);
        for (uint256 s; s < n; ++s) {
            assertLe(uint256(owners[s]) + 1, members.length, "owner index in range");
            ++tally[owners[s]];
        }
        for (uint256 i; i < members.length; ++i) {
            assertEq(tally[i], counts[i], "owners match counts");
            assertGe(counts[i], 1, "every member holds a shard");
        }
    }
}
