// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title floe staking, epochs, committees and prices
/// @notice Storage nodes register with a BLS12-381 key (G1, EIP-2537 encoding, 128 bytes) and a
/// proof of possession; anyone stakes WAL to a node. Epochs advance by time; at each advance the
/// next committee (staked nodes, up to a maximum) is chosen and the `n` shards are apportioned in
/// proportion to stake, moving as few shards as possible. Prices are set by committee votes.
/// @dev Node id = the operator's address (one node per address). Epoch 0 is the genesis epoch with
/// no committee; it may be advanced at any time. Every later epoch lasts `epochDuration()` seconds.
/// Deployment: `new Staking(config)` (a {Config}), then `setRegistry(registry)` once by the deployer.
interface IStaking {
    /// @notice Deployment parameters.
    struct Config {
        /// @notice The WAL token.
        address wal;
        /// @notice Number of shards `n` (at least 1).
        uint16 nShards;
        /// @notice Seconds an epoch (after epoch 0) lasts at least (at least 1).
        uint64 epochDuration;
        /// @notice Minimum stake for candidacy and committee membership, FROST (a node also needs 1 FROST).
        uint256 minStake;
        /// @notice Maximum committee size and candidate set size, 1..249.
        uint16 maxCommitteeSize;
        /// @notice Bond a node pays at registration (transferFrom the operator), FROST, at least 1.
        uint256 registrationBond;
        /// @notice Storage price (FROST per MiB per epoch) until the first tally, in [min, max].
        uint64 initialStoragePrice;
        /// @notice Lowest storage price a vote may name.
        uint64 minStoragePrice;
        /// @notice Highest storage price a vote may name.
        uint64 maxStoragePrice;
        /// @notice Write price (FROST per MiB) until the first tally, in [min, max].
        uint64 initialWritePrice;
        /// @notice Lowest write price a vote may name.
        uint64 minWritePrice;
        /// @notice Highest write price a vote may name.
        uint64 maxWritePrice;
    }

    /// @notice A node's registration.
    struct NodeInfo {
        /// @notice BLS12-381 public key in G1, EIP-2537 encoding (128 bytes).
        bytes publicKey;
        /// @notice Where the node's HTTP API is reached, e.g. "127.0.0.1:9101".
        string networkAddress;
        /// @notice Operator commission on rewards in force now, in basis points (0..10000).
        uint16 commissionBps;
        /// @notice Storage the node offers, in bytes.
        uint64 capacity;
        /// @notice Active stake (self and delegated) counted for the next committee.
        uint256 stake;
        /// @notice True once registered (stays true after deregistration: see nodeStatus).
        bool registered;
    }

    /// @notice Emitted when a node registers.
    event NodeRegistered(
        address indexed node, bytes publicKey, string networkAddress, uint16 commissionBps, uint64 capacity
    );
    /// @notice Emitted when a node changes its network address (or announces a commission change,
    /// see CommissionChangeAnnounced); `commissionBps` is the commission in force now.
    event NodeUpdated(address indexed node, string networkAddress, uint16 commissionBps);
    /// @notice Emitted when a node announces commission `commissionBps`, in force from `effectiveEpoch`
    /// (the current epoch + 2; the current epoch when the announcement withdraws a pending change).
    event CommissionChangeAnnounced(address indexed node, uint16 commissionBps, uint32 effectiveEpoch);
    /// @notice Emitted when an announced commission becomes the stored commission in force (lazily:
    /// at the node's next update or its first reward payment from `effectiveEpoch` on).
    event CommissionActivated(address indexed node, uint16 commissionBps, uint32 effectiveEpoch);
    /// @notice Emitted when a registering node pays its bond.
    event BondPaid(address indexed node, uint256 amount);
    /// @notice Emitted when a node deregisters in `epoch`: it left candidacy, leaves the committee at
    /// the next boundary, and its bond is returned from `bondReadyEpoch`.
    event NodeDeregistered(address indexed node, uint32 epoch, uint32 bondReadyEpoch);
    /// @notice Emitted when a deregistered node's bond is paid back.
    event BondReturned(address indexed node, uint256 amount);
    /// @notice Emitted when a node enters (`candidate` true) or leaves the candidate set.
    event CandidateChanged(address indexed node, bool candidate);
    /// @notice Emitted when `staker` stakes `amount` FROST to `node`.
    event Staked(address indexed node, address indexed staker, uint256 amount);
    /// @notice Emitted when `staker` asks to withdraw `amount` from `node`, effective at `epoch`.
    event WithdrawalRequested(address indexed node, address indexed staker, uint256 amount, uint32 epoch);
    /// @notice Emitted when `staker` receives `amount` of withdrawn stake.
    event Withdrawn(address indexed node, address indexed staker, uint256 amount);
    /// @notice Emitted when the epoch advances; the new committee and shards are readable from here on.
    event EpochAdvanced(uint32 indexed epoch, uint64 startTime, uint256 committeeSize);
    /// @notice Emitted when a committee member votes prices (FROST per MiB per epoch, FROST per MiB written).
    event PricesVoted(address indexed node, uint64 storagePrice, uint64 writePrice);
    /// @notice Emitted when the prices in force change at an epoch advance.
    event PricesSet(uint32 indexed epoch, uint64 storagePrice, uint64 writePrice);
    /// @notice Emitted when rewards are claimed.
    event RewardsClaimed(address indexed node, address indexed account, uint256 amount);

    /// @notice Registers msg.sender as a storage node.
    /// @param publicKey BLS12-381 G1 public key, EIP-2537 encoding (128 bytes).
    /// @param proofOfPossession BLS signature (G2, EIP-2537, 256 bytes) over the proof-of-possession message.
    function registerNode(
        bytes calldata publicKey,
        bytes calldata proofOfPossession,
        string calldata networkAddress,
        uint16 commissionBps,
        uint64 capacity
    ) external;

    /// @notice Changes msg.sender's node network address at once and announces `commissionBps`
    /// (if it differs from the latest announced commission): in force from epoch current + 2, at
    /// most MAX_COMMISSION_STEP_BPS (500) from the commission in force, one change pending at a
    /// time (a new announcement in the same epoch replaces it; naming the commission in force
    /// withdraws it). Reverts NodeNotActive for a deregistered node.
    function updateNode(string calldata networkAddress, uint16 commissionBps) external;

    /// @notice Deregisters msg.sender's node: it leaves the candidate set at once, leaves the
    /// committee at the next epoch boundary and takes no new stake; its stakers still withdraw and
    /// claim. Its id is never reused and its address cannot register again.
    function deregisterNode() external;

    /// @notice Pays msg.sender's registration bond back, from the epoch after its deregistration
    /// (when it is no longer in the committee).
    function withdrawBond() external returns (uint256 amount);

    /// @notice Stakes `amount` FROST of msg.sender's WAL to `node` (needs an allowance); not to a
    /// deregistered node.
    function stake(address node, uint256 amount) external;

    /// @notice Asks to withdraw `amount` of msg.sender's stake in `node`; it stops counting at the next epoch boundary.
    function requestWithdrawal(address node, uint256 amount) external;

    /// @notice Pays out msg.sender's withdrawals from `node` whose epoch has come.
    function withdraw(address node) external returns (uint256 amount);

    /// @notice Advances to the next epoch once the current one's time is up (anyone may call).
    function advanceEpoch() external;

    /// @notice Votes the prices msg.sender's node wants (committee members only), in force from the
    /// next epoch. Each must lie in its deployment range; the tally moves a price at most to twice
    /// (from 0: to 1) or half the price in force per epoch.
    function votePrices(uint64 storagePricePerMiBEpoch, uint64 writePricePerMiB) external;

    /// @notice Sets the blob registry allowed to fund rewards; once, by the deployer.
    function setRegistry(address registry) external;

    /// @notice Called by the registry after it transferred `amount` WAL here: the amount is paid
    /// out over epochs [fromEpoch, fromEpoch + epochs) to those epochs' committees.
    function fundRewards(uint32 fromEpoch, uint32 epochs, uint256 amount) external;

    /// @notice Claims msg.sender's rewards from `node` (commission if msg.sender is the operator, plus delegator share).
    function claimRewards(address node) external returns (uint256 amount);

    /// @notice Rewards `account` can claim from `node`.
    function pendingRewards(address node, address account) external view returns (uint256);

    /// @notice The WAL token.
    function wal() external view returns (address);
    /// @notice The number of shards `n`.
    function nShards() external view returns (uint16);
    /// @notice The current epoch.
    function currentEpoch() external view returns (uint32);
    /// @notice When the current epoch started (unix seconds).
    function epochStartTime() external view returns (uint64);
    /// @notice Duration of an epoch, in seconds.
    function epochDuration() external view returns (uint64);
    /// @notice A node's registration.
    function nodeInfo(address node) external view returns (NodeInfo memory);
    /// @notice The committee of `epoch`: members (in bitmap order) and each member's shard count.
    function committee(uint32 epoch) external view returns (address[] memory members, uint16[] memory shardCounts);
    /// @notice For `epoch`, the committee index owning each shard (length `n`).
    function shardOwners(uint32 epoch) external view returns (uint16[] memory ownerIndex);
    /// @notice The aggregate G1 public key (EIP-2537) of `epoch`'s whole committee.
    function aggregatePublicKey(uint32 epoch) external view returns (bytes memory);
    /// @notice What a certificate check of `epoch` needs up front: committee size, total shards
    /// and the aggregate G1 key (EIP-2537).
    function certificateContext(uint32 epoch)
        external
        view
        returns (uint256 committeeSize, uint16 n, bytes memory aggregateKey);
    /// @notice Member `index` of `epoch`'s committee: its G1 key (EIP-2537) and shard count.
    function member(uint32 epoch, uint256 index) external view returns (bytes memory publicKey, uint16 shards);
    /// @notice The contract whose runtime code holds `epoch`'s certificate data, read with
    /// EXTCODECOPY (zero address for an epoch without a committee). Written once per committee at
    /// the advance that forms it; epochs with the same committee and shard counts share it.
    /// @dev Layout of the runtime code (k = committee size, offsets in bytes):
    /// [0] 0x00 (STOP: calling it does nothing) | [1, 3) k, uint16 big-endian | [3, 5) n, uint16 |
    /// [5, 101) the aggregate key of the whole committee | then per member i (committee order), at
    /// 101 + 98 * i: its key [96 bytes] | its shard count [uint16].
    /// Keys are G1 points in the EIP-2537 encoding with the 16 zero bytes before each coordinate
    /// left out: x (48 bytes) | y (48 bytes). Code length is exactly 101 + 98 * k.
    function certificateData(uint32 epoch) external view returns (address data);
    /// @notice The current epoch and its certificate data contract (as `certificateData`), in one
    /// call: what a certificate check needs first.
    function currentCertificateData() external view returns (uint32 epoch, address data);
    /// @notice The commission (basis points) in force in `epoch`, for the current epoch and later
    /// ones (pending announcements included). Past epochs: the value now stored, which a change
    /// activated since may have replaced.
    function commissionAt(address node, uint32 epoch) external view returns (uint16);
    /// @notice The announced commission change not yet in force (effectiveEpoch 0: none).
    function pendingCommission(address node) external view returns (uint16 commissionBps, uint32 effectiveEpoch);
    /// @notice A registered node's status: active (not deregistered), in the candidate set, bond
    /// held, and the epoch from which the bond is returned (0 while active).
    function nodeStatus(address node)
        external
        view
        returns (bool active, bool candidate, uint256 bond, uint32 bondReadyEpoch);
    /// @notice The candidate set (unordered): nodes and their stakes for the next committee.
    function candidates() external view returns (address[] memory nodes, uint256[] memory stakes);
    /// @notice The bond a node pays at registration, FROST.
    function registrationBond() external view returns (uint256);
    /// @notice The storage price range votes must lie in (FROST per MiB per epoch).
    function minStoragePrice() external view returns (uint64);
    /// @notice See minStoragePrice.
    function maxStoragePrice() external view returns (uint64);
    /// @notice The write price range votes must lie in (FROST per MiB).
    function minWritePrice() external view returns (uint64);
    /// @notice See minWritePrice.
    function maxWritePrice() external view returns (uint64);
    /// @notice The prices in force: FROST per MiB per epoch of storage, FROST per MiB of encoded size written.
    function prices() external view returns (uint64 storagePricePerMiBEpoch, uint64 writePricePerMiB);
}
