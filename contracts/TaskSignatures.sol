// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @title TaskSignatures
/// @notice EIP-712 typed messages of the task market: members' commits in a commit report (a unix-time deadline; no
/// nonce: a seat commits once per round) and attestations (statements, used as equivocation proofs).
/// @dev The domain (name "PoQ TaskMarket", version "2", chain id, this contract) rules out replay on another chain
/// or deployment; OpenZeppelin's EIP712 rebuilds the cached separator if the chain id changes (fork). ECDSA.recover
/// rejects malleable high-s signatures with typed errors; commit reports carry EIP-2098 compact signatures (64 bytes).
abstract contract TaskSignatures is EIP712 {
    /// @notice EIP-712 type hash of a member's commit (signed for a commit report).
    bytes32 public constant COMMIT_TYPEHASH =
        keccak256("Commit(uint256 taskId,uint256 round,bytes32 commitment,uint256 deadline)");
    /// @notice EIP-712 type hash of a score attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint256 taskId,bytes32 outputHash,bytes32 evaluatorId,uint16 score)");

    constructor() EIP712("PoQ TaskMarket", "2") {}

    /// @dev Signer of a member's commit in a commit report, from its EIP-2098 compact signature (r, yParityAndS).
    function _commitSigner(uint256 taskId, uint256 round, bytes32 commitment, uint256 deadline, bytes32[2] calldata sig)
        internal
        view
        returns (address)
    {
        bytes32 structHash = keccak256(abi.encode(COMMIT_TYPEHASH, taskId, round, commitment, deadline));
        return ECDSA.recover(_hashTypedDataV4(structHash), sig[0], sig[1]);
    }

    /// @dev Signer of an attestation.
    function _attestationSigner(ITaskMarket.Attestation calldata a, bytes calldata signature)
        internal
        view
        returns (address)
    {
        bytes32 structHash =
            keccak256(abi.encode(ATTESTATION_TYPEHASH, a.taskId, a.outputHash, a.evaluatorId, a.score));
        return ECDSA.recover(_hashTypedDataV4(structHash), signature);
    }
}
