import type { PublicClient } from "viem";
import type { Logger } from "../observe/logger.ts";

export type HeadListener = (block: bigint) => void;

export interface HeadFollower {
  /** The newest block number seen (undefined before the first one arrives). */
  latest(): bigint | undefined;
  /** Calls `listener` once per new head, in order; returns the unsubscribe function. */
  onHead(listener: HeadListener): () => void;
  /** Resolves at the next new head (true), or after `maxMs` without one or when `signal` aborts (false): a wait,
   * never an error. */
  nextHead(maxMs: number, signal?: AbortSignal): Promise<boolean>;
  stop(): void;
}

export interface CreateHeadFollowerParameters {
  client: PublicClient;
  /** eth_subscribe(newHeads) over WebSocket when true; polling eth_blockNumber every `pollIntervalMs` otherwise. */
  subscribe: boolean;
  pollIntervalMs: number;
  /** With a subscription: no new head for this long and it is renewed (subscriptions can die silently). */
  quietPeriodMs?: number;
  logger: Logger;
}

/**
 * The one follower of the chain head per daemon, shared by everything that acts on new blocks (the log watcher,
 * keeper duties, parked reveals, the sender's receipt waits): one newHeads subscription (or one poll loop) per
 * process instead of one per consumer. Listeners run synchronously and must only schedule work (their errors are
 * logged, never thrown into the follower).
 */
export function createHeadFollower(p: CreateHeadFollowerParameters): HeadFollower {
  const listeners = new Set<HeadListener>();
  const log = p.logger.child({ component: "heads" });
  let latest: bigint | undefined;
  let headsSinceCheck = 0;
  const deliver = (block: bigint) => {
    if (latest !== undefined && block <= latest) return;
    latest = block;
    headsSinceCheck++;
    for (const listener of [...listeners]) {
      try {
        listener(block);
      } catch (error) {
        log.error({ err: error }, "head listener failed");
      }
    }
  };
  const watch = () =>
    p.client.watchBlockNumber({
      emitMissed: false,
      emitOnBegin: true,
      pollingInterval: p.pollIntervalMs,
      // `poll: false` is only valid for WebSocket clients; `subscribe` is set only for those (ChainClient.subscribes).
      ...(p.subscribe ? { poll: false } : { poll: true }),
      onBlockNumber: deliver,
      onError: (error: Error) => log.debug({ err: error }, "head follower error; it keeps trying"),
    } as never);
  let unwatch = watch();
  // Subscriptions can die without an error (RELIABILITY.md): after a quiet period, subscribe again.
  const quiet = p.subscribe && p.quietPeriodMs !== undefined
    ? setInterval(() => {
      if (headsSinceCheck === 0) {
        log.info({ quietPeriodMs: p.quietPeriodMs }, "no new head for a quiet period; subscribing again");
        unwatch();
        unwatch = watch();
      }
      headsSinceCheck = 0;
    }, p.quietPeriodMs)
    : undefined;
  quiet?.unref();
  return {
    latest: () => latest,
    onHead(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    nextHead(maxMs, signal) {
      return new Promise<boolean>((resolve) => {
        if (signal?.aborted) return resolve(false);
        const finish = (cameHead: boolean) => {
          clearTimeout(timer);
          listeners.delete(onHead);
          signal?.removeEventListener("abort", onQuiet);
          resolve(cameHead);
        };
        const onHead = () => finish(true);
        const onQuiet = () => finish(false);
        const timer = setTimeout(onQuiet, maxMs);
        listeners.add(onHead);
        signal?.addEventListener("abort", onQuiet, { once: true });
      });
    },
    stop() {
      clearInterval(quiet);
      listeners.clear();
      unwatch();
    },
  };
}
