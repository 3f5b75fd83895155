// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Commitments
/// @notice The commit-reveal commitment a validator publishes before revealing its score.
/// @dev The hash binds every field that could otherwise be reused: the score and a secret salt (hiding and
///      binding), the validator (a copied commitment does not verify for another sender), the task and round (no
///      replay across tasks or committee rounds), and the chain id and market address (no replay across chains or
///      deployments). Off-chain code computes the same value as
///      `keccak256(abi.encode(score, salt, validator, taskId, round, chainId, market))`.
library Commitments {
    /// @notice Commitment on the current chain.
    /// @param score The score to commit to (0..10_000; the market checks the range at reveal).
    /// @param salt A secret 32-byte random value chosen by the validator; never reuse it.
    /// @param validator The committee member who will reveal.
    /// @param taskId The task.
    /// @param round The committee round of the task.
    /// @param market The verifying contract (the TaskMarket, usually `address(this)`).
    /// @return The commitment hash.
    function commitment(uint256 score, bytes32 salt, address validator, uint256 taskId, uint256 round, address market)
        internal
        view
        returns (bytes32)
    {
        return commitmentOn(score, salt, validator, taskId, round, block.chainid, market);
    }

    /// @notice Commitment for an explicit chain id (what off-chain code and tests reproduce).
    /// @param score The score.
    /// @param salt The secret salt.
    /// @param validator The committee member.
    /// @param taskId The task.
    /// @param round The committee round.
    /// @param chainId The chain id.
    /// @param market The verifying contract.
    /// @return hash The commitment hash.
    function commitmentOn(
        uint256 score,
        bytes32 salt,
        address validator,
        uint256 taskId,
        uint256 round,
        uint256 chainId,
        address market
    ) internal pure returns (bytes32 hash) {
        // keccak256(abi.encode(...)) hashed in the free memory without claiming it: the same seven words, but a
        // settlement that checks k openings does not grow memory by seven words per opening.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, score)
            mstore(add(m, 0x20), salt)
            mstore(add(m, 0x40), and(validator, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(m, 0x60), taskId)
            mstore(add(m, 0x80), round)
            mstore(add(m, 0xa0), chainId)
            mstore(add(m, 0xc0), and(market, 0xffffffffffffffffffffffffffffffffffffffff))
            hash := keccak256(m, 0xe0)
        }
    }
}
