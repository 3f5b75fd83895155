import type { Hex } from "viem";
import type { BlockRef } from "../store/cursor-store.ts";

/** The transaction was mined but reverted, or would revert (gas estimation failed): retrying as-is cannot help. */
export class TransactionRevertedError extends Error {
  override name = "TransactionRevertedError";
  constructor(
    readonly label: string,
    readonly reason: string,
    readonly hash?: Hex,
    options?: ErrorOptions,
  ) {
    super(`${label}: transaction ${hash ?? "(not sent)"} reverted: ${reason}`, options);
  }
}

/** Mined and successful, but without the event that proves the step happened: the step is NOT done. */
export class ExpectedEventMissingError extends Error {
  override name = "ExpectedEventMissingError";
  constructor(
    readonly label: string,
    readonly eventName: string,
    readonly hash: Hex,
  ) {
    super(`${label}: transaction ${hash} succeeded but did not emit ${eventName}; the step is not done`);
  }
}

/** No receipt after every allowed fee bump; the nonce stays journaled and is retried on the next recovery. */
export class StuckTransactionError extends Error {
  override name = "StuckTransactionError";
  constructor(
    readonly label: string,
    readonly nonce: number,
    readonly hashes: readonly Hex[],
  ) {
    super(`${label}: nonce ${nonce} not mined after ${hashes.length} broadcasts (last ${hashes[hashes.length - 1]})`);
  }
}

/**
 * A role stopped while this send waited for its receipt or confirmations (a chain that stopped producing blocks
 * must not hold a shutdown forever). The transaction stays journaled and the job runs again at the next start:
 * every step checks the chain first, so a transaction that did land is not sent twice.
 */
export class SendInterruptedError extends Error {
  override name = "SendInterruptedError";
  constructor(
    readonly label: string,
    readonly nonce: number,
  ) {
    super(`${label}: stopped waiting for nonce ${nonce} to be mined and confirmed (the role is stopping)`);
  }
}

/** Every broadcast attempt failed (RPC down); nothing reached the chain as far as we know. Transient. */
export class BroadcastError extends Error {
  override name = "BroadcastError";
  constructor(
    readonly label: string,
    options?: ErrorOptions,
  ) {
    super(`${label}: could not broadcast the transaction`, options);
  }
}

/** A reorg replaced blocks deeper than the finality depth: an operator must look; the watcher halts. */
export class DeepReorgError extends Error {
  override name = "DeepReorgError";
  constructor(
    readonly cursor: BlockRef,
    readonly oldestChecked: BlockRef | undefined,
    readonly finalityDepth: number,
  ) {
    super(
      `Reorg deeper than the finality depth (${finalityDepth} blocks): block ${cursor.number} ${cursor.hash} and every ` +
        `checkpoint down to ${oldestChecked?.number ?? "genesis"} left the canonical chain`,
    );
  }
}

/** The RPC endpoint serves another chain than the config names. */
export class WrongChainError extends Error {
  override name = "WrongChainError";
  constructor(expected: number, actual: number) {
    super(`RPC serves chain id ${actual} but the config expects ${expected}`);
  }
}
