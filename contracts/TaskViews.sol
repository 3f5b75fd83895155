// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {ITaskViews} from "./interfaces/ITaskViews.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {TaskSignatures} from "./TaskSignatures.sol";
import {TaskStorage} from "./TaskStorage.sol";

/// @title TaskViews
/// @notice The task market's views, run in the market's storage: the market deploys this module in its constructor
/// and DELEGATECALLs every call it does not implement itself to it (EIP-170 leaves no room for them in the market).
/// Views only, no state-changing function: a delegated call can read the market's storage, never write it. Called
/// at its own address it reads its own, empty, storage.
/// @dev TaskStorage comes first in the layout, as in the market. `address(this)` is the market's address in a
/// delegated call, so commitments and the EIP-712 domain (rebuilt for that address) are the market's.
contract TaskViews is TaskStorage, TaskSignatures, ITaskViews {
    /// @notice The market's stake registry (immutables live in code, not in the shared storage).
    IStakeRegistry public immutable registry;

    /// @param stakeRegistry The market's stake registry.
    constructor(IStakeRegistry stakeRegistry) {
        registry = stakeRegistry;
    }

    /// @inheritdoc ITaskViews
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @inheritdoc ITaskViews
    function paramsVersion() external view returns (uint256) {
        return _paramsVersion;
    }

    /// @inheritdoc ITaskViews
    function params() external view returns (ITaskMarket.Params memory) {
        return paramsAt(_paramsVersion);
    }

    /// @inheritdoc ITaskViews
    function paramsAt(uint256 version) public view returns (ITaskMarket.Params memory) {
        return _paramsOf[version];
    }

    /// @inheritdoc ITaskViews
    function task(uint256 taskId) external view returns (ITaskMarket.TaskView memory v) {
        Task storage t = _tasks[taskId];
        if (t.status == ITaskMarket.Status.None) revert ITaskMarket.UnknownTask(taskId);
        v.status = t.status;
        v.round = t.round;
        v.reassignments = t.reassignments;
        v.committeeSize = t.committeeSize;
        v.revealedCount = uint8(_revealedCount(taskId, t));
        // While Answered (after a roll) the stored mask is the last round's: the current round has no commit before
        // its draw, which resets it.
        uint256 mask = t.status == ITaskMarket.Status.Answered ? 0 : t.committedMask;
        v.committedMask = uint32(mask);
        v.committedCount = uint8(_popCount(mask));
        v.answerDeadline = t.answerDeadline;
        v.seedBlock = t.seedBlock;
        // Not stored (its slot went to the commit mask): the current round's commit window ends commitWindow
        // blocks after the first block its draw could land in (seedBlock + 1), wherever the draw landed.
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
        v.modelId = _modelOf(t);
        v.evaluatorId = _evaluatorOf(t);
    }

    /// @inheritdoc ITaskViews
    function roundOf(uint256 taskId) external view returns (bytes32) {
        return _round[taskId];
    }

    /// @inheritdoc ITaskViews
    function computeCommitment(uint256 score, bytes32 salt, address validator, uint256 taskId, uint256 round)
        external
        view
        returns (bytes32)
    {
        return Commitments.commitment(score, salt, validator, taskId, round, address(this));
    }

    /// @dev Members of the task's current round open before settlement: revealed alone, or opened by a partial reveal
    /// report (0 before the round's draw).
    function _revealedCount(uint256 taskId, Task storage t) private view returns (uint256 count) {
        uint256 base = uint256(t.round) << 8;
        for (uint256 i; i < t.committeeSize; ++i) {
            if (_reveals[taskId][base | i] != 0) ++count;
        }
    }


    /// @inheritdoc ITaskViews
    function assignedProvider(uint256 taskId) external view returns (address) {
        Task storage t = _tasks[taskId];
        uint256 seedBlock = t.seedBlock;
        if (t.provider != address(0) || t.status != ITaskMarket.Status.Assigned || block.number <= seedBlock) return t.provider;
        return registry.providerDraw(_modelOf(t), seedBlock, taskId, t.reassignments, _excludedProvider[taskId]);
    }

    /// @inheritdoc ITaskViews
    function pendingCommittee(uint256 taskId)
        external
        view
        returns (address[] memory members, uint256 commitEnd, uint256 revealEnd)
    {
        Task storage t = _tasks[taskId];
        if (t.status == ITaskMarket.Status.None) revert ITaskMarket.UnknownTask(taskId);
        // Drawn or not, the committee of the current seed is the same (the draw is deterministic): a client that
        // meets a round drawn by a transaction not yet in its logs still gets its members.
        if (t.status != ITaskMarket.Status.Answered && t.status != ITaskMarket.Status.Committee) return (members, 0, 0);
        ITaskMarket.Params storage p = _paramsOf[t.paramsVersion];
        uint256 seedBlock = t.seedBlock;
        // As TaskMarket._drawCommittee sets them: fixed by the seed block, not by when the draw lands.
        commitEnd = seedBlock + 1 + p.commitWindow;
        revealEnd = commitEnd + p.revealWindow;
        // Before its seed block exists the draw cannot run (the registry returns nobody for an unknown hash).
        if (block.number <= seedBlock) return (members, commitEnd, revealEnd);
        members = registry.committeeDraw(_evaluatorOf(t), seedBlock, taskId, t.round, p.committeeSize, t.provider);
    }

    /// @inheritdoc ITaskViews
    function attestationSigner(ITaskMarket.Attestation calldata attestation, bytes calldata signature)
        external
        view
        returns (address)
    {
        return _attestationSigner(attestation, signature);
    }
}
