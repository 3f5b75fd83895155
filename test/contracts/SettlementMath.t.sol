// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SettlementMath} from "../../contracts/SettlementMath.sol";
import {Consensus} from "../../contracts/libraries/Consensus.sol";
import {Rewards} from "../../contracts/libraries/Rewards.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice Fuzz of the deployed settlement calculator exactly as the market calls it: a committee of 1..32 with a
///         random reveal mask, every consensus rule, random in-bounds parameters.
contract SettlementMathTest is TestBase {
    SettlementMath internal math;

    function setUp() public {
        math = new SettlementMath();
    }

    function _round(uint256 seed, uint256 fee) internal pure returns (SettlementMath.Round memory r) {
        uint256 k = bound(rand(seed, 0), 1, 32);
        r.rule = uint8(rand(seed, 1) % 3);
        r.trimBps = uint16(bound(rand(seed, 2), 0, 4_000));
        r.fee = fee;
        r.scores = new uint256[](k);
        r.revealed = new bool[](k);
        r.weights = new uint256[](r.rule == uint8(Consensus.Rule.WeightedMedian) ? k : 0);
        uint256 mask = rand(seed, 3) | (1 << (rand(seed, 4) % k)); // at least one member revealed
        for (uint256 i; i < k; ++i) {
            r.scores[i] = rand(seed, 10 + i) % 10_001;
            r.revealed[i] = (mask >> i) & 1 == 1;
            if (r.weights.length != 0) r.weights[i] = bound(rand(seed, 50 + i), 1, 1e27);
        }
        r.rewards = Rewards.Params({
            validatorPoolBps: uint16(bound(rand(seed, 5), 100, 5_000)),
            providerFloor: uint16(bound(rand(seed, 6), 0, 9_000)),
            tolerance: uint16(bound(rand(seed, 7), 100, 10_000)),
            refundBps: uint16(bound(rand(seed, 8), 0, 5_000))
        });
    }

    /// @dev Consensus lies within [min, max] of the REVEALED scores (unrevealed slots hold stale zeros), and the
    ///      split conserves the fee exactly with dust below the number of paid members.
    function testFuzzSettleConsensusInRevealedRangeAndConserves(uint256 seed, uint256 fee) public view {
        SettlementMath.Round memory r = _round(seed, bound(fee, 1, type(uint96).max));
        (uint256 consensus, Rewards.Split memory s) = math.settle(r);
        uint256 lo = type(uint256).max;
        uint256 hi;
        uint256 sum;
        for (uint256 i; i < r.scores.length; ++i) {
            sum += s.validators[i];
            if (!r.revealed[i]) {
                assertEq(s.validators[i], 0, "non-revealer paid");
                continue;
            }
            if (r.scores[i] < lo) lo = r.scores[i];
            if (r.scores[i] > hi) hi = r.scores[i];
        }
        assertLe(lo, consensus, "consensus >= min revealed");
        assertLe(consensus, hi, "consensus <= max revealed");
        assertEq(s.provider + s.requester + s.treasury + s.dust + sum, r.fee, "fee conserved");
        // Members inside the tolerance whose share rounds down to 0 still count as earners, so dust can be
        // non-zero with nothing paid; it stays below the number of earners, hence below k.
        assertLt(s.dust, r.scores.length, "dust < committee size");
    }
}
