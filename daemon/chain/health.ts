import type { PublicClient } from "viem";
import type { HealthCheck } from "../observe/health-server.ts";
import { assertChainId } from "./client.ts";
import type { LogWatcher } from "./watcher.ts";

/** /health check: the RPC answers and serves the configured chain. */
export function rpcHealthCheck(client: PublicClient, chainId: number): HealthCheck {
  return () => assertChainId(client, chainId);
}

/**
 * /health check for a watcher: fails when it halted on a deep reorg, or when its last successful sync is older
 * than `maxStaleMs` (it is stuck in backoff, so the daemon is not following the chain).
 */
export function watcherHealthCheck(watcher: LogWatcher, maxStaleMs: number): HealthCheck {
  return async () => {
    const status = watcher.status();
    if (status.halted) throw new Error("watcher halted on a reorg deeper than the finality depth");
    if (status.lastSyncAt === undefined) throw new Error(`watcher has not synced yet${status.lastError ? `: ${status.lastError}` : ""}`);
    const age = Date.now() - status.lastSyncAt;
    if (age > maxStaleMs) throw new Error(`watcher last synced ${age} ms ago: ${status.lastError ?? "no error recorded"}`);
  };
}
