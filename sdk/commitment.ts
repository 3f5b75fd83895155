import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/** Top of the score scale (basis points); the contract rejects reveals above it. */
export const SCORE_MAX = 10_000;

export interface CommitmentInput {
  score: number | bigint;
  salt: Hex; // 32 random bytes, fresh for every commit
  validator: Address;
  taskId: bigint;
  round: number | bigint;
  chainId: number | bigint;
  market: Address; // the TaskMarket address
}

/**
 * The commitment a committee member commits, equal to Solidity's Commitments.commitment:
 * keccak256(abi.encode(score, salt, validator, taskId, round, chainId, market)).
 */
export function computeCommitment(input: CommitmentInput): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        { type: "bytes32" },
        { type: "address" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "address" },
      ],
      [
        BigInt(input.score),
        input.salt,
        input.validator,
        input.taskId,
        BigInt(input.round),
        BigInt(input.chainId),
        input.market,
      ],
    ),
  );
}

/** 32 bytes from the platform CSPRNG, hex encoded: the salt of one commit (store it durably before committing). */
export function randomSalt(): Hex {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `0x${Buffer.from(bytes).toString("hex")}`;
}
