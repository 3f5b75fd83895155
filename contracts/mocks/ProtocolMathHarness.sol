// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Consensus} from "../libraries/Consensus.sol";
import {Rewards} from "../libraries/Rewards.sol";

/// @title ProtocolMathHarness
/// @notice Test-only wrappers exposing the internal Consensus and Rewards library functions, so the TypeScript port
///         (sdk/protocol-math.ts) can be cross-checked against the compiled Solidity to the wei.
/// @dev Batch functions take arrays of cases so that thousands of cases cost a few eth_calls, not thousands.
///      Never deployed outside tests.
contract ProtocolMathHarness {
    /// @notice One settlement case for `splitBatch`.
    struct SplitCase {
        uint256 fee;
        uint256 consensus;
        uint256[] scores;
        bool[] revealed;
        Rewards.Params params;
    }

    /// @notice Thrown when the parallel case arrays of `aggregateBatch` differ in length.
    error BatchLengthMismatch();

    /// @notice `Consensus.aggregate` for one case (reverts exactly like the library).
    /// @param rule The rule index (Consensus.Rule).
    /// @param scores The revealed scores.
    /// @param weights One weight per score.
    /// @param trimBps Trim share per side for TrimmedMean.
    /// @return consensus The aggregate.
    function aggregate(Consensus.Rule rule, uint256[] calldata scores, uint256[] calldata weights, uint256 trimBps)
        external
        pure
        returns (uint256 consensus)
    {
        return Consensus.aggregate(rule, scores, weights, trimBps);
    }

    /// @notice `Consensus.aggregate` over many cases; case i is (rules[i], scores[i], weights[i], trimBps[i]).
    /// @param rules Rule per case.
    /// @param scores Scores per case.
    /// @param weights Weights per case.
    /// @param trimBps Trim share per case.
    /// @return results The aggregate of each case.
    function aggregateBatch(
        Consensus.Rule[] calldata rules,
        uint256[][] calldata scores,
        uint256[][] calldata weights,
        uint256[] calldata trimBps
    ) external pure returns (uint256[] memory results) {
        uint256 n = rules.length;
        if (scores.length != n || weights.length != n || trimBps.length != n) revert BatchLengthMismatch();
        results = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            results[i] = Consensus.aggregate(rules[i], scores[i], weights[i], trimBps[i]);
        }
    }

    /// @notice `Rewards.split` for one case (reverts exactly like the library).
    /// @param c The case.
    /// @return s The split.
    function split(SplitCase calldata c) external pure returns (Rewards.Split memory s) {
        return Rewards.split(c.fee, c.consensus, c.scores, c.revealed, c.params);
    }

    /// @notice `Rewards.split` over many cases.
    /// @param cases The cases.
    /// @return splits The split of each case.
    function splitBatch(SplitCase[] calldata cases) external pure returns (Rewards.Split[] memory splits) {
        uint256 n = cases.length;
        splits = new Rewards.Split[](n);
        for (uint256 i; i < n; ++i) {
            SplitCase calldata c = cases[i];
            splits[i] = Rewards.split(c.fee, c.consensus, c.scores, c.revealed, c.params);
        }
    }
}
