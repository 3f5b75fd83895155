// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITaskLedger
/// @notice The task market's plain storage getters (declared apart so that the storage they read, TaskStorage, can
/// implement them for both the market and its views module).
interface ITaskLedger {
    /// @notice Credits of `account`; claim() transfers all of it but 1 wei.
    function claimable(address account) external view returns (uint256);

    /// @notice Receives slashes, the unpaid share of fees and rounding dust.
    function treasury() external view returns (address);

    /// @notice Blocks from creation to the last possible settlement under current parameters, assuming the
    /// committee is drawn in the first block it can be (the unstake cooldown must exceed it).
    function maxTaskLifetime() external view returns (uint256);
}
