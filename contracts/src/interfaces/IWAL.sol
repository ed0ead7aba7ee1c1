// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title WAL, floe's token (9 decimals: 1 WAL = 10^9 FROST)
/// @dev Deployment: `new WAL(faucetEnabled, faucetCapPerAccount, initialHolder, initialSupply)`:
/// a devnet passes `(true, cap, holder or 0, supply or 0)`, any other deployment
/// `(false, 0, holder, supply)` (a fixed supply; the faucet reverts FaucetDisabled).
interface IWAL is IERC20 {
    /// @notice Emitted when the faucet mints `amount` to `account`.
    event FaucetMinted(address indexed account, uint256 amount);
    /// @notice Emitted once, at deployment, when `amount` is minted to `holder`.
    event InitialSupplyMinted(address indexed holder, uint256 amount);

    /// @notice Mints `amount` FROST to msg.sender, up to the per-account cap over its lifetime
    /// (devnet deployments only; otherwise reverts FaucetDisabled).
    function faucet(uint256 amount) external;
    /// @notice How much `account` has taken from the faucet so far.
    function faucetMinted(address account) external view returns (uint256);
    /// @notice The per-account faucet cap (0 without a faucet).
    function faucetCap() external view returns (uint256);
    /// @notice True if this deployment has a faucet (a devnet); false: fixed supply.
    function faucetEnabled() external view returns (bool);
}
