// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "../interfaces/ITaskMarket.sol";

/// @title MarketParams
/// @notice Defaults and hard-coded bounds of the task market's governance parameters, and the task lifetime they
/// imply. Governance can move a parameter only inside its bounds; docs/PROTOCOL.md gives the reason for each.
library MarketParams {
    /// @notice Largest committee (the reward split and consensus sort are O(k^2) in memory).
    uint256 internal constant MAX_COMMITTEE = 32;
    /// @notice Largest window, in blocks (about 7 days at 12 s per block).
    uint256 internal constant MAX_WINDOW = 50_400;
    /// @notice Largest minimum fee (10^9 tokens of 18 decimals): governance cannot price every requester out.
    uint256 internal constant MAX_MIN_FEE = 1e27;
    /// @notice Blocks a provider draw stays provable: the EVM keeps the hashes of the last 256 blocks only.
    uint256 internal constant DRAW_HORIZON = 256;
    /// @notice Largest answer window: the deadline of a provider attempt lies at least 64 blocks before its draw
    /// becomes unprovable, so an honest provider always answers, and a keeper can reassign a late one, while the
    /// seed hash still exists (docs/PROTOCOL.md, "Deferred provider draw").
    uint256 internal constant MAX_ANSWER_WINDOW = 192;
    /// @notice Largest prompt or output carried in calldata, in bytes.
    uint256 internal constant MAX_PAYLOAD_BYTES = 131_072;

    /// @notice Thrown when parameter `name` has the out-of-bounds `value`.
    error ParameterOutOfBounds(string name, uint256 value);

    /// @notice The parameters a fresh deployment starts with.
    function defaults() internal pure returns (ITaskMarket.Params memory p) {
        p.committeeSize = 5;
        p.maxRounds = 3;
        p.maxReassignments = 2;
        p.consensusRule = 0; // median
        p.quorumBps = 6_000; // 3 of 5
        p.trimBps = 2_000;
        p.validatorPoolBps = 2_000;
        p.providerFloor = 3_000;
        p.tolerance = 1_500;
        p.refundBps = 2_500; // docs/ECONOMICS.md: halves the requester-collusion gain of the refund
        p.nonRevealPenaltyBps = 30_000; // 3x the seat's share (docs/ECONOMICS.md: downtime bound)
        p.providerTimeoutPenaltyBps = 10_000; // 1x the provider pool
        p.equivocationSlashBps = 5_000;
        p.reporterBountyBps = 1_000;
        p.answerWindow = 20;
        p.commitWindow = 10;
        p.revealWindow = 10;
        p.drawWindow = 50;
        p.maxPromptBytes = 8_192;
        p.maxOutputBytes = 16_384;
        p.minFee = 1e16; // 0.01 token of 18 decimals; size it per chain (docs/ECONOMICS.md)
    }

    /// @notice Reverts ParameterOutOfBounds naming the first parameter outside its bounds.
    function validate(ITaskMarket.Params memory p) internal pure {
        _check("committeeSize", p.committeeSize, 1, MAX_COMMITTEE);
        _check("maxRounds", p.maxRounds, 1, 8);
        _check("maxReassignments", p.maxReassignments, 0, 8);
        _check("consensusRule", p.consensusRule, 0, 2);
        _check("quorumBps", p.quorumBps, 5_000, 10_000); // at least half, so two disjoint quorums cannot disagree
        _check("trimBps", p.trimBps, 0, 4_000); // a trimmed mean that keeps less than 20% is a noisy median
        _check("validatorPoolBps", p.validatorPoolBps, 100, 5_000);
        _check("providerFloor", p.providerFloor, 0, 9_000);
        _check("tolerance", p.tolerance, 100, 10_000);
        _check("refundBps", p.refundBps, 0, 5_000); // see docs/PROTOCOL.md: requester collusion
        // Withholding must cost at least the seat's share (so it never beats revealing), at most 100x of it.
        _check("nonRevealPenaltyBps", p.nonRevealPenaltyBps, 10_000, 1_000_000);
        _check("providerTimeoutPenaltyBps", p.providerTimeoutPenaltyBps, 1_000, 100_000);
        _check("equivocationSlashBps", p.equivocationSlashBps, 1_000, 10_000);
        _check("reporterBountyBps", p.reporterBountyBps, 0, 5_000); // self-reporting must stay a loss
        _check("answerWindow", p.answerWindow, 1, MAX_ANSWER_WINDOW);
        _check("commitWindow", p.commitWindow, 1, MAX_WINDOW);
        _check("revealWindow", p.revealWindow, 1, MAX_WINDOW);
        _check("drawWindow", p.drawWindow, 1, MAX_WINDOW);
        _check("maxPromptBytes", p.maxPromptBytes, 1, MAX_PAYLOAD_BYTES);
        _check("maxOutputBytes", p.maxOutputBytes, 1, MAX_PAYLOAD_BYTES);
        _check("minFee", p.minFee, 1, MAX_MIN_FEE);
    }

    /// @notice Blocks the unstake cooldown must exceed. The task life when every step happens as soon as it can:
    /// each provider attempt takes answerWindow + 2 blocks (the seed block, the window, then the reassign call);
    /// each round takes up to drawWindow + 2 blocks until a committee is drawn (waiting for a pool that is too
    /// small), commitWindow + revealWindow blocks of phases and 1 block for the finalize call. Never less than
    /// DRAW_HORIZON + 1: a drawn provider can be held to its draw (locked and slashed) for as long as the draw is
    /// provable, even when nobody touches the task at once, so it must not be able to withdraw before that.
    function maxTaskLifetime(ITaskMarket.Params memory p) internal pure returns (uint256 lifetime) {
        lifetime = (uint256(p.maxReassignments) + 1) * (uint256(p.answerWindow) + 2)
            + uint256(p.maxRounds) * (uint256(p.drawWindow) + uint256(p.commitWindow) + uint256(p.revealWindow) + 3);
        if (lifetime <= DRAW_HORIZON) lifetime = DRAW_HORIZON + 1;
    }

    /// @notice The two storage words of `p` exactly as Solidity lays out a `Params` in storage (fields packed in
    /// declaration order from the low-order end: word 0 from committeeSize to answerWindow, word 1 from
    /// commitWindow to minFee, each word full). The market writes these words instead of the struct so that the
    /// packing code lives here, not in its 24 KiB (test/contracts/ParamsPacking.t.sol checks the layout against
    /// the compiler's, field by field).
    function pack(ITaskMarket.Params memory p) internal pure returns (uint256 word0, uint256 word1) {
        word0 = uint256(p.committeeSize) | uint256(p.maxRounds) << 8 | uint256(p.maxReassignments) << 16;
        word0 |= uint256(p.consensusRule) << 24 | uint256(p.quorumBps) << 32 | uint256(p.trimBps) << 48;
        word0 |= uint256(p.validatorPoolBps) << 64 | uint256(p.providerFloor) << 80 | uint256(p.tolerance) << 96;
        word0 |= uint256(p.refundBps) << 112 | uint256(p.nonRevealPenaltyBps) << 128;
        word0 |= uint256(p.providerTimeoutPenaltyBps) << 160 | uint256(p.equivocationSlashBps) << 192;
        word0 |= uint256(p.reporterBountyBps) << 208 | uint256(p.answerWindow) << 224;
        word1 = uint256(p.commitWindow) | uint256(p.revealWindow) << 32 | uint256(p.drawWindow) << 64;
        word1 |= uint256(p.maxPromptBytes) << 96 | uint256(p.maxOutputBytes) << 128 | uint256(p.minFee) << 160;
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value);
    }
}
