// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IEvaluatorRegistry} from "./interfaces/IEvaluatorRegistry.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {Consensus} from "./libraries/Consensus.sol";
import {MarketParams} from "./libraries/MarketParams.sol";
import {Rewards} from "./libraries/Rewards.sol";
import {SettlementMath} from "./SettlementMath.sol";

/// @title TaskSettlement
/// @notice Storage of the task market, settlement of a round (finalize: slash non-revealers, then pay out, roll
/// or refund), pull payments, governance and views. TaskMarket adds the life cycle up to the reveals.
/// @dev Every step of a task, settlement included, uses the parameters in force when the task was created
/// (`paramsVersion` in the task): a governance change applies to new tasks only.
abstract contract TaskSettlement is ITaskMarket, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice A task in storage. Slot 0 holds everything commit, reveal and finalize check (and finalize writes).
    struct Task {
        Status status;
        uint8 round;
        uint8 reassignments;
        uint8 committeeSize;
        // No reveal count: a reveal rewrites only its member slot; finalize counts the revealed flags it reads anyway.
        uint8 committedCount; // commits of the current round: at k, reveals may start before commitEnd
        uint40 seedBlock; // while Assigned: seed of the provider draw; from Answered on: seed of the committee draw
        uint40 commitEnd;
        uint40 revealEnd;
        uint40 drawDeadline;
        uint16 paramsVersion; // the parameters this task was created under (all of its steps use them)
        uint16 consensus; // in slot 0: finalize rewrites this slot (status) anyway, so storing it costs nothing more
        address requester; // slot 1: who pays and how much (refunds and payouts read both)
        uint96 fee;
        address provider; // slot 2: what the provider phase reads besides slot 0; zero while a draw is pending
        uint40 answerDeadline;
        uint40 createdBlock;
        bytes32 modelId;
        bytes32 evaluatorId;
        bytes32 outputHash;
    }

    /// @notice A committee member of one round, packed into one slot.
    struct Member {
        address account;
        uint16 score;
        bool revealed;
    }

    /// @notice Top of the score scale.
    uint256 public constant SCORE_MAX = 10_000;
    uint256 internal constant BPS = 10_000;
    /// @dev What `committee()` shows as the commitment of a member that has not committed yet. In storage the slot
    /// holds the member's marker instead (see _emptySlot).
    bytes32 internal constant SENTINEL = bytes32(uint256(1));
    /// @dev What claim() leaves of a credit (1 wei, see ITaskMarket.claim): the credit slot never goes back to zero.
    uint256 internal constant CLAIM_KEEPS = 1;
    /// @dev Size of the ABI encoding of a `Params` (21 static fields of one word each).
    uint256 internal constant PARAMS_ABI_BYTES = 21 * 32;

    /// @notice The fee token (equal to the registry's stake token).
    address public immutable token;
    /// @notice The stake registry (locks, slashes, draws).
    IStakeRegistry public immutable registry;
    /// @notice The evaluator registry.
    IEvaluatorRegistry public immutable evaluators;
    /// @notice The stateless consensus and reward calculator.
    SettlementMath public immutable settlementMath;

    /// @inheritdoc ITaskMarket
    uint256 public taskCount;
    /// @inheritdoc ITaskMarket
    address public treasury;
    /// @inheritdoc ITaskMarket
    mapping(address account => uint256 amount) public claimable;
    /// @inheritdoc ITaskMarket
    uint256 public paramsVersion;
    /// @inheritdoc ITaskMarket
    /// @dev Of the current parameters, computed by SettlementMath when they are set.
    uint256 public maxTaskLifetime;
    /// @dev Every parameter set governance ever made, by version (a task keeps the version it was created under).
    mapping(uint256 version => Params) internal _paramsOf;
    mapping(uint256 taskId => Task) internal _tasks;
    /// @dev Keyed by (round << 8 | index).
    mapping(uint256 taskId => mapping(uint256 roundIndex => Member)) internal _members;
    /// @dev Keyed by (round << 8 | index); the member's marker (_emptySlot) until it commits.
    mapping(uint256 taskId => mapping(uint256 roundIndex => bytes32 commitment)) internal _commitments;
    mapping(uint256 taskId => mapping(address validator => bool reported)) internal _equivocationReported;
    /// @dev The provider the pending draw must not select (the one that timed out or declined the last attempt).
    mapping(uint256 taskId => address provider) internal _excludedProvider;

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ITaskMarket
    function finalize(uint256 taskId) external nonReentrant {
        Task storage t = _taskIn(taskId, Status.Committee);
        uint256 k = t.committeeSize;
        uint256 round = t.round;
        Params storage p = _paramsOf[t.paramsVersion];

        (
            address[] memory accounts,
            uint256[] memory scores,
            bool[] memory revealed,
            uint256[] memory penalties,
            address[] memory nonRevealers
        ) = _readRound(taskId, t, p);
        uint256 revealedCount = k - nonRevealers.length;
        if (revealedCount < k && block.number <= t.revealEnd) revert FinalizeTooEarly(taskId, t.revealEnd);

        // Quorum: revealed >= ceil(k * quorumBps / 10_000), written without the division.
        bool quorum = revealedCount * BPS >= k * p.quorumBps;
        bool roll = !quorum && round + 1 < p.maxRounds;
        if (roll) {
            assembly ("memory-safe") {
                mstore(accounts, k) // release the members only; the provider stays locked for the next round
                mstore(penalties, k)
            }
        } else {
            accounts[k] = t.provider; // its penalty stays 0: it answered
        }
        uint256 slashed = registry.release(accounts, penalties);
        if (nonRevealers.length != 0) {
            claimable[treasury] += slashed;
            emit NonRevealersSlashed(taskId, round, nonRevealers, slashed);
        }
        if (roll) {
            t.status = Status.Answered;
            t.round = uint8(round + 1);
            t.seedBlock = uint40(block.number + 1);
            t.drawDeadline = uint40(block.number + p.drawWindow);
            emit TaskRolled(taskId, round + 1);
            return;
        }
        if (!quorum) {
            _refund(taskId, t, RefundReason.NoQuorum);
            return;
        }
        _settle(taskId, t, p, accounts, scores, revealed);
    }

    /// @inheritdoc ITaskMarket
    function claim() external nonReentrant returns (uint256 amount) {
        uint256 credit = claimable[msg.sender];
        if (credit <= CLAIM_KEEPS) revert NothingToClaim(msg.sender);
        // The slot stays non-zero: the next credit to this account is a 2,900-gas store instead of a 20,000-gas
        // zero to non-zero one (paid by whoever finalizes). The wei kept is still the account's credit.
        claimable[msg.sender] = CLAIM_KEEPS;
        unchecked {
            amount = credit - CLAIM_KEEPS; // credit > CLAIM_KEEPS
        }
        IERC20(token).safeTransfer(msg.sender, amount);
        emit Claimed(msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc ITaskMarket
    /// @dev setParams(Params) and SettlementMath.checkParams(Params) encode their argument alike: this call's
    /// calldata goes on as it came, under checkParams' selector. checkParams reads every field with its type
    /// checked (a dirty word reverts), so once it returned the 672 bytes after the selector are the canonical
    /// encoding of the parameters, which is ParamsSet's data: logged as they are.
    function setParams(Params calldata newParams) external onlyOwner {
        _setParams(paramsVersion + 1, bytes.concat(SettlementMath.checkParams.selector, msg.data[4:]));
        bytes32 topic = ParamsSet.selector;
        assembly ("memory-safe") {
            let data := mload(0x40)
            calldatacopy(data, newParams, PARAMS_ABI_BYTES) // a static struct in calldata: its offset
            log1(data, PARAMS_ABI_BYTES, topic)
        }
    }

    /// @inheritdoc ITaskMarket
    function setTreasury(address newTreasury) external onlyOwner {
        _setTreasury(newTreasury);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITaskMarket
    function params() external view returns (Params memory) {
        return paramsAt(paramsVersion);
    }

    /// @inheritdoc ITaskMarket
    function paramsAt(uint256 version) public view returns (Params memory) {
        return _paramsOf[version];
    }

    /// @inheritdoc ITaskMarket
    function task(uint256 taskId) external view returns (TaskView memory v) {
        Task storage t = _tasks[taskId];
        if (t.status == Status.None) revert UnknownTask(taskId);
        v.status = t.status;
        v.round = t.round;
        v.reassignments = t.reassignments;
        v.committeeSize = t.committeeSize;
        v.revealedCount = uint8(_revealedCount(taskId, t));
        v.committedCount = t.committedCount;
        v.answerDeadline = t.answerDeadline;
        v.seedBlock = t.seedBlock;
        // Not stored (its slot went to the commit count): the current round's commit window ends commitWindow
        // blocks after its draw.
        if (t.commitEnd != 0) v.drawBlock = t.commitEnd - _paramsOf[t.paramsVersion].commitWindow;
        v.commitEnd = t.commitEnd;
        v.revealEnd = t.revealEnd;
        v.drawDeadline = t.drawDeadline;
        v.consensus = t.consensus;
        v.paramsVersion = t.paramsVersion;
        v.createdBlock = t.createdBlock;
        v.requester = t.requester;
        v.provider = t.provider;
        v.fee = t.fee;
        v.modelId = t.modelId;
        v.evaluatorId = t.evaluatorId;
        v.outputHash = t.outputHash;
    }

    /// @inheritdoc ITaskMarket
    function committee(uint256 taskId, uint256 round) external view returns (MemberView[] memory members) {
        uint256 k;
        while (k < MarketParams.MAX_COMMITTEE && _members[taskId][(round << 8) | k].account != address(0)) ++k;
        members = new MemberView[](k);
        for (uint256 i; i < k; ++i) {
            Member memory m = _members[taskId][(round << 8) | i];
            bytes32 c = _commitments[taskId][(round << 8) | i];
            if (!_isCommitment(c)) c = SENTINEL; // the member's marker: not committed yet
            members[i] = MemberView(m.account, m.score, m.revealed, c);
        }
    }

    /// @inheritdoc ITaskMarket
    function computeCommitment(uint256 score, bytes32 salt, address validator, uint256 taskId, uint256 round)
        external
        view
        returns (bytes32)
    {
        return Commitments.commitment(score, salt, validator, taskId, round, address(this));
    }

    // ---------------------------------------------------------------- internal

    /// @dev Consensus and reward split (computed by SettlementMath), then credits. Conservation: Rewards.split
    /// guarantees provider + requester + treasury + dust + sum(validators) == fee, each part credited once.
    function _settle(
        uint256 taskId,
        Task storage t,
        Params storage p,
        address[] memory accounts,
        uint256[] memory scores,
        bool[] memory revealed
    ) private {
        uint256 k = scores.length;
        uint256[] memory weights;
        if (p.consensusRule == uint8(Consensus.Rule.WeightedMedian)) {
            address[] memory members = new address[](k);
            for (uint256 i; i < k; ++i) {
                members[i] = accounts[i];
            }
            // Stakes at the draw (capped by the stake now): a top-up after the reveals moves nothing.
            weights = registry.drawWeights(t.evaluatorId, members, t.seedBlock - 1);
        }
        (uint256 consensus, Rewards.Split memory s) = settlementMath.settle(
            SettlementMath.Round({
                rule: p.consensusRule,
                trimBps: p.trimBps,
                fee: t.fee,
                scores: scores,
                revealed: revealed,
                weights: weights,
                rewards: Rewards.Params(p.validatorPoolBps, p.providerFloor, p.tolerance, p.refundBps)
            })
        );
        t.status = Status.Finalized;
        t.consensus = uint16(consensus);
        _credit(t.provider, s.provider);
        _credit(t.requester, s.requester);
        _credit(treasury, s.treasury + s.dust);
        for (uint256 i; i < k; ++i) {
            _credit(accounts[i], s.validators[i]);
        }
        emit TaskFinalized(taskId, t.round, consensus, s.provider, s.requester, s.treasury + s.dust, s.validators);
    }

    /// @dev The members of the task's current round. `accounts` and `penalties` have one extra slot at the end for
    /// the provider (used when the task settles for good); a non-revealer's penalty is a multiple of what its seat
    /// was worth (docs/ECONOMICS.md), never a share of its whole stake.
    function _readRound(uint256 taskId, Task storage t, Params storage p)
        private
        view
        returns (
            address[] memory accounts,
            uint256[] memory scores,
            bool[] memory revealed,
            uint256[] memory penalties,
            address[] memory nonRevealers
        )
    {
        uint256 k = t.committeeSize;
        uint256 base = uint256(t.round) << 8;
        accounts = new address[](k + 1);
        scores = new uint256[](k);
        revealed = new bool[](k);
        penalties = new uint256[](k + 1);
        nonRevealers = new address[](k);
        uint256 penalty = (((t.fee * p.validatorPoolBps) / BPS / k) * p.nonRevealPenaltyBps) / BPS;
        uint256 missing;
        for (uint256 i; i < k; ++i) {
            Member memory m = _members[taskId][base | i];
            accounts[i] = m.account;
            scores[i] = m.score;
            revealed[i] = m.revealed;
            if (!m.revealed) {
                nonRevealers[missing++] = m.account;
                penalties[i] = penalty;
            }
        }
        assembly ("memory-safe") {
            mstore(nonRevealers, missing) // the non-revealers only (missing <= k: shortening is safe)
        }
    }

    /// @dev Members of the task's current round that revealed (0 before the round's draw).
    function _revealedCount(uint256 taskId, Task storage t) private view returns (uint256 count) {
        uint256 base = uint256(t.round) << 8;
        for (uint256 i; i < t.committeeSize; ++i) {
            if (_members[taskId][base | i].revealed) ++count;
        }
    }

    /// @dev Returns the whole fee to the requester (the provider holds no lock of this task any more).
    function _refund(uint256 taskId, Task storage t, RefundReason reason) internal {
        t.status = Status.Refunded;
        uint256 fee = t.fee;
        claimable[t.requester] += fee;
        emit TaskRefunded(taskId, reason, fee);
    }

    /// @dev Releases one staker's lock of a task with `penalty` (0: task done) and credits the slash to the treasury.
    function _releaseOne(address account, uint256 penalty) internal returns (uint256 slashed) {
        address[] memory one = new address[](1);
        one[0] = account;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = penalty;
        slashed = registry.release(one, amounts);
        if (slashed != 0) claimable[treasury] += slashed;
    }

    /// @dev No committee could be seated before the draw deadline, so nobody judged the answer. The task settles as
    /// a zero score would without validators: the provider is unpaid, the requester gets back `refundBps` of the
    /// provider pool (never the whole fee: an answer for free would pay anyone who can empty the pool), and the
    /// treasury keeps the rest.
    function _settleUnjudged(uint256 taskId, Task storage t) internal {
        Params storage p = _paramsOf[t.paramsVersion];
        uint256 fee = t.fee;
        uint256 refund = ((fee - (fee * p.validatorPoolBps) / BPS) * p.refundBps) / BPS; // rounded down
        t.status = Status.Refunded;
        _credit(t.requester, refund);
        claimable[treasury] += fee - refund;
        _releaseOne(t.provider, 0);
        emit TaskRefunded(taskId, RefundReason.NoCommittee, refund);
    }

    /// @dev Written into a member's commitment slot at the draw: the member's address. A commit then checks
    /// membership and that the slot is still empty with one read, and rewrites a non-zero slot (2,900 gas instead of
    /// 20,000). No commitment can look like a marker: commit refuses values whose top 96 bits are all zero (a
    /// keccak256 output has them all zero with probability 2^-96).
    function _emptySlot(address member) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(member)));
    }

    function _isCommitment(bytes32 value) internal pure returns (bool) {
        return uint256(value) >> 160 != 0;
    }

    function _credit(address account, uint256 amount) private {
        if (amount != 0) claimable[account] += amount;
    }

    function _taskIn(uint256 taskId, Status expected) internal view returns (Task storage t) {
        t = _tasks[taskId];
        Status status = t.status;
        if (status == Status.None) revert UnknownTask(taskId);
        if (status != expected) revert InvalidStatus(taskId, status);
    }

    /// @dev Stores as `version` the parameters of `checkCall`, a call of SettlementMath.checkParams, which checks
    /// them and packs them into the two storage words of `Params`: the market writes those words and holds none of
    /// the code that decodes, checks or packs a whole `Params` (EIP-170; reads go through the struct as usual).
    function _setParams(uint256 version, bytes memory checkCall) internal {
        if (version > type(uint16).max) revert ParameterOutOfBounds("paramsVersion", version);
        (bool ok, bytes memory result) = address(settlementMath).staticcall(checkCall);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result)) // checkParams' own error (ParameterOutOfBounds)
            }
        }
        (uint256 lifetime, uint256 word0, uint256 word1) = abi.decode(result, (uint256, uint256, uint256));
        uint256 cooldown = registry.unstakeCooldown();
        if (lifetime >= cooldown) revert LifetimeExceedsCooldown(lifetime, cooldown);
        paramsVersion = version;
        maxTaskLifetime = lifetime;
        Params storage p = _paramsOf[version];
        assembly ("memory-safe") {
            sstore(p.slot, word0)
            sstore(add(p.slot, 1), word1)
        }
    }

    function _setTreasury(address newTreasury) internal {
        if (newTreasury == address(0)) revert ZeroAddress();
        treasury = newTreasury;
        emit TreasurySet(newTreasury);
    }
}
