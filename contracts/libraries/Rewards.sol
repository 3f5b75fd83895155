// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Rewards
/// @notice Splits one task's escrowed fee between provider, requester refund, treasury and the validator committee.
/// @dev Conservation is exact by construction: every amount is either computed by one rounded-down division or
///      defined as "what is left", so `provider + requester + treasury + dust + sum(validators) == fee`.
///      Rounding dust has exactly one owner: the treasury. The split keeps it apart (`dust`) so that tests can
///      check it; the market credits it together with the treasury's share and reports the sum as `treasuryShare`.
///
///      Why the requester refund is partial (`refundBps` < 100%): a requester colluding with the committee to
///      under-score would otherwise get the provider's unpaid share back in full. With a partial refund, every unit
///      of provider pay destroyed by under-scoring returns only `refundBps` to the requester and the rest goes to
///      the treasury: it scales the requester's gain down (the loss falls on the provider, not on the coalition;
///      docs/ECONOMICS.md gives the whole gain, validator-pool capture included).
library Rewards {
    /// @notice Settlement parameters (the market bounds them further when governance sets them).
    struct Params {
        uint16 validatorPoolBps; // share of the fee reserved for the committee (default 2_000 = 20%)
        uint16 providerFloor; // consensus score below which the provider earns nothing (default 3_000)
        uint16 tolerance; // |score - consensus| at or beyond which a validator earns nothing (default 1_500)
        uint16 refundBps; // share of the provider's UNPAID part that returns to the requester (default 5_000)
    }

    /// @notice One task's settlement. Amounts are in fee-token units.
    struct Split {
        uint256 provider; // P * (c - floor) / (SCORE_MAX - floor), rounded down; 0 if c < floor; P = fee - V
        uint256 requester; // (P - provider) * refundBps / 10_000, rounded down
        uint256 treasury; // (P - provider) - requester, plus V when no validator earned anything
        uint256 dust; // V - sum(validators) when someone earned: rounding remainder, owned by the treasury
        uint256[] validators; // per member: V * w_i / sum(w), rounded down
    }

    /// @notice Top of the score scale (scores are basis points 0..10_000).
    uint256 internal constant SCORE_MAX = 10_000;
    /// @notice Basis-point denominator.
    uint256 internal constant BPS = 10_000;
    /// @notice Largest fee `split` accepts: every product below is `fee * x` with x < 2**16, so none can overflow.
    uint256 internal constant MAX_FEE = type(uint256).max >> 16;

    /// @notice Thrown when `revealed.length != scores.length`.
    error LengthMismatch(uint256 scores, uint256 revealed);
    /// @notice Thrown when the consensus score is above SCORE_MAX.
    error ConsensusOutOfRange(uint256 consensus);
    /// @notice Thrown when the fee is above MAX_FEE.
    error FeeTooLarge(uint256 fee);
    /// @notice Thrown when a share exceeds 10_000 bps or the provider floor is not below SCORE_MAX.
    error InvalidParams();

    /// @notice Computes the settlement of one task.
    /// @param fee The escrowed fee.
    /// @param consensus The consensus score c (0..SCORE_MAX).
    /// @param scores Each committee member's revealed score (ignored where `revealed[i]` is false).
    /// @param revealed Whether member i revealed. Non-revealers earn nothing (the market slashes them separately).
    /// @param p The settlement parameters.
    /// @return s The split. `s.validators[i]` is member i's credit: with V = fee * validatorPoolBps / 10_000
    ///         rounded down and w_i = tolerance - |s_i - c| if member i revealed and |s_i - c| < tolerance (else 0),
    ///         it is V * w_i / sum(w) rounded down. `dust < number of members with w_i > 0` (so < committee size).
    function split(uint256 fee, uint256 consensus, uint256[] memory scores, bool[] memory revealed, Params memory p)
        internal
        pure
        returns (Split memory s)
    {
        uint256 k = scores.length;
        if (revealed.length != k) revert LengthMismatch(k, revealed.length);
        if (consensus > SCORE_MAX) revert ConsensusOutOfRange(consensus);
        if (fee > MAX_FEE) revert FeeTooLarge(fee);
        if (p.validatorPoolBps > BPS || p.refundBps > BPS || p.providerFloor >= SCORE_MAX) revert InvalidParams();

        uint256 pool = (fee * p.validatorPoolBps) / BPS; // V, rounded down (remainder stays in P)
        uint256 providerPool = fee - pool; // P
        if (consensus >= p.providerFloor) {
            // rounded down; the unpaid remainder flows to requester/treasury below
            s.provider = (providerPool * (consensus - p.providerFloor)) / (SCORE_MAX - p.providerFloor);
        }
        uint256 unpaid = providerPool - s.provider;
        s.requester = (unpaid * p.refundBps) / BPS; // rounded down; remainder to the treasury
        s.treasury = unpaid - s.requester;

        // The weights are written into s.validators, then each replaced by its payout (one array, not two).
        uint256[] memory validators = new uint256[](k);
        s.validators = validators;
        uint256 totalWeight = _closenessWeights(consensus, scores, revealed, p.tolerance, validators);
        if (totalWeight == 0) {
            s.treasury += pool; // nobody earned: the pool goes to the treasury, never to the requester
            return s; // every weight, so every payout, is 0
        }
        uint256 paid;
        for (uint256 i; i < k; ++i) {
            uint256 w = validators[i];
            if (w == 0) continue;
            uint256 amount = (pool * w) / totalWeight; // rounded down; the remainder is `dust`
            validators[i] = amount;
            paid += amount;
        }
        s.dust = pool - paid; // owned by the treasury
    }

    /// @notice w_i = tolerance - |s_i - c| for revealed members strictly inside the tolerance, else 0, into
    ///         `weights` (k zeros on entry).
    function _closenessWeights(
        uint256 consensus,
        uint256[] memory scores,
        bool[] memory revealed,
        uint256 tolerance,
        uint256[] memory weights
    ) private pure returns (uint256 total) {
        uint256 k = scores.length;
        for (uint256 i; i < k; ++i) {
            if (!revealed[i]) continue;
            uint256 score = scores[i];
            uint256 distance = score > consensus ? score - consensus : consensus - score;
            if (distance >= tolerance) continue;
            uint256 w = tolerance - distance;
            weights[i] = w;
            total += w;
        }
    }
}
