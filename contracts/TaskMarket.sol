// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEvaluatorRegistry} from "./interfaces/IEvaluatorRegistry.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {SettlementMath} from "./SettlementMath.sol";
import {TaskSettlement} from "./TaskSettlement.sol";
import {TaskSignatures} from "./TaskSignatures.sol";
import {TaskViews} from "./TaskViews.sol";

/// @title TaskMarket
/// @notice Task escrow and life cycle (see ITaskMarket, docs/PROTOCOL.md and docs/design/ROUNDS.md). Settlement
/// lives in TaskSettlement, signatures in TaskSignatures; this file holds the state machine and the round calls.
/// @dev Gas layout: a committee is one slot, the hash of its RoundState (members and the commit report's
/// commitments come back in calldata); the commit mask sits in the task's first slot. Only a seat that commits or
/// reveals alone (a member a report left out), or is opened by a reveal report that cannot settle yet, writes a slot
/// of its own.
contract TaskMarket is TaskSettlement, TaskSignatures {
    using SafeERC20 for IERC20;

    /// @notice The views module (TaskViews, deployed by the constructor), which every call this contract does not
    /// implement is delegated to.
    address public immutable views;

    /// @dev keccak256(abi.encode(new bytes32[](0))): the commitments of a round before its commit report.
    bytes32 private constant _NO_COMMITMENTS = keccak256(abi.encode(uint256(32), uint256(0)));

    /// @param stakeToken The ERC-20 for fees (the registry's stake token).
    /// @param stakeRegistry The stake registry (its cooldown must exceed the task lifetime of `initialParams`).
    /// @param evaluatorRegistry The evaluator registry.
    /// @param settlement The SettlementMath calculator.
    /// @param governance The owner (a timelock in production).
    /// @param initialTreasury Receiver of slashes, unpaid shares and dust.
    /// @param initialParams Parameters, checked against their bounds.
    constructor(
        address stakeToken,
        address stakeRegistry,
        address evaluatorRegistry,
        address settlement,
        address governance,
        address initialTreasury,
        Params memory initialParams
    ) Ownable(governance) {
        if (
            stakeToken == address(0) || stakeRegistry == address(0) || evaluatorRegistry == address(0)
                || settlement == address(0)
        ) revert ZeroAddress();
        token = stakeToken;
        registry = IStakeRegistry(stakeRegistry);
        evaluators = IEvaluatorRegistry(evaluatorRegistry);
        settlementMath = SettlementMath(settlement);
        views = address(new TaskViews(IStakeRegistry(stakeRegistry)));
        _setTreasury(initialTreasury);
        _setParams(0, abi.encodeCall(SettlementMath.checkParams, (initialParams)));
        emit ParamsSet(initialParams);
    }

    /// @notice Serves the views of ITaskViews from the TaskViews module, in this contract's storage.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        address target = views;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ---------------------------------------------------------------- requester and provider

    /// @inheritdoc ITaskMarket
    function createTask(bytes32 modelId, bytes32 evaluatorId, uint256 fee, bytes calldata prompt)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        if (fee > type(uint96).max) revert FeeTooLarge(fee);
        uint256 version = _paramsVersion;
        Params storage p = _paramsOf[version];
        // Below minFee a seat's share would not pay the gas of its commit and reveal (docs/ECONOMICS.md).
        if (fee < p.minFee) revert FeeBelowMinimum(fee, p.minFee);
        if (prompt.length > p.maxPromptBytes) revert PromptTooLarge(prompt.length, p.maxPromptBytes);
        if (!evaluators.isActive(evaluatorId)) revert EvaluatorNotActive(evaluatorId);
        // Nothing is drawn here (the draw needs a hash that does not exist yet): one read of the pool's size, whose
        // gas does not depend on its contents, refuses a model nobody serves.
        if (registry.activeProviders(modelId) == 0) revert NoProviderAvailable(modelId);
        taskId = ++_taskCount; // in the slot of _paramsVersion, read just above

        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), fee);
        uint256 received = IERC20(token).balanceOf(address(this)) - balanceBefore;
        if (received != fee) revert FeeOnTransferToken(fee, received);

        Task storage t = _tasks[taskId];
        t.status = Status.Assigned;
        // The provider is drawn from the hash of the next block over the pool at the end of this one (see
        // assignedProvider); its deadline is known now, before anyone knows who it is.
        t.seedBlock = uint40(block.number + 1);
        t.paramsVersion = uint16(version); // the task settles under these parameters, whatever governance does
        t.requester = msg.sender;
        t.fee = uint96(fee);
        t.answerDeadline = uint40(block.number + 1 + p.answerWindow);
        t.createdBlock = uint40(block.number);
        uint256 pair = _pairNumberOf(modelId, evaluatorId);
        if (pair != 0) {
            t.pair = uint16(pair);
        } else {
            t.modelId = modelId;
            t.evaluatorId = evaluatorId;
        }
        emit TaskCreated(taskId, msg.sender, modelId, evaluatorId, fee, prompt);
    }

    /// @inheritdoc ITaskMarket
    function assignProvider(uint256 taskId) external {
        Task storage t = _taskIn(taskId, Status.Assigned);
        if (_provider(taskId, t) == address(0)) _nobodyDrawn(taskId, t);
    }

    /// @inheritdoc ITaskMarket
    function reassign(uint256 taskId) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Assigned);
        if (block.number <= t.answerDeadline) revert AnswerDeadlineNotPassed(taskId, t.answerDeadline);
        address late = _provider(taskId, t);
        if (late == address(0)) return _nobodyDrawn(taskId, t); // nobody can be held to this draw: no slash
        Params storage p = _paramsOf[t.paramsVersion];
        uint256 fee = t.fee;
        // A multiple of what the answer was worth (the provider pool), not a share of the whole stake.
        uint256 penalty = ((fee - (fee * p.validatorPoolBps) / BPS) * p.providerTimeoutPenaltyBps) / BPS;
        emit ProviderTimedOut(taskId, late, _releaseOne(late, penalty));
        _nextProvider(taskId, t, late, RefundReason.NoProvider);
    }

    /// @inheritdoc ITaskMarket
    function declineTask(uint256 taskId) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Assigned);
        if (msg.sender != _provider(taskId, t)) revert NotAssignedProvider(taskId, msg.sender);
        if (block.number > t.answerDeadline) revert AnswerDeadlinePassed(taskId, t.answerDeadline);
        _releaseOne(msg.sender, 0);
        emit ProviderDeclined(taskId, msg.sender);
        _nextProvider(taskId, t, msg.sender, RefundReason.Declined);
    }

    /// @inheritdoc ITaskMarket
    function submitAnswer(uint256 taskId, bytes32 outputHash, bytes calldata output, string calldata uri) external {
        Task storage t = _taskIn(taskId, Status.Assigned);
        if (msg.sender != _provider(taskId, t)) revert NotAssignedProvider(taskId, msg.sender);
        if (block.number > t.answerDeadline) revert AnswerDeadlinePassed(taskId, t.answerDeadline);
        if (outputHash == bytes32(0)) revert ZeroOutputHash();
        // The answer itself goes on chain: every validator can then read and score it, so no one can make a
        // committee abstain with an answer it cannot fetch or verify. A URI is optional metadata beside the bytes.
        if (output.length == 0) revert AnswerBytesRequired();
        uint256 size = output.length + bytes(uri).length;
        Params storage p = _paramsOf[t.paramsVersion];
        if (size > p.maxOutputBytes) revert OutputTooLarge(size, p.maxOutputBytes);
        if (keccak256(output) != outputHash) revert OutputHashMismatch(outputHash, keccak256(output));
        t.status = Status.Answered;
        // The hash is not stored (nothing on chain reads it): AnswerSubmitted carries it with the output.
        // The committee seed is the hash of the NEXT block, unknown to the provider when it sends the answer.
        t.seedBlock = uint40(block.number + 1);
        t.drawDeadline = uint40(block.number + p.drawWindow);
        emit AnswerSubmitted(taskId, msg.sender, outputHash, output, uri);
    }

    // ---------------------------------------------------------------- committee

    /// @inheritdoc ITaskMarket
    function drawCommittee(uint256 taskId) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Answered);
        if (_drawCommittee(taskId, t)) return;
        // A seed older than 256 blocks is gone (the EVM forgets it): a fresh one, never the caller's choice.
        // Too few eligible validators: wait for the pool to grow, with a new seed, until the deadline.
        if (blockhash(t.seedBlock) == bytes32(0) || block.number <= t.drawDeadline) {
            t.seedBlock = uint40(block.number + 1);
            emit CommitteeReseeded(taskId, t.round, block.number + 1);
            return;
        }
        _settleUnjudged(taskId, t);
    }

    /// @inheritdoc ITaskMarket
    function commitReport(RoundState calldata state, CommitReport calldata report) external {
        uint256 taskId = report.taskId;
        Task storage t = _committeeTask(taskId);
        if (block.number > t.commitEnd) revert CommitPhaseClosed(taskId, t.commitEnd);
        uint256 round = t.round;
        if (report.round != round) revert RoundMismatch(taskId, report.round);
        if (block.timestamp > report.deadline) revert SignatureExpired(report.deadline);
        bytes32 membersHash = _checkState(taskId, state);
        uint256 mask = report.mask;
        if (mask == 0 || mask >> state.members.length != 0) revert InvalidMask(mask);
        uint256 committed = t.committedMask;
        if (mask & committed != 0) revert AlreadyCommitted(taskId, state.members[_lowestBit(mask & committed)]);
        _checkCommitSignatures(state.members, report, round);
        // The round's report part grows by this report's seats (a round may have several reports, so that nobody
        // can use up the round's report with one seat of a pending one).
        bytes32 commitmentsHash = state.reportMask == 0
            ? keccak256(abi.encode(report.commitments))
            : keccak256(abi.encode(_merged(state, report)));
        _round[taskId] = _roundHash(membersHash, state.reportMask | mask, commitmentsHash);
        t.committedMask = uint32(committed | mask);
        emit CommitReported(taskId, round, uint32(mask), report.commitments);
    }

    /// @inheritdoc ITaskMarket
    function revealReport(RoundState calldata state, RevealReport calldata report) external nonReentrant {
        uint256 taskId = report.taskId;
        Task storage t = _taskIn(taskId, Status.Committee);
        _checkRevealWindow(taskId, t);
        _checkState(taskId, state);
        uint256 mask = report.revealMask;
        uint256 committed = t.committedMask;
        if (mask == 0 || mask >> state.members.length != 0) revert InvalidMask(mask);
        if (mask & ~committed != 0) revert NotCommitted(taskId, _memberOrZero(state, _lowestBit(mask & ~committed)));
        uint256 n = _popCount(mask);
        if (report.scores.length != n || report.salts.length != n) revert ReportLengthMismatch(n);
        uint256 round = t.round;
        (uint256[] memory scores, bool[] memory revealed, uint256 missing) =
            _openings(taskId, round, state, report, committed);
        emit RevealReported(taskId, round, uint32(mask), report.scores);
        if (missing == 0) {
            _settleRound(taskId, t, state.members, scores, revealed);
            return;
        }
        // Partial (a member is silent, or keeps its opening to reveal alone): each opening is stored exactly as if
        // its member had revealed alone, so that the rest need not; a later report, or finalize, settles.
        uint256 base = round << 8;
        for (uint256 i; mask != 0; ++i) {
            if (mask & 1 != 0) _reveals[taskId][base | i] = REVEALED | scores[i];
            mask >>= 1;
        }
    }

    /// @inheritdoc ITaskMarket
    function commit(uint256 taskId, RoundState calldata state, uint256 index, bytes32 commitment) external {
        Task storage t = _committeeTask(taskId);
        if (block.number > t.commitEnd) revert CommitPhaseClosed(taskId, t.commitEnd);
        if (!_isCommitment(commitment)) revert ReservedCommitment();
        _checkState(taskId, state);
        _checkMember(taskId, state, index);
        uint256 committed = t.committedMask;
        if ((committed >> index) & 1 != 0) revert AlreadyCommitted(taskId, msg.sender);
        uint256 round = t.round;
        _commitments[taskId][(round << 8) | index] = commitment;
        t.committedMask = uint32(committed | (1 << index));
        emit ScoreCommitted(taskId, round, msg.sender, commitment);
    }

    /// @inheritdoc ITaskMarket
    function reveal(uint256 taskId, RoundState calldata state, uint256 index, uint256 score, bytes32 salt) external {
        Task storage t = _taskIn(taskId, Status.Committee);
        _checkRevealWindow(taskId, t);
        _checkState(taskId, state);
        _checkMember(taskId, state, index);
        if ((t.committedMask >> index) & 1 == 0) revert NotCommitted(taskId, msg.sender);
        uint256 round = t.round;
        uint256 slot = (round << 8) | index;
        if (_reveals[taskId][slot] != 0) revert AlreadyRevealed(taskId, msg.sender);
        bytes32 stored;
        if ((state.reportMask >> index) & 1 != 0) {
            stored = state.reportCommitments[_popCount(state.reportMask & ((1 << index) - 1))];
        } else {
            stored = _commitments[taskId][slot];
        }
        _checkOpening(taskId, round, state, index, stored, score, salt);
        _reveals[taskId][slot] = REVEALED | score;
        emit ScoreRevealed(taskId, round, msg.sender, score);
    }

    /// @inheritdoc ITaskMarket
    function finalize(uint256 taskId, RoundState calldata state) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Committee);
        _checkState(taskId, state);
        uint256 k = state.members.length;
        uint256 base = uint256(t.round) << 8;
        uint256[] memory scores = new uint256[](k);
        bool[] memory revealed = new bool[](k);
        uint256 opened;
        for (uint256 i; i < k; ++i) {
            uint256 alone = _reveals[taskId][base | i];
            if (alone == 0) continue;
            scores[i] = alone & (REVEALED - 1);
            revealed[i] = true;
            opened |= 1 << i;
        }
        // Early only when nobody is left to wait for: reveals have started (no seat can commit any more) and every
        // committed seat is open.
        uint256 committed = t.committedMask;
        bool revealsOpen = block.number > t.commitEnd || committed == (1 << k) - 1;
        if (block.number <= t.revealEnd && (!revealsOpen || opened != committed)) {
            revert FinalizeTooEarly(taskId, t.revealEnd);
        }
        _settleRound(taskId, t, state.members, scores, revealed);
    }

    /// @inheritdoc ITaskMarket
    function reportEquivocation(
        Attestation calldata first,
        bytes calldata firstSignature,
        Attestation calldata second,
        bytes calldata secondSignature
    ) external nonReentrant {
        if (first.taskId != second.taskId || first.score == second.score) revert NotEquivocation();
        address signer = _attestationSigner(first, firstSignature);
        if (signer != _attestationSigner(second, secondSignature)) revert NotEquivocation();
        uint256 taskId = first.taskId;
        if (taskId == 0 || taskId > _taskCount) revert UnknownTask(taskId);
        if (_equivocationReported[taskId][signer]) revert EquivocationAlreadyReported(taskId, signer);
        _equivocationReported[taskId][signer] = true;
        address[] memory one = new address[](1);
        one[0] = signer;
        Params storage p = _paramsOf[_tasks[taskId].paramsVersion];
        uint256 slashed = registry.slash(one, p.equivocationSlashBps);
        uint256 bounty = (slashed * p.reporterBountyBps) / BPS; // rounded down; the rest to the treasury
        claimable[msg.sender] += bounty;
        claimable[treasury] += slashed - bounty;
        emit EquivocationReported(taskId, signer, msg.sender, slashed, bounty);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Draws the committee of the task's current round (status Answered) if the draw selects one: drawn and
    /// locked by the registry from the hash of the seed block over the pool of the block before it (fixed before
    /// anyone could know the seed), never the task's provider. Returns false, changing nothing, when it selects
    /// nobody (too few eligible validators, or the seed hash is gone): drawCommittee then reseeds or settles.
    /// The commit window ends commitWindow blocks after the first block the draw could land in (seedBlock + 1),
    /// wherever it lands: a member knows its seat from then on (TaskViews.pendingCommittee) and may draw by
    /// committing, so nobody can shorten a member's window by sending the draw late.
    function _drawCommittee(uint256 taskId, Task storage t) private returns (bool drawn) {
        uint256 seedBlock = t.seedBlock;
        if (block.number <= seedBlock) revert SeedNotReady(taskId, seedBlock);
        uint256 round = t.round;
        Params storage p = _paramsOf[t.paramsVersion];
        uint256 k = p.committeeSize;
        address[] memory members = registry.assignCommittee(_evaluatorOf(t), seedBlock, taskId, round, k, t.provider);
        if (members.length == 0) return false;
        // One slot for the whole committee: members are in CommitteeDrawn and come back in calldata.
        _round[taskId] = _roundHash(keccak256(abi.encode(members)), 0, _NO_COMMITMENTS);
        uint256 commitEnd = seedBlock + 1 + p.commitWindow;
        uint256 revealEnd = commitEnd + p.revealWindow;
        t.status = Status.Committee;
        t.committeeSize = uint8(k);
        t.committedMask = 0;
        t.commitEnd = uint40(commitEnd);
        t.revealEnd = uint40(revealEnd);
        emit CommitteeDrawn(taskId, round, members, commitEnd, revealEnd);
        return true;
    }

    /// @dev The task a commit goes to, in status Committee: a round still undrawn (status Answered) is drawn first,
    /// so that the round's first commit, alone or by report, is its draw (no transaction of its own on the happy
    /// path). When the draw selects nobody the commit reverts (no seat could hold it) and drawCommittee is left to
    /// reseed or settle: a commit call never settles or reseeds a task.
    function _committeeTask(uint256 taskId) private returns (Task storage t) {
        t = _tasks[taskId];
        if (t.status == Status.Answered && !_drawCommittee(taskId, t)) revert NoCommitteeDrawn(taskId, t.seedBlock);
        return _taskIn(taskId, Status.Committee);
    }

    /// @dev Each member's score and whether it is open: opened by the report (checked against its commitment),
    /// or already open (revealed alone, or by an earlier partial report). `missing`: committed seats that are neither.
    function _openings(
        uint256 taskId,
        uint256 round,
        RoundState calldata state,
        RevealReport calldata report,
        uint256 committed
    ) private view returns (uint256[] memory scores, bool[] memory revealed, uint256 missing) {
        scores = new uint256[](state.members.length);
        revealed = new bool[](scores.length);
        _openFromReport(taskId, round, state, report, scores, revealed);
        // Left out of the report: open only if its member revealed alone or an earlier partial report opened it. A
        // seat opened both ways counts once, with the same score (its commitment binds the score).
        uint256 leftOut = committed & ~uint256(report.revealMask);
        for (uint256 i; leftOut >> i != 0; ++i) {
            if ((leftOut >> i) & 1 == 0) continue;
            uint256 alone = _reveals[taskId][(round << 8) | i];
            if (alone == 0) missing |= 1 << i;
            scores[i] = alone & (REVEALED - 1);
            revealed[i] = alone != 0;
        }
    }

    /// @dev Checks each opening of the report against its seat's commitment (the commit reports' when they
    /// committed the seat, else its fallback slot) and sets the seat's score.
    /// The report's scores and salts and the state's commitments are read through calldata cursors, one word each
    /// and each cursor moved on after its read, instead of decoding the structs again per seat (legacy code
    /// generation runs out of stack for three calldata arrays here). The ABI decoder checked where each array
    /// starts; each is read within its length: the scores and salts have one entry per bit of the reveal mask
    /// (revealReport checked it), the commitments one per bit of `reportMask` (the round hash binds them: a commit
    /// report adds as many as its mask has bits). A score word above 16 bits is above SCORE_MAX: ScoreOutOfRange.
    function _openFromReport(
        uint256 taskId,
        uint256 round,
        RoundState calldata state,
        RevealReport calldata report,
        uint256[] memory scores,
        bool[] memory revealed
    ) private view {
        uint256 opened = report.revealMask;
        uint256 reported = state.reportMask;
        (uint256 scoreAt, uint256 saltAt) = _cursors(report.scores, report.salts);
        uint256 commitmentAt = _cursor(state.reportCommitments);
        for (uint256 i; opened >> i != 0; ++i) {
            if ((opened >> i) & 1 != 0) {
                bytes32 stored = (reported >> i) & 1 != 0
                    ? bytes32(_word(commitmentAt))
                    : _commitments[taskId][(round << 8) | i];
                scores[i] = _word(scoreAt);
                _checkOpening(taskId, round, state, i, stored, scores[i], bytes32(_word(saltAt)));
                revealed[i] = true;
                scoreAt += 32;
                saltAt += 32;
            }
            if ((reported >> i) & 1 != 0) commitmentAt += 32;
        }
    }

    /// @dev Where the report's scores and salts start in calldata.
    function _cursors(uint16[] calldata reportScores, bytes32[] calldata salts)
        private
        pure
        returns (uint256 scoreAt, uint256 saltAt)
    {
        assembly ("memory-safe") {
            scoreAt := reportScores.offset
            saltAt := salts.offset
        }
    }

    /// @dev Where `commitments` starts in calldata.
    function _cursor(bytes32[] calldata commitments) private pure returns (uint256 at) {
        assembly ("memory-safe") {
            at := commitments.offset
        }
    }

    /// @dev The calldata word at `at`.
    function _word(uint256 at) private pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := calldataload(at)
        }
    }

    /// @dev Every commitment of the report is commitment-shaped and signed by its seat's member.
    function _checkCommitSignatures(address[] calldata members, CommitReport calldata report, uint256 round)
        private
        view
    {
        uint256 mask = report.mask;
        uint256 n = _popCount(mask);
        if (report.commitments.length != n || report.signatures.length != n) revert ReportLengthMismatch(n);
        uint256 j;
        for (uint256 i; i < members.length; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            bytes32 c = report.commitments[j];
            if (!_isCommitment(c)) revert ReservedCommitment();
            address signer = _commitSigner(report.taskId, round, c, report.deadline, report.signatures[j]);
            if (signer != members[i]) revert InvalidSigner(signer, members[i]);
            ++j;
        }
    }

    /// @dev Reveals open once every member committed (no seat can commit after any reveal) or once the commit
    /// phase is over, until revealEnd.
    function _checkRevealWindow(uint256 taskId, Task storage t) private view {
        if (block.number <= t.commitEnd && t.committedMask != (1 << t.committeeSize) - 1) {
            revert RevealTooEarly(taskId, uint256(t.commitEnd) + 1);
        }
        if (block.number > t.revealEnd) revert RevealPhaseClosed(taskId, t.revealEnd);
    }

    /// @dev The round state in calldata is the one whose hash the task holds (members, the commit reports' part);
    /// returns the hash of its members.
    function _checkState(uint256 taskId, RoundState calldata state) private view returns (bytes32 membersHash) {
        membersHash = keccak256(abi.encode(state.members));
        bytes32 hash = _roundHash(membersHash, state.reportMask, keccak256(abi.encode(state.reportCommitments)));
        if (hash != _round[taskId]) revert RoundStateMismatch(taskId);
    }

    /// @dev The commitments of the state's reports and of `report`, in seat order (their masks are disjoint).
    function _merged(RoundState calldata state, CommitReport calldata report)
        private
        pure
        returns (bytes32[] memory merged)
    {
        merged = new bytes32[](state.reportCommitments.length + report.commitments.length);
        uint256 a; // next of the state's
        uint256 b; // next of the report's
        for (uint256 i; i < state.members.length; ++i) {
            if ((state.reportMask >> i) & 1 != 0) {
                merged[a + b] = state.reportCommitments[a];
                ++a;
            } else if ((report.mask >> i) & 1 != 0) {
                merged[a + b] = report.commitments[b];
                ++b;
            }
        }
    }

    function _checkMember(uint256 taskId, RoundState calldata state, uint256 index) private view {
        if (index >= state.members.length || state.members[index] != msg.sender) {
            revert NotCommitteeMember(taskId, index, msg.sender);
        }
    }

    /// @dev Checks that `score` and `salt` open `stored`, member `index`'s commitment. On a mismatch, tells a copied
    /// commitment (one that opens for another member of the committee) apart from a plain wrong score or salt.
    function _checkOpening(
        uint256 taskId,
        uint256 round,
        RoundState calldata state,
        uint256 index,
        bytes32 stored,
        uint256 score,
        bytes32 salt
    ) private view {
        if (score > SCORE_MAX) revert ScoreOutOfRange(score);
        address account = state.members[index];
        if (stored == Commitments.commitment(score, salt, account, taskId, round, address(this))) return;
        for (uint256 i; i < state.members.length; ++i) {
            address other = state.members[i];
            if (other != account && stored == Commitments.commitment(score, salt, other, taskId, round, address(this))) {
                revert CopiedCommitment(taskId, account, other);
            }
        }
        revert CommitmentMismatch(taskId, account);
    }

    function _memberOrZero(RoundState calldata state, uint256 index) private pure returns (address) {
        return index < state.members.length ? state.members[index] : address(0);
    }

    function _lowestBit(uint256 mask) private pure returns (uint256 index) {
        while ((mask >> index) & 1 == 0) ++index;
    }

    /// @dev The number of the pair (see TaskStorage._pairNumber), given on its first task; 0 once all are taken.
    function _pairNumberOf(bytes32 modelId, bytes32 evaluatorId) private returns (uint256 number) {
        bytes32 key = keccak256(abi.encode(modelId, evaluatorId));
        number = _pairNumber[key];
        if (number != 0 || _pairCount == type(uint16).max) return number;
        number = ++_pairCount;
        _pairNumber[key] = number;
        _pairs[number] = Pair(modelId, evaluatorId);
    }

    /// @dev See ITaskMarket.RoundState.
    function _roundHash(bytes32 membersHash, uint256 reportMask, bytes32 commitmentsHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(membersHash, reportMask, commitmentsHash));
    }

    /// @dev The provider of the current attempt, drawn and locked by the registry at the first touch after its
    /// seed block (see IStakeRegistry.providerDraw: never the previous attempt's provider). Zero when the draw finds
    /// nobody or can no longer be proven (the seed hash is older than 256 blocks): nobody can be held to it.
    function _provider(uint256 taskId, Task storage t) private returns (address provider) {
        provider = t.provider;
        if (provider != address(0)) return provider;
        uint256 seedBlock = t.seedBlock;
        if (block.number <= seedBlock) revert ProviderNotDrawnYet(taskId, seedBlock);
        uint256 attempt = t.reassignments;
        // The first attempt excludes nobody (and skips the cold read of the exclusion slot, written only later).
        address excluded = attempt == 0 ? address(0) : _excludedProvider[taskId];
        provider = registry.assignProvider(_modelOf(t), seedBlock, taskId, attempt, excluded);
        if (provider == address(0)) return provider;
        t.provider = provider;
        emit ProviderAssigned(taskId, provider, t.answerDeadline);
    }

    /// @dev The draw of the current attempt holds nobody. Its hash is gone (nobody touched the task for 256 blocks):
    /// a fresh draw is scheduled from a later hash, never one the caller picks. It found nobody (no provider other
    /// than the previous one was in the pool): none is left, so the requester is refunded in full.
    function _nobodyDrawn(uint256 taskId, Task storage t) private {
        if (blockhash(t.seedBlock) == bytes32(0)) _nextProvider(taskId, t, address(0), RefundReason.NoProvider);
        else _refund(taskId, t, RefundReason.NoProvider);
    }

    /// @dev After a timeout, a decline or an expired draw (`previous` already unlocked, or zero):
    /// schedules the draw of reassignment number `reassignments + 1` from the hash of the next block (never
    /// `previous`), or refunds the requester in full with `reason` when the reassignments are used up or no other
    /// provider serves the model.
    function _nextProvider(uint256 taskId, Task storage t, address previous, RefundReason reason) private {
        uint256 attempt = uint256(t.reassignments) + 1;
        Params storage p = _paramsOf[t.paramsVersion];
        // No other provider serves the model now: another draw would select nobody, so the requester gets its fee
        // back at once (this reads the live pool; the draw itself reads the pool of the block before its seed).
        if (attempt > p.maxReassignments || registry.otherProviders(_modelOf(t), previous) == 0) {
            _refund(taskId, t, reason);
            return;
        }
        uint256 seedBlock = block.number + 1;
        uint256 deadline = seedBlock + p.answerWindow;
        t.reassignments = uint8(attempt);
        t.provider = address(0);
        t.seedBlock = uint40(seedBlock);
        t.answerDeadline = uint40(deadline);
        _excludedProvider[taskId] = previous;
        emit ProviderDrawScheduled(taskId, attempt, seedBlock, deadline);
    }
}
