import type { Address, Hex } from "viem";
import type { BlockRef } from "../store/cursor-store.ts";

/** A decoded contract event, with the coordinates that make it unique: (transactionHash, logIndex). */
export interface WatchedLog {
  eventName: string;
  args: Record<string, unknown>;
  address: Address;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
}

/** A log from the watched contract whose topics or data do not decode against the ABI. */
export interface RawLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
}

/**
 * What the watcher hands to its consumer, in chain order (like ponder's realtime sync):
 * - `log`: a confirmed event, delivered at least once and, within a run, exactly once per (txHash, logIndex);
 * - `malformed`: a log with a known event signature that does not decode; count it, never crash on it;
 * - `reorg`: blocks above `ancestor` left the chain; undo whatever was derived from them, their replacements follow;
 * - `checkpoint`: every event up to `block` was handled and the cursor is saved;
 * - `deepReorg`: the chain changed deeper than the finality depth; the watcher halts and an operator must look.
 */
export type WatcherEvent =
  | { type: "log"; log: WatchedLog }
  | { type: "malformed"; raw: RawLog; error: string }
  | { type: "reorg"; from: BlockRef; ancestor: BlockRef; depth: number }
  | { type: "checkpoint"; block: BlockRef }
  | { type: "deepReorg"; from: BlockRef; oldestChecked: BlockRef | undefined };

export interface WatcherStatus {
  cursor: BlockRef | undefined;
  head: bigint | undefined;
  halted: boolean;
  lastError: string | undefined;
  lastSyncAt: number | undefined;
}
