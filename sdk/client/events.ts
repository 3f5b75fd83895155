import { setTimeout as delay } from "node:timers/promises";
import type { Address, GetContractEventsReturnType, PublicClient } from "viem";
import { taskMarketAbi } from "../contracts.ts";

/** One decoded TaskMarket event; `eventName` discriminates `args`. */
export type MarketEvent = GetContractEventsReturnType<typeof taskMarketAbi>[number];

export interface MarketEventsParameters {
  /** First block to read (inclusive). */
  fromBlock: bigint;
  /** Last block (inclusive); without it the iterator follows the chain head until `signal` aborts. */
  toBlock?: bigint;
  /** Only hand out logs this many blocks below the head (a requester UI's guard against shallow reorgs). */
  confirmations?: number;
  /** How often to look for new blocks while following the head. */
  pollIntervalMs?: number;
  /** Largest block range of one eth_getLogs request (providers cap it). */
  maxBlockRange?: bigint;
  signal?: AbortSignal;
}

// Resolves early (never rejects) when `signal` aborts: the iterator then ends cleanly.
const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * Every TaskMarket event from `fromBlock` on, in chain order (block, then log index), read in bounded getLogs
 * ranges. Ends at `toBlock`, or when `signal` aborts while following the head.
 *
 * This is a reader for requesters and dashboards: it does not detect reorgs. Daemons that act on events use
 * daemon/chain/watcher.ts (persisted cursor, parent-hash checks, de-duplication) instead.
 */
export async function* marketEvents(
  publicClient: PublicClient,
  market: Address,
  { fromBlock, toBlock, confirmations = 0, pollIntervalMs = 1_000, maxBlockRange = 2_000n, signal }: MarketEventsParameters,
): AsyncGenerator<MarketEvent, void, undefined> {
  if (maxBlockRange < 1n) throw new RangeError("maxBlockRange must be at least 1");
  let cursor = fromBlock;
  while (!signal?.aborted && (toBlock === undefined || cursor <= toBlock)) {
    const head = (await publicClient.getBlockNumber({ cacheTime: 0 })) - BigInt(confirmations);
    const last = [head, cursor + maxBlockRange - 1n, ...(toBlock === undefined ? [] : [toBlock])].reduce((a, b) => (a < b ? a : b));
    if (last < cursor) {
      await sleep(pollIntervalMs, signal);
      continue;
    }
    const logs = await publicClient.getContractEvents({ address: market, abi: taskMarketAbi, fromBlock: cursor, toBlock: last });
    logs.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
    for (const log of logs) {
      if (signal?.aborted) return;
      yield log;
    }
    cursor = last + 1n;
  }
}
