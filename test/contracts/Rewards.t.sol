// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Rewards} from "../../contracts/libraries/Rewards.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice Exposes the internal library function as an external call so tests can observe reverts.
contract RewardsHarness {
    function split(
        uint256 fee,
        uint256 consensus,
        uint256[] memory scores,
        bool[] memory revealed,
        Rewards.Params memory p
    ) external pure returns (Rewards.Split memory) {
        return Rewards.split(fee, consensus, scores, revealed, p);
    }
}

contract RewardsTest is TestBase {
    RewardsHarness internal harness;

    function setUp() public {
        harness = new RewardsHarness();
    }

    function _defaults() internal pure returns (Rewards.Params memory) {
        return Rewards.Params({validatorPoolBps: 2_000, providerFloor: 3_000, tolerance: 1_500, refundBps: 5_000});
    }

    function _sum(uint256[] memory xs) internal pure returns (uint256 s) {
        for (uint256 i; i < xs.length; ++i) s += xs[i];
    }

    function _total(Rewards.Split memory s) internal pure returns (uint256) {
        return s.provider + s.requester + s.treasury + s.dust + _sum(s.validators);
    }

    function testWorkedExample() public view {
        // fee 1000: V = 200, P = 800. c = 6500 -> provider = 800 * 3500 / 7000 = 400; unpaid 400 -> requester 200,
        // treasury 200. Scores 6500 (w 1500), 7000 (w 1000), 9000 (outside tolerance), 6000 unrevealed.
        uint256[] memory scores = new uint256[](4);
        (scores[0], scores[1], scores[2], scores[3]) = (6500, 7000, 9000, 6000);
        bool[] memory revealed = new bool[](4);
        (revealed[0], revealed[1], revealed[2], revealed[3]) = (true, true, true, false);
        Rewards.Split memory s = harness.split(1000, 6500, scores, revealed, _defaults());
        assertEq(s.provider, 400, "provider");
        assertEq(s.requester, 200, "requester");
        assertEq(s.treasury, 200, "treasury");
        assertEq(s.validators[0], 120, "closest: 200 * 1500 / 2500");
        assertEq(s.validators[1], 80, "200 * 1000 / 2500");
        assertEq(s.validators[2], 0, "outside tolerance");
        assertEq(s.validators[3], 0, "non-revealer");
        assertEq(s.dust, 0, "no dust");
    }

    function testBelowFloorPaysNothingAndPerfectPaysAll() public view {
        uint256[] memory scores = new uint256[](1);
        bool[] memory revealed = new bool[](1);
        revealed[0] = true;
        scores[0] = 2999;
        Rewards.Split memory s = harness.split(10_000, 2999, scores, revealed, _defaults());
        assertEq(s.provider, 0, "below floor");
        assertEq(s.requester, 4000, "half of P");
        assertEq(s.treasury, 4000, "other half of P");
        assertEq(s.validators[0], 2000, "sole validator takes V");
        scores[0] = 10_000;
        s = harness.split(10_000, 10_000, scores, revealed, _defaults());
        assertEq(s.provider, 8000, "perfect score earns all of P");
        assertEq(s.requester + s.treasury, 0, "nothing unpaid");
    }

    function testNobodyEarnsPoolGoesToTreasury() public view {
        uint256[] memory scores = new uint256[](3);
        (scores[0], scores[1], scores[2]) = (0, 10_000, 5000);
        bool[] memory revealed = new bool[](3);
        (revealed[0], revealed[1]) = (true, true); // third did not reveal
        Rewards.Split memory s = harness.split(1001, 5000, scores, revealed, _defaults());
        assertEq(_sum(s.validators), 0, "no validator paid");
        assertEq(s.dust, 0, "no dust");
        // V = 200 (1001 * 0.2 = 200.2 rounded down), P = 801, provider = 801 * 2000 / 7000 = 228 (rounded down)
        assertEq(s.provider, 228, "provider");
        assertEq(s.requester, 286, "(801 - 228) / 2 rounded down");
        assertEq(s.treasury, 287 + 200, "rest of unpaid + whole V");
        assertEq(_total(s), 1001, "conservation");
    }

    function testDustGoesToTreasuryBucket() public view {
        // fee 10: V = 2, three equal closeness weights -> each 0, dust 2 (< 3 earners).
        uint256[] memory scores = new uint256[](3);
        (scores[0], scores[1], scores[2]) = (5000, 5000, 5000);
        bool[] memory revealed = new bool[](3);
        (revealed[0], revealed[1], revealed[2]) = (true, true, true);
        Rewards.Split memory s = harness.split(10, 5000, scores, revealed, _defaults());
        assertEq(s.dust, 2, "dust");
        assertEq(_total(s), 10, "conservation");
    }

    function testErrors() public view {
        uint256[] memory scores = new uint256[](2);
        bool[] memory revealed = new bool[](1);
        (bool ok, bytes memory ret) = address(harness).staticcall(
            abi.encodeCall(RewardsHarness.split, (1, 0, scores, revealed, _defaults()))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.LengthMismatch.selector, 2, 1));

        revealed = new bool[](2);
        (ok, ret) = address(harness).staticcall(
            abi.encodeCall(RewardsHarness.split, (1, 10_001, scores, revealed, _defaults()))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.ConsensusOutOfRange.selector, 10_001));

        uint256 tooBig = Rewards.MAX_FEE + 1;
        (ok, ret) = address(harness).staticcall(
            abi.encodeCall(RewardsHarness.split, (tooBig, 0, scores, revealed, _defaults()))
        );
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.FeeTooLarge.selector, tooBig));

        Rewards.Params memory bad = _defaults();
        bad.providerFloor = 10_000; // would divide by zero
        (ok, ret) = address(harness).staticcall(abi.encodeCall(RewardsHarness.split, (1, 0, scores, revealed, bad)));
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.InvalidParams.selector));
        bad = _defaults();
        bad.validatorPoolBps = 10_001;
        (ok, ret) = address(harness).staticcall(abi.encodeCall(RewardsHarness.split, (1, 0, scores, revealed, bad)));
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.InvalidParams.selector));
        bad = _defaults();
        bad.refundBps = 10_001;
        (ok, ret) = address(harness).staticcall(abi.encodeCall(RewardsHarness.split, (1, 0, scores, revealed, bad)));
        expectRevertData(ok, ret, abi.encodeWithSelector(Rewards.InvalidParams.selector));
    }

    /// @dev Random committee of 1..32 with a random reveal mask and scores near or far from the consensus.
    function _randomCommittee(uint256 seed, uint256 consensus)
        internal
        pure
        returns (uint256[] memory scores, bool[] memory revealed)
    {
        uint256 k = bound(rand(seed, 0), 1, 32);
        scores = new uint256[](k);
        revealed = new bool[](k);
        uint256 mask = rand(seed, 1);
        uint256 spread = bound(rand(seed, 2), 0, 10_000);
        for (uint256 i; i < k; ++i) {
            revealed[i] = (mask >> i) & 1 == 1 || (mask >> 200) & 1 == 1; // sometimes everybody reveals
            uint256 offset = bound(rand(seed, 10 + i), 0, spread);
            scores[i] = rand(seed, 50 + i) % 2 == 0 ? (consensus + offset > 10_000 ? 10_000 : consensus + offset)
                : (consensus > offset ? consensus - offset : 0);
        }
    }

    function _randomParams(uint256 seed) internal pure returns (Rewards.Params memory p) {
        p.validatorPoolBps = uint16(bound(rand(seed, 3), 0, 10_000));
        p.providerFloor = uint16(bound(rand(seed, 4), 0, 9_999));
        p.tolerance = uint16(bound(rand(seed, 5), 0, type(uint16).max));
        p.refundBps = uint16(bound(rand(seed, 6), 0, 10_000));
    }

    function _checkConservation(uint256 fee, uint256 consensus, uint256 seed, Rewards.Params memory p) internal view {
        (uint256[] memory scores, bool[] memory revealed) = _randomCommittee(seed, consensus);
        Rewards.Split memory s = harness.split(fee, consensus, scores, revealed, p);
        assertEq(_total(s), fee, "provider + requester + treasury + dust + validators == fee");
        uint256 earners;
        for (uint256 i; i < scores.length; ++i) {
            uint256 d = scores[i] > consensus ? scores[i] - consensus : consensus - scores[i];
            bool earns = revealed[i] && d < p.tolerance;
            if (earns) ++earners;
            else assertEq(s.validators[i], 0, "non-earner paid");
        }
        if (earners == 0) assertEq(s.dust, 0, "dust without earners");
        else assertLt(s.dust, earners, "dust < number of earners");
        assertLe(s.dust, scores.length, "dust < committee size");
        uint256 pool = (fee * p.validatorPoolBps) / 10_000;
        assertLe(s.provider, fee - pool, "provider within P");
    }

    function testFuzzConservationDefaults(uint256 fee, uint256 consensus, uint256 seed) public view {
        fee = bound(fee, 0, 1e30);
        consensus = bound(consensus, 0, 10_000);
        _checkConservation(fee, consensus, seed, _defaults());
    }

    function testFuzzConservationAnyParamsAnyFee(uint256 fee, uint256 consensus, uint256 seed) public view {
        fee = rand(seed, 7) % 4 == 0 ? bound(fee, 0, Rewards.MAX_FEE) : bound(fee, 0, 1e30);
        consensus = bound(consensus, 0, 10_000);
        _checkConservation(fee, consensus, seed, _randomParams(seed));
    }

    /// hardhat-config: default.fuzz.runs = 2000
    /// @dev Anti-collusion: lowering the consensus from c2 to c1 returns to the requester at most `refundBps` of what
    ///      the provider loses (+1 for rounding), so a requester bribing validators to under-score recovers less
    ///      than the provider loses; the treasury always receives the rest.
    function testFuzzUnderScoringIsNotFreeForRequester(uint256 fee, uint256 c1, uint256 c2, uint256 seed)
        public
        view
    {
        fee = bound(fee, 0, 1e30);
        c1 = bound(c1, 0, 10_000);
        c2 = bound(c2, c1, 10_000);
        Rewards.Params memory p = _randomParams(seed);
        uint256[] memory scores = new uint256[](1);
        bool[] memory revealed = new bool[](1);
        Rewards.Split memory low = harness.split(fee, c1, scores, revealed, p);
        Rewards.Split memory high = harness.split(fee, c2, scores, revealed, p);
        assertLe(low.provider, high.provider, "provider pay non-decreasing in consensus");
        uint256 providerLoss = high.provider - low.provider;
        assertLe(high.requester, low.requester, "refund non-increasing in consensus");
        uint256 requesterGain = low.requester - high.requester;
        assertLe(requesterGain, (providerLoss * p.refundBps) / 10_000 + 1, "requester gain <= refundBps * loss");
        assertLe(high.treasury, low.treasury, "treasury takes the rest");
    }

    /// hardhat-config: default.fuzz.runs = 2000
    function testFuzzCloserValidatorNeverEarnsLess(uint256 seed, uint256 consensus) public view {
        consensus = bound(consensus, 0, 10_000);
        (uint256[] memory scores, bool[] memory revealed) = _randomCommittee(seed, consensus);
        Rewards.Split memory s = harness.split(1e24, consensus, scores, revealed, _defaults());
        for (uint256 i; i < scores.length; ++i) {
            for (uint256 j; j < scores.length; ++j) {
                if (!revealed[i] || !revealed[j]) continue;
                uint256 di = scores[i] > consensus ? scores[i] - consensus : consensus - scores[i];
                uint256 dj = scores[j] > consensus ? scores[j] - consensus : consensus - scores[j];
                if (di <= dj) assertLe(s.validators[j], s.validators[i], "closer earns at least as much");
            }
        }
    }
}
