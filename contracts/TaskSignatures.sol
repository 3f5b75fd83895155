// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @title TaskSignatures
/// @notice EIP-712 typed messages of the task market: relayed commits and reveals (a unix-time deadline; no nonce:
/// each is single-use per member, task and round) and attestations (statements, used as equivocation proofs).
/// @dev The domain (name "PoQ TaskMarket", version "1", chain id, this contract) rules out replay on another chain
/// or deployment; OpenZeppelin's EIP712 rebuilds the cached separator if the chain id changes (fork). ECDSA.recover
/// rejects malleable high-s signatures and malformed lengths with typed errors.
abstract contract TaskSignatures is EIP712 {
    /// @notice EIP-712 type hash of a relayed commit.
    bytes32 public constant COMMIT_TYPEHASH =
        keccak256("Commit(uint256 taskId,uint256 round,bytes32 commitment,uint256 deadline)");
    /// @notice EIP-712 type hash of a relayed reveal.
    bytes32 public constant REVEAL_TYPEHASH =
        keccak256("Reveal(uint256 taskId,uint256 round,uint256 score,bytes32 salt,uint256 deadline)");
    /// @notice EIP-712 type hash of a score attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint256 taskId,bytes32 outputHash,bytes32 evaluatorId,uint16 score)");

    constructor() EIP712("PoQ TaskMarket", "2") {}

    /// @dev Signer of a relayed commit (does not consume the nonce).
    function _commitSigner(ITaskMarket.SignedCommit calldata c) internal view returns (address) {
        bytes32 structHash =
            keccak256(abi.encode(COMMIT_TYPEHASH, c.taskId, c.round, c.commitment, c.deadline));
        return ECDSA.recover(_hashTypedDataV4(structHash), c.signature);
    }

    /// @dev Signer of a relayed reveal (does not consume the nonce).
    function _revealSigner(ITaskMarket.SignedReveal calldata r) internal view returns (address) {
        bytes32 structHash =
            keccak256(abi.encode(REVEAL_TYPEHASH, r.taskId, r.round, r.score, r.salt, r.deadline));
        return ECDSA.recover(_hashTypedDataV4(structHash), r.signature);
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
