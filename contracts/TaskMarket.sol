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

/// @title TaskMarket
/// @notice Task escrow and life cycle (see ITaskMarket and docs/PROTOCOL.md). Settlement (finalize) lives in
/// TaskSettlement, signatures in TaskSignatures; this file holds the state machine up to the reveals.
/// @dev Gas layout: everything commit and reveal read sits in the task's first slot; committee member slots and
/// commitment slots are written non-zero at the draw (a commitment slot gets its member's marker, which a commit
/// checks instead of the member slot), so commits and reveals only rewrite non-zero slots.
contract TaskMarket is TaskSettlement, TaskSignatures {
    using SafeERC20 for IERC20;

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
        _setTreasury(initialTreasury);
        _setParams(0, abi.encodeCall(SettlementMath.checkParams, (initialParams)));
        emit ParamsSet(initialParams);
    }

    // ---------------------------------------------------------------- requester and provider

    /// @inheritdoc ITaskMarket
    function createTask(bytes32 modelId, bytes32 evaluatorId, uint256 fee, bytes calldata prompt)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        if (fee > type(uint96).max) revert FeeTooLarge(fee);
        uint256 version = paramsVersion;
        Params storage p = _paramsOf[version];
        // Below minFee a seat's share would not pay the gas of its commit and reveal (docs/ECONOMICS.md).
        if (fee < p.minFee) revert FeeBelowMinimum(fee, p.minFee);
        if (prompt.length > p.maxPromptBytes) revert PromptTooLarge(prompt.length, p.maxPromptBytes);
        if (!evaluators.isActive(evaluatorId)) revert EvaluatorNotActive(evaluatorId);
        // Nothing is drawn here (the draw needs a hash that does not exist yet): one read of the pool's size, whose
        // gas does not depend on its contents, refuses a model nobody serves.
        if (registry.activeProviders(modelId) == 0) revert NoProviderAvailable(modelId);
        taskId = ++taskCount;

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
        t.modelId = modelId;
        t.evaluatorId = evaluatorId;
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
        t.outputHash = outputHash;
        // The committee seed is the hash of the NEXT block, unknown to the provider when it sends the answer.
        t.seedBlock = uint40(block.number + 1);
        t.drawDeadline = uint40(block.number + p.drawWindow);
        emit AnswerSubmitted(taskId, msg.sender, outputHash, output, uri);
    }

    // ---------------------------------------------------------------- committee

    /// @inheritdoc ITaskMarket
    function drawCommittee(uint256 taskId) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Answered);
        uint256 seedBlock = t.seedBlock;
        if (block.number <= seedBlock) revert SeedNotReady(taskId, seedBlock);
        uint256 round = t.round;
        Params storage p = _paramsOf[t.paramsVersion];
        uint256 k = p.committeeSize;
        // Drawn and locked by the registry: the hash of the seed block over the pool of the block before it (fixed
        // before anyone could know the seed), never the task's provider.
        address[] memory members = registry.assignCommittee(t.evaluatorId, seedBlock, taskId, round, k, t.provider);
        if (members.length == 0) {
            // A seed older than 256 blocks is gone (the EVM forgets it): a fresh one, never the caller's choice.
            // Too few eligible validators: wait for the pool to grow, with a new seed, until the deadline.
            if (blockhash(seedBlock) == bytes32(0) || block.number <= t.drawDeadline) {
                t.seedBlock = uint40(block.number + 1);
                emit CommitteeReseeded(taskId, round, block.number + 1);
                return;
            }
            _settleUnjudged(taskId, t);
            return;
        }
        uint256 base = round << 8;
        for (uint256 i; i < k; ++i) {
            _members[taskId][base | i] = Member({account: members[i], score: 0, revealed: false});
            _commitments[taskId][base | i] = _emptySlot(members[i]);
        }
        uint256 commitEnd = block.number + p.commitWindow;
        uint256 revealEnd = commitEnd + p.revealWindow;
        t.status = Status.Committee;
        t.committeeSize = uint8(k);
        t.committedCount = 0;
        t.commitEnd = uint40(commitEnd);
        t.revealEnd = uint40(revealEnd);
        emit CommitteeDrawn(taskId, round, members, commitEnd, revealEnd);
    }

    /// @inheritdoc ITaskMarket
    function commit(uint256 taskId, uint256 index, bytes32 commitment) external {
        _commit(taskId, index, commitment, msg.sender);
    }

    /// @inheritdoc ITaskMarket
    function reveal(uint256 taskId, uint256 index, uint256 score, bytes32 salt) external {
        _reveal(taskId, index, score, salt, msg.sender);
    }

    /// @inheritdoc ITaskMarket
    function commitBySig(SignedCommit[] calldata commits) external {
        if (commits.length == 0) revert EmptyBatch();
        for (uint256 i; i < commits.length; ++i) {
            SignedCommit calldata c = commits[i];
            _checkSigned(c.taskId, c.round, c.index, c.deadline, _commitSigner(c));
            _commit(c.taskId, c.index, c.commitment, _memberAt(c.taskId, c.round, c.index));
        }
    }

    /// @inheritdoc ITaskMarket
    function revealBySig(SignedReveal[] calldata reveals) external {
        if (reveals.length == 0) revert EmptyBatch();
        for (uint256 i; i < reveals.length; ++i) {
            SignedReveal calldata r = reveals[i];
            _checkSigned(r.taskId, r.round, r.index, r.deadline, _revealSigner(r));
            _reveal(r.taskId, r.index, r.score, r.salt, _memberAt(r.taskId, r.round, r.index));
        }
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
        if (taskId == 0 || taskId > taskCount) revert UnknownTask(taskId);
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

    /// @inheritdoc ITaskMarket
    function attestationSigner(Attestation calldata attestation, bytes calldata signature)
        external
        view
        returns (address)
    {
        return _attestationSigner(attestation, signature);
    }

    // ---------------------------------------------------------------- internal

    function _commit(uint256 taskId, uint256 index, bytes32 commitment, address account) private {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Committee) revert InvalidStatus(taskId, t.status);
        if (block.number > t.commitEnd) revert CommitPhaseClosed(taskId, t.commitEnd);
        // A value shaped like an empty slot's marker: committing it would leave the slot open and count the member
        // twice.
        if (!_isCommitment(commitment)) revert ReservedCommitment();
        uint256 slot = (uint256(t.round) << 8) | index;
        // The slot holds this account's marker only if the account is member `index` of this round and has not
        // committed: one read checks both (the member slot is read on the failure path only, to tell the two errors
        // apart). An index past 255 would reach into other rounds' keys: refused first.
        if (index > type(uint8).max || _commitments[taskId][slot] != _emptySlot(account)) {
            _memberSlot(t, taskId, index, account);
            revert AlreadyCommitted(taskId, account);
        }
        _commitments[taskId][slot] = commitment;
        unchecked {
            ++t.committedCount; // once per member (the slot is single-use), so at most committeeSize <= 32
        }
        emit ScoreCommitted(taskId, t.round, account, commitment);
    }

    function _reveal(uint256 taskId, uint256 index, uint256 score, bytes32 salt, address account) private {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Committee) revert InvalidStatus(taskId, t.status);
        // Reveals open once every member committed (no commitment can follow any reveal: each member's slot is
        // single-use) or once the commit phase is over.
        if (block.number <= t.commitEnd && t.committedCount < t.committeeSize) {
            revert RevealTooEarly(taskId, uint256(t.commitEnd) + 1);
        }
        if (block.number > t.revealEnd) revert RevealPhaseClosed(taskId, t.revealEnd);
        uint256 slot = _memberSlot(t, taskId, index, account);
        Member storage m = _members[taskId][slot];
        if (m.revealed) revert AlreadyRevealed(taskId, account);
        if (score > SCORE_MAX) revert ScoreOutOfRange(score);
        bytes32 stored = _commitments[taskId][slot];
        if (!_isCommitment(stored)) revert NotCommitted(taskId, account);
        uint256 round = t.round;
        if (stored != Commitments.commitment(score, salt, account, taskId, round, address(this))) {
            _revertMismatch(taskId, round, t.committeeSize, stored, score, salt, account);
        }
        // Only the member slot is written: finalize counts the revealed flags (no count in the task slot).
        m.score = uint16(score);
        m.revealed = true;
        emit ScoreRevealed(taskId, round, account, score);
    }

    /// @dev Checks `account` is member `index` of the task's current round; returns the member's slot key.
    function _memberSlot(Task storage t, uint256 taskId, uint256 index, address account)
        private
        view
        returns (uint256 slot)
    {
        slot = (uint256(t.round) << 8) | index;
        if (index >= t.committeeSize || _members[taskId][slot].account != account) {
            revert NotCommitteeMember(taskId, index, account);
        }
    }

    /// @dev Failure path only (the transaction reverts, so its cost does not matter): tells a copied commitment,
    /// which opens for another member of the committee, apart from a plain wrong score or salt.
    function _revertMismatch(
        uint256 taskId,
        uint256 round,
        uint256 k,
        bytes32 stored,
        uint256 score,
        bytes32 salt,
        address account
    ) private view {
        for (uint256 i; i < k; ++i) {
            address other = _members[taskId][(round << 8) | i].account;
            if (other != account && stored == Commitments.commitment(score, salt, other, taskId, round, address(this))) {
                revert CopiedCommitment(taskId, account, other);
            }
        }
        revert CommitmentMismatch(taskId, account);
    }

    /// @dev Shared checks of a relayed message. No nonce: a commit or reveal is single-use per member, task and
    /// round (AlreadyCommitted / AlreadyRevealed), so messages of unrelated tasks never wait for each other.
    function _checkSigned(uint256 taskId, uint256 round, uint256 index, uint256 deadline, address signer)
        private
        view
    {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        Task storage t = _tasks[taskId];
        if (round != t.round) revert RoundMismatch(taskId, round);
        // Past the committee the member is zero, which no recovered signer is.
        address member = _memberAt(taskId, round, index);
        if (signer != member) revert InvalidSigner(signer, member);
    }

    function _memberAt(uint256 taskId, uint256 round, uint256 index) private view returns (address) {
        if (index > type(uint8).max) return address(0);
        return _members[taskId][(round << 8) | index].account;
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
        provider = registry.assignProvider(t.modelId, seedBlock, taskId, attempt, excluded);
        if (provider == address(0)) return provider;
        t.provider = provider;
        emit ProviderAssigned(taskId, provider, t.answerDeadline);
    }

    /// @inheritdoc ITaskMarket
    function assignedProvider(uint256 taskId) external view returns (address) {
        Task storage t = _tasks[taskId];
        uint256 seedBlock = t.seedBlock;
        if (t.provider != address(0) || t.status != Status.Assigned || block.number <= seedBlock) return t.provider;
        return registry.providerDraw(t.modelId, seedBlock, taskId, t.reassignments, _excludedProvider[taskId]);
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
        if (attempt > p.maxReassignments || registry.otherProviders(t.modelId, previous) == 0) {
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
