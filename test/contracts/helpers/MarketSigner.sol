// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {TestBase} from "./TestBase.sol";

/// @notice EIP-712 signing of the market's typed messages with test keys, rebuilt from the type strings of the
///         specification (not read from the contract), so a drift in the contract's type hashes fails the tests.
abstract contract MarketSigner is TestBase {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant COMMIT_TYPEHASH =
        keccak256("Commit(uint256 taskId,uint256 round,bytes32 commitment,uint256 deadline)");
    bytes32 internal constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint256 taskId,bytes32 outputHash,bytes32 evaluatorId,uint16 score)");

    /// @dev The market's domain separator, from its EIP-5267 description.
    function _domainSeparator(address market) internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            IERC5267(market).eip712Domain();
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifying)
        );
    }

    /// @dev 65-byte (r, s, v) signature of a struct hash under the market's domain.
    function _sign(uint256 key, address market, bytes32 structHash) internal view returns (bytes memory) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(market), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signAttestation(uint256 key, address market, ITaskMarket.Attestation memory a)
        internal
        view
        returns (bytes memory)
    {
        return _sign(
            key, market, keccak256(abi.encode(ATTESTATION_TYPEHASH, a.taskId, a.outputHash, a.evaluatorId, a.score))
        );
    }

    /// @dev EIP-2098 compact signature (r, yParityAndS) of a member's `Commit`, as a commit report carries it.
    function _signCommit(
        uint256 key,
        address market,
        uint256 taskId,
        uint256 round,
        bytes32 commitment,
        uint256 deadline
    ) internal view returns (bytes32[2] memory sig) {
        bytes32 structHash = keccak256(abi.encode(COMMIT_TYPEHASH, taskId, round, commitment, deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(market), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        sig[0] = r;
        sig[1] = bytes32(uint256(s) | (uint256(v - 27) << 255));
    }
}
