// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title WAL, floe's token (9 decimals: 1 WAL = 10^9 FROST)
/// @dev Deployment: `new WAL(faucetCapPerAccount)`.
interface IWAL is IERC20 {
    /// @notice Emitted when the faucet mints `amount` to `account`.
    event FaucetMinted(address indexed account, uint256 amount);

    /// @notice Mints `amount` FROST to msg.sender, up to the per-account cap over its lifetime.
    function faucet(uint256 amount) external;
    /// @notice How much `account` has taken from the faucet so far.
    function faucetMinted(address account) external view returns (uint256);
    /// @notice The per-account faucet cap.
    function faucetCap() external view returns (uint256);
}
