// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {Consensus} from "./libraries/Consensus.sol";
import {MarketParams} from "./libraries/MarketParams.sol";
import {Rewards} from "./libraries/Rewards.sol";

/// @title SettlementMath
/// @notice Stateless calculator of one round's settlement: consensus over the revealed scores, then the reward
/// split. A separate contract (called with STATICCALL) so that the task market stays under the 24 KiB code limit
/// without linked libraries; it holds no state and no tokens.
contract SettlementMath {
    /// @notice One committee round to settle.
    /// @param rule Consensus.Rule as uint8 (0 median, 1 trimmed mean, 2 stake-weighted median).
    /// @param trimBps Trimmed-mean cut per side.
    /// @param fee The escrowed fee.
    /// @param scores Score of each member (ignored where not revealed).
    /// @param revealed Whether each member revealed; at least one must have.
    /// @param weights Stake of each member for the stake-weighted median; empty for the other rules.
    /// @param rewards Reward parameters.
    struct Round {
        uint8 rule;
        uint16 trimBps;
        uint256 fee;
        uint256[] scores;
        bool[] revealed;
        uint256[] weights;
        Rewards.Params rewards;
    }

    /// @notice Computes the consensus and the split of the fee for one committee round.
    /// @param r The round.
    /// @return consensus The consensus score.
    /// @return split The split (see Rewards.split); `split.validators[i]` belongs to member i.
    function settle(Round calldata r) external pure returns (uint256 consensus, Rewards.Split memory split) {
        // One copy of each array into memory (Rewards.split takes memory arrays): the loops below then index memory
        // instead of decoding calldata again per element.
        uint256[] memory scores = r.scores;
        bool[] memory revealed = r.revealed;
        (uint256[] memory revealedScores, uint256[] memory revealedWeights) =
            _revealedOnly(scores, revealed, r.weights);
        consensus = Consensus.aggregate(Consensus.Rule(r.rule), revealedScores, revealedWeights, r.trimBps);
        split = Rewards.split(r.fee, consensus, scores, revealed, r.rewards);
    }

    /// @notice Checks governance parameters against their bounds (reverts ParameterOutOfBounds naming the first
    /// one outside) and returns the task lifetime they imply and their two storage words, which the market writes
    /// as they are. Here rather than in the market to keep the market under the code size limit: the market holds
    /// no code that decodes, checks or packs a whole `Params` (its setParams forwards its own calldata here).
    /// @param p The parameters.
    /// @return lifetime MarketParams.maxTaskLifetime(p).
    /// @return word0 Storage word 0 of `p` (MarketParams.pack).
    /// @return word1 Storage word 1 of `p`.
    function checkParams(ITaskMarket.Params calldata p)
        external
        pure
        returns (uint256 lifetime, uint256 word0, uint256 word1)
    {
        MarketParams.validate(p);
        lifetime = MarketParams.maxTaskLifetime(p);
        (word0, word1) = MarketParams.pack(p);
    }

    /// @dev The scores (and weights, zeros when `weights` is empty) of the members that revealed, in member order.
    function _revealedOnly(uint256[] memory scores, bool[] memory revealed, uint256[] calldata weights)
        private
        pure
        returns (uint256[] memory revealedScores, uint256[] memory revealedWeights)
    {
        uint256 k = scores.length;
        // One pass into arrays of k entries, then shortened to the n revealed ones (n <= k: shortening is safe).
        revealedScores = new uint256[](k);
        revealedWeights = new uint256[](k);
        bool weighted = weights.length == k;
        uint256 n;
        for (uint256 i; i < k; ++i) {
            if (!revealed[i]) continue;
            revealedScores[n] = scores[i];
            if (weighted) revealedWeights[n] = weights[i];
            ++n;
        }
        assembly ("memory-safe") {
            mstore(revealedScores, n)
            mstore(revealedWeights, n)
        }
    }
}
