// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IEvaluatorRegistry
/// @notice Governance-curated list of evaluator models. An evaluator is identified by the content hash of its
/// manifest (files with their sha256, score mapping, max tokens), so every validator and auditor that checks the
/// hash runs exactly the same model. Tasks pin one evaluator id at creation.
interface IEvaluatorRegistry {
    /// @notice One registered evaluator.
    /// @param uri Where the manifest and files can be fetched (content-addressed by the id).
    /// @param active Whether new tasks may pin this evaluator.
    /// @param registeredAt Block of registration (non-zero once registered).
    struct Evaluator {
        string uri;
        bool active;
        uint64 registeredAt;
    }

    /// @notice Emitted when evaluator `id` (its manifest hash) is registered with `uri`.
    event EvaluatorRegistered(bytes32 indexed id, string uri);
    /// @notice Emitted when evaluator `id` is activated or deactivated.
    event EvaluatorActiveSet(bytes32 indexed id, bool active);
    /// @notice Emitted when the manifest location of evaluator `id` changes (the content hash cannot change).
    event EvaluatorUriSet(bytes32 indexed id, string uri);

    /// @notice Thrown when the id is zero.
    error ZeroEvaluatorId();
    /// @notice Thrown when the URI is empty or longer than MAX_URI_BYTES.
    error InvalidUri();
    /// @notice Thrown when `id` is registered a second time.
    error EvaluatorAlreadyRegistered(bytes32 id);
    /// @notice Thrown when `id` was never registered.
    error UnknownEvaluator(bytes32 id);

    /// @notice Governance: registers evaluator `id` (the keccak256 of its manifest) at `uri`, active at once.
    function register(bytes32 id, string calldata uri) external;

    /// @notice Governance: activates or deactivates evaluator `id`. Open tasks keep their pinned evaluator.
    function setActive(bytes32 id, bool active) external;

    /// @notice Governance: moves the manifest of evaluator `id` to `uri`.
    function setUri(bytes32 id, string calldata uri) external;

    /// @notice Whether `id` is registered and active.
    function isActive(bytes32 id) external view returns (bool);

    /// @notice The record of evaluator `id` (reverts UnknownEvaluator when absent).
    function evaluator(bytes32 id) external view returns (Evaluator memory);

    /// @notice All ever-registered evaluator ids, in registration order.
    function evaluatorIds() external view returns (bytes32[] memory);
}
