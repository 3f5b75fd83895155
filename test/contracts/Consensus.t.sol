// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Consensus} from "../../contracts/libraries/Consensus.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice Exposes the internal library function as an external call so tests can observe reverts.
contract ConsensusHarness {
    function aggregate(Consensus.Rule rule, uint256[] memory scores, uint256[] memory weights, uint256 trimBps)
        external
        pure
        returns (uint256)
    {
        return Consensus.aggregate(rule, scores, weights, trimBps);
    }
}

contract ConsensusTest is TestBase {
    ConsensusHarness internal harness;

    function setUp() public {
        harness = new ConsensusHarness();
    }

    function _arr(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory x) {
        x = new uint256[](3);
        (x[0], x[1], x[2]) = (a, b, c);
    }

    function _arr(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory x) {
        x = new uint256[](4);
        (x[0], x[1], x[2], x[3]) = (a, b, c, d);
    }

    function _ones(uint256 n) internal pure returns (uint256[] memory w) {
        w = new uint256[](n);
        for (uint256 i; i < n; ++i) w[i] = 1;
    }

    function testMedianOdd() public view {
        assertEq(harness.aggregate(Consensus.Rule.Median, _arr(9000, 100, 5000), _ones(3), 0), 5000, "median odd");
    }

    function testMedianEvenRoundsDown() public view {
        // (5000 + 5001) / 2 = 5000.5 -> 5000
        assertEq(harness.aggregate(Consensus.Rule.Median, _arr(5001, 0, 10_000, 5000), _ones(4), 0), 5000, "even");
    }

    function testMedianSingle() public view {
        uint256[] memory one = new uint256[](1);
        one[0] = 7777;
        assertEq(harness.aggregate(Consensus.Rule.Median, one, _ones(1), 0), 7777, "single");
    }

    function testMedianHugeValuesDoNotOverflow() public view {
        uint256 m = type(uint256).max;
        assertEq(harness.aggregate(Consensus.Rule.Median, _arr(m, m - 1, m, m - 1), _ones(4), 0), m - 1, "huge");
    }

    function testTrimmedMeanDropsOutliers() public view {
        uint256[] memory s = _arr(0, 6000, 6200, 10_000);
        // n = 4, trimBps = 2500 -> t = 1 from each end -> mean(6000, 6200) = 6100
        assertEq(harness.aggregate(Consensus.Rule.TrimmedMean, s, _ones(4), 2500), 6100, "trimmed");
        // trimBps = 0 -> plain mean (0 + 6000 + 6200 + 10000) / 4 = 5550
        assertEq(harness.aggregate(Consensus.Rule.TrimmedMean, s, _ones(4), 0), 5550, "mean");
        // trimBps = 10_000 would drop everything: clamped to keep the middle two -> 6100
        assertEq(harness.aggregate(Consensus.Rule.TrimmedMean, s, _ones(4), 10_000), 6100, "clamped");
    }

    function testTrimmedMeanRoundsDown() public view {
        // (1 + 2 + 2) / 3 = 1.67 -> 1
        assertEq(harness.aggregate(Consensus.Rule.TrimmedMean, _arr(2, 1, 2), _ones(3), 0), 1, "rounded down");
    }

    function testWeightedMedian() public view {
        uint256[] memory s = _arr(1000, 9000, 5000);
        uint256[] memory w = _arr(10, 1, 1);
        assertEq(harness.aggregate(Consensus.Rule.WeightedMedian, s, w, 0), 1000, "heavy low");
        w = _arr(1, 10, 1);
        assertEq(harness.aggregate(Consensus.Rule.WeightedMedian, s, w, 0), 9000, "heavy high");
        // Exactly half the weight at or below 1000 -> lower weighted median is 1000.
        w = _arr(2, 1, 1);
        assertEq(harness.aggregate(Consensus.Rule.WeightedMedian, s, w, 0), 1000, "lower median at tie");
        // Zero-weight scores never decide.
        w = _arr(0, 1, 1);
        assertEq(harness.aggregate(Consensus.Rule.WeightedMedian, s, w, 0), 5000, "zero weight ignored");
    }

    function testWeightedMedianEqualWeightsIsLowerMedian() public view {
        uint256[] memory s = _arr(400, 300, 200, 100);
        assertEq(harness.aggregate(Consensus.Rule.WeightedMedian, s, _ones(4), 0), 200, "lower median");
    }

    function testErrors() public view {
        uint256[] memory none = new uint256[](0);
        (bool ok, bytes memory ret) = address(harness).staticcall(
            abi.encodeCall(ConsensusHarness.aggregate, (Consensus.Rule.Median, none, none, 0))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Consensus.NoScores.selector));

        (ok, ret) = address(harness).staticcall(
            abi.encodeCall(ConsensusHarness.aggregate, (Consensus.Rule.Median, _arr(1, 2, 3), _ones(2), 0))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Consensus.LengthMismatch.selector, 3, 2));

        (ok, ret) = address(harness).staticcall(
            abi.encodeCall(ConsensusHarness.aggregate, (Consensus.Rule.TrimmedMean, _arr(1, 2, 3), _ones(3), 10_001))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Consensus.InvalidTrimBps.selector, 10_001));

        (ok, ret) = address(harness).staticcall(
            abi.encodeCall(ConsensusHarness.aggregate, (Consensus.Rule.WeightedMedian, _arr(1, 2, 3), _arr(0, 0, 0), 0))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Consensus.ZeroTotalWeight.selector));
    }

    /// @dev Random committee: 1..32 scores on the 0..10_000 scale (clustered or spread), weights up to 1e24.
    function _randomInput(uint256 seed)
        internal
        pure
        returns (uint256[] memory scores, uint256[] memory weights, uint256 minScore, uint256 maxScore)
    {
        uint256 n = bound(seed, 1, 32);
        scores = new uint256[](n);
        weights = new uint256[](n);
        uint256 spread = bound(rand(seed, 999), 0, 10_000);
        uint256 centre = bound(rand(seed, 998), 0, 10_000 - spread);
        minScore = type(uint256).max;
        for (uint256 i; i < n; ++i) {
            uint256 s = centre + bound(rand(seed, i), 0, spread);
            scores[i] = s;
            weights[i] = bound(rand(seed, 100 + i), 1, 1e24);
            if (s < minScore) minScore = s;
            if (s > maxScore) maxScore = s;
        }
    }

    function testFuzzAllRulesWithinRangeAndInputsUntouched(uint256 seed, uint256 trimBps) public view {
        (uint256[] memory s, uint256[] memory w, uint256 lo, uint256 hi) = _randomInput(seed);
        trimBps = bound(trimBps, 0, 10_000);
        bytes32 before = keccak256(abi.encode(s, w));
        for (uint8 r; r < 3; ++r) {
            uint256 c = harness.aggregate(Consensus.Rule(r), s, w, trimBps);
            assertLe(lo, c, "consensus >= min");
            assertLe(c, hi, "consensus <= max");
        }
        assertTrue(keccak256(abi.encode(s, w)) == before, "inputs not modified");
    }

    /// @dev The median and the trimmed mean equal the definitions over a reference sort written here (selection
    ///      sort, plain checked Solidity), for any uint256 values, duplicates included: the library's sort (in
    ///      assembly, for gas) orders exactly as a straightforward one.
    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzSortedRulesMatchAReferenceSort(uint256 seed, uint256 trimBps) public view {
        uint256 n = bound(seed, 1, 32);
        trimBps = bound(trimBps, 0, 10_000);
        uint256[] memory s = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            // Full range, small range (duplicates) or the ends of the range, by draw.
            uint256 kind = rand(seed, 300 + i) % 3;
            uint256 v = rand(seed, 200 + i);
            s[i] = kind == 0 ? v : kind == 1 ? v % 4 : type(uint256).max - (v % 3);
        }
        uint256[] memory sorted = new uint256[](n);
        for (uint256 i; i < n; ++i) sorted[i] = s[i];
        for (uint256 i; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                if (sorted[j] < sorted[i]) (sorted[i], sorted[j]) = (sorted[j], sorted[i]);
            }
        }
        uint256 median = n % 2 == 1 ? sorted[n / 2] : sorted[n / 2 - 1] + (sorted[n / 2] - sorted[n / 2 - 1]) / 2;
        assertEq(harness.aggregate(Consensus.Rule.Median, s, _ones(n), 0), median, "median");
        if (s.length != 0 && sorted[n - 1] > type(uint256).max / n) return; // the mean's sum would overflow
        uint256 t = (n * trimBps) / 10_000;
        if (2 * t >= n) t = (n - 1) / 2;
        uint256 sum;
        for (uint256 i = t; i < n - t; ++i) sum += sorted[i];
        assertEq(harness.aggregate(Consensus.Rule.TrimmedMean, s, _ones(n), trimBps), sum / (n - 2 * t), "trimmed");
    }

    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzMedianDefinition(uint256 seed) public view {
        (uint256[] memory s, uint256[] memory w,,) = _randomInput(seed);
        uint256 n = s.length;
        uint256 c = harness.aggregate(Consensus.Rule.Median, s, w, 0);
        uint256 below;
        uint256 above;
        for (uint256 i; i < n; ++i) {
            if (s[i] < c) ++below;
            if (s[i] > c) ++above;
        }
        // At most half the scores lie strictly on either side of the median.
        assertLe(below * 2, n, "below");
        assertLe(above * 2, n, "above");
    }

    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzWeightedMedianDefinition(uint256 seed) public view {
        (uint256[] memory s, uint256[] memory w,,) = _randomInput(seed);
        uint256 c = harness.aggregate(Consensus.Rule.WeightedMedian, s, w, 0);
        uint256 total;
        uint256 atOrBelow;
        uint256 strictlyBelow;
        for (uint256 i; i < s.length; ++i) {
            total += w[i];
            if (s[i] <= c) atOrBelow += w[i];
            if (s[i] < c) strictlyBelow += w[i];
        }
        assertTrue(atOrBelow * 2 >= total, "reaches half");
        assertTrue(strictlyBelow * 2 < total, "smallest such score");
    }

    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzPermutationInvariant(uint256 seed, uint256 trimBps) public view {
        (uint256[] memory s, uint256[] memory w,,) = _randomInput(seed);
        trimBps = bound(trimBps, 0, 10_000);
        uint256 n = s.length;
        uint256[] memory s2 = new uint256[](n);
        uint256[] memory w2 = new uint256[](n);
        // Reverse and rotate: a different order of the same (score, weight) pairs.
        uint256 shift = rand(seed, 7777) % n;
        for (uint256 i; i < n; ++i) {
            uint256 j = (n - 1 - i + shift) % n;
            s2[j] = s[i];
            w2[j] = w[i];
        }
        for (uint8 r; r < 3; ++r) {
            assertEq(
                harness.aggregate(Consensus.Rule(r), s, w, trimBps),
                harness.aggregate(Consensus.Rule(r), s2, w2, trimBps),
                "order-independent"
            );
        }
    }

    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzMinorityCannotMoveMedianOutsideHonestRange(uint256 seed, uint256 attackScore) public view {
        // 5 honest scores in a band, 2 colluders at any score: the median stays inside the honest band.
        uint256 lo = type(uint256).max;
        uint256 hi;
        uint256[] memory s = new uint256[](7);
        for (uint256 i; i < 5; ++i) {
            s[i] = bound(rand(seed, i), 6000, 7000);
            if (s[i] < lo) lo = s[i];
            if (s[i] > hi) hi = s[i];
        }
        s[5] = bound(attackScore, 0, 10_000);
        s[6] = bound(rand(seed, 6), 0, 10_000);
        uint256 c = harness.aggregate(Consensus.Rule.Median, s, _ones(7), 0);
        assertLe(lo, c, "honest min");
        assertLe(c, hi, "honest max");
    }
}
