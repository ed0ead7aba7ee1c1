// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IWAL} from "./interfaces/IWAL.sol";

/// @title WAL, floe's token (9 decimals: 1 WAL = 10^9 FROST)
/// @notice A plain OpenZeppelin ERC-20. A devnet deployment (`faucetEnabled`) has a faucet: any
/// account may mint itself up to `faucetCap()` FROST over its lifetime. Any other deployment has a
/// fixed supply, minted once to a holder at deployment, and its faucet reverts.
/// @dev Deployment: `new WAL(faucetEnabled, faucetCapPerAccount, initialHolder, initialSupply)`.
/// There is no other minting and no owner.
contract WAL is ERC20, IWAL {
    /// @notice Thrown when a faucet request would take `account` past its lifetime cap.
    /// @param account The account asking.
    /// @param requested The amount asked for.
    /// @param remaining What the account may still take from the faucet.
    error FaucetCapExceeded(address account, uint256 requested, uint256 remaining);

    /// @notice Thrown when the faucet is asked for nothing.
    error FaucetZeroAmount();

    /// @notice Thrown when the faucet is used on a deployment without one (not a devnet).
    error FaucetDisabled();

    /// @notice Thrown by the constructor for unusable parameters: a faucet cap without a faucet,
    /// or a non-devnet deployment without a holder or a supply, or a supply without a holder.
    error InvalidParameter(string name);

    /// @inheritdoc IWAL
    bool public immutable faucetEnabled;

    /// @dev The per-account lifetime faucet cap, in FROST.
    uint256 private immutable _faucetCap;

    /// @dev FROST each account has taken from the faucet so far.
    mapping(address account => uint256 minted) private _faucetMinted;

    /// @param faucetEnabled_ True for a devnet: the faucet works. False: fixed supply.
    /// @param faucetCapPerAccount How much FROST each account may take from the faucet, in total
    /// (must be 0 without a faucet).
    /// @param initialHolder Receives `initialSupply` (required without a faucet).
    /// @param initialSupply FROST minted to `initialHolder` at deployment (required without a faucet).
    constructor(bool faucetEnabled_, uint256 faucetCapPerAccount, address initialHolder, uint256 initialSupply)
        ERC20("WAL", "WAL")
    {
        if (!faucetEnabled_ && faucetCapPerAccount != 0) revert InvalidParameter("faucetCapPerAccount");
        if (initialSupply != 0 && initialHolder == address(0)) revert InvalidParameter("initialHolder");
        if (!faucetEnabled_ && initialSupply == 0) revert InvalidParameter("initialSupply");
        faucetEnabled = faucetEnabled_;
        _faucetCap = faucetCapPerAccount;
        if (initialSupply != 0) {
            _mint(initialHolder, initialSupply);
            emit InitialSupplyMinted(initialHolder, initialSupply);
        }
    }

    /// @notice 9 decimals: 1 WAL = 10^9 FROST.
    function decimals() public pure override returns (uint8) {
        return 9;
    }

    /// @inheritdoc IWAL
    function faucet(uint256 amount) external {
        if (!faucetEnabled) revert FaucetDisabled();
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
