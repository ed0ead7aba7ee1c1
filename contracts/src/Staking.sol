// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {BLS} from "./libraries/BLS.sol";

/// @title floe staking: nodes, stake, epochs, committees, shards, prices and rewards
/// @notice Storage nodes register with a BLS12-381 key and a proof of possession; anyone stakes
/// WAL to a node. At each epoch advance the next committee is chosen from the stake, the `n`
/// shards are apportioned in proportion to stake (moving as few as possible), the prices voted by
/// the ending committee take effect and the ending epoch's reward pool is paid out.
/// @dev Rules this contract fixes (the interface leaves them open):
/// - Stake counts from the epoch after it is staked; a withdrawal request stops counting at the
///   next epoch boundary and is paid at or after that epoch (`withdraw`). Until the boundary the
///   requested stake still earns the running epoch's rewards.
/// - Candidates: a bounded set of at most `maxCommitteeSize` active nodes whose stake for the next
///   committee is at least `max(minStake, 1)`, kept as a min-heap on (stake, earlier registration)
///   as stake changes: a node outside it enters only when the set has room or when its stake
///   exceeds the smallest member's (ties: the earlier registration), which it evicts. A member
///   whose stake falls below the minimum, or that deregisters, leaves at once. A member whose
///   stake falls stays until evicted, so an outsider that is now larger enters at its next stake
///   change (anyone may trigger one by staking to it). Every stake operation and every advance
///   costs O(maxCommitteeSize) at most, whatever the number of registered nodes.
/// - Committee of epoch e+1 = the candidate set at the advance, ordered by node id = registration
///   order (this order is the certificate bitmap order).
/// - Shards: largest-remainder apportionment of `n` by stake (ties of remainders: earlier
///   registration first). A member whose apportionment is 0 shards is dropped from the committee
///   and the apportionment is recomputed among the rest, so every member holds at least one shard.
///   Placement: each member keeps its previous shards (ascending shard order) up to its new count;
///   freed shards go, ascending, to members below their count (in committee order).
/// - Epochs: epoch 0 (genesis, no committee) may be advanced at any time; epoch e >= 1 may be
///   advanced once `block.timestamp >= epochStartTime + epochDuration`. A new epoch starts at the
///   block time of the advance.
/// - Prices of epoch e+1: over epoch e's committee, the lowest price p such that members holding
///   at least 2f+1 shards (f = (n-1)/3) voted at most p; a member that never voted counts as
///   voting the prices in force. Votes persist until changed. No committee: prices unchanged.
/// - Rewards: `fundRewards` splits an amount evenly over its epochs, the division remainder to the
///   first. At the end of epoch e its pool goes to epoch e's members, `pool * shards / n` each,
///   the rounding remainder to the first member (committee order); with no committee the whole
///   pool rolls into epoch e+1's pool.
///   A member's part is split into commission (`part * commissionBps / 10000`) and a delegator
///   part shared pro rata to the stake that counted in epoch e, through a per-node cumulative
///   reward-per-stake accumulator; what the accumulator cannot represent (rounded up to whole
///   FROST) goes to the operator's commission. Per-staker rounding (less than 1 FROST per
///   staker per settlement, and at most 1 FROST per node and epoch) stays in
///   `totalUnclaimedRewards`, so the accounting below is exact:
///   WAL held == totalActiveStake + totalPendingWithdrawals + totalUnclaimedRewards + totalFutureRewards
///   + totalBonds.
/// - Node ids are registration indices (32 bits), never reused: a deregistered node keeps its id,
///   stake positions and reward accounting, so past committees, certificate data and rewards of
///   past epochs stay as they were and ascending id is still registration order. An address that
///   deregistered cannot register again. Registration takes a bond (`registrationBond`, via
///   transferFrom), held apart from stake (it neither counts nor earns) and returned from the
///   epoch after deregistration, when the node has left the committee. The advance reads only the
///   candidate set, and recomputes the committee only if some stake changed since the last one.
/// - Commission: a change announced in epoch e takes effect in epoch e+2 (delegators see it for a
///   whole epoch), moves at most {MAX_COMMISSION_STEP_BPS} from the latest announced value, and one
///   change is pending at a time (a new announcement in the same epoch replaces it). Epoch e's
///   rewards use the commission in force in epoch e.
/// - Prices: each vote must lie in the deployment's [min, max] range for its kind; the tally of an
///   epoch moves each price at most to twice (at least to half) the price in force (from 0: to 1).
/// - Certificate data: every committee (members or shard counts differ from the previous one) gets
///   an id, counting up from 1, and its certificate data is deployed as a contract's runtime code
///   (layout: {IStaking-certificateData}) with CREATE at this contract's nonce `id`. This contract
///   creates nothing else, so the data of committee `id` lives at the CREATE address of
///   (this, nonce id) and is never stored. The registry reads it with EXTCODECOPY: one cold
///   account instead of a key's four storage slots per non-signer. The data's code size limit
///   (EIP-170, 24576 bytes) caps the committee at {MAX_COMMITTEE_SIZE} members.
contract Staking is IStaking {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // ----------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------

    /// @notice Thrown for a zero WAL address (constructor) or registry address (`setRegistry`).
    error ZeroAddress();
    /// @notice Thrown by the constructor when a parameter is unusable (`nShards`, `epochDuration`
    /// or `maxCommitteeSize` is zero, or `maxCommitteeSize` is above {MAX_COMMITTEE_SIZE}).
    error InvalidParameter(string name);
    /// @notice Thrown when someone other than the deployer sets the registry.
    error NotDeployer(address caller, address deployer);
    /// @notice Thrown when the registry is set a second time.
    error RegistryAlreadySet(address registry);
    /// @notice Thrown when someone other than the registry funds rewards.
    error NotRegistry(address caller, address registry);
    /// @notice Thrown when a public key is not 128 bytes (EIP-2537 G1).
    error InvalidPublicKeyLength(uint256 length);
    /// @notice Thrown when a public key is not a point on the G1 curve, or is the point at infinity.
    error InvalidPublicKey();
    /// @notice Thrown when the proof of possession does not verify for `operator` and the key.
    error InvalidProofOfPossession(address operator);
    /// @notice Thrown when another node already registered the key.
    error PublicKeyInUse(address owner);
    /// @notice Thrown when msg.sender already runs a node.
    error NodeAlreadyRegistered(address node);
    /// @notice Thrown when `node` is not a registered node.
    error UnknownNode(address node);
    /// @notice Thrown when the commission is above 10000 basis points.
    error CommissionTooHigh(uint16 commissionBps, uint16 maxBps);
    /// @notice Thrown when the network address is empty.
    error EmptyNetworkAddress();
    /// @notice Thrown when the node registry is full (2^32 - 1 registrations).
    error TooManyNodes(uint256 maxNodes);
    /// @notice Thrown when `node` deregistered: it takes no new stake, no updates and cannot deregister again.
    error NodeNotActive(address node);
    /// @notice Thrown when `node` has not deregistered (its bond is still locked).
    error NodeNotDeregistered(address node);
    /// @notice Thrown when the bond is returned only from `readyEpoch`.
    error BondNotReady(address node, uint32 readyEpoch, uint32 currentEpoch);
    /// @notice Thrown when the bond was already returned.
    error BondAlreadyReturned(address node);
    /// @notice Thrown when a commission change moves more than `maxStepBps` from the latest announced value.
    error CommissionStepTooLarge(uint16 fromBps, uint16 toBps, uint16 maxStepBps);
    /// @notice Thrown when a commission change announced in an earlier epoch has not taken effect yet.
    error CommissionChangePending(uint16 pendingBps, uint32 effectiveEpoch);
    /// @notice Thrown when a storage price vote lies outside the deployment's range.
    error StoragePriceOutOfRange(uint64 price, uint64 min, uint64 max);
    /// @notice Thrown when a write price vote lies outside the deployment's range.
    error WritePriceOutOfRange(uint64 price, uint64 min, uint64 max);
    /// @notice Thrown when an amount is zero.
    error ZeroAmount();
    /// @notice Thrown when a withdrawal asks for more than the staker's active stake in the node.
    error InsufficientStake(address node, address staker, uint256 requested, uint256 available);
    /// @notice Thrown when there is no withdrawal at all to pay out.
    error NothingToWithdraw(address node, address staker);
    /// @notice Thrown when the staker's withdrawal only becomes payable at `readyEpoch`.
    error WithdrawalNotReady(address node, address staker, uint32 readyEpoch, uint32 currentEpoch);
    /// @notice Thrown when the current epoch still has `secondsLeft` to run.
    error EpochNotOver(uint32 epoch, uint64 secondsLeft);
    /// @notice Thrown when a price vote comes from a node outside the current committee.
    error NotCommitteeMember(address node, uint32 epoch);
    /// @notice Thrown when rewards are funded over zero epochs.
    error ZeroEpochs();
    /// @notice Thrown when rewards are funded for an epoch already over.
    error FundingEpochInPast(uint32 fromEpoch, uint32 currentEpoch);
    /// @notice Thrown when the funded range runs past the last epoch number.
    error FundingRangeTooLong(uint32 fromEpoch, uint32 epochs);
    /// @notice Thrown when the WAL for funded rewards has not arrived: balance below what is owed.
    error RewardsNotReceived(uint256 balance, uint256 required);
    /// @notice Thrown when `account` has nothing to claim from `node`.
    error NoRewards(address node, address account);
    /// @notice Thrown when a view asks about an epoch that has not started.
    error EpochNotReached(uint32 epoch, uint32 currentEpoch);
    /// @notice Thrown when a committee member index is out of range.
    error MemberIndexOutOfRange(uint32 epoch, uint256 index, uint256 committeeSize);
    /// @notice Thrown if the G1 addition precompile fails while aggregating keys (cannot happen
    /// for validated keys).
    error KeyAggregationFailed();
    /// @notice Thrown if committee `committeeId`'s certificate data contract could not be created
    /// at the address its id gives (cannot happen: the committee size is capped to fit the code).
    error CertificateDataNotDeployed(uint256 committeeId);

    // ----------------------------------------------------------------------------------------
    // Events (beyond IStaking)
    // ----------------------------------------------------------------------------------------

    /// @notice Emitted when the deployer sets the blob registry.
    event RegistrySet(address indexed registry);
    /// @notice Emitted when `amount` is funded over epochs [fromEpoch, fromEpoch + epochs).
    event RewardsFunded(uint32 indexed fromEpoch, uint32 epochs, uint256 amount);
    /// @notice Emitted when epoch `epoch` ends: `distributed` went to its committee, `carried`
    /// rolled into the next epoch's pool.
    event RewardsDistributed(uint32 indexed epoch, uint256 distributed, uint256 carried);

    // ----------------------------------------------------------------------------------------
    // Types and constants
    // ----------------------------------------------------------------------------------------

    /// @dev Per-node state, keyed by registration index.
    struct NodeState {
        // slot 0: stake counted in `stakeEpoch` and stake for the next committee.
        uint128 stakeCurrent;
        uint128 stakeNext;
        // slot 1
        uint128 commission; // operator commission accrued, unclaimed
        uint32 stakeEpoch; // epoch in which `stakeCurrent` was last rolled
        uint32 checkpointEpoch; // epoch whose starting accumulator `_accAt` must hold
        uint16 commissionBps;
        // slot 2: cumulative delegator reward per unit of counted stake, scaled by REWARD_PRECISION.
        uint256 acc;
        // slot 3
        uint64 storageVote;
        uint64 writeVote;
        bool voted;
        uint64 capacity;
        uint16 nextCommissionBps; // announced commission, in force from `nextCommissionEpoch`
        uint32 nextCommissionEpoch; // 0: no change pending
        // slot 4+
        string networkAddress;
    }

    /// @dev A node's bond and deregistration.
    struct Lifecycle {
        uint128 bond; // bond held, 0 once returned
        uint32 leftEpochPlusOne; // epoch of deregistration + 1, 0 while active
    }

    /// @dev A staker's position in one node.
    struct Position {
        uint128 counted; // stake counting in epoch `epoch`
        uint128 next; // stake counting from epoch `epoch + 1`
        uint256 debt; // node accumulator when last settled (in epoch `epoch`)
        uint128 rewards; // settled, unclaimed
        uint32 epoch; // last settlement epoch
        uint32 pendingEpoch; // epoch from which `pending` is payable
        uint128 ready; // payable withdrawals
        uint128 pending; // requested withdrawals not yet payable
    }

    /// @notice Maximum commission, in basis points.
    uint16 public constant MAX_COMMISSION_BPS = 10_000;
    /// @notice Largest `maxCommitteeSize` the constructor accepts: a committee's certificate data
    /// (101 + 98 bytes per member) must fit in a contract's code (24576 bytes, EIP-170).
    uint16 public constant MAX_COMMITTEE_SIZE = 249;
    /// @notice Scale of the reward-per-stake accumulators.
    uint256 public constant REWARD_PRECISION = 1e18;
    /// @notice Largest commission change one announcement may make, in basis points.
    uint16 public constant MAX_COMMISSION_STEP_BPS = 500;
    uint256 private constant MAX_NODES = type(uint32).max;
    /// @dev Node index mask (ids are 32 bits) and a member entry's mask (index | shards << 32).
    uint256 private constant IDX_MASK = 0xffffffff;
    uint256 private constant MEMBER_MASK = 0xffffffffffff;
    uint256 private constant MEMBERS_PER_WORD = 5;
    uint256 private constant G1_ADD = 0x0b;
    uint256 private constant G1_ADD_GAS = 1000;
    /// @dev The BLS12-381 base field modulus p: its top 16 bytes and its low 32 bytes.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// @dev Transient-storage base for the node index -> new committee position map of `advanceEpoch`.
    uint256 private constant TMAP = uint256(keccak256("floe.staking.committee-position"));
    /// @dev Certificate data (runtime code): STOP, committee size, n and aggregate key take 101
    /// bytes; each member's record (key without padding, shard count) takes 98.
    uint256 private constant DATA_HEADER = 101;
    uint256 private constant DATA_RECORD = 98;
    /// @dev Offset of the aggregate key in the certificate data.
    uint256 private constant DATA_AGGREGATE = 5;
    /// @dev Length of the constructor put before the runtime code: PUSH2 length, DUP1, PUSH1 10,
    /// RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN (copies the code after it and returns it).
    uint256 private constant INIT_PREFIX = 10;
    uint256 private constant INIT_OPCODES = 0x80600a3d393df3;
    /// @dev `_currentCommittee` value meaning "the id does not fit: read `_epochCommittee`".
    uint256 private constant ID_OVERFLOW = type(uint24).max;

    // ----------------------------------------------------------------------------------------
    // Storage
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IStaking
    address public immutable wal;
    /// @inheritdoc IStaking
    uint16 public immutable nShards;
    /// @inheritdoc IStaking
    uint64 public immutable epochDuration;
    /// @notice Minimum stake for committee membership (a node also needs at least 1 FROST).
    uint256 public immutable minStake;
    /// @notice Maximum number of committee members (and of candidates).
    uint16 public immutable maxCommitteeSize;
    /// @inheritdoc IStaking
    uint256 public immutable registrationBond;
    /// @inheritdoc IStaking
    uint64 public immutable minStoragePrice;
    /// @inheritdoc IStaking
    uint64 public immutable maxStoragePrice;
    /// @inheritdoc IStaking
    uint64 public immutable minWritePrice;
    /// @inheritdoc IStaking
    uint64 public immutable maxWritePrice;
    address private immutable _deployer;

    /// @inheritdoc IStaking
    uint32 public currentEpoch;
    /// @inheritdoc IStaking
    uint64 public epochStartTime;
    uint64 private _storagePrice;
    uint64 private _writePrice;
    /// @dev Some node's stake for the next committee changed since the last committee was formed
    /// (otherwise the next committee equals the current one and is not recomputed).
    bool private _stakeChanged;
    /// @dev The current epoch's committee id (or ID_OVERFLOW), in `currentEpoch`'s slot so that
    /// `currentCertificateData` reads one slot.
    uint24 private _currentCommittee;

    /// @notice The blob registry allowed to fund rewards (zero until set).
    address public registry;
    uint32 private _committeeCount;
    /// @dev Number of nodes that ever voted prices (the tally is skipped while it is zero).
    uint32 private _voters;

    /// @notice WAL staked and counted for the next committee, over all nodes.
    uint256 public totalActiveStake;
    /// @notice WAL requested for withdrawal and not yet withdrawn.
    uint256 public totalPendingWithdrawals;
    /// @notice Rewards paid out to committees and not yet claimed (including per-staker rounding dust).
    uint256 public totalUnclaimedRewards;
    /// @dev Rewards funded for epochs not yet ended, and registration bonds held: one slot, so
    /// that `fundRewards` (on every blob registration) reads the bonds warm.
    uint128 private _futureRewards;
    uint128 private _bonds;

    uint256 private _nodeCount;
    /// @dev The candidate set: a min-heap (positions 1.._heapSize) of keys stake << 32 |
    /// (IDX_MASK - node index), and each member's heap position (0: not a candidate).
    uint256 private _heapSize;
    mapping(uint256 pos => uint256 key) private _heap;
    mapping(uint256 index => uint256 pos) private _heapPos;
    /// @dev Per node: the bond held and the epoch of deregistration + 1 (0: active).
    mapping(uint256 index => Lifecycle) private _lifecycle;
    mapping(uint256 index => address) private _nodeAddress;
    mapping(address node => uint256) private _indexPlusOne;
    mapping(uint256 index => bytes32[4]) private _keys;
    mapping(bytes32 keyHash => address) private _keyOwner;
    mapping(uint256 index => NodeState) private _nodes;
    mapping(uint256 index => mapping(address staker => Position)) private _positions;
    mapping(uint256 index => mapping(uint32 epoch => uint256)) private _accAt;

    /// @dev epoch => committee id (low 32 bits) | committee size << 32. Id 0 = no committee.
    mapping(uint32 epoch => uint256) private _epochCommittee;
    /// @dev committee id => 5 members per word, 48 bits each: node index | shards << 32.
    mapping(uint256 id => mapping(uint256 word => uint256)) private _memberWords;
    /// @dev committee id => 16 shard owners per word, 16 bits each (committee position).
    mapping(uint256 id => mapping(uint256 word => uint256)) private _ownerWords;

    uint256 private _runningRate;
    mapping(uint32 epoch => uint256) private _rateStart;
    mapping(uint32 epoch => uint256) private _rateEnd;
    mapping(uint32 epoch => uint256) private _extra;

    /// @param config The deployment parameters (IStaking.Config).
    constructor(Config memory config) {
        if (config.wal == address(0)) revert ZeroAddress();
        if (config.nShards == 0) revert InvalidParameter("nShards");
        if (config.epochDuration == 0) revert InvalidParameter("epochDuration");
        if (config.maxCommitteeSize == 0 || config.maxCommitteeSize > MAX_COMMITTEE_SIZE) {
            revert InvalidParameter("maxCommitteeSize");
        }
        if (config.registrationBond == 0 || config.registrationBond > type(uint128).max) {
            revert InvalidParameter("registrationBond");
        }
        if (
            config.minStoragePrice > config.maxStoragePrice || config.initialStoragePrice < config.minStoragePrice
                || config.initialStoragePrice > config.maxStoragePrice
        ) revert InvalidParameter("storagePrice");
        if (
            config.minWritePrice > config.maxWritePrice || config.initialWritePrice < config.minWritePrice
                || config.initialWritePrice > config.maxWritePrice
        ) revert InvalidParameter("writePrice");
        wal = config.wal;
        nShards = config.nShards;
        epochDuration = config.epochDuration;
        minStake = config.minStake;
        maxCommitteeSize = config.maxCommitteeSize;
        registrationBond = config.registrationBond;
        minStoragePrice = config.minStoragePrice;
        maxStoragePrice = config.maxStoragePrice;
        minWritePrice = config.minWritePrice;
        maxWritePrice = config.maxWritePrice;
        _deployer = msg.sender;
        _storagePrice = config.initialStoragePrice;
        _writePrice = config.initialWritePrice;
        epochStartTime = uint64(block.timestamp);
    }

    // ----------------------------------------------------------------------------------------
    // Nodes
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IStaking
    /// @dev The proof of possession is a BLS signature over the 65-byte message
    /// `abi.encodePacked(uint8(0), uint64(chainid), address(this), uint32(0),
    /// keccak256(abi.encodePacked(msg.sender, publicKey)))`.
    function registerNode(
        bytes calldata publicKey,
        bytes calldata proofOfPossession,
        string calldata networkAddress,
        uint16 commissionBps,
        uint64 capacity
    ) external {
        if (_indexPlusOne[msg.sender] != 0) revert NodeAlreadyRegistered(msg.sender);
        if (publicKey.length != 128) revert InvalidPublicKeyLength(publicKey.length);
        if (commissionBps > MAX_COMMISSION_BPS) revert CommissionTooHigh(commissionBps, MAX_COMMISSION_BPS);
        if (bytes(networkAddress).length == 0) revert EmptyNetworkAddress();
        bytes32 keyHash = keccak256(publicKey);
        address owner = _keyOwner[keyHash];
        if (owner != address(0)) revert PublicKeyInUse(owner);
        if (!_isG1Point(publicKey)) revert InvalidPublicKey();
        if (!_verifyPossession(msg.sender, publicKey, proofOfPossession)) {
            revert InvalidProofOfPossession(msg.sender);
        }
        uint256 index = _nodeCount;
        if (index >= MAX_NODES) revert TooManyNodes(MAX_NODES);
        _nodeCount = index + 1;
        _nodeAddress[index] = msg.sender;
        _indexPlusOne[msg.sender] = index + 1;
        _keyOwner[keyHash] = msg.sender;
        bytes32[4] storage key = _keys[index];
        key[0] = bytes32(publicKey[0:32]);
        key[1] = bytes32(publicKey[32:64]);
        key[2] = bytes32(publicKey[64:96]);
        key[3] = bytes32(publicKey[96:128]);
        NodeState storage ns = _nodes[index];
        ns.commissionBps = commissionBps;
        ns.capacity = capacity;
        ns.networkAddress = networkAddress;
        // Only accumulator differences matter: starting at 1 keeps the first payout in
        // advanceEpoch from paying for a zero-to-nonzero storage write.
        ns.acc = 1;
        uint256 bond = registrationBond;
        // forge-lint: disable-next-line(unsafe-typecast)
        _lifecycle[index].bond = uint128(bond); // the constructor checked it fits
        _bonds += uint128(bond);
        emit NodeRegistered(msg.sender, publicKey, networkAddress, commissionBps, capacity);
        emit BondPaid(msg.sender, bond);
        IERC20(wal).safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IStaking
    function updateNode(string calldata networkAddress, uint16 commissionBps) external {
        uint256 index = _indexOf(msg.sender);
        if (_lifecycle[index].leftEpochPlusOne != 0) revert NodeNotActive(msg.sender);
        if (commissionBps > MAX_COMMISSION_BPS) revert CommissionTooHigh(commissionBps, MAX_COMMISSION_BPS);
        if (bytes(networkAddress).length == 0) revert EmptyNetworkAddress();
        NodeState storage ns = _nodes[index];
        uint32 cur = currentEpoch;
        _foldCommission(index, ns, cur);
        uint32 pendingEpoch = ns.nextCommissionEpoch;
        // The latest announced commission: a pending change, else the one in force.
        uint16 latest = pendingEpoch != 0 ? ns.nextCommissionBps : ns.commissionBps;
        if (commissionBps != latest) {
            // A change announced in an earlier epoch is locked in (delegators saw it coming).
            if (pendingEpoch != 0 && pendingEpoch != cur + 2) {
                revert CommissionChangePending(ns.nextCommissionBps, pendingEpoch);
            }
            // No change pending, or replacing this epoch's: the step counts from the commission in force.
            uint16 from = ns.commissionBps;
            uint16 step = commissionBps > from ? commissionBps - from : from - commissionBps;
            if (step > MAX_COMMISSION_STEP_BPS) {
                revert CommissionStepTooLarge(from, commissionBps, MAX_COMMISSION_STEP_BPS);
            }
            if (commissionBps == ns.commissionBps) {
                // Back to the commission in force: the pending change is withdrawn.
                ns.nextCommissionBps = 0;
                ns.nextCommissionEpoch = 0;
                emit CommissionChangeAnnounced(msg.sender, commissionBps, cur);
            } else {
                ns.nextCommissionBps = commissionBps;
                ns.nextCommissionEpoch = cur + 2;
                emit CommissionChangeAnnounced(msg.sender, commissionBps, cur + 2);
            }
        }
        ns.networkAddress = networkAddress;
        emit NodeUpdated(msg.sender, networkAddress, ns.commissionBps);
    }

    /// @inheritdoc IStaking
    function deregisterNode() external {
        uint256 index = _indexOf(msg.sender);
        Lifecycle storage lc = _lifecycle[index];
        if (lc.leftEpochPlusOne != 0) revert NodeNotActive(msg.sender);
        uint32 cur = currentEpoch;
        lc.leftEpochPlusOne = cur + 1;
        _updateCandidate(index, 0, false);
        // The next committee is recomputed without it.
        _stakeChanged = true;
        emit NodeDeregistered(msg.sender, cur, cur + 1);
    }

    /// @inheritdoc IStaking
    function withdrawBond() external returns (uint256 amount) {
        uint256 index = _indexOf(msg.sender);
        Lifecycle storage lc = _lifecycle[index];
        uint256 left = lc.leftEpochPlusOne;
        if (left == 0) revert NodeNotDeregistered(msg.sender);
        uint32 cur = currentEpoch;
        // Deregistered in epoch left - 1: out of every committee from epoch `left` on.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (cur < left) revert BondNotReady(msg.sender, uint32(left), cur); // left <= cur + 1, a uint32
        amount = lc.bond;
        if (amount == 0) revert BondAlreadyReturned(msg.sender);
        lc.bond = 0;
        _bonds -= uint128(amount); // amount <= _bonds
        emit BondReturned(msg.sender, amount);
        IERC20(wal).safeTransfer(msg.sender, amount);
    }

    /// @dev Makes a commission change whose epoch has come the commission in force (lazily: when
    /// the node next changes it, or is paid for an epoch at or after the change).
    function _foldCommission(uint256 index, NodeState storage ns, uint32 epoch) internal {
        uint32 at = ns.nextCommissionEpoch;
        if (at == 0 || epoch < at) return;
        uint16 bps = ns.nextCommissionBps;
        ns.commissionBps = bps;
        ns.nextCommissionBps = 0;
        ns.nextCommissionEpoch = 0;
        emit CommissionActivated(_nodeAddress[index], bps, at);
    }

    // ----------------------------------------------------------------------------------------
    // Stake
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IStaking
    function stake(address node, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 index = _indexOf(node);
        if (_lifecycle[index].leftEpochPlusOne != 0) revert NodeNotActive(node);
        uint32 cur = currentEpoch;
        NodeState storage ns = _nodes[index];
        Position storage p = _positions[index][msg.sender];
        _settle(index, ns, p, cur);
        _rollNode(index, ns, cur);
        uint128 amount128 = amount.toUint128();
        p.next += amount128;
        ns.stakeNext += amount128;
        _stakeChanged = true;
        _updateCandidate(index, ns.stakeNext, true);
        totalActiveStake += amount;
        emit Staked(node, msg.sender, amount);
        IERC20(wal).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStaking
    /// @dev Payable from epoch `currentEpoch + 1` (emitted in WithdrawalRequested).
    function requestWithdrawal(address node, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 index = _indexOf(node);
        uint32 cur = currentEpoch;
        NodeState storage ns = _nodes[index];
        Position storage p = _positions[index][msg.sender];
        _settle(index, ns, p, cur);
        uint256 available = p.next;
        if (amount > available) revert InsufficientStake(node, msg.sender, amount, available);
        _rollNode(index, ns, cur);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 amount128 = uint128(amount); // amount <= available, a uint128
        p.next -= amount128;
        ns.stakeNext -= amount128;
        _stakeChanged = true;
        _updateCandidate(index, ns.stakeNext, _lifecycle[index].leftEpochPlusOne == 0);
        p.pending += amount128;
        p.pendingEpoch = cur + 1;
        totalActiveStake -= amount;
        totalPendingWithdrawals += amount;
        emit WithdrawalRequested(node, msg.sender, amount, cur + 1);
    }

    /// @inheritdoc IStaking
    function withdraw(address node) external returns (uint256 amount) {
        uint256 index = _indexOf(node);
        uint32 cur = currentEpoch;
        Position storage p = _positions[index][msg.sender];
        _settle(index, _nodes[index], p, cur);
        amount = p.ready;
        if (amount == 0) {
            if (p.pending != 0) revert WithdrawalNotReady(node, msg.sender, p.pendingEpoch, cur);
            revert NothingToWithdraw(node, msg.sender);
        }
        p.ready = 0;
        totalPendingWithdrawals -= amount;
        emit Withdrawn(node, msg.sender, amount);
        IERC20(wal).safeTransfer(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------
    // Epochs
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IStaking
    function advanceEpoch() external {
        uint32 e = currentEpoch;
        if (e != 0) {
            uint256 end = uint256(epochStartTime) + epochDuration;
            // Epochs are timed by design; a validator's few seconds of skew do not matter.
            // forge-lint: disable-next-line(block-timestamp,unsafe-typecast)
            if (block.timestamp < end) revert EpochNotOver(e, uint64(end - block.timestamp)); // < duration
        }
        uint256 ref = _epochCommittee[e];
        uint256 prevId = ref & 0xffffffff;
        uint256[] memory prev = _loadMembers(prevId, ref >> 32);

        _distribute(e, prev);

        (uint64 oldStorage, uint64 oldWrite) = (_storagePrice, _writePrice);
        (uint64 newStorage, uint64 newWrite) = _tallyPrices(prev, oldStorage, oldWrite);

        uint32 next = e + 1;
        currentEpoch = next;
        epochStartTime = uint64(block.timestamp);
        _storagePrice = newStorage;
        _writePrice = newWrite;

        uint256 id = prevId;
        uint256 size = prev.length;
        if (_stakeChanged) {
            _stakeChanged = false;
            (id, size) = _formCommittee(prevId, prev);
        }
        _epochCommittee[next] = id | (size << 32);
        // forge-lint: disable-next-line(unsafe-typecast)
        _currentCommittee = uint24(id < ID_OVERFLOW ? id : ID_OVERFLOW); // below ID_OVERFLOW, a uint24

        emit EpochAdvanced(next, uint64(block.timestamp), size);
        if (newStorage != oldStorage || newWrite != oldWrite) emit PricesSet(next, newStorage, newWrite);
    }

    /// @inheritdoc IStaking
    function votePrices(uint64 storagePricePerMiBEpoch, uint64 writePricePerMiB) external {
        uint256 index = _indexOf(msg.sender);
        uint32 cur = currentEpoch;
        uint256 ref = _epochCommittee[cur];
        if (!_isMember(ref & 0xffffffff, ref >> 32, index)) revert NotCommitteeMember(msg.sender, cur);
        if (storagePricePerMiBEpoch < minStoragePrice || storagePricePerMiBEpoch > maxStoragePrice) {
            revert StoragePriceOutOfRange(storagePricePerMiBEpoch, minStoragePrice, maxStoragePrice);
        }
        if (writePricePerMiB < minWritePrice || writePricePerMiB > maxWritePrice) {
            revert WritePriceOutOfRange(writePricePerMiB, minWritePrice, maxWritePrice);
        }
        NodeState storage ns = _nodes[index];
        if (!ns.voted) ++_voters;
        ns.storageVote = storagePricePerMiBEpoch;
        ns.writeVote = writePricePerMiB;
        ns.voted = true;
        emit PricesVoted(msg.sender, storagePricePerMiBEpoch, writePricePerMiB);
    }

    // ----------------------------------------------------------------------------------------
    // Rewards
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IStaking
    function setRegistry(address registry_) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender, _deployer);
        if (registry != address(0)) revert RegistryAlreadySet(registry);
        if (registry_ == address(0)) revert ZeroAddress();
        registry = registry_;
        emit RegistrySet(registry_);
    }

    /// @inheritdoc IStaking
    /// @dev `amount / epochs` per epoch, the remainder to `fromEpoch`. O(1) storage writes.
    function fundRewards(uint32 fromEpoch, uint32 epochs, uint256 amount) external {
        if (msg.sender != registry) revert NotRegistry(msg.sender, registry);
        if (epochs == 0) revert ZeroEpochs();
        uint32 cur = currentEpoch;
        if (fromEpoch < cur) revert FundingEpochInPast(fromEpoch, cur);
        uint256 end = uint256(fromEpoch) + epochs;
        if (end > type(uint32).max) revert FundingRangeTooLong(fromEpoch, epochs);
        uint256 required = accountedBalance() + amount;
        uint256 balance = IERC20(wal).balanceOf(address(this));
        if (balance < required) revert RewardsNotReceived(balance, required);
        uint256 rate = amount / epochs;
        uint256 remainder = amount - rate * epochs;
        if (rate != 0) {
            _rateStart[fromEpoch] += rate;
            // forge-lint: disable-next-line(unsafe-typecast)
            _rateEnd[uint32(end)] += rate; // end <= type(uint32).max, checked above
        }
        if (remainder != 0) _extra[fromEpoch] += remainder;
        _futureRewards += amount.toUint128();
        emit RewardsFunded(fromEpoch, epochs, amount);
    }

    /// @inheritdoc IStaking
    function claimRewards(address node) external returns (uint256 amount) {
        uint256 index = _indexOf(node);
        NodeState storage ns = _nodes[index];
        Position storage p = _positions[index][msg.sender];
        _settle(index, ns, p, currentEpoch);
        amount = p.rewards;
        p.rewards = 0;
        if (msg.sender == node) {
            amount += ns.commission;
            ns.commission = 0;
        }
        if (amount == 0) revert NoRewards(node, msg.sender);
        totalUnclaimedRewards -= amount;
        emit RewardsClaimed(node, msg.sender, amount);
        IERC20(wal).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function pendingRewards(address node, address account) external view returns (uint256 amount) {
        uint256 ip1 = _indexPlusOne[node];
        if (ip1 == 0) return 0;
        NodeState storage ns = _nodes[ip1 - 1];
        Position storage p = _positions[ip1 - 1][account];
        amount = p.rewards + _earned(ip1 - 1, ns, p, currentEpoch);
        if (account == node) amount += ns.commission;
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @notice WAL this contract owes: active stake + pending withdrawals + unclaimed rewards +
    /// rewards of epochs not yet ended + bonds held. Equals its WAL balance (unless someone sent WAL unasked).
    function accountedBalance() public view returns (uint256) {
        return totalActiveStake + totalPendingWithdrawals + totalUnclaimedRewards + _futureRewards + _bonds;
    }

    /// @notice Rewards funded for epochs not yet ended.
    function totalFutureRewards() external view returns (uint256) {
        return _futureRewards;
    }

    /// @notice Registration bonds held (not yet returned).
    function totalBonds() external view returns (uint256) {
        return _bonds;
    }

    /// @notice Number of registered nodes.
    function nodeCount() external view returns (uint256) {
        return _nodeCount;
    }

    /// @notice The operator address of the node registered `index`-th (0-based).
    function nodeAt(uint256 index) external view returns (address) {
        if (index >= _nodeCount) revert MemberIndexOutOfRange(currentEpoch, index, _nodeCount);
        return _nodeAddress[index];
    }

    /// @notice `staker`'s position in `node`: stake counted for the next committee, stake counting
    /// in the current epoch, payable withdrawals, and requested withdrawals payable from `pendingEpoch`.
    function stakeOf(address node, address staker)
        external
        view
        returns (uint256 active, uint256 counting, uint256 withdrawable, uint256 pendingWithdrawal, uint32 pendingEpoch)
    {
        uint256 ip1 = _indexPlusOne[node];
        if (ip1 == 0) return (0, 0, 0, 0, 0);
        Position storage p = _positions[ip1 - 1][staker];
        uint32 cur = currentEpoch;
        active = p.next;
        counting = p.epoch == cur ? p.counted : p.next;
        withdrawable = p.ready;
        pendingWithdrawal = p.pending;
        pendingEpoch = p.pendingEpoch;
        if (pendingWithdrawal != 0 && pendingEpoch <= cur) {
            withdrawable += pendingWithdrawal;
            pendingWithdrawal = 0;
            pendingEpoch = 0;
        }
    }

    /// @notice The stake of `node` counting in the current epoch.
    function countedStake(address node) external view returns (uint256) {
        uint256 ip1 = _indexPlusOne[node];
        if (ip1 == 0) return 0;
        NodeState storage ns = _nodes[ip1 - 1];
        return ns.stakeEpoch == currentEpoch ? ns.stakeCurrent : ns.stakeNext;
    }

    /// @notice `node`'s current price votes (`voted` false: it counts as voting the prices in force).
    function priceVotes(address node) external view returns (uint64 storagePrice, uint64 writePrice, bool voted) {
        NodeState storage ns = _nodes[_indexOf(node)];
        return (ns.storageVote, ns.writeVote, ns.voted);
    }

    /// @inheritdoc IStaking
    function commissionAt(address node, uint32 epoch) external view returns (uint16) {
        return _commissionAt(_nodes[_indexOf(node)], epoch);
    }

    /// @inheritdoc IStaking
    function pendingCommission(address node) external view returns (uint16 commissionBps, uint32 effectiveEpoch) {
        NodeState storage ns = _nodes[_indexOf(node)];
        effectiveEpoch = ns.nextCommissionEpoch;
        if (effectiveEpoch == 0 || effectiveEpoch <= currentEpoch) return (0, 0);
        return (ns.nextCommissionBps, effectiveEpoch);
    }

    /// @inheritdoc IStaking
    function nodeStatus(address node)
        external
        view
        returns (bool active, bool candidate, uint256 bond, uint32 bondReadyEpoch)
    {
        uint256 index = _indexOf(node);
        Lifecycle storage lc = _lifecycle[index];
        active = lc.leftEpochPlusOne == 0;
        candidate = _heapPos[index] != 0;
        bond = lc.bond;
        bondReadyEpoch = lc.leftEpochPlusOne;
    }

    /// @inheritdoc IStaking
    function candidates() external view returns (address[] memory nodes, uint256[] memory stakes) {
        uint256 k = _heapSize;
        nodes = new address[](k);
        stakes = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            uint256 key = _heap[i + 1];
            nodes[i] = _nodeAddress[IDX_MASK - (key & IDX_MASK)];
            stakes[i] = key >> 32;
        }
    }

    /// @dev The commission in force in `epoch` (epochs from the current one on; a pending change
    /// counts from its effective epoch).
    function _commissionAt(NodeState storage ns, uint32 epoch) internal view returns (uint16) {
        uint32 at = ns.nextCommissionEpoch;
        return at != 0 && epoch >= at ? ns.nextCommissionBps : ns.commissionBps;
    }

    /// @inheritdoc IStaking
    function nodeInfo(address node) external view returns (NodeInfo memory info) {
        uint256 ip1 = _indexPlusOne[node];
        if (ip1 == 0) return info;
        NodeState storage ns = _nodes[ip1 - 1];
        info.publicKey = _keyBytes(ip1 - 1);
        info.networkAddress = ns.networkAddress;
        info.commissionBps = _commissionAt(ns, currentEpoch);
        info.capacity = ns.capacity;
        info.stake = ns.stakeNext;
        info.registered = true;
    }

    /// @inheritdoc IStaking
    function committee(uint32 epoch) external view returns (address[] memory members, uint16[] memory shardCounts) {
        uint256 ref = _committeeRef(epoch);
        uint256[] memory m = _loadMembers(ref & 0xffffffff, ref >> 32);
        members = new address[](m.length);
        shardCounts = new uint16[](m.length);
        for (uint256 i; i < m.length; ++i) {
            members[i] = _nodeAddress[m[i] & IDX_MASK];
            shardCounts[i] = uint16(m[i] >> 32);
        }
    }

    /// @inheritdoc IStaking
    /// @dev Empty for an epoch without a committee (epoch 0).
    function shardOwners(uint32 epoch) external view returns (uint16[] memory ownerIndex) {
        uint256 ref = _committeeRef(epoch);
        uint256 id = ref & 0xffffffff;
        if (id == 0) return ownerIndex;
        uint256 n = nShards;
        ownerIndex = new uint16[](n);
        uint256 word;
        for (uint256 s; s < n; ++s) {
            if (s & 15 == 0) word = _ownerWords[id][s >> 4];
            // forge-lint: disable-next-line(unsafe-typecast)
            ownerIndex[s] = uint16(word >> ((s & 15) << 4)); // the low 16 bits are this shard's entry
        }
    }

    /// @inheritdoc IStaking
    /// @dev The point at infinity (128 zero bytes) for an epoch without a committee. Read from the
    /// epoch's certificate data.
    function aggregatePublicKey(uint32 epoch) external view returns (bytes memory) {
        return _aggregateBytes(_committeeRef(epoch) & 0xffffffff);
    }

    /// @inheritdoc IStaking
    /// @dev The aggregate key is read from the epoch's certificate data.
    function certificateContext(uint32 epoch)
        external
        view
        returns (uint256 committeeSize, uint16 n, bytes memory aggregateKey)
    {
        uint256 ref = _committeeRef(epoch);
        return (ref >> 32, nShards, _aggregateBytes(ref & 0xffffffff));
    }

    /// @inheritdoc IStaking
    function member(uint32 epoch, uint256 index) external view returns (bytes memory publicKey, uint16 shards) {
        uint256 ref = _committeeRef(epoch);
        uint256 size = ref >> 32;
        if (index >= size) revert MemberIndexOutOfRange(epoch, index, size);
        uint256 entry = _memberWords[ref & 0xffffffff][index / MEMBERS_PER_WORD] >> ((index % MEMBERS_PER_WORD) * 48);
        // forge-lint: disable-next-line(unsafe-typecast)
        return (_keyBytes(entry & IDX_MASK), uint16(entry >> 32)); // bits 32..47: the shard count
    }

    /// @inheritdoc IStaking
    function certificateData(uint32 epoch) external view returns (address data) {
        return _dataAddress(_committeeRef(epoch) & 0xffffffff);
    }

    /// @inheritdoc IStaking
    /// @dev One storage read: the committee id sits in `currentEpoch`'s slot.
    function currentCertificateData() external view returns (uint32 epoch, address data) {
        epoch = currentEpoch;
        uint256 id = _currentCommittee;
        if (id == ID_OVERFLOW) id = _epochCommittee[epoch] & 0xffffffff;
        data = _dataAddress(id);
    }

    /// @inheritdoc IStaking
    function prices() external view returns (uint64 storagePricePerMiBEpoch, uint64 writePricePerMiB) {
        return (_storagePrice, _writePrice);
    }

    // ----------------------------------------------------------------------------------------
    // Internals: proof of possession
    // ----------------------------------------------------------------------------------------

    /// @dev True if the proof of possession verifies. A hook so a test harness can stub BLS.
    function _verifyPossession(address operator, bytes calldata publicKey, bytes calldata proofOfPossession)
        internal
        view
        virtual
        returns (bool)
    {
        bytes memory message = abi.encodePacked(
            uint8(0), uint64(block.chainid), address(this), uint32(0), keccak256(abi.encodePacked(operator, publicKey))
        );
        return BLS.verify(publicKey, message, proofOfPossession);
    }

    /// @dev True if the 128-byte key is a G1 point other than infinity: G1ADD(key, infinity)
    /// fails for coordinates that are not canonical field elements or not on the curve.
    function _isG1Point(bytes calldata publicKey) internal view returns (bool ok) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, publicKey.offset, 128)
            let any := or(or(mload(ptr), mload(add(ptr, 32))), or(mload(add(ptr, 64)), mload(add(ptr, 96))))
            mstore(add(ptr, 128), 0)
            mstore(add(ptr, 160), 0)
            mstore(add(ptr, 192), 0)
            mstore(add(ptr, 224), 0)
            ok := and(iszero(iszero(any)), staticcall(G1_ADD_GAS, G1_ADD, ptr, 256, ptr, 128))
        }
    }

    // ----------------------------------------------------------------------------------------
    // Internals: stake and rewards bookkeeping
    // ----------------------------------------------------------------------------------------

    function _indexOf(address node) internal view returns (uint256) {
        uint256 ip1 = _indexPlusOne[node];
        if (ip1 == 0) revert UnknownNode(node);
        return ip1 - 1;
    }

    /// @dev Rewards earned by `p` since its last settlement, not yet added to `p.rewards`.
    function _earned(uint256 index, NodeState storage ns, Position storage p, uint32 cur)
        internal
        view
        returns (uint256)
    {
        uint32 pe = p.epoch;
        if (pe == cur) return 0;
        uint256 acc = ns.acc;
        uint256 counted = p.counted;
        uint256 next = p.next;
        uint256 debt = p.debt;
        if (counted == next) return counted * (acc - debt) / REWARD_PRECISION;
        uint256 mid = _accAt[index][pe + 1];
        return counted * (mid - debt) / REWARD_PRECISION + next * (acc - mid) / REWARD_PRECISION;
    }

    /// @dev Brings `p` to epoch `cur`: accrues its rewards and matures its withdrawal request.
    function _settle(uint256 index, NodeState storage ns, Position storage p, uint32 cur) internal {
        if (p.epoch == cur) return;
        uint256 earned = _earned(index, ns, p, cur);
        if (earned != 0) p.rewards += earned.toUint128();
        p.counted = p.next;
        p.debt = ns.acc;
        p.epoch = cur;
        uint128 pending = p.pending;
        if (pending != 0 && p.pendingEpoch <= cur) {
            p.ready += pending;
            p.pending = 0;
            p.pendingEpoch = 0;
        }
    }

    /// @dev Before the node's next-committee stake changes in epoch `cur`: freezes the stake
    /// counting in `cur`, and records the accumulator value epoch `cur + 1` starts with (updated
    /// by `_distribute` if the node is paid at the end of `cur`).
    function _rollNode(uint256 index, NodeState storage ns, uint32 cur) internal {
        if (ns.stakeEpoch != cur) {
            ns.stakeCurrent = ns.stakeNext;
            ns.stakeEpoch = cur;
        }
        if (ns.checkpointEpoch != cur + 1) {
            ns.checkpointEpoch = cur + 1;
            _accAt[index][cur + 1] = ns.acc;
        }
    }

    /// @dev Pays epoch `e`'s pool to its committee `members` (packed node index | shards << 32).
    function _distribute(uint32 e, uint256[] memory members) internal {
        uint256 pool = _takePool(e);
        if (pool == 0) return;

        uint32 next = e + 1;
        uint256 k = members.length;
        if (k == 0) {
            // No committee: the pool rolls into the next epoch.
            _extra[next] += pool;
            emit RewardsDistributed(e, 0, pool);
            return;
        }
        uint256 n = nShards;
        // Rounding remainder of the shard split goes to the first member.
        uint256 remainder = pool;
        for (uint256 i; i < k; ++i) {
            remainder -= pool * (members[i] >> 32) / n;
        }
        for (uint256 i; i < k; ++i) {
            uint256 entry = members[i];
            uint256 part = pool * (entry >> 32) / n;
            if (i == 0) part += remainder;
            if (part != 0) _payMember(entry & IDX_MASK, part, e);
        }
        _futureRewards -= pool.toUint128(); // pool <= _futureRewards
        totalUnclaimedRewards += pool;
        emit RewardsDistributed(e, pool, 0);
    }

    /// @dev Epoch `e`'s pool: the running per-epoch rate (updated with the fundings starting and
    /// ending at `e`) plus the amounts funded to `e` alone. Clears `e`'s entries.
    function _takePool(uint32 e) internal returns (uint256 pool) {
        uint256 start = _rateStart[e];
        uint256 stop = _rateEnd[e];
        uint256 rate = _runningRate;
        if (start != 0 || stop != 0) {
            rate = rate + start - stop;
            _runningRate = rate;
            if (start != 0) delete _rateStart[e];
            if (stop != 0) delete _rateEnd[e];
        }
        uint256 extra = _extra[e];
        if (extra != 0) delete _extra[e];
        pool = rate + extra;
    }

    /// @dev Credits `part` of epoch `e`'s pool to node `index`: commission to the operator, the
    /// rest through the node's reward-per-stake accumulator to the stake counted in `e`.
    function _payMember(uint256 index, uint256 part, uint32 e) internal {
        NodeState storage ns = _nodes[index];
        uint256 counted = ns.stakeEpoch < e ? ns.stakeNext : ns.stakeCurrent;
        _foldCommission(index, ns, e);
        uint256 commission = part * ns.commissionBps / MAX_COMMISSION_BPS;
        uint256 delegated = part - commission;
        if (counted == 0) {
            commission = part;
        } else if (delegated != 0) {
            uint256 increment = delegated * REWARD_PRECISION / counted;
            // Stakers may claim up to counted * increment / PRECISION in total; reserve that rounded
            // up (so per-epoch roundings never add up to more than was reserved), the rest of the
            // delegator part goes to the operator.
            commission += delegated - (increment * counted + REWARD_PRECISION - 1) / REWARD_PRECISION;
            if (increment != 0) {
                uint256 acc = ns.acc + increment;
                ns.acc = acc;
                if (ns.checkpointEpoch == e + 1) _accAt[index][e + 1] = acc;
            }
        }
        ns.commission += commission.toUint128();
    }

    // ----------------------------------------------------------------------------------------
    // Internals: prices
    // ----------------------------------------------------------------------------------------

    /// @dev The prices `members` voted: for each kind, the lowest price that 2f+1 shards voted at or below.
    function _tallyPrices(uint256[] memory members, uint64 currentStorage, uint64 currentWrite)
        internal
        view
        returns (uint64, uint64)
    {
        uint256 k = members.length;
        // Nobody ever voted: everyone counts as voting the prices in force.
        if (k == 0 || _voters == 0) return (currentStorage, currentWrite);
        uint256[] memory storageKeys = new uint256[](k);
        uint256[] memory writeKeys = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            uint256 entry = members[i];
            NodeState storage ns = _nodes[entry & IDX_MASK];
            (uint256 sv, uint256 wv) = ns.voted ? (ns.storageVote, ns.writeVote) : (currentStorage, currentWrite);
            // price | position (unique keys) | weight
            uint256 low = (i << 16) | (entry >> 32);
            storageKeys[i] = (sv << 32) | low;
            writeKeys[i] = (wv << 32) | low;
        }
        uint256 quorum = 2 * ((uint256(nShards) - 1) / 3) + 1;
        return (
            _bounded(_weightedQuantile(storageKeys, quorum), currentStorage),
            _bounded(_weightedQuantile(writeKeys, quorum), currentWrite)
        );
    }

    /// @dev `tallied` moved at most to twice (from 0: to 1) or half of `current`. Both lie in the
    /// price range, so the result does too.
    function _bounded(uint64 tallied, uint64 current) internal pure returns (uint64) {
        uint256 up = current == 0 ? 1 : uint256(current) * 2;
        uint256 down = current / 2;
        if (tallied > up) return uint64(up); // up < tallied, a uint64
        if (tallied < down) return uint64(down);
        return tallied;
    }

    function _weightedQuantile(uint256[] memory keys, uint256 quorum) internal pure returns (uint64) {
        _sort(keys);
        uint256 weight;
        for (uint256 i; i < keys.length; ++i) {
            weight += keys[i] & 0xffff;
            if (weight >= quorum) return uint64(keys[i] >> 32);
        }
        return uint64(keys[keys.length - 1] >> 32); // unreachable: shards sum to n >= quorum
    }

    // ----------------------------------------------------------------------------------------
    // Internals: committees and shards
    // ----------------------------------------------------------------------------------------

    function _committeeRef(uint32 epoch) internal view returns (uint256) {
        uint32 cur = currentEpoch;
        if (epoch > cur) revert EpochNotReached(epoch, cur);
        return _epochCommittee[epoch];
    }

    function _loadMembers(uint256 id, uint256 size) internal view returns (uint256[] memory m) {
        m = new uint256[](size);
        uint256 word;
        for (uint256 i; i < size; ++i) {
            if (i % MEMBERS_PER_WORD == 0) word = _memberWords[id][i / MEMBERS_PER_WORD];
            m[i] = (word >> ((i % MEMBERS_PER_WORD) * 48)) & MEMBER_MASK;
        }
    }

    function _isMember(uint256 id, uint256 size, uint256 index) internal view returns (bool) {
        uint256 word;
        for (uint256 i; i < size; ++i) {
            if (i % MEMBERS_PER_WORD == 0) word = _memberWords[id][i / MEMBERS_PER_WORD];
            if ((word >> ((i % MEMBERS_PER_WORD) * 48)) & IDX_MASK == index) return true;
        }
        return false;
    }

    /// @dev Chooses, apportions and places the committee of the new epoch; stores it unless it
    /// equals the previous one. Returns the committee id and size.
    function _formCommittee(uint256 prevId, uint256[] memory prev) internal returns (uint256 id, uint256 size) {
        uint256[] memory selected = _selectMembers();
        uint256[] memory counts;
        (selected, counts) = _apportion(selected);
        size = selected.length;
        if (size == 0) return (0, 0);

        // Packed members: node index | shards << 32.
        uint256[] memory packed = new uint256[](size);
        bool sameCommittee = size == prev.length;
        for (uint256 i; i < size; ++i) {
            uint256 entry = (selected[i] >> 128) | (counts[i] << 32);
            packed[i] = entry;
            if (sameCommittee && prev[i] != entry) sameCommittee = false;
        }
        if (sameCommittee) return (prevId, size);

        id = ++_committeeCount;
        for (uint256 w; w < (size + MEMBERS_PER_WORD - 1) / MEMBERS_PER_WORD; ++w) {
            uint256 word;
            for (uint256 j; j < MEMBERS_PER_WORD; ++j) {
                uint256 i = w * MEMBERS_PER_WORD + j;
                if (i >= size) break;
                word |= packed[i] << (j * 48);
            }
            _memberWords[id][w] = word;
        }
        _placeShards(id, prevId, prev, packed, counts);
        _deployCertificateData(id, prevId, prev, packed);
    }

    /// @dev Keeps the candidate set after node `index`'s stake for the next committee changed to
    /// `stakeNext`: a bounded min-heap of at most `maxCommitteeSize` entries keyed on
    /// (stake, earlier registration). A member whose stake falls below the minimum (or that
    /// deregistered, `eligible` false) leaves; a member's key is updated in place; a non-member
    /// joins if there is room or if its key exceeds the smallest member's, which it evicts.
    /// O(log maxCommitteeSize) storage accesses, whatever the number of registered nodes.
    function _updateCandidate(uint256 index, uint256 stakeNext, bool eligible) internal {
        uint256 pos = _heapPos[index];
        eligible = eligible && stakeNext >= _threshold();
        uint256 key = (stakeNext << 32) | (IDX_MASK - index);
        if (pos != 0) {
            if (!eligible) {
                _heapRemove(pos);
                delete _heapPos[index];
                emit CandidateChanged(_nodeAddress[index], false);
                return;
            }
            uint256 old = _heap[pos];
            if (key == old) return;
            _heap[pos] = key;
            if (key > old) _siftDown(pos, key);
            else _siftUp(pos, key);
            return;
        }
        if (!eligible) return;
        uint256 size = _heapSize;
        if (size < maxCommitteeSize) {
            _heapSize = size + 1;
            _siftUp(size + 1, key);
        } else {
            uint256 smallest = _heap[1];
            if (key <= smallest) return;
            uint256 evicted = IDX_MASK - (smallest & IDX_MASK);
            delete _heapPos[evicted];
            emit CandidateChanged(_nodeAddress[evicted], false);
            _siftDown(1, key);
        }
        emit CandidateChanged(_nodeAddress[index], true);
    }

    /// @dev Places `key` at heap position `pos` or above, moving larger parents down.
    function _siftUp(uint256 pos, uint256 key) internal {
        while (pos > 1) {
            uint256 parent = pos >> 1;
            uint256 pk = _heap[parent];
            if (pk <= key) break;
            _heap[pos] = pk;
            _heapPos[IDX_MASK - (pk & IDX_MASK)] = pos;
            pos = parent;
        }
        _heap[pos] = key;
        _heapPos[IDX_MASK - (key & IDX_MASK)] = pos;
    }

    /// @dev Places `key` at heap position `pos` or below, moving smaller children up.
    function _siftDown(uint256 pos, uint256 key) internal {
        uint256 size = _heapSize;
        while (true) {
            uint256 child = pos << 1;
            if (child > size) break;
            uint256 ck = _heap[child];
            if (child + 1 <= size) {
                uint256 rk = _heap[child + 1];
                if (rk < ck) {
                    ck = rk;
                    ++child;
                }
            }
            if (ck >= key) break;
            _heap[pos] = ck;
            _heapPos[IDX_MASK - (ck & IDX_MASK)] = pos;
            pos = child;
        }
        _heap[pos] = key;
        _heapPos[IDX_MASK - (key & IDX_MASK)] = pos;
    }

    /// @dev Removes heap position `pos` (the caller clears the removed node's position).
    function _heapRemove(uint256 pos) internal {
        uint256 size = _heapSize;
        uint256 last = _heap[size];
        delete _heap[size];
        _heapSize = size - 1;
        if (pos == size) return;
        uint256 old = _heap[pos];
        if (last < old) _siftUp(pos, last);
        else _siftDown(pos, last);
    }

    function _threshold() internal view returns (uint256) {
        return minStake == 0 ? 1 : minStake;
    }

    /// @dev The next committee's members before apportionment, as node index << 128 | stake,
    /// ordered by node index: the candidate set (at most `maxCommitteeSize` entries).
    function _selectMembers() internal view returns (uint256[] memory selected) {
        uint256 k = _heapSize;
        selected = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            uint256 key = _heap[i + 1];
            selected[i] = ((IDX_MASK - (key & IDX_MASK)) << 128) | (key >> 32);
        }
        _sort(selected);
    }

    /// @dev Largest-remainder apportionment of `n` shards over `selected` (node index << 128 |
    /// stake); members getting 0 shards are dropped and the rest apportioned again.
    function _apportion(uint256[] memory selected)
        internal
        view
        returns (uint256[] memory members, uint256[] memory counts)
    {
        uint256 n = nShards;
        members = selected;
        while (true) {
            uint256 k = members.length;
            counts = new uint256[](k);
            if (k == 0) return (members, counts);
            uint256 total;
            for (uint256 i; i < k; ++i) {
                total += members[i] & type(uint128).max;
            }
            uint256 assigned;
            uint256[] memory remainders = new uint256[](k);
            for (uint256 i; i < k; ++i) {
                uint256 q = n * (members[i] & type(uint128).max);
                counts[i] = q / total;
                assigned += counts[i];
                // Larger remainder first, then earlier position: sort ascending on (rem, MAX - i).
                remainders[i] = ((q % total) << 16) | (0xffff - i);
            }
            uint256 left = n - assigned;
            if (left != 0) {
                _sort(remainders);
                for (uint256 j; j < left; ++j) {
                    ++counts[0xffff - (remainders[k - 1 - j] & 0xffff)];
                }
            }
            uint256 kept;
            for (uint256 i; i < k; ++i) {
                if (counts[i] != 0) members[kept++] = members[i];
            }
            if (kept == k) return (members, counts);
            assembly ("memory-safe") {
                mstore(members, kept)
            }
        }
    }

    /// @dev Places shards with minimal movement from committee `prevId` and stores the owners of `id`.
    function _placeShards(
        uint256 id,
        uint256 prevId,
        uint256[] memory prev,
        uint256[] memory packed,
        uint256[] memory counts
    ) internal {
        uint256 n = nShards;
        uint256[] memory owners = new uint256[](n);
        uint256[] memory held = new uint256[](packed.length);
        (uint256[] memory free, uint256 freeCount) = _keepShards(prevId, prev, packed, counts, owners, held);
        uint256 m;
        for (uint256 f; f < freeCount; ++f) {
            while (held[m] >= counts[m]) ++m;
            owners[free[f]] = m;
            ++held[m];
        }
        _storeOwners(id, owners);
    }

    /// @dev Keeps each member's previous shards up to its new count (fills `owners`/`held`);
    /// returns the shards left free.
    function _keepShards(
        uint256 prevId,
        uint256[] memory prev,
        uint256[] memory packed,
        uint256[] memory counts,
        uint256[] memory owners,
        uint256[] memory held
    ) internal returns (uint256[] memory free, uint256 freeCount) {
        uint256 n = owners.length;
        free = new uint256[](n);
        if (prev.length == 0) {
            for (uint256 s; s < n; ++s) {
                free[s] = s;
            }
            return (free, n);
        }
        for (uint256 j; j < packed.length; ++j) {
            uint256 slot = TMAP + (packed[j] & IDX_MASK);
            assembly {
                tstore(slot, add(j, 1))
            }
        }
        uint256 tmap = TMAP;
        assembly ("memory-safe") {
            // Storage slot of the mapping _ownerWords[prevId]; word w lives at keccak256(w, inner).
            mstore(0, prevId)
            mstore(0x20, _ownerWords.slot)
            let inner := keccak256(0, 0x40)
            let prevBase := add(prev, 0x20)
            let heldBase := add(held, 0x20)
            let countsBase := add(counts, 0x20)
            let ownersBase := add(owners, 0x20)
            let freeBase := add(free, 0x20)
            let word := 0
            for { let s := 0 } lt(s, n) { s := add(s, 1) } {
                let sub16 := and(s, 15)
                if iszero(sub16) {
                    mstore(0, shr(4, s))
                    mstore(0x20, inner)
                    word := sload(keccak256(0, 0x40))
                }
                // Previous owner (a position in `prev`, in range by construction) -> node -> new position + 1.
                let node := and(mload(add(prevBase, shl(5, and(shr(shl(4, sub16), word), 0xffff)))), 0xffffffff)
                let pos := tload(add(tmap, node))
                let kept := 0
                if pos {
                    let hp := add(heldBase, shl(5, sub(pos, 1)))
                    let h := mload(hp)
                    if lt(h, mload(add(countsBase, shl(5, sub(pos, 1))))) {
                        mstore(add(ownersBase, shl(5, s)), sub(pos, 1))
                        mstore(hp, add(h, 1))
                        kept := 1
                    }
                }
                if iszero(kept) {
                    mstore(add(freeBase, shl(5, freeCount)), s)
                    freeCount := add(freeCount, 1)
                }
            }
        }
        for (uint256 j; j < packed.length; ++j) {
            uint256 slot = TMAP + (packed[j] & IDX_MASK);
            assembly {
                tstore(slot, 0)
            }
        }
    }

    function _storeOwners(uint256 id, uint256[] memory owners) internal {
        assembly ("memory-safe") {
            mstore(0, id)
            mstore(0x20, _ownerWords.slot)
            let inner := keccak256(0, 0x40)
            let n := mload(owners)
            let base := add(owners, 0x20)
            for { let w := 0 } lt(shl(4, w), n) { w := add(w, 1) } {
                let word := 0
                let first := shl(4, w)
                let end := add(first, 16)
                if gt(end, n) { end := n }
                for { let s := first } lt(s, end) { s := add(s, 1) } {
                    word := or(word, shl(shl(4, sub(s, first)), mload(add(base, shl(5, s)))))
                }
                mstore(0, w)
                mstore(0x20, inner)
                sstore(keccak256(0, 0x40), word)
            }
        }
    }

    /// @dev Deploys committee `id`'s certificate data (layout: {IStaking-certificateData}) with
    /// CREATE, at nonce `id`. Members who stay are copied from the previous committee's data (warm
    /// EXTCODECOPY), joiners' keys come from storage. The aggregate key is the previous one with
    /// the keys of members who left subtracted and of members who joined added, when that takes
    /// fewer G1 additions than summing every member's key (both lists are ordered by node index).
    function _deployCertificateData(uint256 id, uint256 prevId, uint256[] memory prev, uint256[] memory packed)
        internal
    {
        uint256 k = packed.length;
        uint256 codeLength = DATA_HEADER + k * DATA_RECORD;
        address prevData = _dataAddress(prevId);
        bool incremental = prevId != 0 && _countChanges(prev, packed) < k;
        uint256 n = nShards;
        // acc: G1 working area, the sum (128 bytes) | an operand (128 bytes). init: the initcode,
        // INIT_PREFIX | runtime code; 32 bytes of slack for the last record's full-word write.
        uint256 acc;
        uint256 init;
        assembly ("memory-safe") {
            acc := mload(0x40)
            init := add(acc, 256)
            mstore(0x40, add(init, and(add(add(INIT_PREFIX, codeLength), 63), not(31))))
            // Constructor, then the runtime code's STOP, committee size and n.
            mstore(
                init,
                or(or(shl(248, 0x61), shl(232, codeLength)), or(shl(176, INIT_OPCODES), or(shl(152, k), shl(136, n))))
            )
        }
        if (incremental) _copyKey(acc, prevData, DATA_AGGREGATE);
        _writeMembers(acc, init + INIT_PREFIX + DATA_HEADER, prevData, prev, packed, incremental);
        _strip(init + INIT_PREFIX + DATA_AGGREGATE, acc);
        address data;
        assembly ("memory-safe") {
            data := create(0, init, add(INIT_PREFIX, codeLength))
        }
        if (data == address(0) || data != _dataAddress(id)) revert CertificateDataNotDeployed(id);
    }

    /// @dev Writes the member records of `packed` from `records` on (keys from the previous data
    /// `prevData` for members in `prev`, else from storage) and, at `acc`, adds the joiners' keys
    /// and subtracts the leavers' (`incremental`) or sums every member's key.
    function _writeMembers(
        uint256 acc,
        uint256 records,
        address prevData,
        uint256[] memory prev,
        uint256[] memory packed,
        bool incremental
    ) internal view {
        uint256 i;
        for (uint256 j; j < packed.length; ++j) {
            uint256 node = packed[j] & IDX_MASK;
            i = _skipLeft(acc, prevData, prev, i, node, incremental);
            uint256 rec = records + j * DATA_RECORD;
            bool stays = i < prev.length && (prev[i] & IDX_MASK) == node;
            if (stays) {
                uint256 from = DATA_HEADER + i * DATA_RECORD;
                assembly ("memory-safe") {
                    extcodecopy(prevData, rec, from, 96)
                }
                ++i;
            } else {
                _writeStoredKey(rec, node);
            }
            if (incremental ? !stays : j != 0) {
                _expand(acc + 128, rec);
                _addOperand(acc, false);
            } else if (!incremental) {
                _expand(acc, rec); // the first member's key starts the sum
            }
            uint256 shards = packed[j] >> 32;
            assembly ("memory-safe") {
                mstore(add(rec, 96), shl(240, shards))
            }
        }
        _skipLeft(acc, prevData, prev, i, type(uint256).max, incremental);
    }

    /// @dev Moves `i` past the members of `prev` with a node index below `node` (they left): their
    /// keys, read from `prevData`, are subtracted at `acc` if `incremental`. Returns the new `i`.
    function _skipLeft(uint256 acc, address prevData, uint256[] memory prev, uint256 i, uint256 node, bool incremental)
        internal
        view
        returns (uint256)
    {
        for (; i < prev.length && (prev[i] & IDX_MASK) < node; ++i) {
            if (incremental) {
                _copyKey(acc + 128, prevData, DATA_HEADER + i * DATA_RECORD);
                _addOperand(acc, true);
            }
        }
        return i;
    }

    /// @dev The address of committee `id`'s certificate data: this contract's CREATE address at
    /// nonce `id`, keccak256 of the RLP list [this, id]; zero for id 0 (no committee). The list
    /// takes at most 27 bytes (ids are uint32), so it is built in one word.
    function _dataAddress(uint256 id) internal view returns (address data) {
        if (id == 0) return address(0);
        uint256 self = uint256(uint160(address(this)));
        uint256 word;
        uint256 length;
        if (id < 0x80) {
            // 0xd6 (list of 22 bytes), 0x94 (string of 20 bytes), this, the nonce as one byte.
            word = (0xd694 << 240) | (self << 80) | (id << 72);
            length = 23;
        } else {
            // The nonce as 0x80 + its length, then its big-endian bytes.
            uint256 bytes_ = id < 0x100 ? 1 : id < 0x10000 ? 2 : id < 0x1000000 ? 3 : 4;
            word = ((0xd6 + bytes_) << 248) | (0x94 << 240) | (self << 80) | ((0x80 + bytes_) << 72)
                | (id << (72 - 8 * bytes_));
            length = 23 + bytes_;
        }
        assembly ("memory-safe") {
            mstore(0, word)
            data := and(keccak256(0, length), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @dev Members that left plus members that joined between two index-ordered member lists.
    function _countChanges(uint256[] memory prev, uint256[] memory packed) internal pure returns (uint256 changes) {
        uint256 i;
        uint256 j;
        while (i < prev.length && j < packed.length) {
            uint256 a = prev[i] & IDX_MASK;
            uint256 b = packed[j] & IDX_MASK;
            if (a == b) {
                ++i;
                ++j;
            } else {
                ++changes;
                if (a < b) ++i;
                else ++j;
            }
        }
        changes += (prev.length - i) + (packed.length - j);
    }

    /// @dev Writes node `index`'s stored key at `ptr` without the EIP-2537 padding (96 bytes).
    function _writeStoredKey(uint256 ptr, uint256 index) internal view {
        bytes32[4] storage key = _keys[index];
        (bytes32 k0, bytes32 k1, bytes32 k2, bytes32 k3) = (key[0], key[1], key[2], key[3]);
        assembly ("memory-safe") {
            mstore(ptr, shl(128, k0))
            mstore(add(ptr, 16), k1)
            mstore(add(ptr, 48), shl(128, k2))
            mstore(add(ptr, 64), k3)
        }
    }

    /// @dev Copies the 96-byte key at `offset` of `data`'s code to `ptr`, as 128 bytes (EIP-2537).
    function _copyKey(uint256 ptr, address data, uint256 offset) internal view {
        assembly ("memory-safe") {
            extcodecopy(data, ptr, offset, 96)
        }
        _expand(ptr, ptr);
    }

    /// @dev Writes the 96-byte key at `src` to `dst` as 128 bytes: each 48-byte coordinate gets its
    /// 16 zero bytes back. `dst` may equal `src`.
    function _expand(uint256 dst, uint256 src) internal pure {
        assembly ("memory-safe") {
            let x0 := mload(src)
            let x1 := mload(add(src, 16))
            let y0 := mload(add(src, 48))
            let y1 := mload(add(src, 64))
            mstore(dst, shr(128, x0))
            mstore(add(dst, 32), x1)
            mstore(add(dst, 64), shr(128, y0))
            mstore(add(dst, 96), y1)
        }
    }

    /// @dev Writes the 128-byte EIP-2537 point at `src` to `dst` without its zero padding (96 bytes).
    function _strip(uint256 dst, uint256 src) internal pure {
        assembly ("memory-safe") {
            let x0 := mload(src)
            let x1 := mload(add(src, 32))
            let y0 := mload(add(src, 64))
            let y1 := mload(add(src, 96))
            mstore(dst, shl(128, x0))
            mstore(add(dst, 16), x1)
            mstore(add(dst, 48), shl(128, y0))
            mstore(add(dst, 64), y1)
        }
    }

    /// @dev The G1 point at `acc` += the point at `acc + 128` (or -= it when `negate`), with G1ADD.
    function _addOperand(uint256 acc, bool negate) internal view {
        bool ok;
        assembly ("memory-safe") {
            if negate {
                // y -> p - y over (high 16 bytes in word 2, low 32 bytes in word 3); keys are never infinity.
                let yHi := mload(add(acc, 192))
                let yLo := mload(add(acc, 224))
                mstore(add(acc, 224), sub(P_LO, yLo))
                mstore(add(acc, 192), sub(sub(P_HI, yHi), lt(P_LO, yLo)))
            }
            ok := staticcall(G1_ADD_GAS, G1_ADD, acc, 256, acc, 128)
        }
        if (!ok) revert KeyAggregationFailed();
    }

    /// @dev Committee `id`'s aggregate key (EIP-2537), from its certificate data; the point at
    /// infinity for id 0.
    function _aggregateBytes(uint256 id) internal view returns (bytes memory out) {
        out = new bytes(128);
        if (id == 0) return out;
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(out, 0x20)
        }
        _copyKey(ptr, _dataAddress(id), DATA_AGGREGATE);
    }

    function _keyBytes(uint256 index) internal view returns (bytes memory out) {
        bytes32[4] storage key = _keys[index];
        (bytes32 k0, bytes32 k1, bytes32 k2, bytes32 k3) = (key[0], key[1], key[2], key[3]);
        out = new bytes(128);
        assembly ("memory-safe") {
            mstore(add(out, 32), k0)
            mstore(add(out, 64), k1)
            mstore(add(out, 96), k2)
            mstore(add(out, 128), k3)
        }
    }

    // ----------------------------------------------------------------------------------------
    // Internals: sorting
    // ----------------------------------------------------------------------------------------

    /// @dev Sorts `a` ascending in place (quicksort; callers pass distinct keys).
    function _sort(uint256[] memory a) internal pure {
        if (a.length > 1) _quickSort(a, 0, a.length);
    }

    /// @dev Sorts a[lo, hi): Lomuto partition around the middle element, written in assembly
    /// (no bounds checks: lo < hi <= a.length holds by construction), recursing into the smaller side.
    function _quickSort(uint256[] memory a, uint256 lo, uint256 hi) private pure {
        while (hi - lo > 1) {
            uint256 store;
            assembly ("memory-safe") {
                let base := add(a, 0x20)
                let pm := add(base, shl(5, add(lo, shr(1, sub(hi, lo)))))
                let pl := add(base, shl(5, sub(hi, 1)))
                let pivot := mload(pm)
                mstore(pm, mload(pl))
                mstore(pl, pivot)
                let ps := add(base, shl(5, lo))
                for { let p := ps } lt(p, pl) { p := add(p, 0x20) } {
                    let v := mload(p)
                    if lt(v, pivot) {
                        mstore(p, mload(ps))
                        mstore(ps, v)
                        ps := add(ps, 0x20)
                    }
                }
                mstore(pl, mload(ps))
                mstore(ps, pivot)
                store := shr(5, sub(ps, base))
            }
            if (store - lo < hi - store) {
                _quickSort(a, lo, store);
                lo = store + 1;
            } else {
                _quickSort(a, store + 1, hi);
                hi = store;
            }
        }
    }
}
