// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IEvaluatorRegistry} from "./interfaces/IEvaluatorRegistry.sol";

/// @title EvaluatorRegistry
/// @notice Governance-curated evaluator models keyed by manifest content hash (see IEvaluatorRegistry).
contract EvaluatorRegistry is IEvaluatorRegistry, Ownable2Step {
    /// @notice Longest accepted manifest URI, in bytes.
    uint256 public constant MAX_URI_BYTES = 512;

    mapping(bytes32 id => Evaluator record) private _evaluators;
    bytes32[] private _ids;

    /// @param governance The owner (a timelock in production).
    constructor(address governance) Ownable(governance) {}

    /// @inheritdoc IEvaluatorRegistry
    function register(bytes32 id, string calldata uri) external onlyOwner {
        if (id == bytes32(0)) revert ZeroEvaluatorId();
        _checkUri(uri);
        if (_evaluators[id].registeredAt != 0) revert EvaluatorAlreadyRegistered(id);
        _evaluators[id] = Evaluator({uri: uri, active: true, registeredAt: uint64(block.number)});
        _ids.push(id);
        emit EvaluatorRegistered(id, uri);
        emit EvaluatorActiveSet(id, true);
    }

    /// @inheritdoc IEvaluatorRegistry
    function setActive(bytes32 id, bool active) external onlyOwner {
        _known(id).active = active;
        emit EvaluatorActiveSet(id, active);
    }

    /// @inheritdoc IEvaluatorRegistry
    function setUri(bytes32 id, string calldata uri) external onlyOwner {
        _checkUri(uri);
        _known(id).uri = uri;
        emit EvaluatorUriSet(id, uri);
    }

    /// @inheritdoc IEvaluatorRegistry
    function isActive(bytes32 id) external view returns (bool) {
        return _evaluators[id].active;
    }

    /// @inheritdoc IEvaluatorRegistry
    function evaluator(bytes32 id) external view returns (Evaluator memory) {
        if (_evaluators[id].registeredAt == 0) revert UnknownEvaluator(id);
        return _evaluators[id];
    }

    /// @inheritdoc IEvaluatorRegistry
    function evaluatorIds() external view returns (bytes32[] memory) {
        return _ids;
    }

    function _known(bytes32 id) private view returns (Evaluator storage record) {
        record = _evaluators[id];
        if (record.registeredAt == 0) revert UnknownEvaluator(id);
    }

    function _checkUri(string calldata uri) private pure {
        if (bytes(uri).length == 0 || bytes(uri).length > MAX_URI_BYTES) revert InvalidUri();
    }
}
