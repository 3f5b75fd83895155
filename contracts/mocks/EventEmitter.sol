// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title EventEmitter
/// @notice Test-only contract that emits protocol-shaped events on demand, so the daemon's chain watcher and
///         transaction sender can be tested against a real chain before the protocol contracts are wired in.
/// @dev Never deployed outside tests and local demos.
contract EventEmitter {
    /// @notice Emitted by `postTask`; shaped like a task-creation event (indexed id, dynamic payload).
    event TaskPosted(uint256 indexed taskId, address indexed requester, bytes prompt);

    /// @notice Emitted by `commitScore`; shaped like a validator commit.
    event ScoreCommitted(uint256 indexed taskId, address indexed validator, bytes32 commitment);

    /// @notice Thrown when `postTask` gets an empty prompt, to test how reverts surface in the sender.
    error EmptyPrompt();

    /// @notice Emits `TaskPosted`.
    /// @param taskId Any id the test chooses.
    /// @param prompt Must not be empty.
    function postTask(uint256 taskId, bytes calldata prompt) external {
        if (prompt.length == 0) revert EmptyPrompt();
        emit TaskPosted(taskId, msg.sender, prompt);
    }

    /// @notice Emits `ScoreCommitted` with the caller as validator.
    /// @param taskId Any id the test chooses.
    /// @param commitment Any 32 bytes.
    function commitScore(uint256 taskId, bytes32 commitment) external {
        emit ScoreCommitted(taskId, msg.sender, commitment);
    }

    /// @notice Emits `TaskPosted` once per id in one transaction, to test several logs per transaction.
    /// @param taskIds Ids to emit, in order.
    function postTasks(uint256[] calldata taskIds) external {
        for (uint256 i = 0; i < taskIds.length; ++i) {
            emit TaskPosted(taskIds[i], msg.sender, hex"01");
        }
    }

    /// @notice Emits a log with the `TaskPosted` signature but a payload that does not decode, to test how
    ///         the watcher handles a malformed event.
    /// @param taskId Goes into the first indexed topic.
    function emitMalformedTaskPosted(uint256 taskId) external {
        bytes32 topic0 = TaskPosted.selector;
        // solhint-disable-next-line no-inline-assembly
        assembly {
            mstore(0, 0xdeadbeef)
            // Two topics instead of three and 4 bytes of data instead of an ABI-encoded `bytes`.
            log2(28, 4, topic0, taskId)
        }
    }

    /// @notice Does nothing: a successful transaction without the event a caller expected.
    // solhint-disable-next-line no-empty-blocks
    function silent() external {}
}
