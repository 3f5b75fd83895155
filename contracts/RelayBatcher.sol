// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @title RelayBatcher
/// @notice Sends the reports of several tasks (commitReport, revealReport: one committee each) to a TaskMarket in
/// one transaction, one call at a time, so that a report that fails (front-run, a round state out of date, sent
/// after its phase) is skipped with an event naming its error instead of reverting the rest; the tasks share the
/// transaction's 21,000 base cost. Stateless and permissionless: the signatures and openings in each report carry
/// the authority, so who sends the batch does not matter.
contract RelayBatcher {
    /// @notice Emitted when report `index` of a batch failed and was skipped; `reason` is the selector of its custom
    /// error (for example RoundStateMismatch, CommitPhaseClosed, RevealPhaseClosed).
    event RelayedItemSkipped(address indexed market, uint256 index, bytes4 reason);

    /// @notice Thrown for an empty batch.
    error EmptyBatch();

    /// @notice Item `index` is not a call of commitReport or revealReport (anything else is not relayed).
    error NotAReport(uint256 index, bytes4 selector);

    /// @notice Item `index` ran out of gas: the whole transaction reverts rather than skip it, so that a gas
    /// estimate (the lowest limit that does not revert) always covers every report.
    error ReportOutOfGas(uint256 index);

    /// @notice Sends each of `reports` (ABI-encoded calls of `market.commitReport` or `market.revealReport`) to
    /// `market`; returns how many landed.
    function relayEach(ITaskMarket market, bytes[] calldata reports) external returns (uint256 landed) {
        if (reports.length == 0) revert EmptyBatch();
        for (uint256 i; i < reports.length; ++i) {
            bytes4 selector = bytes4(reports[i]);
            if (selector != ITaskMarket.commitReport.selector && selector != ITaskMarket.revealReport.selector) {
                revert NotAReport(i, selector);
            }
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory reason) = address(market).call(reports[i]);
            if (ok) {
                ++landed;
                continue;
            }
            // Every refusal of a report is a custom error (or a panic): empty data is running out of gas.
            if (reason.length == 0) revert ReportOutOfGas(i);
            emit RelayedItemSkipped(address(market), i, bytes4(reason));
        }
    }
}
