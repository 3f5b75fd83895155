// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "./ITaskMarket.sol";

/// @title ITaskViews
/// @notice Views of the task market, served at the market's address by its TaskViews module (the market delegates
/// every call it does not implement itself to it: EIP-170 leaves no room for them in the market's own code).
interface ITaskViews {
    /// @notice The commitment a member must commit: keccak256(abi.encode(score, salt, validator, taskId, round,
    /// block.chainid, address(this))).
    function computeCommitment(uint256 score, bytes32 salt, address validator, uint256 taskId, uint256 round)
        external
        view
        returns (bytes32);

    /// @notice The signer of an attestation (reverts on invalid or high-s signatures).
    function attestationSigner(ITaskMarket.Attestation calldata attestation, bytes calldata signature)
        external
        view
        returns (address);

    /// @notice Number of tasks created so far (the last task id).
    function taskCount() external view returns (uint256);

    /// @notice Version of the current parameters; each setParams appends one (0 is the constructor's).
    function paramsVersion() external view returns (uint256);

    /// @notice Current parameters (those of new tasks).
    function params() external view returns (ITaskMarket.Params memory);

    /// @notice The parameters of `version` (a task runs under the version in its `paramsVersion`).
    function paramsAt(uint256 version) external view returns (ITaskMarket.Params memory);

    /// @notice The provider of the task: the materialized one, or while Assigned the one the pending draw selects
    /// (the zero address before the seed block exists, when the seed hash is gone, when the draw finds nobody, or for
    /// an unknown task).
    function assignedProvider(uint256 taskId) external view returns (address);

    /// @notice The committee of the task's current round as its draw selects it from the round's seed block
    /// (deterministic: the seed block's hash over the pool of the block before it), and the round's windows:
    /// commits until `commitEnd`, reveals until `revealEnd` (both fixed by the seed block, wherever the draw lands).
    /// While the task is Answered (undrawn) these are the members the draw selects if it lands now (it is the
    /// round's first commit, alone or by report, or `drawCommittee`); once drawn (Committee) they are the members
    /// CommitteeDrawn carries, for as long as the seed block's hash is known (256 blocks): read a drawn round's
    /// members from CommitteeDrawn. Members are in seat order (the RoundState of the round's first commit); empty before
    /// the seed block exists, when its hash is gone (older than 256 blocks) or fewer than k validators are eligible
    /// (the draw then reseeds or settles: only `drawCommittee` can send it). All empty and zero in any other
    /// status. Reverts UnknownTask.
    function pendingCommittee(uint256 taskId)
        external
        view
        returns (address[] memory members, uint256 commitEnd, uint256 revealEnd);

    /// @notice Task `taskId` (reverts UnknownTask). The answer and its hash are not in it: read AnswerSubmitted.
    function task(uint256 taskId) external view returns (ITaskMarket.TaskView memory);

    /// @notice The hash of the task's current round state (see RoundState); zero before the first draw.
    function roundOf(uint256 taskId) external view returns (bytes32);
}
