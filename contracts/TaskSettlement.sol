// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IEvaluatorRegistry} from "./interfaces/IEvaluatorRegistry.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {Consensus} from "./libraries/Consensus.sol";
import {Rewards} from "./libraries/Rewards.sol";
import {SettlementMath} from "./SettlementMath.sol";
import {TaskStorage} from "./TaskStorage.sol";

/// @title TaskSettlement
/// @notice Settlement of a round (slash non-revealers, then pay out, roll or refund), pull payments and governance
/// of the task market. Its storage is TaskStorage, its views TaskViews; TaskMarket adds the life cycle and the round
/// calls that settle.
/// @dev Every step of a task, settlement included, uses the parameters in force when the task was created
/// (`paramsVersion` in the task): a governance change applies to new tasks only.
abstract contract TaskSettlement is ITaskMarket, TaskStorage, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Top of the score scale.
    uint256 public constant SCORE_MAX = 10_000;
    uint256 internal constant BPS = 10_000;
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

    // ---------------------------------------------------------------- settlement

    /// @dev Settles the current round of `taskId` from its members' openings (`revealed[i]`: member i's score is
    /// `scores[i]`): slashes the non-revealers, then pays out on quorum, rolls to a new committee, or refunds after
    /// `maxRounds`. The caller has checked that nobody is left to wait for.
    function _settleRound(
        uint256 taskId,
        Task storage t,
        address[] calldata members,
        uint256[] memory scores,
        bool[] memory revealed
    ) internal {
        Params storage p = _paramsOf[t.paramsVersion];
        (address[] memory accounts, uint256[] memory penalties, address[] memory nonRevealers) =
            _penalties(t, p, members, revealed);
        _closeRound(taskId, t, p, accounts, penalties, nonRevealers, scores, revealed);
    }

    /// @dev The second half of _settleRound (apart for the stack): the registry's release, then the outcome.
    function _closeRound(
        uint256 taskId,
        Task storage t,
        Params storage p,
        address[] memory accounts,
        uint256[] memory penalties,
        address[] memory nonRevealers,
        uint256[] memory scores,
        bool[] memory revealed
    ) private {
        uint256 k = scores.length;
        uint256 round = t.round;
        uint256 missing = nonRevealers.length;

        // Quorum: revealed >= ceil(k * quorumBps / 10_000), written without the division.
        bool quorum = (k - missing) * BPS >= k * p.quorumBps;
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
        if (missing != 0) {
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

    /// @dev `accounts` and `penalties` have one extra slot at the end for the provider (used when the task settles
    /// for good); a non-revealer's penalty is a multiple of what its seat was worth (docs/ECONOMICS.md), never a
    /// share of its whole stake.
    function _penalties(Task storage t, Params storage p, address[] calldata members, bool[] memory revealed)
        private
        view
        returns (address[] memory accounts, uint256[] memory penalties, address[] memory nonRevealers)
    {
        uint256 k = members.length;
        accounts = new address[](k + 1);
        penalties = new uint256[](k + 1);
        nonRevealers = new address[](k);
        uint256 penalty; // computed at the first non-revealer: a round where every member revealed reads no more
        uint256 missing;
        for (uint256 i; i < k; ++i) {
            accounts[i] = members[i];
            if (!revealed[i]) {
                if (missing == 0) penalty = _nonRevealPenalty(t, p, k);
                nonRevealers[missing] = members[i];
                penalties[i] = penalty;
                ++missing;
            }
        }
        assembly ("memory-safe") {
            mstore(nonRevealers, missing) // the non-revealers only (missing <= k: shortening is safe)
        }
    }

    /// @dev A multiple of what a seat was worth: (V / k) * nonRevealPenaltyBps / 10_000, each division down.
    function _nonRevealPenalty(Task storage t, Params storage p, uint256 k) private view returns (uint256) {
        return (((t.fee * p.validatorPoolBps) / BPS / k) * p.nonRevealPenaltyBps) / BPS;
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
        _setParams(uint256(_paramsVersion) + 1, bytes.concat(SettlementMath.checkParams.selector, msg.data[4:]));
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
            weights = registry.drawWeights(_evaluatorOf(t), members, t.seedBlock - 1);
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
        uint256 treasuryShare = s.treasury + s.dust;
        _credit(treasury, treasuryShare);
        for (uint256 i; i < k; ++i) {
            _credit(accounts[i], s.validators[i]);
        }
        emit TaskFinalized(taskId, t.round, consensus, s.provider, s.requester, treasuryShare, s.validators);
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

    /// @dev Commitments have their top 96 bits non-zero (a keccak256 output has them all zero with probability
    /// 2^-96): zero stays free to mean "not committed alone" in a fallback slot.
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
        _paramsVersion = uint16(version); // checked above
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
