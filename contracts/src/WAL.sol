// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IWAL} from "./interfaces/IWAL.sol";

/// @title WAL, floe's token (9 decimals: 1 WAL = 10^9 FROST)
/// @notice A plain OpenZeppelin ERC-20 with a devnet faucet: any account may mint itself up to
/// `faucetCap()` FROST over its lifetime.
/// @dev Deployment: `new WAL(faucetCapPerAccount)`. There is no other minting and no owner.
contract WAL is ERC20, IWAL {
    /// @notice Thrown when a faucet request would take `account` past its lifetime cap.
    /// @param account The account asking.
    /// @param requested The amount asked for.
    /// @param remaining What the account may still take from the faucet.
    error FaucetCapExceeded(address account, uint256 requested, uint256 remaining);

    /// @notice Thrown when the faucet is asked for nothing.
    error FaucetZeroAmount();

    /// @dev The per-account lifetime faucet cap, in FROST.
    uint256 private immutable _faucetCap;

    /// @dev FROST each account has taken from the faucet so far.
    mapping(address account => uint256 minted) private _faucetMinted;

    /// @param faucetCapPerAccount How much FROST each account may take from the faucet, in total.
    constructor(uint256 faucetCapPerAccount) ERC20("WAL", "WAL") {
        _faucetCap = faucetCapPerAccount;
    }

    /// @notice 9 decimals: 1 WAL = 10^9 FROST.
    function decimals() public pure override returns (uint8) {
        return 9;
    }

    /// @inheritdoc IWAL
    function faucet(uint256 amount) external {
        if (amount == 0) revert FaucetZeroAmount();
        uint256 minted = _faucetMinted[msg.sender];
        uint256 remaining = _faucetCap - minted;
        if (amount > remaining) revert FaucetCapExceeded(msg.sender, amount, remaining);
        _faucetMinted[msg.sender] = minted + amount;
        _mint(msg.sender, amount);
        emit FaucetMinted(msg.sender, amount);
    }

    /// @inheritdoc IWAL
    function faucetMinted(address account) external view returns (uint256) {
        return _faucetMinted[account];
    }

    /// @inheritdoc IWAL
    function faucetCap() external view returns (uint256) {
        return _faucetCap;
    }
}
