import type { PublicClient } from "viem";
import type { Logger } from "../observe/logger.ts";

export type HeadListener = (block: bigint) => void;

export interface HeadFollower {
  /** The newest block number seen (undefined before the first one arrives). */
  latest(): bigint | undefined;
  /** Calls `listener` once per new head, in order; returns the unsubscribe function. */
  onHead(listener: HeadListener): () => void;
  stop(): void;
}

export interface CreateHeadFollowerParameters {
  client: PublicClient;
  /** eth_subscribe(newHeads) over WebSocket when true; polling eth_blockNumber every `pollIntervalMs` otherwise. */
  subscribe: boolean;
  pollIntervalMs: number;
  logger: Logger;
}

/**
 * One follower of the chain head per daemon, shared by everything that must act on "the block that opens a
 * phase" (keeper duties, reveals): one subscription (or one poll loop) instead of a loop per job. Listeners run
 * synchronously and must only schedule work (their errors are logged, never thrown into the follower).
 */
export function createHeadFollower(p: CreateHeadFollowerParameters): HeadFollower {
  const listeners = new Set<HeadListener>();
  const log = p.logger.child({ component: "heads" });
  let latest: bigint | undefined;
  const deliver = (block: bigint) => {
    if (latest !== undefined && block <= latest) return;
    latest = block;
    for (const listener of listeners) {
      try {
        listener(block);
      } catch (error) {
        log.error({ err: error }, "head listener failed");
      }
    }
  };
  const unwatch = p.client.watchBlockNumber({
    emitMissed: false,
    emitOnBegin: true,
    pollingInterval: p.pollIntervalMs,
    // `poll: false` is only valid for WebSocket clients; `subscribe` is set only for those (ChainClient.subscribes).
    ...(p.subscribe ? { poll: false } : { poll: true }),
    onBlockNumber: deliver,
    onError: (error: Error) => log.debug({ err: error }, "head follower error; it keeps trying"),
  } as never);
  return {
    latest: () => latest,
    onHead(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      listeners.clear();
      unwatch();
    },
  };
}
