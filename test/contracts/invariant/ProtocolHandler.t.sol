// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {IStakeRegistry} from "../../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../../contracts/interfaces/ITaskMarketClient.sol";
import {Vm} from "../helpers/TestBase.sol";
import {HandlerBase} from "./HandlerBase.sol";

interface IOwnable {
    function owner() external view returns (address);
}

/// @notice Drives random but valid sequences of protocol actions for the invariant suite: stake, unstake, cancel,
///         withdraw, create, answer, reassign, draw, commit, reveal, finalize, claim, and block jumps. It keeps
///         ghost totals of every token that entered or left the system, and checks per-call effects that the
///         global invariants cannot see (exact slashes, credits equal to what was settled, claims paid once).
contract ProtocolHandler is HandlerBase {
    constructor(MockERC20 token_, IStakeRegistry registry_, ITaskMarketClient market_, bytes32 evaluatorId_)
        HandlerBase(token_, registry_, market_, evaluatorId_)
    {}

    // ------------------------------------------------------------------ staking actions

    function stake(uint256 who, uint256 amount, bool asValidator) public {
        address actor = asValidator ? validators[who % validators.length] : providers[who % providers.length];
        IStakeRegistry.Role role = asValidator ? IStakeRegistry.Role.Validator : IStakeRegistry.Role.Provider;
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.unstakeBlock != 0) return;
        uint256 min = registry.minStake(role);
        amount = bound(amount, info.amount >= min ? 1 : min - info.amount, 50 * min);
        token.mint(actor, amount);
        vm.prank(actor);
        token.approve(address(registry), amount);
        vm.prank(actor);
        registry.stake(role, amount);
        ghostDeposited += amount;
        if (!asValidator && registry.modelsOf(actor).length == 0) {
            vm.prank(actor);
            registry.registerModel(MODEL);
        }
        if (asValidator && registry.evaluatorsOf(actor).length == 0) {
            vm.prank(actor);
            registry.registerEvaluator(evaluatorId);
        }
        ++calls["stake"];
    }

    function requestUnstake(uint256 who) external {
        address actor = _anyStaker(who);
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.role == IStakeRegistry.Role.None || info.unstakeBlock != 0) return; // a zero stake may leave too
        vm.prank(actor);
        registry.requestUnstake();
        ++calls["requestUnstake"];
    }

    /// @notice A jailed staker waits out its jail and rejoins the pools.
    function unjail(uint256 who) external {
        address actor = _anyStaker(who);
        uint256 until = registry.stakeInfo(actor).jailedUntil;
        if (until == 0) return;
        if (block.number < until) vm.roll(until);
        vm.prank(actor);
        registry.unjail();
        ++calls["unjail"];
    }

    function cancelUnstake(uint256 who) external {
        address actor = _anyStaker(who);
        if (registry.stakeInfo(actor).unstakeBlock == 0) return;
        vm.prank(actor);
        registry.cancelUnstake();
        ++calls["cancelUnstake"];
    }

    function withdraw(uint256 who) external {
        address actor = _anyStaker(who);
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.unstakeBlock == 0 || info.locks != 0) return;
        uint256 withdrawable = uint256(info.unstakeBlock) + registry.unstakeCooldown();
        uint256 reportable = uint256(info.lastUnlockBlock) + registry.equivocationWindow();
        if (reportable > withdrawable) withdrawable = reportable;
        if (block.number < withdrawable) vm.roll(withdrawable); // a time jump past the cooldown
        uint256 before = token.balanceOf(actor);
        vm.prank(actor);
        registry.withdraw();
        uint256 received = token.balanceOf(actor) - before;
        if (received != info.amount) _violation("withdraw paid other than the stake");
        ghostWithdrawn += received;
        ++calls["withdraw"];
    }

    // ------------------------------------------------------------------ task actions

    function createTask(uint256 who, uint256 fee) external {
        if (registry.activeProviders(MODEL) == 0) return;
        vm.roll(block.number + 1); // a new block, so stake changes of this one stay apart from the creation
        address requester = requesters[who % requesters.length];
        fee = bound(fee, market.params().minFee, 1e24);
        token.mint(requester, fee);
        vm.prank(requester);
        token.approve(address(market), fee);
        vm.prank(requester);
        market.createTask(MODEL, evaluatorId, fee, "prompt");
        ghostDeposited += fee;
        ++calls["createTask"];
    }

    function submitAnswer(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Assigned);
        if (id == 0 || block.number > t.answerDeadline) return;
        // The provider is drawn from the hash of the seed block (which lies before the deadline).
        if (block.number <= t.seedBlock) vm.roll(uint256(t.seedBlock) + 1);
        address provider = market.assignedProvider(id);
        if (provider == address(0)) {
            // Nobody was eligible at the draw's snapshot: the next attempt (or the refund) comes without a slash.
            _settlingCall(id, abi.encodeCall(ITaskMarket.assignProvider, (id)), new address[](0), new bool[](0));
            ++calls["assignProvider"];
            return;
        }
        bytes memory output = _answerOf(id);
        vm.prank(provider);
        market.submitAnswer(id, keccak256(output), output, "");
        ++calls["submitAnswer"];
    }

    function reassign(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Assigned);
        if (id == 0) return;
        if (block.number <= t.answerDeadline) vm.roll(uint256(t.answerDeadline) + 1);
        // The drawn provider, materialized (and slashed) by the reassign; zero when the draw can no longer be proven.
        address late = t.provider != address(0) ? t.provider : market.assignedProvider(id);
        _settlingCall(id, abi.encodeCall(ITaskMarket.reassign, (id)), _one(late), new bool[](0));
        ++calls["reassign"];
    }

    function drawCommittee(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Answered);
        if (id == 0) return;
        if (block.number <= t.seedBlock) vm.roll(uint256(t.seedBlock) + 1);
        _drawCall(id);
        ITaskMarket.TaskView memory afterwards = market.task(id);
        if (afterwards.status == ITaskMarket.Status.Answered) {
            // Reseeded (pool too small): wait out the draw window, then the draw seats a committee or settles.
            ++calls["reseed"];
            uint256 wait = afterwards.drawDeadline > afterwards.seedBlock ? afterwards.drawDeadline : afterwards.seedBlock;
            if (block.number <= wait) vm.roll(wait + 1);
            _drawCall(id);
        }
        ++calls["drawCommittee"];
    }

    /// @notice The task's current committee (empty before its first draw), as CommitteeDrawn named it.
    function membersOf(uint256 id) external view returns (address[] memory) {
        return _states[id].members;
    }

    /// @dev A checked drawCommittee that keeps the round state of the committee it seats (from CommitteeDrawn).
    function _drawCall(uint256 id) internal {
        vm.recordLogs();
        _settlingCall(id, abi.encodeCall(ITaskMarket.drawCommittee, (id)), new address[](0), new bool[](0));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(market) || logs[i].topics[0] != ITaskMarket.CommitteeDrawn.selector) continue;
            (, address[] memory members,,) = abi.decode(logs[i].data, (uint256, address[], uint256, uint256));
            _states[id] = _drawState(members);
        }
    }

    /// @notice Members in `mask` that have not committed commit: as one signed commit report (half of the time; a
    ///         round may have several), else each alone (the fallback). Half of the time (or when no round is
    ///         drawn) the round is an undrawn one, whose first commit draws it against pendingCommittee's members.
    function commit(uint256 taskSeed, uint256 mask, uint256 scoreSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0 || rand(scoreSeed, 998) % 2 == 0) {
            (uint256 undrawn, ITaskMarket.TaskView memory u) = _findTask(taskSeed, ITaskMarket.Status.Answered);
            if (undrawn != 0 && block.number > u.seedBlock) {
                (address[] memory pending, uint256 end,) = market.pendingCommittee(undrawn);
                if (pending.length != 0) {
                    (id, t) = (undrawn, u);
                    t.commitEnd = uint64(end);
                    _states[id] = _drawState(pending); // what the first commit's draw seats (CommitteeDrawn)
                    ++calls["drawnByCommit"];
                }
            }
        }
        if (id == 0 || block.number > t.commitEnd) return;
        ITaskMarket.RoundState memory state = _states[id];
        address[] memory members = state.members;
        bool reported = rand(scoreSeed, 999) % 2 == 0;
        bytes32[] memory commitments = new bytes32[](members.length);
        bytes32[2][] memory signatures = new bytes32[2][](members.length);
        uint256 reportMask;
        uint256 n;
        for (uint256 i; i < members.length; ++i) {
            if ((mask >> i) & 1 == 0 || (t.committedMask >> i) & 1 != 0) continue;
            bytes32 c = _pickScore(id, t.round, i, scoreSeed);
            if (!reported) {
                vm.prank(members[i]);
                market.commit(id, state, i, c);
                continue;
            }
            commitments[n] = c;
            signatures[n++] =
                _signCommit(_keyOf(members[i]), address(market), id, t.round, c, block.timestamp + 1 days);
            reportMask |= 1 << i;
        }
        if (reported && n != 0) {
            assembly ("memory-safe") {
                mstore(commitments, n)
                mstore(signatures, n)
            }
            market.commitReport(
                state,
                ITaskMarket.CommitReport(id, t.round, uint32(reportMask), commitments, block.timestamp + 1 days, signatures)
            );
            _states[id].reportCommitments = _mergedCommitments(state, reportMask, commitments);
            _states[id].reportMask = uint32(state.reportMask | reportMask);
        }
        ++calls[reported ? bytes32("commitReport") : bytes32("commit")];
    }

    /// @dev The state's report commitments and a new report's, in seat order (as a client merges CommitReported).
    function _mergedCommitments(ITaskMarket.RoundState memory state, uint256 mask, bytes32[] memory added)
        internal
        pure
        returns (bytes32[] memory merged)
    {
        merged = new bytes32[](state.reportCommitments.length + added.length);
        uint256 a;
        uint256 b;
        for (uint256 i; i < state.members.length; ++i) {
            if ((state.reportMask >> i) & 1 != 0) {
                merged[a + b] = state.reportCommitments[a];
                ++a;
            } else if ((mask >> i) & 1 != 0) {
                merged[a + b] = added[b];
                ++b;
            }
        }
    }

    /// @dev Picks and remembers member `i`'s score; returns its commitment. Scores cluster around a centre, with the
    ///      odd outlier, so both paid and unpaid validators occur.
    function _pickScore(uint256 id, uint256 round, uint256 i, uint256 scoreSeed) internal returns (bytes32) {
        uint256 centre = bound(scoreSeed, 0, 10_000);
        uint256 score = rand(scoreSeed, i) % 5 == 0 ? rand(scoreSeed, 100 + i) % 10_001
            : _clamp(centre + (rand(scoreSeed, 100 + i) % 1_001), 500);
        _scores[_key(id, round, i)] = score;
        return market.computeCommitment(score, _salt(id, round, i, score), _states[id].members[i], id, round);
    }

    /// @notice Committed members in `mask` reveal alone (the fallback), or (half of the time) a reveal report opens
    ///         committed members not yet open: all of them (it settles the round), or (half of those times) the part
    ///         of them in `mask`, possibly with seats already open again (a partial report: stored, no settlement).
    function reveal(uint256 taskSeed, uint256 mask) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0) return;
        if (block.number <= t.commitEnd) vm.roll(uint256(t.commitEnd) + 1);
        if (block.number > t.revealEnd) return;
        ITaskMarket.RoundState memory state = _states[id];
        uint256 k = state.members.length;
        if (rand(mask, 999) % 2 == 0 && t.committedMask != 0) return _revealReport(id, t, state, mask);
        for (uint256 i; i < k; ++i) {
            bytes32 key = _key(id, t.round, i);
            if ((mask >> i) & 1 == 0 || (t.committedMask >> i) & 1 == 0 || _revealedAlone[key]) continue;
            uint256 score = _scores[key];
            vm.prank(state.members[i]);
            market.reveal(id, state, i, score, _salt(id, t.round, i, score));
            _revealedAlone[key] = true;
        }
        ++calls["reveal"];
    }

    function _revealReport(uint256 id, ITaskMarket.TaskView memory t, ITaskMarket.RoundState memory state, uint256 mask)
        internal
    {
        bool partialOnly = rand(mask, 998) % 2 == 0;
        uint256 k = state.members.length;
        uint16[] memory scores = new uint16[](k);
        bytes32[] memory salts = new bytes32[](k);
        bool[] memory opened = new bool[](k);
        uint256 revealMask;
        uint256 n;
        for (uint256 i; i < k; ++i) {
            if ((t.committedMask >> i) & 1 == 0) continue;
            bytes32 key = _key(id, t.round, i);
            bool open = _revealedAlone[key];
            opened[i] = open || !partialOnly || (mask >> i) & 1 != 0;
            // In the report: a seat not open yet (all of them, or those of `mask`), or an open one again (bit i + 8).
            if (open ? !partialOnly || (mask >> (i + 8)) & 1 == 0 : !opened[i]) continue;
            scores[n] = uint16(_scores[key]);
            salts[n++] = _salt(id, t.round, i, _scores[key]);
            revealMask |= 1 << i;
        }
        if (n == 0) return; // nothing to open (everyone committed already revealed alone: finalize settles)
        assembly ("memory-safe") {
            mstore(scores, n)
            mstore(salts, n)
        }
        bytes memory data = abi.encodeCall(
            ITaskMarket.revealReport, (state, ITaskMarket.RevealReport(id, uint32(revealMask), scores, salts))
        );
        _sendRevealReport(id, t.round, state.members, data, opened, revealMask);
    }

    /// @dev Sends a reveal report: a settling one when every committed seat is then open (`opened`), else a partial
    ///      one, after which nobody may have lost anything (every member counts as revealed for the slash check),
    ///      the round stays open and its openings are stored as if revealed alone.
    function _sendRevealReport(
        uint256 id,
        uint256 round,
        address[] memory members,
        bytes memory data,
        bool[] memory opened,
        uint256 revealMask
    ) internal {
        uint256 committed = market.task(id).committedMask;
        bool settles = true;
        for (uint256 i; i < members.length; ++i) settles = settles && (opened[i] || (committed >> i) & 1 == 0);
        if (settles) {
            _settlingCall(id, data, members, opened);
            ++calls["revealReport"];
            return;
        }
        bool[] memory nobody = new bool[](members.length);
        for (uint256 i; i < members.length; ++i) nobody[i] = true;
        _settlingCall(id, data, members, nobody);
        if (market.task(id).status != ITaskMarket.Status.Committee) _violation("a partial reveal report settled");
        for (uint256 i; i < members.length; ++i) {
            if ((revealMask >> i) & 1 != 0) _revealedAlone[_key(id, round, i)] = true;
        }
        ++calls["partialRevealReport"];
    }

    function finalize(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0) return;
        ITaskMarket.RoundState memory state = _states[id];
        bool[] memory revealed = new bool[](state.members.length);
        uint256 opened;
        for (uint256 i; i < revealed.length; ++i) {
            revealed[i] = _revealedAlone[_key(id, t.round, i)];
            if (revealed[i]) opened |= 1 << i;
        }
        // Early only when reveals have started and every committed seat is open (alone or by a partial report).
        bool revealsOpen = block.number > t.commitEnd || t.committedMask == (1 << revealed.length) - 1;
        if ((!revealsOpen || opened != t.committedMask) && block.number <= t.revealEnd) {
            vm.roll(uint256(t.revealEnd) + 1);
        }
        _settlingCall(id, abi.encodeCall(ITaskMarket.finalize, (id, state)), state.members, revealed);
        ++calls["finalize"];
    }

    /// @dev The answer the provider of task `id` submits.
    function _answerOf(uint256 id) internal pure returns (bytes memory) {
        return abi.encodePacked("answer to task ", id);
    }

    /// @notice A validator signs two different scores for one task and a requester reports it.
    function reportEquivocation(uint256 taskSeed, uint256 who, uint256 reporterSeed, uint16 score) external {
        uint256 n = market.taskCount();
        if (n == 0) return;
        uint256 id = taskSeed % n + 1;
        uint256 v = who % validators.length;
        if (_reported[id][v]) return;
        _reported[id][v] = true;
        ITaskMarket.TaskView memory t = market.task(id);
        // The answer's hash is not stored (AnswerSubmitted carries it); the market checks the signatures only.
        bytes32 outputHash = keccak256(_answerOf(id));
        ITaskMarket.Attestation memory a = ITaskMarket.Attestation(id, outputHash, t.evaluatorId, score % 10_001);
        ITaskMarket.Attestation memory b =
            ITaskMarket.Attestation(id, outputHash, t.evaluatorId, (a.score + 1) % 10_001);
        uint256 key = VALIDATOR_KEY_BASE + v;
        bytes memory call_ = abi.encodeCall(
            ITaskMarket.reportEquivocation,
            (a, _signAttestation(key, address(market), a), b, _signAttestation(key, address(market), b))
        );
        _nextCaller = requesters[reporterSeed % requesters.length];
        _settlingCall(id, call_, _one(validators[v]), new bool[](0));
        ++calls["reportEquivocation"];
    }

    function claim(uint256 who) external {
        address account = _accounts[who % _accounts.length];
        uint256 credit = market.claimable(account);
        if (credit <= 1) return; // claim() keeps 1 wei of every credit (the slot stays non-zero)
        uint256 amount = credit - 1;
        uint256 before = token.balanceOf(account);
        vm.prank(account);
        uint256 returned = market.claim();
        if (token.balanceOf(account) - before != amount || returned != amount) _violation("claim paid wrong amount");
        if (market.claimable(account) != 1) _violation("claim did not keep exactly 1 wei of the credit");
        ghostClaimed += amount;
        ++calls["claim"];
    }

    /// @notice Governance changes every parameter (inside its bounds) while tasks are in flight.
    function setParams(uint256 seed) external {
        ITaskMarket.Params memory p = market.params();
        p.committeeSize = uint8(bound(rand(seed, 0), 1, 6));
        p.maxRounds = uint8(bound(rand(seed, 1), 1, 4));
        p.maxReassignments = uint8(bound(rand(seed, 2), 0, 3));
        p.consensusRule = uint8(rand(seed, 3) % 3);
        p.quorumBps = uint16(bound(rand(seed, 4), 5_000, 10_000));
        p.trimBps = uint16(bound(rand(seed, 5), 0, 4_000));
        p.validatorPoolBps = uint16(bound(rand(seed, 6), 100, 5_000));
        p.providerFloor = uint16(bound(rand(seed, 7), 0, 9_000));
        p.tolerance = uint16(bound(rand(seed, 8), 100, 10_000));
        p.refundBps = uint16(bound(rand(seed, 9), 0, 5_000));
        p.nonRevealPenaltyBps = uint32(bound(rand(seed, 10), 10_000, 1_000_000));
        p.providerTimeoutPenaltyBps = uint32(bound(rand(seed, 11), 1_000, 100_000));
        p.minFee = uint96(bound(rand(seed, 18), 1, 1e18));
        p.equivocationSlashBps = uint16(bound(rand(seed, 12), 1_000, 10_000));
        p.reporterBountyBps = uint16(bound(rand(seed, 13), 0, 5_000));
        // Windows small enough that the task lifetime stays below the registry's cooldown (800 blocks).
        p.answerWindow = uint32(bound(rand(seed, 14), 1, 30));
        p.commitWindow = uint32(bound(rand(seed, 15), 1, 20));
        p.revealWindow = uint32(bound(rand(seed, 16), 1, 20));
        p.drawWindow = uint32(bound(rand(seed, 17), 1, 30));
        vm.prank(IOwnable(address(market)).owner());
        market.setParams(p);
        ++calls["setParams"];
    }

    function jump(uint256 blocks) external {
        blocks = bound(blocks, 1, 60);
        vm.roll(block.number + blocks);
        vm.warp(block.timestamp + blocks * 12); // 12-second blocks
        ++calls["jump"];
    }
}
