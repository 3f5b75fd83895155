// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RelayBatcher} from "../../contracts/RelayBatcher.sol";
import {Vm} from "./helpers/TestBase.sol";
import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {RoundsFixture} from "./helpers/RoundsFixture.sol";

/// @notice The round calls of docs/design/ROUNDS.md on the real market, registry and SettlementMath: commitReport,
///         revealReport (which settles), the per-member fallbacks and finalize. Every revert with its custom error,
///         the attacks the design lists, and conservation of the fee and the slashes to the wei.
contract RoundsTest is RoundsFixture {
    // ------------------------------------------------------------------ happy paths

    function testReportsCommitRevealAndSettleInTwoCalls() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        assertTrue(market.roundOf(id) == _roundHash(state), "round hash = hash of the report's state");
        assertEq(market.task(id).committedMask, ALL, "every seat committed");
        assertEq(market.task(id).committedCount, K, "committed count from the mask");

        uint256 credits = _credits(members);
        market.revealReport(state, _reveal(id, 0, members, ALL, scores));
        ITaskMarket.TaskView memory t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Finalized, "settled by the reveal report");
        assertEq(t.consensus, 6_020, "median of 6000..6040");
        assertEq(_credits(members) - credits, FEE, "the fee, to the wei, credited once");
        for (uint256 i; i < K; ++i) assertEq(registry.stakeInfo(members[i]).locks, 0, "member released");
        assertEq(registry.stakeInfo(PROVIDER).locks, 0, "provider released");
        assertEq(token.balanceOf(address(market)), _credits(members), "market holds exactly the credits");
    }

    /// @notice The aggregator leaves member 4 out of the commit report: it commits alone against the report's state
    ///         and reveals alone; the reveal report of the other four then settles with five votes.
    function testMemberLeftOutOfTheReportsCommitsAndRevealsAlone() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        scores[4] = 9_000; // dropping its vote would move the median (6015 over the other four)
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL ^ (1 << 4), scores);

        // With the draw's state (as before the report) its commit is refused: the round hash moved on.
        ITaskMarket.RoundState memory drawState = _drawState(members);
        bytes32 c4 = _commitment(id, 0, members[4], scores[4]);
        _expectRevert(
            members[4],
            abi.encodeCall(ITaskMarket.commit, (id, drawState, 4, c4)),
            abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id)
        );
        vm.prank(members[4]);
        market.commit(id, state, 4, c4);
        assertEq(market.task(id).committedMask, ALL, "all five committed: reveals open before commitEnd");

        ITaskMarket.RevealReport memory four = _reveal(id, 0, members, ALL ^ (1 << 4), scores);
        vm.prank(members[4]);
        market.reveal(id, state, 4, scores[4], _salt(id, 0, members[4]));
        assertEq(market.task(id).revealedCount, 1, "one seat revealed alone");
        market.revealReport(state, four);
        assertEq(market.task(id).consensus, 6_020, "median over five: 6000, 6010, 6020, 6030, 9000");
    }

    /// @notice No report at all: every member commits and reveals alone; finalize settles as soon as every
    ///         committed seat is open.
    function testFallbackOnlyRoundSettlesWithFinalize() public {
        (uint256 id, address[] memory members) = _drawnTask();
        ITaskMarket.RoundState memory state = _drawState(members);
        uint256[] memory scores = _scores(5_000);
        for (uint256 i; i < K; ++i) {
            bytes32 c = _commitment(id, 0, members[i], scores[i]);
            vm.prank(members[i]);
            market.commit(id, state, i, c);
        }
        for (uint256 i; i < K - 1; ++i) {
            vm.prank(members[i]);
            market.reveal(id, state, i, scores[i], _salt(id, 0, members[i]));
        }
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.finalize, (id, state)),
            abi.encodeWithSelector(ITaskMarket.FinalizeTooEarly.selector, id, market.task(id).revealEnd)
        );
        vm.prank(members[K - 1]);
        market.reveal(id, state, K - 1, scores[K - 1], _salt(id, 0, members[K - 1]));
        uint256 credits = _credits(members);
        market.finalize(id, state);
        assertTrue(market.task(id).status == ITaskMarket.Status.Finalized, "finalized early: all open");
        assertEq(_credits(members) - credits, FEE, "the fee, to the wei");
    }

    /// @notice A seat the commit report never committed (its member stayed silent) does not hold the others back
    ///         after commitEnd: the reveal report of the four settles at once and the fifth is slashed.
    function testNonCommitterIsSlashedAndDoesNotDelaySettlement() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(7_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL ^ 1, scores);
        ITaskMarket.RevealReport memory r = _reveal(id, 0, members, ALL ^ 1, scores);
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.revealReport, (state, r)),
            abi.encodeWithSelector(ITaskMarket.RevealTooEarly.selector, id, market.task(id).commitEnd + 1)
        );
        vm.roll(market.task(id).commitEnd + 1);
        uint256 stakeBefore = registry.stakeInfo(members[0]).amount;
        uint256 credits = _credits(members);
        market.revealReport(state, r);
        uint256 slashed = stakeBefore - registry.stakeInfo(members[0]).amount;
        assertEq(slashed, _nonRevealPenalty(), "exactly its seat's penalty");
        assertEq(_credits(members) - credits, FEE + slashed, "fee + slash credited, to the wei");
    }

    /// @notice The silent seat: member 3 commits and never opens. The other four's openings land in one partial
    ///         report (stored as if each had revealed alone, nothing settled), none of them reveals alone, and after
    ///         revealEnd finalize settles from the stored openings and slashes member 3 exactly one penalty.
    function testPartialReportStoresOpeningsAndFinalizeSlashesTheSilentSeat() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(4_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        uint256 four = ALL ^ (1 << 3);
        ITaskMarket.RevealReport memory r = _reveal(id, 0, members, four, scores);
        vm.recordLogs();
        market.revealReport(state, r);
        _assertOnlyRevealReported(four, 4);
        ITaskMarket.TaskView memory t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Committee, "a partial report does not settle");
        assertEq(t.revealedCount, 4, "its four openings are stored");
        // Stored as if revealed alone: a member of the report cannot reveal again.
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.reveal, (id, state, 0, scores[0], _salt(id, 0, members[0]))),
            abi.encodeWithSelector(ITaskMarket.AlreadyRevealed.selector, id, members[0])
        );
        // Member 3 may still reveal alone until revealEnd, so finalize waits.
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.finalize, (id, state)),
            abi.encodeWithSelector(ITaskMarket.FinalizeTooEarly.selector, id, t.revealEnd)
        );
        vm.roll(t.revealEnd + 1);
        uint256[] memory stakes = new uint256[](K);
        for (uint256 i; i < K; ++i) stakes[i] = registry.stakeInfo(members[i]).amount;
        uint256 credits = _credits(members);
        market.finalize(id, state);
        uint256 slashed;
        for (uint256 i; i < K; ++i) {
            uint256 lost = stakes[i] - registry.stakeInfo(members[i]).amount;
            assertEq(lost, i == 3 ? _nonRevealPenalty() : 0, "only the silent seat loses, exactly one penalty");
            slashed += lost;
        }
        t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Finalized, "settled from the stored openings");
        assertEq(t.consensus, 4_015, "median of the four openings: 4000, 4010, 4020, 4040");
        assertEq(_credits(members) - credits, FEE + slashed, "fee + slash credited, to the wei");
        for (uint256 i; i < K; ++i) assertEq(registry.stakeInfo(members[i]).locks, 0, "member released");
    }

    /// @dev The last call emitted one RevealReported of round 0 with `mask` and `n` scores, and nothing else.
    function _assertOnlyRevealReported(uint256 mask, uint256 n) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "one event, no settlement");
        assertTrue(logs[0].topics[0] == ITaskMarket.RevealReported.selector, "RevealReported");
        (uint256 round, uint32 logged, uint16[] memory scores) = abi.decode(logs[0].data, (uint256, uint32, uint16[]));
        assertEq(round, 0, "of round 0");
        assertEq(logged, mask, "with the partial mask");
        assertEq(scores.length, n, "and one score per seat");
    }

    /// @notice After a partial report the last seat reveals alone: every committed seat is open, so finalize settles
    ///         at once with all five votes. A later report that completes the set settles by itself, even when it
    ///         repeats seats already open (a partial report lifted out of a pending complete one cannot make it
    ///         revert: those seats count once).
    function testPartialReportIsCompletedAloneOrByALaterReport() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(4_000);
        scores[3] = 9_000;
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        market.revealReport(state, _reveal(id, 0, members, ALL ^ (1 << 3), scores));
        vm.prank(members[3]);
        market.reveal(id, state, 3, scores[3], _salt(id, 0, members[3]));
        market.finalize(id, state);
        assertEq(market.task(id).consensus, 4_020, "five votes: 4000, 4010, 4020, 4040, 9000");

        (id, members) = _drawnTask();
        state = _commitAll(id, members, ALL, scores);
        market.revealReport(state, _reveal(id, 0, members, 3, scores)); // front-run: seats 0 and 1 lifted out
        market.revealReport(state, _reveal(id, 0, members, 3 << 1, scores)); // overlapping: seat 1 counts once
        assertEq(market.task(id).revealedCount, 3, "three seats stored");
        uint256 credits = _credits(members);
        market.revealReport(state, _reveal(id, 0, members, ALL, scores)); // the complete report still lands
        ITaskMarket.TaskView memory t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Finalized, "settled by the report that completed the set");
        assertEq(t.consensus, 4_020, "five votes, each once");
        assertEq(_credits(members) - credits, FEE, "the fee, to the wei");
    }

    /// @notice After revealEnd a reveal report is refused (an aggregator holding openings cannot pick which to
    ///         publish once nobody can answer alone); finalize settles with what was revealed and slashes the rest.
    function testAfterRevealEndOnlyFinalizeSettlesAndSlashesNonRevealers() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(4_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        for (uint256 i; i < 3; ++i) {
            vm.prank(members[i]);
            market.reveal(id, state, i, scores[i], _salt(id, 0, members[i]));
        }
        uint256 revealEnd = market.task(id).revealEnd;
        vm.roll(revealEnd + 1);
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.revealReport, (state, _reveal(id, 0, members, 3 << 3, scores))),
            abi.encodeWithSelector(ITaskMarket.RevealPhaseClosed.selector, id, revealEnd)
        );
        uint256[] memory stakes = new uint256[](K);
        for (uint256 i; i < K; ++i) stakes[i] = registry.stakeInfo(members[i]).amount;
        uint256 credits = _credits(members);
        market.finalize(id, state);
        uint256 slashed;
        for (uint256 i; i < K; ++i) {
            uint256 lost = stakes[i] - registry.stakeInfo(members[i]).amount;
            assertEq(lost, i < 3 ? 0 : _nonRevealPenalty(), "revealers keep their stake, the others lose one penalty");
            slashed += lost;
        }
        assertTrue(market.task(id).status == ITaskMarket.Status.Finalized, "quorum 3 of 5 met");
        assertEq(_credits(members) - credits, FEE + slashed, "fee + slashes credited, to the wei");
    }

    /// @notice Below quorum the round rolls: the next draw writes a new round hash and the old state is refused.
    function testRollReplacesTheRoundHash() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(5_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, 3, scores); // two seats only
        vm.roll(market.task(id).commitEnd + 1);
        market.revealReport(state, _reveal(id, 0, members, 3, scores));
        assertTrue(market.task(id).status == ITaskMarket.Status.Answered, "rolled to round 1");
        vm.roll(market.task(id).seedBlock + 1);
        address[] memory next = _drawMembers(market, id);
        assertEq(next.length, K, "round 1 drawn");
        assertEq(market.task(id).round, 1, "round 1");
        assertTrue(market.roundOf(id) == _roundHash(_drawState(next)), "the new committee's hash");
        bytes32 c = _commitment(id, 1, next[0], 5_000);
        _expectRevert(
            next[0],
            abi.encodeCall(ITaskMarket.commit, (id, state, 0, c)),
            abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id)
        );
        // A report signed for round 0 is refused in round 1.
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.commitReport, (_drawState(next), _report(id, 0, next, 1, scores))),
            abi.encodeWithSelector(ITaskMarket.RoundMismatch.selector, id, 0)
        );
    }

    // ------------------------------------------------------------------ commitReport refusals

    function testCommitReportRefusals() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.CommitReport memory r = _report(id, 0, members, ALL, scores);

        // Reordered members: another committee as far as the round hash is concerned.
        address[] memory reordered = _copy(members);
        (reordered[0], reordered[1]) = (reordered[1], reordered[0]);
        _expectCommitReport(reordered, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));
        // A forged committee (an outsider in seat 0).
        address[] memory forged = _copy(members);
        forged[0] = address(0xBAD);
        _expectCommitReport(forged, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));

        ITaskMarket.CommitReport memory bad = _report(id, 0, members, ALL, scores);
        bad.mask = 0;
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.InvalidMask.selector, 0));
        bad.mask = uint32(1 << K);
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.InvalidMask.selector, 1 << K));

        bad = _report(id, 0, members, ALL, scores);
        bad.mask = uint32(ALL ^ 1); // four bits, five commitments
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.ReportLengthMismatch.selector, 4));

        bad = _report(id, 0, members, ALL, scores);
        bad.commitments[2] = bytes32(uint256(uint160(members[2]))); // marker-shaped
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.ReservedCommitment.selector));

        // Member 1's signature in seat 0.
        bad = _report(id, 0, members, ALL, scores);
        bad.signatures[0] = bad.signatures[1];
        bad.commitments[0] = bad.commitments[1];
        _expectCommitReport(
            members, bad, abi.encodeWithSelector(ITaskMarket.InvalidSigner.selector, members[1], members[0])
        );
        // A changed commitment under member 3's signature recovers to somebody else.
        bad = _report(id, 0, members, ALL, scores);
        bad.commitments[3] = keccak256("changed");
        address recovered = _recover(_commitDigest(id, 0, bad.commitments[3], bad.deadline), bad.signatures[3]);
        _expectCommitReport(
            members, bad, abi.encodeWithSelector(ITaskMarket.InvalidSigner.selector, recovered, members[3])
        );

        bad = _report(id, 0, members, ALL, scores);
        bad.deadline = block.timestamp - 1;
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.SignatureExpired.selector, bad.deadline));
        bad.deadline = block.timestamp;
        bad.round = 1;
        _expectCommitReport(members, bad, abi.encodeWithSelector(ITaskMarket.RoundMismatch.selector, id, 1));

        uint256 commitEnd = market.task(id).commitEnd;
        vm.roll(commitEnd + 1);
        _expectCommitReport(members, r, abi.encodeWithSelector(ITaskMarket.CommitPhaseClosed.selector, id, commitEnd));
        vm.roll(commitEnd);

        market.commitReport(_drawState(members), r);
        // The same report again: with the draw's state it is out of date, with the new state its seats are taken.
        _expectCommitReport(members, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.commitReport, (ITaskMarket.RoundState(members, uint32(ALL), r.commitments), r)),
            abi.encodeWithSelector(ITaskMarket.AlreadyCommitted.selector, id, members[0])
        );

        // Before its draw a task's first report draws it (LazyDraw.t.sol): another task's committee is not its own.
        uint256 other = _answeredTask();
        _expectCommitReport(
            members,
            _report(other, 0, members, ALL, scores),
            abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, other)
        );
    }

    /// @notice A report after a member committed alone must leave that seat out; leaving it out it lands.
    function testCommitReportAfterAFallbackCommit() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.RoundState memory state = _drawState(members);
        bytes32 c2 = _commitment(id, 0, members[2], scores[2]);
        vm.prank(members[2]);
        market.commit(id, state, 2, c2);
        _expectCommitReport(
            members,
            _report(id, 0, members, ALL, scores),
            abi.encodeWithSelector(ITaskMarket.AlreadyCommitted.selector, id, members[2])
        );
        state = _commitAll(id, members, ALL ^ (1 << 2), scores);
        assertEq(market.task(id).committedMask, ALL, "four by the report, one alone");
        // Seat 2's opening comes from its fallback slot, the others' from the report's commitments.
        market.revealReport(state, _reveal(id, 0, members, ALL, scores));
        assertEq(market.task(id).consensus, 6_020, "median over five");
    }

    /// @notice Somebody lifts member 3's signed commit out of the aggregator's pending report and lands it first as a
    ///         report of one seat. The aggregator's report, resent without seat 3 against the new state, still lands
    ///         (a round takes several reports), and the reveal report opens the five from the merged commitments.
    function testFrontRunReportOfOneSeatDoesNotUseUpTheRound() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.CommitReport memory full = _report(id, 0, members, ALL, scores);
        bytes32[] memory one = new bytes32[](1);
        one[0] = full.commitments[3];
        bytes32[2][] memory oneSig = new bytes32[2][](1);
        oneSig[0] = full.signatures[3];
        market.commitReport(
            _drawState(members), ITaskMarket.CommitReport(id, 0, uint32(1 << 3), one, full.deadline, oneSig)
        );
        // The pending report as it was: its state is out of date.
        _expectCommitReport(members, full, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));
        ITaskMarket.RoundState memory afterOne = ITaskMarket.RoundState(members, uint32(1 << 3), one);
        ITaskMarket.CommitReport memory rest = _report(id, 0, members, ALL ^ (1 << 3), scores);
        market.commitReport(afterOne, rest);
        ITaskMarket.RoundState memory state = ITaskMarket.RoundState(members, uint32(ALL), full.commitments);
        assertTrue(market.roundOf(id) == _roundHash(state), "merged in seat order");
        market.revealReport(state, _reveal(id, 0, members, ALL, scores));
        assertEq(market.task(id).consensus, 6_020, "median over five");
    }

    // ------------------------------------------------------------------ revealReport refusals

    function testRevealReportRefusals() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        ITaskMarket.RevealReport memory r = _reveal(id, 0, members, ALL, scores);

        // A stale state (without the commit report's part) and reordered members.
        _expectRevealReport(
            _drawState(members), r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id)
        );
        ITaskMarket.RoundState memory reordered = _cloneState(state);
        (reordered.members[0], reordered.members[1]) = (reordered.members[1], reordered.members[0]);
        _expectRevealReport(reordered, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));
        // A changed commitment in the state.
        ITaskMarket.RoundState memory changed = _cloneState(state);
        changed.reportCommitments[0] = keccak256("changed");
        _expectRevealReport(changed, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));

        ITaskMarket.RevealReport memory bad = _reveal(id, 0, members, ALL, scores);
        bad.revealMask = 0;
        _expectRevealReport(state, bad, abi.encodeWithSelector(ITaskMarket.InvalidMask.selector, 0));
        bad.revealMask = uint32(ALL ^ 1);
        _expectRevealReport(state, bad, abi.encodeWithSelector(ITaskMarket.ReportLengthMismatch.selector, 4));
        bad = _reveal(id, 0, members, ALL, scores);
        bad.revealMask = uint32(1 << K | (ALL ^ 1));
        _expectRevealReport(state, bad, abi.encodeWithSelector(ITaskMarket.InvalidMask.selector, 1 << K | (ALL ^ 1)));

        bad = _reveal(id, 0, members, ALL, scores);
        bad.salts[1] = keccak256("wrong salt");
        _expectRevealReport(state, bad, abi.encodeWithSelector(ITaskMarket.CommitmentMismatch.selector, id, members[1]));
        bad = _reveal(id, 0, members, ALL, scores);
        bad.scores[1] = 10_001;
        _expectRevealReport(state, bad, abi.encodeWithSelector(ITaskMarket.ScoreOutOfRange.selector, 10_001));

        market.revealReport(state, r);
        _expectRevealReport(
            state, r, abi.encodeWithSelector(ITaskMarket.InvalidStatus.selector, id, ITaskMarket.Status.Finalized)
        );
    }

    /// A score word with bits above the 16 of a uint16 (calldata made by hand: the ABI encoder never makes it). The
    /// openings are read through calldata cursors, whole words: it is refused as out of range, never cut to its low
    /// 16 bits (which are the committed score and would open the commitment).
    function testRevealReportRefusesAScoreWordAbove16Bits() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, scores);
        ITaskMarket.RevealReport memory r = _reveal(id, 0, members, ALL, scores);
        bytes memory data = abi.encodeCall(ITaskMarket.revealReport, (state, r));
        uint256 at = _onlyWordEqualTo(data, scores[1]);
        uint256 dirty = (1 << 16) | scores[1];
        assembly ("memory-safe") {
            mstore(add(add(data, 32), at), dirty)
        }
        _expectRevert(address(this), data, abi.encodeWithSelector(ITaskMarket.ScoreOutOfRange.selector, dirty));
        assertEq(uint8(market.task(id).status), uint8(ITaskMarket.Status.Committee), "nothing settled");
        market.revealReport(state, r); // the clean report still settles
        assertEq(uint8(market.task(id).status), uint8(ITaskMarket.Status.Finalized), "settled by the clean report");
    }

    /// @dev The offset (after the selector's 4 bytes, word-aligned) of the one word of `data` equal to `value`.
    function _onlyWordEqualTo(bytes memory data, uint256 value) internal pure returns (uint256 at) {
        uint256 found;
        for (uint256 offset = 4; offset + 32 <= data.length; offset += 32) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(data, 32), offset))
            }
            if (word == value) (at, found) = (offset, found + 1);
        }
        require(found == 1, "value not unique in calldata");
    }

    function testRevealReportOfAnUncommittedSeatAndTooEarly() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL ^ (1 << 4), scores);
        uint256 commitEnd = market.task(id).commitEnd;
        _expectRevealReport(
            state,
            _reveal(id, 0, members, ALL ^ (1 << 4), scores),
            abi.encodeWithSelector(ITaskMarket.RevealTooEarly.selector, id, commitEnd + 1)
        );
        vm.roll(commitEnd + 1);
        _expectRevealReport(
            state,
            _reveal(id, 0, members, ALL, scores),
            abi.encodeWithSelector(ITaskMarket.NotCommitted.selector, id, members[4])
        );
    }

    /// @notice Member 1 copies member 0's commitment into its own signed seat: its opening (member 0's) fails and
    ///         the error names whose commitment it copied.
    function testCopiedCommitmentIsNamed() public {
        (uint256 id, address[] memory members) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.CommitReport memory r = _report(id, 0, members, ALL, scores);
        r.commitments[1] = r.commitments[0];
        r.signatures[1] = _signCommit(_keyOf(members[1]), address(market), id, 0, r.commitments[1], r.deadline);
        market.commitReport(_drawState(members), r);
        ITaskMarket.RoundState memory state = ITaskMarket.RoundState(members, uint32(ALL), r.commitments);
        ITaskMarket.RevealReport memory open = _reveal(id, 0, members, ALL, scores);
        open.scores[1] = uint16(scores[0]);
        open.salts[1] = _salt(id, 0, members[0]);
        _expectRevealReport(
            state, open, abi.encodeWithSelector(ITaskMarket.CopiedCommitment.selector, id, members[1], members[0])
        );
    }

    // ------------------------------------------------------------------ fallback refusals

    function testFallbackRefusals() public {
        (uint256 id, address[] memory members) = _drawnTask();
        ITaskMarket.RoundState memory state = _drawState(members);
        bytes32 c0 = _commitment(id, 0, members[0], 5_000);
        _expectRevert(
            members[1],
            abi.encodeCall(ITaskMarket.commit, (id, state, 0, c0)),
            abi.encodeWithSelector(ITaskMarket.NotCommitteeMember.selector, id, 0, members[1])
        );
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.commit, (id, state, K, c0)),
            abi.encodeWithSelector(ITaskMarket.NotCommitteeMember.selector, id, K, members[0])
        );
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.commit, (id, state, 0, bytes32(uint256(7)))),
            abi.encodeWithSelector(ITaskMarket.ReservedCommitment.selector)
        );
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.reveal, (id, state, 0, 5_000, _salt(id, 0, members[0]))),
            abi.encodeWithSelector(ITaskMarket.RevealTooEarly.selector, id, market.task(id).commitEnd + 1)
        );
        vm.prank(members[0]);
        market.commit(id, state, 0, c0);
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.commit, (id, state, 0, c0)),
            abi.encodeWithSelector(ITaskMarket.AlreadyCommitted.selector, id, members[0])
        );
        uint256 commitEnd = market.task(id).commitEnd;
        vm.roll(commitEnd + 1);
        _expectRevert(
            members[1],
            abi.encodeCall(ITaskMarket.commit, (id, state, 1, c0)),
            abi.encodeWithSelector(ITaskMarket.CommitPhaseClosed.selector, id, commitEnd)
        );
        _expectRevert(
            members[1],
            abi.encodeCall(ITaskMarket.reveal, (id, state, 1, 5_000, _salt(id, 0, members[1]))),
            abi.encodeWithSelector(ITaskMarket.NotCommitted.selector, id, members[1])
        );
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.reveal, (id, state, 0, 5_001, _salt(id, 0, members[0]))),
            abi.encodeWithSelector(ITaskMarket.CommitmentMismatch.selector, id, members[0])
        );
        vm.prank(members[0]);
        market.reveal(id, state, 0, 5_000, _salt(id, 0, members[0]));
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.reveal, (id, state, 0, 5_000, _salt(id, 0, members[0]))),
            abi.encodeWithSelector(ITaskMarket.AlreadyRevealed.selector, id, members[0])
        );
        // Every committed seat is open: finalize settles before revealEnd (four non-committers slashed).
        market.finalize(id, state);
        assertTrue(market.task(id).status != ITaskMarket.Status.Committee, "settled (below quorum: rolled)");
    }

    // ------------------------------------------------------------------ RelayBatcher

    /// @notice Reports of two tasks in one transaction; a stale one is skipped with its error's selector and the
    ///         others land; then both tasks' reveal reports settle them in one more.
    function testRelayEachSendsTheReportsOfSeveralTasks() public {
        RelayBatcher batcher = new RelayBatcher();
        (uint256 a, address[] memory membersA) = _drawnTask();
        (uint256 b, address[] memory membersB) = _drawnTask();
        uint256[] memory scores = _scores(6_000);
        ITaskMarket.CommitReport memory ra = _report(a, 0, membersA, ALL, scores);
        bytes[] memory calls = new bytes[](3);
        calls[0] = abi.encodeCall(ITaskMarket.commitReport, (_drawState(membersA), ra));
        calls[1] = abi.encodeCall(ITaskMarket.commitReport, (_drawState(membersB), _report(b, 0, membersB, ALL, scores)));
        calls[2] = calls[0]; // the same report again: its state is out of date once the first landed
        vm.recordLogs();
        assertEq(batcher.relayEach(ITaskMarket(address(market)), calls), 2, "two reports landed");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool skipped;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(batcher)) continue;
            assertTrue(logs[i].topics[0] == RelayBatcher.RelayedItemSkipped.selector, "a skip event");
            (uint256 index, bytes4 reason) = abi.decode(logs[i].data, (uint256, bytes4));
            assertEq(index, 2, "the stale report skipped");
            assertTrue(reason == ITaskMarket.RoundStateMismatch.selector, "with its error");
            skipped = true;
        }
        assertTrue(skipped, "the skip was logged");

        ITaskMarket.RoundState memory stateB =
            ITaskMarket.RoundState(membersB, uint32(ALL), _report(b, 0, membersB, ALL, scores).commitments);
        calls = new bytes[](2);
        calls[0] = abi.encodeCall(
            ITaskMarket.revealReport,
            (ITaskMarket.RoundState(membersA, uint32(ALL), ra.commitments), _reveal(a, 0, membersA, ALL, scores))
        );
        calls[1] = abi.encodeCall(ITaskMarket.revealReport, (stateB, _reveal(b, 0, membersB, ALL, scores)));
        assertEq(batcher.relayEach(ITaskMarket(address(market)), calls), 2, "both settled");
        assertTrue(market.task(a).status == ITaskMarket.Status.Finalized, "task a settled");
        assertTrue(market.task(b).status == ITaskMarket.Status.Finalized, "task b settled");
    }

    function testRelayEachRefusals() public {
        RelayBatcher batcher = new RelayBatcher();
        ITaskMarket target = ITaskMarket(address(market));
        (bool ok, bytes memory ret) =
            address(batcher).call(abi.encodeCall(RelayBatcher.relayEach, (target, new bytes[](0))));
        expectRevertData(ok, ret, abi.encodeWithSelector(RelayBatcher.EmptyBatch.selector));
        bytes[] memory calls = new bytes[](1);
        calls[0] = abi.encodeCall(ITaskMarket.claim, ());
        (ok, ret) = address(batcher).call(abi.encodeCall(RelayBatcher.relayEach, (target, calls)));
        expectRevertData(
            ok, ret, abi.encodeWithSelector(RelayBatcher.NotAReport.selector, 0, ITaskMarket.claim.selector)
        );
        // A report that runs out of gas reverts the whole batch instead of being skipped. 25,000 gas is far below
        // what this report needs here (about 39,000 with the test's slots warm; 40,000 stopped being too little
        // once the report got cheaper).
        (uint256 id, address[] memory members) = _drawnTask();
        calls[0] = abi.encodeCall(ITaskMarket.commitReport, (_drawState(members), _report(id, 0, members, ALL, _scores(1))));
        (ok, ret) = address(batcher).call{gas: 25_000}(abi.encodeCall(RelayBatcher.relayEach, (target, calls)));
        expectRevertData(ok, ret, abi.encodeWithSelector(RelayBatcher.ReportOutOfGas.selector, 0));
        assertEq(market.task(id).committedMask, 0, "nothing committed");
    }

    // ------------------------------------------------------------------ conservation

    /// @notice Random mixes of report and fallback, silent members and late settlement: every wei of the fee and
    ///         of the slashes ends up credited exactly once, and every lock of the round is released.
    function testFuzzConservation(uint256 seed) public {
        Mix memory m = _mixedRound(seed);
        uint256 registryBefore = token.balanceOf(address(registry));
        uint256 credits = _credits(m.members);
        // Seats already open (alone or by the partial report) may appear again in the report: they count once.
        uint256 reportOpens = (m.committed & ~m.revealedAlone) | (m.committed & rand(seed, 14));
        if (reportOpens != 0 && rand(seed, 13) % 4 != 0) {
            market.revealReport(m.state, _reveal(m.id, 0, m.members, reportOpens, m.scores));
        } else if (m.committed != 0 && m.open == m.committed && rand(seed, 13) % 2 == 0) {
            market.finalize(m.id, m.state); // every committed seat open: settles before revealEnd
        } else {
            vm.roll(market.task(m.id).revealEnd + 1); // the openings of the report never came: non-revealers
            market.finalize(m.id, m.state);
        }
        uint256 slashed = registryBefore - token.balanceOf(address(registry));
        bool rolled = market.task(m.id).status == ITaskMarket.Status.Answered; // a roll keeps the fee in escrow
        assertEq(_credits(m.members) - credits, (rolled ? 0 : FEE) + slashed, "credits = fee + slashes, to the wei");
        assertEq(token.balanceOf(address(market)), (rolled ? FEE : 0) + _credits(m.members), "market = escrow + credits");
        for (uint256 i; i < K; ++i) assertEq(registry.stakeInfo(m.members[i]).locks, 0, "member released");
    }

    struct Mix {
        uint256 id;
        address[] members;
        uint256[] scores;
        uint256 committed;
        uint256 revealedAlone;
        uint256 open; // revealed alone or opened by a partial report
        ITaskMarket.RoundState state;
    }

    /// @dev A round where random seats commit alone, random others through the report, some stay silent, random
    ///      committed seats reveal alone after commitEnd, and a partial reveal report opens a random part of the
    ///      rest (possibly with seats already open).
    function _mixedRound(uint256 seed) internal returns (Mix memory m) {
        (m.id, m.members) = _drawnTask();
        m.scores = new uint256[](K);
        for (uint256 i; i < K; ++i) m.scores[i] = rand(seed, i) % 10_001;
        uint256 reportMask = rand(seed, 10) % (ALL + 1);
        uint256 aloneMask = rand(seed, 11) % (ALL + 1) & ~reportMask;
        m.state = _drawState(m.members);
        for (uint256 i; i < K; ++i) {
            if ((aloneMask >> i) & 1 == 0) continue;
            bytes32 c = _commitment(m.id, 0, m.members[i], m.scores[i]);
            vm.prank(m.members[i]);
            market.commit(m.id, m.state, i, c);
        }
        if (reportMask != 0) m.state = _commitAll(m.id, m.members, reportMask, m.scores);
        m.committed = reportMask | aloneMask;
        vm.roll(market.task(m.id).commitEnd + 1);
        m.revealedAlone = rand(seed, 12) % (ALL + 1) & m.committed;
        for (uint256 i; i < K; ++i) {
            if ((m.revealedAlone >> i) & 1 == 0) continue;
            vm.prank(m.members[i]);
            market.reveal(m.id, m.state, i, m.scores[i], _salt(m.id, 0, m.members[i]));
        }
        m.open = m.revealedAlone;
        uint256 partialMask = rand(seed, 15) % (ALL + 1) & m.committed;
        if (partialMask != 0 && (partialMask | m.revealedAlone) != m.committed) {
            market.revealReport(m.state, _reveal(m.id, 0, m.members, partialMask, m.scores));
            assertTrue(market.task(m.id).status == ITaskMarket.Status.Committee, "a partial report does not settle");
            m.open |= partialMask;
            m.revealedAlone |= partialMask; // stored as if revealed alone
        }
        assertEq(market.task(m.id).revealedCount, _popCount(m.open), "open seats counted");
    }
}
