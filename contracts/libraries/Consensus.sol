// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Consensus
/// @notice Robust aggregation of a committee's revealed scores into one consensus score.
/// @dev Pure library over memory arrays. It never mutates the caller's arrays (it sorts private copies), because
///      the caller keeps `scores[i]` aligned with committee member `i` for the reward split that follows.
///      Sorting is an in-memory insertion sort: O(k^2) but cheapest for the committee sizes used (k <= 32).
library Consensus {
    /// @notice Which robust aggregate to use.
    /// @dev Median (default) resists up to just under half of the revealed scores being arbitrary; TrimmedMean
    ///      uses more of the information but only resists `trimBps` of outliers per side; WeightedMedian weights
    ///      each score by the revealer's stake so a Sybil split of one stake gains nothing.
    enum Rule {
        Median,
        TrimmedMean,
        WeightedMedian
    }

    /// @notice Basis-point denominator for `trimBps`.
    uint256 internal constant BPS = 10_000;

    /// @notice Thrown when there is no score to aggregate.
    error NoScores();
    /// @notice Thrown when `weights.length != scores.length` (the arrays must always have the same length).
    error LengthMismatch(uint256 scores, uint256 weights);
    /// @notice Thrown when `trimBps` exceeds 10_000.
    error InvalidTrimBps(uint256 trimBps);
    /// @notice Thrown when WeightedMedian is asked for but every weight is zero.
    error ZeroTotalWeight();

    /// @notice Aggregates `scores` with `rule`.
    /// @param rule The aggregation rule.
    /// @param scores The revealed scores (any order). Not modified.
    /// @param weights One weight per score; read by WeightedMedian only, but must always have `scores.length`
    ///        entries. Not modified.
    /// @param trimBps For TrimmedMean: share of the scores dropped from EACH end, `t = n * trimBps / 10_000`
    ///        rounded down, reduced so that at least one score remains. Must be <= 10_000 for every rule.
    /// @return consensus Median: middle score, or for even n the mean of the two middle scores rounded down.
    ///         TrimmedMean: mean of the kept scores rounded down. WeightedMedian: the lower weighted median, i.e.
    ///         the smallest score s with `sum(weights of scores <= s) * 2 >= sum(weights)`.
    ///         Always within [min(scores), max(scores)].
    function aggregate(Rule rule, uint256[] memory scores, uint256[] memory weights, uint256 trimBps)
        internal
        pure
        returns (uint256 consensus)
    {
        uint256 n = scores.length;
        if (n == 0) revert NoScores();
        if (weights.length != n) revert LengthMismatch(n, weights.length);
        if (trimBps > BPS) revert InvalidTrimBps(trimBps);

        if (rule == Rule.WeightedMedian) return _weightedMedian(scores, weights);
        uint256[] memory sorted = _sortedCopy(scores);
        if (rule == Rule.Median) return _median(sorted);
        return _trimmedMean(sorted, trimBps);
    }

    /// @notice Median of an ascending array; even length -> mean of the two middle values, rounded down.
    function _median(uint256[] memory sorted) private pure returns (uint256) {
        uint256 n = sorted.length;
        uint256 mid = n / 2; // rounded down: for odd n this is the middle index
        if (n % 2 == 1) return sorted[mid];
        uint256 lo = sorted[mid - 1];
        // lo <= hi, so lo + (hi - lo) / 2 == floor((lo + hi) / 2) without the overflow risk of lo + hi.
        return lo + (sorted[mid] - lo) / 2; // rounded down
    }

    /// @notice Mean of an ascending array after dropping `t` values from each end (at least one value kept).
    function _trimmedMean(uint256[] memory sorted, uint256 trimBps) private pure returns (uint256) {
        uint256 n = sorted.length;
        uint256 t = (n * trimBps) / BPS; // rounded down: never trims more than asked
        if (2 * t >= n) t = (n - 1) / 2; // keep >= 1 value (1 for odd n, 2 for even n)
        uint256 sum;
        for (uint256 i = t; i < n - t; ++i) {
            sum += sorted[i];
        }
        return sum / (n - 2 * t); // rounded down
    }

    /// @notice Lower weighted median: the smallest score whose cumulative weight reaches half the total.
    function _weightedMedian(uint256[] memory scores, uint256[] memory weights) private pure returns (uint256) {
        uint256 n = scores.length;
        uint256[] memory s = new uint256[](n);
        uint256[] memory w = new uint256[](n);
        uint256 total;
        // Insertion sort of (score, weight) pairs by score, ascending, into private copies.
        for (uint256 i; i < n; ++i) {
            uint256 score = scores[i];
            uint256 weight = weights[i];
            total += weight;
            uint256 j = i;
            while (j > 0 && s[j - 1] > score) {
                s[j] = s[j - 1];
                w[j] = w[j - 1];
                --j;
            }
            s[j] = score;
            w[j] = weight;
        }
        if (total == 0) revert ZeroTotalWeight();
        uint256 cumulative;
        for (uint256 i; i < n; ++i) {
            cumulative += w[i];
            // cumulative * 2 >= total, written so that it cannot overflow.
            if (cumulative >= total - cumulative) return s[i];
        }
        // Unreachable: after the last element cumulative == total >= total - total.
        return s[n - 1];
    }

    /// @notice Ascending insertion-sorted copy of `values`.
    /// @dev In assembly: the same insertion sort (each value moves down past the larger ones before it), without a
    ///      bounds check per comparison. Every read and write stays within `sorted`'s n words, which are allocated
    ///      above. The sorted order of a set of integers is unique, so any correct sort gives the same array.
    function _sortedCopy(uint256[] memory values) private pure returns (uint256[] memory sorted) {
        uint256 n = values.length;
        sorted = new uint256[](n);
        assembly ("memory-safe") {
            let first := add(sorted, 0x20)
            let from := add(values, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let v := mload(add(from, shl(5, i)))
                let at := add(first, shl(5, i)) // the hole: sorted[0..i) is sorted
                for {} gt(at, first) { at := sub(at, 0x20) } {
                    let before := mload(sub(at, 0x20))
                    if iszero(gt(before, v)) { break }
                    mstore(at, before)
                }
                mstore(at, v)
            }
        }
    }
}
