// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The slice of IStaking the blob registry reads, with settable epoch, prices and
/// committee, for registry tests that do not need real committees (storage and payments).
/// Certificate tests run on the real Staking.
contract BlobMockStaking {
    error NotRegistry(address caller);

    address public immutable wal;
    uint16 public immutable nShards;
    uint32 public currentEpoch;
    uint64 public storagePrice;
    uint64 public writePrice;
    address public registry;

    /// @notice Every fundRewards call, in order.
    struct Funding {
        uint32 fromEpoch;
        uint32 epochs;
        uint256 amount;
    }

    Funding[] public fundings;
    uint256 public totalFunded;

    constructor(address wal_, uint16 n, uint64 storagePrice_, uint64 writePrice_) {
        wal = wal_;
        nShards = n;
        storagePrice = storagePrice_;
        writePrice = writePrice_;
    }

    function setRegistry(address registry_) external {
        registry = registry_;
    }

    function setEpoch(uint32 epoch) external {
        currentEpoch = epoch;
    }

    function setPrices(uint64 storagePrice_, uint64 writePrice_) external {
        storagePrice = storagePrice_;
        writePrice = writePrice_;
    }

    function prices() external view returns (uint64, uint64) {
        return (storagePrice, writePrice);
    }

    function fundRewards(uint32 fromEpoch, uint32 epochs, uint256 amount) external {
        if (msg.sender != registry) revert NotRegistry(msg.sender);
        fundings.push(Funding(fromEpoch, epochs, amount));
        totalFunded += amount;
    }

    function fundingCount() external view returns (uint256) {
        return fundings.length;
    }

    /// @dev A one-member committee with the all-zero key: enough for the registry to reach the
    /// signature check (which then fails), so the checks before it can be tested.
    function certificateContext(uint32) external view returns (uint256, uint16, bytes memory) {
        return (currentEpoch == 0 ? 0 : 1, nShards, new bytes(128));
    }

    function member(uint32, uint256) external view returns (bytes memory, uint16) {
        return (new bytes(128), nShards);
    }
}
