// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskLedger} from "./interfaces/ITaskLedger.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @title TaskStorage
/// @notice The task market's storage, first in the layout of both the market and its views module (TaskViews, which
/// runs in the market's storage by DELEGATECALL): both inherit it before any other contract with storage, so its
/// slots are the same in both. Nothing else with storage may come before it in either.
abstract contract TaskStorage is ITaskLedger {
    /// @notice A task in storage. Slot 0 holds everything the round calls check (and settlement writes).
    struct Task {
        ITaskMarket.Status status;
        uint8 round;
        uint8 reassignments;
        uint8 committeeSize;
        // No reveal count: a settling reveal report writes nothing; other openings write only their own slots.
        uint32 committedMask; // seats of the current round that committed (bit i: member i; k <= 32): all k, reveals open
        uint40 seedBlock; // while Assigned: seed of the provider draw; from Answered on: seed of the committee draw
        uint40 commitEnd;
        uint40 revealEnd;
        uint40 drawDeadline;
        uint16 paramsVersion; // the parameters this task was created under (all of its steps use them)
        uint16 consensus; // in slot 0: settlement rewrites this slot (status) anyway, so storing it costs nothing more
        address requester; // slot 1: who pays and how much (refunds and payouts read both)
        uint96 fee;
        address provider; // slot 2: what the provider phase reads besides slot 0; zero while a draw is pending
        uint40 answerDeadline;
        uint40 createdBlock;
        uint16 pair; // the number of (modelId, evaluatorId) in _pairs; 0: every number is taken, the ids follow
        bytes32 modelId; // written only when pair is 0 (see _pairOf)
        bytes32 evaluatorId; // written only when pair is 0
        // No output hash: nothing on chain reads it back (an attestation's hash is checked by signature only), and
        // AnswerSubmitted carries it with the output; storing it cost every task a fresh slot (22,100 gas).
    }

    /// @notice A (model, evaluator) pair that tasks were created for.
    struct Pair {
        bytes32 modelId;
        bytes32 evaluatorId;
    }

    /// @dev A fallback reveal slot holds REVEALED | score (zero: the seat did not reveal alone).
    uint256 internal constant REVEALED = 1 << 16;

    /// @dev The task count and the parameter version in force share a slot: createTask reads both, so one cold read
    /// instead of two (2,100 gas a task). A task stores its version in 16 bits too (_setParams refuses more). Their
    /// getters are views of TaskViews (ITaskViews), not in the market's code.
    uint64 internal _taskCount;
    uint16 internal _paramsVersion;
    /// @inheritdoc ITaskLedger
    address public treasury;
    /// @inheritdoc ITaskLedger
    mapping(address account => uint256 amount) public claimable;
    /// @inheritdoc ITaskLedger
    /// @dev Of the current parameters, computed by SettlementMath when they are set.
    uint256 public maxTaskLifetime;
    /// @dev Every parameter set governance ever made, by version (a task keeps the version it was created under).
    mapping(uint256 version => ITaskMarket.Params) internal _paramsOf;
    mapping(uint256 taskId => Task) internal _tasks;
    /// @dev The hash of the current round's RoundState (see ITaskMarket.RoundState): members and the commit
    /// report's commitments live in calldata and events, never in storage.
    mapping(uint256 taskId => bytes32 roundHash) internal _round;
    /// @dev Fallback only, keyed by (round << 8 | index): the commitment of a seat that committed alone.
    mapping(uint256 taskId => mapping(uint256 roundIndex => bytes32 commitment)) internal _commitments;
    /// @dev Keyed by (round << 8 | index): REVEALED | score of a seat that revealed alone, or that a reveal report
    /// opened without settling the round (a partial one). A settling report writes none.
    mapping(uint256 taskId => mapping(uint256 roundIndex => uint256 revealed)) internal _reveals;
    mapping(uint256 taskId => mapping(address validator => bool reported)) internal _equivocationReported;
    /// @dev The provider the pending draw must not select (the one that timed out or declined the last attempt).
    mapping(uint256 taskId => address provider) internal _excludedProvider;
    /// @dev Every (model, evaluator) pair a task was created for, numbered from 1 in order of first use: a task
    /// keeps the 16-bit number in its slot 2 (written anyway) instead of two slots of ids, 44,000 gas a task. When
    /// all numbers are taken (anyone can create pairs, so they can be used up), a task stores both ids itself.
    mapping(bytes32 pairKey => uint256 number) internal _pairNumber;
    mapping(uint256 number => Pair) internal _pairs;
    uint256 internal _pairCount;

    /// @dev The model of a task.
    function _modelOf(Task storage t) internal view returns (bytes32) {
        uint256 number = t.pair;
        return number == 0 ? t.modelId : _pairs[number].modelId;
    }

    /// @dev The evaluator of a task.
    function _evaluatorOf(Task storage t) internal view returns (bytes32) {
        uint256 number = t.pair;
        return number == 0 ? t.evaluatorId : _pairs[number].evaluatorId;
    }

    function _popCount(uint256 mask) internal pure returns (uint256 count) {
        unchecked {
            for (; mask != 0; mask &= mask - 1) ++count; // mask != 0: no underflow; count <= 256
        }
    }
}
