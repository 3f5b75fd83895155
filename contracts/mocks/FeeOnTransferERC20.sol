// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferERC20
/// @notice Test token that burns a fee on every transfer, so the recipient gets less than `value`. The market and
///         the stake registry must reject it (they check the balance delta), or their books would claim tokens
///         they never received. The fee can be switched on later, like an upgradeable token that adds one.
contract FeeOnTransferERC20 is ERC20 {
    /// @notice Fee taken from every transfer, in basis points of the amount (rounded down, burned).
    uint256 public feeBps;

    /// @notice Thrown when the configured fee exceeds 100%.
    error FeeTooHigh(uint256 feeBps);

    /// @param initialFeeBps The transfer fee in basis points (0..10_000).
    constructor(uint256 initialFeeBps) ERC20("Fee On Transfer", "FOT") {
        setFeeBps(initialFeeBps);
    }

    /// @notice Mints `amount` tokens to `to` (no fee on minting). Anyone can mint: test use only.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Changes the transfer fee. Anyone can call: test use only.
    /// @param newFeeBps The transfer fee in basis points (0..10_000).
    function setFeeBps(uint256 newFeeBps) public {
        if (newFeeBps > 10_000) revert FeeTooHigh(newFeeBps);
        feeBps = newFeeBps;
    }

    /// @dev Transfers between two accounts lose `value * feeBps / 10_000` (rounded down), burned from the sender.
    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = (from == address(0) || to == address(0)) ? 0 : (value * feeBps) / 10_000; // rounded down
        if (fee != 0) super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
