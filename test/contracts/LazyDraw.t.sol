// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {Vm} from "./helpers/TestBase.sol";
import {RoundsFixture} from "./helpers/RoundsFixture.sol";

/// @notice The round's first commit draws its committee (docs/PROTOCOL.md, "Committee draw"): a commit report or a
///         lone commit on an undrawn round runs the draw of drawCommittee first, against the members that
///         pendingCommittee announced from the seed block on; the commit window is fixed by the seed block, so a
///         late draw shortens nobody's window; a draw that selects nobody makes the commit revert and leaves the
///         reseed or the unjudged settlement to drawCommittee.
contract LazyDrawTest is RoundsFixture {
    function testCommitReportDrawsTheCommitteeThePendingViewAnnounced() public {
        uint256 id = _answeredTask();
        (address[] memory members, uint256 commitEnd, uint256 revealEnd) = market.pendingCommittee(id);
        assertEq(members.length, K, "the committee is known before any draw");
        uint256 seedBlock = market.task(id).seedBlock;
        assertEq(commitEnd, seedBlock + 1 + market.params().commitWindow, "window from the first block it is known");

        vm.recordLogs();
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL, _scores(6_000));
        _assertDrawnLog(id, members, commitEnd, revealEnd);
        ITaskMarket.TaskView memory t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Committee, "drawn by the report");
        assertEq(t.committedMask, ALL, "and committed by it");
        assertEq(t.commitEnd, commitEnd, "commitEnd as announced");
        assertEq(t.revealEnd, revealEnd, "revealEnd as announced");
        assertEq(t.drawBlock, seedBlock + 1, "drawBlock: where the commit window starts");
        assertTrue(market.roundOf(id) == _roundHash(state), "one round hash: the report's state");
        for (uint256 i; i < K; ++i) assertEq(registry.stakeInfo(members[i]).locks, 1, "member locked by the draw");
        (address[] memory after_, uint256 endAfter,) = market.pendingCommittee(id);
        assertTrue(keccak256(abi.encode(after_)) == keccak256(abi.encode(members)), "the same members once drawn");
        assertEq(endAfter, commitEnd, "and the same windows");

        // The rest of the round as before: the reveal report settles, the fee to the wei.
        uint256 credits = _credits(members);
        market.revealReport(state, _reveal(id, 0, members, ALL, _scores(6_000)));
        assertTrue(market.task(id).status == ITaskMarket.Status.Finalized, "settled by the reveal report");
        assertEq(_credits(members) - credits, FEE, "the fee, to the wei");
        assertEq(token.balanceOf(address(market)), _credits(members), "market holds exactly the credits");
    }

    function testLoneCommitDrawsTheCommittee() public {
        uint256 id = _answeredTask();
        (address[] memory members,,) = market.pendingCommittee(id);
        ITaskMarket.RoundState memory state = _drawState(members);
        bytes32 c = _commitment(id, 0, members[2], 7_000);
        vm.prank(members[2]);
        market.commit(id, state, 2, c);
        ITaskMarket.TaskView memory t = market.task(id);
        assertTrue(t.status == ITaskMarket.Status.Committee, "drawn by the lone commit");
        assertEq(t.committedMask, 1 << 2, "its seat committed");
        assertTrue(market.roundOf(id) == _roundHash(state), "the draw's round hash (a lone commit keeps it)");

        // The others go on against the draw's state; a second commit does not draw again.
        _commitAll(id, members, ALL ^ (1 << 2), _scores(7_000));
        assertEq(market.task(id).committedMask, ALL, "every seat committed");
    }

    function testDrawAfterALazyDrawRevertsWrongStatus() public {
        uint256 id = _answeredTask();
        (address[] memory members,,) = market.pendingCommittee(id);
        _commitAll(id, members, 1, _scores(5_000));
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.drawCommittee, (id)),
            abi.encodeWithSelector(ITaskMarket.InvalidStatus.selector, id, ITaskMarket.Status.Committee)
        );
    }

    /// @notice A report for the undrawn round with other members (here: two seats swapped, each signature valid
    ///         for its signer) is refused with RoundStateMismatch, and nothing is drawn.
    function testReportWithWrongMembersForTheUndrawnRoundReverts() public {
        uint256 id = _answeredTask();
        (address[] memory members,,) = market.pendingCommittee(id);
        address[] memory swapped = _copy(members);
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        ITaskMarket.CommitReport memory r = _report(id, 0, swapped, ALL, _scores(5_000));
        _expectCommitReport(swapped, r, abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id));
        // A state with a report part that never happened is refused too.
        ITaskMarket.RoundState memory forged = _drawState(members);
        forged.reportMask = 1;
        forged.reportCommitments = new bytes32[](1);
        _expectRevert(
            address(this),
            abi.encodeCall(ITaskMarket.commitReport, (forged, _report(id, 0, members, 2, _scores(5_000)))),
            abi.encodeWithSelector(ITaskMarket.RoundStateMismatch.selector, id)
        );
        assertTrue(market.task(id).status == ITaskMarket.Status.Answered, "still undrawn");
        for (uint256 i; i < K; ++i) assertEq(registry.stakeInfo(members[i]).locks, 0, "nobody locked");
    }

    function testCommitBeforeTheSeedBlockRevertsSeedNotReady() public {
        uint256 id = _answeredTask();
        uint256 seedBlock = market.task(id).seedBlock;
        vm.roll(seedBlock);
        (address[] memory none, uint256 commitEnd,) = market.pendingCommittee(id);
        assertEq(none.length, 0, "unknown before the seed block exists");
        assertEq(commitEnd, seedBlock + 1 + market.params().commitWindow, "its window is already fixed");
        vm.roll(seedBlock + 1);
        (address[] memory members,,) = market.pendingCommittee(id);
        vm.roll(seedBlock);
        _expectCommitReport(
            members,
            _report(id, 0, members, ALL, _scores(5_000)),
            abi.encodeWithSelector(ITaskMarket.SeedNotReady.selector, id, seedBlock)
        );
    }

    /// @notice Whoever sends the draw late, the commit window ends where pendingCommittee said: a keeper's draw
    ///         after commitEnd leaves a round nobody can commit to, which finalize settles at once (everyone had
    ///         the whole window to commit, and their commit would have drawn).
    function testLateDrawKeepsTheWindowsOfTheSeedBlock() public {
        uint256 id = _answeredTask();
        (address[] memory members, uint256 commitEnd, uint256 revealEnd) = market.pendingCommittee(id);
        vm.roll(commitEnd);
        market.drawCommittee(id);
        assertEq(market.task(id).commitEnd, commitEnd, "commitEnd of the seed block");
        assertEq(market.task(id).revealEnd, revealEnd, "revealEnd of the seed block");
        ITaskMarket.RoundState memory state = _commitAll(id, members, ALL ^ 1, _scores(5_000));
        vm.roll(commitEnd + 1);
        _expectRevert(
            members[0],
            abi.encodeCall(ITaskMarket.commit, (id, state, 0, _commitment(id, 0, members[0], 5_000))),
            abi.encodeWithSelector(ITaskMarket.CommitPhaseClosed.selector, id, commitEnd)
        );
    }

    function testCommitReportAfterTheWindowOfAnUndrawnRoundRevertsAndDrawsNothing() public {
        uint256 id = _answeredTask();
        (address[] memory members, uint256 commitEnd,) = market.pendingCommittee(id);
        vm.roll(commitEnd + 1);
        _expectCommitReport(
            members,
            _report(id, 0, members, ALL, _scores(5_000)),
            abi.encodeWithSelector(ITaskMarket.CommitPhaseClosed.selector, id, commitEnd)
        );
        assertTrue(market.task(id).status == ITaskMarket.Status.Answered, "the reverted report drew nothing");
    }

    /// @notice The seed hash is gone (nobody committed or drew for 256 blocks): the view announces nobody, a commit
    ///         reverts NoCommitteeDrawn without reseeding, drawCommittee reseeds, and the first commit on the new
    ///         seed draws the new committee with the new seed's windows.
    function testGoneSeedRevertsTheCommitAndDrawCommitteeReseeds() public {
        uint256 id = _answeredTask();
        (address[] memory stale,,) = market.pendingCommittee(id);
        uint256 seedBlock = market.task(id).seedBlock;
        vm.roll(seedBlock + 300);
        (address[] memory none,,) = market.pendingCommittee(id);
        assertEq(none.length, 0, "no committee from a gone hash");
        _expectCommitReport(
            stale,
            _report(id, 0, stale, ALL, _scores(5_000)),
            abi.encodeWithSelector(ITaskMarket.NoCommitteeDrawn.selector, id, seedBlock)
        );
        _expectRevert(
            stale[0],
            abi.encodeCall(ITaskMarket.commit, (id, _drawState(stale), 0, _commitment(id, 0, stale[0], 5_000))),
            abi.encodeWithSelector(ITaskMarket.NoCommitteeDrawn.selector, id, seedBlock)
        );
        assertEq(market.task(id).seedBlock, seedBlock, "a commit never reseeds");

        market.drawCommittee(id);
        uint256 newSeed = market.task(id).seedBlock;
        assertEq(newSeed, block.number + 1, "reseeded from the next block");
        vm.roll(newSeed + 1);
        (address[] memory members, uint256 commitEnd,) = market.pendingCommittee(id);
        assertEq(members.length, K, "the new committee is known");
        assertEq(commitEnd, newSeed + 1 + market.params().commitWindow, "windows of the new seed");
        _commitAll(id, members, ALL, _scores(5_000));
        assertEq(market.task(id).commitEnd, commitEnd, "drawn by the report on the new seed");
    }

    /// @notice Too few eligible validators: a commit reverts (no seat exists), drawCommittee reseeds until the
    ///         draw deadline, then settles unjudged; a commit never does either.
    function testTooFewValidatorsRevertsTheCommitAndDrawCommitteeReseeds() public {
        for (uint256 i; i < VALIDATORS - K + 1; ++i) {
            vm.prank(vm.addr(KEY_BASE + i));
            registry.requestUnstake();
        }
        vm.roll(block.number + 1);
        uint256 id = _answeredTask();
        (address[] memory none,,) = market.pendingCommittee(id);
        assertEq(none.length, 0, "K - 1 eligible: nobody announced");
        uint256 seedBlock = market.task(id).seedBlock;
        address member = vm.addr(KEY_BASE + VALIDATORS - 1);
        address[] memory guess = new address[](1);
        guess[0] = member;
        _expectRevert(
            member,
            abi.encodeCall(ITaskMarket.commit, (id, _drawState(guess), 0, _commitment(id, 0, member, 5_000))),
            abi.encodeWithSelector(ITaskMarket.NoCommitteeDrawn.selector, id, seedBlock)
        );
        vm.recordLogs();
        market.drawCommittee(id);
        assertEq(_count(vm.getRecordedLogs(), ITaskMarket.CommitteeReseeded.selector), 1, "drawCommittee reseeds");
        vm.roll(market.task(id).drawDeadline + 1);
        market.drawCommittee(id);
        assertTrue(market.task(id).status == ITaskMarket.Status.Refunded, "settled unjudged after the deadline");
        assertEq(registry.stakeInfo(PROVIDER).locks, 0, "provider released");
        assertEq(registry.stakeInfo(member).locks, 0, "nobody locked");
    }

    // ------------------------------------------------------------------ helpers

    function _assertDrawnLog(uint256 id, address[] memory members, uint256 commitEnd, uint256 revealEnd) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_count(logs, ITaskMarket.CommitteeDrawn.selector), 1, "CommitteeDrawn emitted once");
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != ITaskMarket.CommitteeDrawn.selector) continue;
            assertEq(uint256(logs[i].topics[1]), id, "of the task");
            (uint256 round, address[] memory drawn, uint256 end, uint256 rEnd) =
                abi.decode(logs[i].data, (uint256, address[], uint256, uint256));
            assertEq(round, 0, "round 0");
            assertTrue(keccak256(abi.encode(drawn)) == keccak256(abi.encode(members)), "members as announced");
            assertEq(end, commitEnd, "commitEnd");
            assertEq(rEnd, revealEnd, "revealEnd");
        }
    }

    function _count(Vm.Log[] memory logs, bytes32 topic) internal view returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(market) && logs[i].topics[0] == topic) ++n;
        }
    }
}
