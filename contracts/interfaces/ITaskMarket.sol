// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskLedger} from "./ITaskLedger.sol";

/// @title ITaskMarket
/// @notice Escrow and life cycle of Proof-of-Quality inference tasks: creation with a fee, stake-weighted provider
/// assignment, answer, committee draw after the answer, commit phase, reveal phase (strictly after), consensus,
/// reward split and pull payments. All phases are measured in block numbers; see docs/PROTOCOL.md. A committee's
/// commits and reveals go in one signed commit report and one reveal report that settles (docs/design/ROUNDS.md);
/// a member a report left out commits or reveals alone.
/// @dev The market's views that are not plain storage getters (task, params, ...) are in ITaskViews: the market
/// serves them from its TaskViews module (EIP-170), at its own address; ITaskMarketClient is the whole ABI.
interface ITaskMarket is ITaskLedger {
    /// @notice Task states. A roll returns a task from Committee to Answered with round + 1.
    enum Status {
        None,
        Assigned,
        Answered,
        Committee,
        Finalized,
        Refunded
    }

    /// @notice Why a task was refunded.
    enum RefundReason {
        NoProvider,
        NoCommittee,
        NoQuorum,
        Declined // every provider drawn declined (or none other was left): the requester got no answer
    }

    /// @notice Governance parameters; each has hard-coded bounds (see TaskMarket constants and docs/PROTOCOL.md).
    struct Params {
        uint8 committeeSize; // k, members per committee
        uint8 maxRounds; // committees tried before a refund when quorum fails
        uint8 maxReassignments; // provider timeouts tolerated before a refund
        uint8 consensusRule; // Consensus.Rule: 0 median, 1 trimmed mean, 2 stake-weighted median
        uint16 quorumBps; // reveals needed: ceil(k * quorumBps / 10_000)
        uint16 trimBps; // trimmed-mean cut per side
        uint16 validatorPoolBps; // share of the fee for the committee
        uint16 providerFloor; // consensus score below which the provider earns nothing
        uint16 tolerance; // |score - consensus| at or beyond which a validator earns nothing
        uint16 refundBps; // share of the provider's unpaid part that returns to the requester
        uint32 nonRevealPenaltyBps; // non-revealer's penalty, in bps of its seat's share of the validator pool
        uint32 providerTimeoutPenaltyBps; // late provider's penalty, in bps of the provider pool (fee - validators')
        uint16 equivocationSlashBps; // share of an equivocator's stake slashed
        uint16 reporterBountyBps; // share of an equivocation slash paid to the reporter
        uint32 answerWindow; // blocks a provider has to answer
        uint32 commitWindow; // blocks of the commit phase
        uint32 revealWindow; // blocks of the reveal phase
        uint32 drawWindow; // blocks a round waits (reseeding) for enough eligible validators before it gives up
        uint32 maxPromptBytes; // cap on prompt calldata
        uint32 maxOutputBytes; // cap on output calldata
        uint96 minFee; // smallest fee: each seat's share must pay its commit and reveal gas
    }

    /// @notice A task as stored (read with `task`).
    struct TaskView {
        Status status;
        uint8 round;
        uint8 reassignments;
        uint8 committeeSize;
        uint8 revealedCount; // members of the current round open before settlement (alone, or by a partial reveal report)
        uint8 committedCount; // members of the current round that committed (all k: reveals may start)
        uint32 committedMask; // which seats committed (bit i: member i)
        uint64 answerDeadline; // while Assigned: last block the provider of this attempt may answer
        uint64 seedBlock; // while Assigned: the block whose hash draws the provider; later: the committee's seed block
        uint64 drawBlock; // once drawn: the first block the round's draw could land in (seedBlock + 1), where its commit window starts
        uint64 commitEnd;
        uint64 revealEnd;
        uint64 drawDeadline; // while Answered: last block a too-small pool is waited for (reseeding)
        uint16 consensus; // set when Finalized
        uint16 paramsVersion; // the parameter set the task runs under (see paramsAt)
        uint64 createdBlock; // block of createTask: where its TaskCreated log (with the prompt) is
        address requester;
        address provider;
        uint256 fee;
        bytes32 modelId;
        bytes32 evaluatorId;
        // No output hash: the market does not store the answer or its hash; both are in AnswerSubmitted.
    }

    /// @notice A committee round as the calls that need it pass it in calldata; the market stores only its hash
    /// (see `roundOf`): `keccak256(abi.encode(keccak256(abi.encode(members)), reportMask,
    /// keccak256(abi.encode(reportCommitments))))`. Members come from CommitteeDrawn, the reports' part from the
    /// round's CommitReported events, merged in seat order (before any commit report: mask 0 and no commitments).
    struct RoundState {
        address[] members; // the round's committee, in CommitteeDrawn order
        uint32 reportMask; // seats the commit reports committed (bit i: members[i]); 0 before the first
        bytes32[] reportCommitments; // their commitments, in seat order; empty before the first report
    }

    /// @notice The signed commitments of several members of one round, sent in one transaction by anyone.
    struct CommitReport {
        uint256 taskId;
        uint256 round;
        uint32 mask; // seats this report commits (bit i: members[i])
        bytes32[] commitments; // one per set bit, in seat order
        uint256 deadline; // unix seconds, the same in every signature
        bytes32[2][] signatures; // one EIP-2098 compact signature (r, yParityAndS) of `Commit` per set bit
    }

    /// @notice Openings of several members of one round; no signature (an opening authenticates itself).
    struct RevealReport {
        uint256 taskId;
        uint32 revealMask; // seats opened here (bit i: members[i])
        uint16[] scores; // one per set bit, in seat order
        bytes32[] salts; // one per set bit, in seat order
    }

    /// @notice A validator's signed statement of its score for a task's output (EIP-712 `Attestation`).
    struct Attestation {
        uint256 taskId;
        bytes32 outputHash;
        bytes32 evaluatorId;
        uint16 score;
    }

    /// @notice Emitted when `requester` escrows `fee` for a task on `modelId` judged by `evaluatorId`.
    event TaskCreated(
        uint256 indexed taskId,
        address indexed requester,
        bytes32 indexed modelId,
        bytes32 evaluatorId,
        uint256 fee,
        bytes prompt
    );
    /// @notice Emitted when the provider drawn for the task is materialized (locked) at the first touch of the task
    /// after its seed block (answer, decline, reassign or assignProvider); it must answer by block `answerDeadline`,
    /// which was fixed when the draw was scheduled (see `assignedProvider` to learn the provider before this event).
    event ProviderAssigned(uint256 indexed taskId, address indexed provider, uint256 answerDeadline);
    /// @notice Emitted when a reassignment or decline schedules the draw of provider attempt `attempt` from the hash
    /// of block `seedBlock`; its provider must answer by block `answerDeadline`. The first draw (attempt 0) is
    /// scheduled by createTask without this event: its seed block is `createdBlock + 1`.
    event ProviderDrawScheduled(uint256 indexed taskId, uint256 attempt, uint256 seedBlock, uint256 answerDeadline);
    /// @notice Emitted when the assigned `provider` declined the task before its deadline (no slash).
    event ProviderDeclined(uint256 indexed taskId, address indexed provider);
    /// @notice Emitted when `provider` missed its deadline and lost `slashed` tokens.
    event ProviderTimedOut(uint256 indexed taskId, address indexed provider, uint256 slashed);
    /// @notice Emitted when the provider answers: `output` bytes (never empty; `outputHash` = keccak256(output), checked
    /// on chain) and an optional `uri`. The only record of the answer and its hash: the market stores neither.
    event AnswerSubmitted(
        uint256 indexed taskId,
        address indexed provider,
        bytes32 outputHash,
        bytes output,
        string uri
    );
    /// @notice Emitted when the committee of `round` is drawn (by `drawCommittee` or by the round's first commit);
    /// commits are accepted until block `commitEnd` (seed block + 1 + commitWindow, wherever the draw lands), reveals
    /// as soon as every member committed (or from `commitEnd + 1`) until `revealEnd`.
    event CommitteeDrawn(
        uint256 indexed taskId,
        uint256 round,
        address[] members,
        uint256 commitEnd,
        uint256 revealEnd
    );
    /// @notice Emitted when the draw of `round` could not use its seed (pool too small, or the seed block is older
    /// than the 256 blocks the EVM remembers): it will use the hash of block `seedBlock` instead.
    event CommitteeReseeded(uint256 indexed taskId, uint256 round, uint256 seedBlock);
    /// @notice Emitted when a commit report commits the seats of `mask` (bit i: member i) to `commitments` (one
    /// per set bit, in seat order).
    event CommitReported(uint256 indexed taskId, uint256 round, uint32 mask, bytes32[] commitments);
    /// @notice Emitted when a reveal report opens the seats of `mask` with `scores` (one per set bit, in seat
    /// order); the same transaction settles the round when it leaves no committed seat unopened (else the seats
    /// count as revealed alone, without a ScoreRevealed).
    event RevealReported(uint256 indexed taskId, uint256 round, uint32 mask, uint16[] scores);
    /// @notice Emitted when `validator` commits alone (fallback).
    event ScoreCommitted(uint256 indexed taskId, uint256 round, address indexed validator, bytes32 commitment);
    /// @notice Emitted when `validator` reveals `score` alone (fallback).
    event ScoreRevealed(uint256 indexed taskId, uint256 round, address indexed validator, uint256 score);
    /// @notice Emitted when members of `round` that did not reveal lose `total` tokens together (each a multiple of
    /// its seat's share, capped by its stake; see nonRevealPenaltyBps).
    event NonRevealersSlashed(uint256 indexed taskId, uint256 round, address[] validators, uint256 total);
    /// @notice Emitted when a round ends below quorum and a new committee will be drawn for `newRound`.
    event TaskRolled(uint256 indexed taskId, uint256 newRound);
    /// @notice Emitted on settlement; `validatorPay[i]` belongs to member i of the final round; `treasuryShare`
    /// includes the rounding dust of the validator pool.
    event TaskFinalized(
        uint256 indexed taskId,
        uint256 round,
        uint256 consensus,
        uint256 providerPay,
        uint256 requesterRefund,
        uint256 treasuryShare,
        uint256[] validatorPay
    );
    /// @notice Emitted when the whole fee returns to the requester.
    event TaskRefunded(uint256 indexed taskId, RefundReason reason, uint256 amount);
    /// @notice Emitted when `account` withdraws `amount` tokens of credits.
    event Claimed(address indexed account, uint256 amount);
    /// @notice Emitted when `validator` is proven to have signed two scores for `taskId`.
    event EquivocationReported(
        uint256 indexed taskId,
        address indexed validator,
        address indexed reporter,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice Emitted when governance changes the parameters.
    event ParamsSet(Params params);
    /// @notice Emitted when governance changes the treasury.
    event TreasurySet(address indexed treasury);

    /// @notice Thrown for a fee below the minimum of the current parameters.
    error FeeBelowMinimum(uint256 fee, uint256 minFee);
    /// @notice Thrown when the fee does not fit 96 bits.
    error FeeTooLarge(uint256 fee);
    /// @notice Thrown when the token delivered fewer tokens than asked (fee-on-transfer tokens are not supported).
    error FeeOnTransferToken(uint256 expected, uint256 received);
    /// @notice Thrown when the prompt exceeds `maxPromptBytes`.
    error PromptTooLarge(uint256 length, uint256 max);
    /// @notice Thrown when the output exceeds `maxOutputBytes`.
    error OutputTooLarge(uint256 length, uint256 max);
    /// @notice Thrown when the task pins an unknown or inactive evaluator.
    error EvaluatorNotActive(bytes32 evaluatorId);
    /// @notice Thrown when no provider serves `modelId`.
    error NoProviderAvailable(bytes32 modelId);
    /// @notice Thrown for a task id that does not exist.
    error UnknownTask(uint256 taskId);
    /// @notice Thrown when the task is not in the state the call needs.
    error InvalidStatus(uint256 taskId, Status status);
    /// @notice Thrown when the provider of the task cannot be known yet: the hash of block `seedBlock` does not exist.
    error ProviderNotDrawnYet(uint256 taskId, uint256 seedBlock);
    /// @notice Thrown for a commitment whose top 96 bits are all zero (zero, and every address, among others): zero
    /// must keep meaning "not committed alone" in a seat's fallback slot; a keccak256 commitment has that shape with
    /// probability 2^-96.
    error ReservedCommitment();
    /// @notice Thrown when someone other than the assigned provider answers.
    error NotAssignedProvider(uint256 taskId, address caller);
    /// @notice Thrown when the provider answers after its deadline.
    error AnswerDeadlinePassed(uint256 taskId, uint256 deadline);
    /// @notice Thrown when `reassign` is called before the deadline passed.
    error AnswerDeadlineNotPassed(uint256 taskId, uint256 deadline);
    /// @notice Thrown when the output hash is zero.
    error ZeroOutputHash();
    /// @notice Thrown when an answer carries no output bytes (a URI alone cannot be scored by every validator).
    error AnswerBytesRequired();
    /// @notice Thrown when the output bytes do not hash (keccak256) to the claimed output hash.
    error OutputHashMismatch(bytes32 claimed, bytes32 actual);
    /// @notice Thrown when `drawCommittee`, or a commit that would draw, is called before the seed block is final
    /// (block.number <= seedBlock).
    error SeedNotReady(uint256 taskId, uint256 seedBlock);
    /// @notice Thrown when a commit would draw the round's committee (its first commit) but the draw selects nobody:
    /// fewer than k eligible validators, or the hash of `seedBlock` is gone. `drawCommittee` reseeds or settles.
    error NoCommitteeDrawn(uint256 taskId, uint256 seedBlock);
    /// @notice Thrown when a commit arrives after the commit phase.
    error CommitPhaseClosed(uint256 taskId, uint256 commitEnd);
    /// @notice Thrown when the caller (or signer) is not the committee member at `index`.
    error NotCommitteeMember(uint256 taskId, uint256 index, address account);
    /// @notice Thrown when a member commits twice.
    error AlreadyCommitted(uint256 taskId, address validator);
    /// @notice Thrown when a member reveals without a commitment.
    error NotCommitted(uint256 taskId, address validator);
    /// @notice Thrown when a reveal arrives before the reveal phase opens: before every member committed and before
    /// block `revealStart` (commitEnd + 1).
    error RevealTooEarly(uint256 taskId, uint256 revealStart);
    /// @notice Thrown when a reveal arrives after the reveal phase.
    error RevealPhaseClosed(uint256 taskId, uint256 revealEnd);
    /// @notice Thrown when a member reveals twice.
    error AlreadyRevealed(uint256 taskId, address validator);
    /// @notice Thrown when score and salt do not open the member's commitment.
    error CommitmentMismatch(uint256 taskId, address validator);
    /// @notice Thrown when the member's commitment is a copy of `original`'s (it opens only for `original`).
    error CopiedCommitment(uint256 taskId, address validator, address original);
    /// @notice Thrown for a score above SCORE_MAX.
    error ScoreOutOfRange(uint256 score);
    /// @notice Thrown when a report's signature for a seat was made by `signer`, not by the seat's member `member`
    /// (a message from another task, round, chain or deployment recovers to an unrelated address).
    error InvalidSigner(address signer, address member);
    /// @notice Thrown when a signed message names another round than the task's current one.
    error RoundMismatch(uint256 taskId, uint256 round);
    /// @notice Thrown when a signed message's deadline has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice Thrown when the round state passed does not hash to the task's stored round hash: forged, of another
    /// round, or out of date (a commit report landed since: add its mask and commitments).
    error RoundStateMismatch(uint256 taskId);
    /// @notice Thrown for a report mask that is empty or names a seat past the committee.
    error InvalidMask(uint256 mask);
    /// @notice Thrown when a report's arrays do not hold one entry per set bit of its mask.
    error ReportLengthMismatch(uint256 expected);
    /// @notice Thrown when `finalize` is called while reveals are still possible.
    error FinalizeTooEarly(uint256 taskId, uint256 revealEnd);
    /// @notice Thrown when the caller has nothing to claim (a credit of at most the 1 wei claim() keeps).
    error NothingToClaim(address account);
    /// @notice Thrown when two attestations are not an equivocation (other task, other signer or same score).
    error NotEquivocation();
    /// @notice Thrown when an equivocation of `validator` on `taskId` was already punished.
    error EquivocationAlreadyReported(uint256 taskId, address validator);
    /// @notice Thrown when a governance parameter is outside its hard-coded bounds.
    error ParameterOutOfBounds(string name, uint256 value);
    /// @notice Thrown when new windows would make a task outlive the registry's unstake cooldown.
    error LifetimeExceedsCooldown(uint256 lifetime, uint256 cooldown);
    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();

    /// @notice Escrows `fee` (transferFrom, approve first) for a task on `modelId` judged by `evaluatorId`. Draws
    /// nothing: the provider is drawn later from the hash of the next block over the model's pool as it is at the end
    /// of this block (see `assignedProvider`), so the requester cannot choose it and the gas of this call does not
    /// depend on block randomness or pool contents. Its answer deadline is `createdBlock + 1 + answerWindow`.
    /// @return taskId The new task's id (ids start at 1).
    function createTask(bytes32 modelId, bytes32 evaluatorId, uint256 fee, bytes calldata prompt)
        external
        returns (uint256 taskId);

    /// @notice After the answer deadline: slashes the late provider (materializing its draw) and schedules the
    /// draw of another one, or refunds the requester after `maxReassignments`. Anyone may call. When the draw can no
    /// longer be proven (its seed hash is older than 256 blocks) nobody is slashed and the next attempt is scheduled
    /// the same way; when it found nobody (no other provider was in the pool) the requester is refunded in full.
    function reassign(uint256 taskId) external;

    /// @notice Materializes (draws and locks) the provider of the task's current attempt once its seed block
    /// exists; anyone may call. A draw that found nobody refunds the requester in full (NoProvider); one that can no
    /// longer be proven schedules the next attempt, without slash (as `reassign` does). Does nothing when the
    /// provider is already materialized.
    function assignProvider(uint256 taskId) external;

    /// @notice Drawn provider only (see `assignedProvider`; its draw is materialized by this call): submits the
    /// answer as `output` bytes (required, non-empty) with their keccak256 `outputHash` (checked on chain); `uri` is
    /// optional metadata, never what validators score.
    function submitAnswer(uint256 taskId, bytes32 outputHash, bytes calldata output, string calldata uri) external;

    /// @notice Drawn provider only, before its answer deadline: gives the task up without slash (for a prompt
    /// it cannot answer). The draw of another provider is scheduled (never the decliner; counts as a
    /// reassignment) or, when none is left, the requester is refunded in full with RefundReason.Declined.
    function declineTask(uint256 taskId) external;

    /// @notice Draws the committee of the current round from the hash of the block after the answer (or after the
    /// roll) over the validator pool of the task's evaluator as it was one block before (fixed before the seed
    /// existed); anyone may call once that block exists. When fewer than k validators are eligible it reseeds from
    /// the next block until `drawDeadline`, then settles the task unjudged (see docs/PROTOCOL.md: the provider is
    /// unpaid and the requester gets back only the refund share of a zero score). The round's first commit (a
    /// `commitReport` or a `commit`) runs the same draw itself: this call is for a round nobody commits to, and for
    /// the reseed and unjudged cases (which a commit refuses with NoCommitteeDrawn).
    function drawCommittee(uint256 taskId) external;

    /// @notice Commits the seats of `report.mask` at once during the commit phase, each with its member's EIP-712
    /// `Commit(taskId, round, commitment, deadline)` signature; anyone may send it. `state` is the round's current
    /// state (CommitteeDrawn's members, and the seats and commitments of the reports before this one: a round may
    /// have several, none for a seat already committed, by a report or alone). On a round not drawn yet (status
    /// Answered, seed block passed) it draws the committee first, as `drawCommittee` does (`state` is then
    /// `pendingCommittee`'s members with no report part), and reverts NoCommitteeDrawn when the draw selects nobody.
    function commitReport(RoundState calldata state, CommitReport calldata report) external;

    /// @notice Opens the seats of `report.revealMask` during the reveal phase (once every member committed, or after
    /// `commitEnd`, until `revealEnd`); anyone may send it. When every committed seat is then open (here, alone or
    /// by an earlier report) it settles the round in the same call, as `finalize` does, and stores no opening.
    /// Otherwise it stores each opening as if its member had revealed alone (the rest may still reveal alone; a
    /// later report or `finalize` settles). A seat already open counts once (its commitment binds its score).
    function revealReport(RoundState calldata state, RevealReport calldata report) external;

    /// @notice Fallback: committee member `index` commits `commitment` (see `computeCommitment`) alone during the
    /// commit phase (a member a commit report left out). Like `commitReport`, it draws a round not drawn yet first.
    function commit(uint256 taskId, RoundState calldata state, uint256 index, bytes32 commitment) external;

    /// @notice Fallback: committee member `index` reveals `score` and `salt` alone during the reveal phase (refused
    /// when its seat is already open, alone or by a partial reveal report); a reveal report or `finalize` then settles.
    function reveal(uint256 taskId, RoundState calldata state, uint256 index, uint256 score, bytes32 salt) external;

    /// @notice Settles the current round from the stored openings (seats revealed alone or opened by a partial reveal
    /// report), once every committed seat is open (and reveals have started) or the reveal phase ended: slashes
    /// non-revealers, then pays out on quorum, rolls to a new committee, or refunds after `maxRounds`.
    function finalize(uint256 taskId, RoundState calldata state) external;

    /// @notice Transfers the caller's credit balance to it, all but 1 wei: the wei stays in `claimable` (still the
    /// caller's credit, claimed with the next one) so that the credit slot never returns to zero and the next
    /// finalize that pays the caller rewrites a non-zero slot (about 17,000 gas less than a zero to non-zero one).
    /// Reverts with NothingToClaim when the credit is 1 wei or less.
    /// @return amount The number of tokens transferred (the credit minus 1 wei).
    function claim() external returns (uint256 amount);

    /// @notice Slashes a validator that signed two different scores for one task; the reporter gets a bounty.
    function reportEquivocation(
        Attestation calldata first,
        bytes calldata firstSignature,
        Attestation calldata second,
        bytes calldata secondSignature
    ) external;

    /// @notice Governance: sets the parameters of new tasks (each checked against its bounds) as a new version;
    /// tasks already created keep theirs.
    function setParams(Params calldata newParams) external;

    /// @notice Governance: sets the treasury that receives slashes, the unpaid share and rounding dust.
    function setTreasury(address newTreasury) external;
}
