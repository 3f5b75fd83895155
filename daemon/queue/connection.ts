import { Redis } from "ioredis";
import type { Logger } from "../observe/logger.ts";

/**
 * Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (BullMQ's blocking commands must wait
 * out a Redis restart instead of failing); producers keep ioredis' bounded retries so an `add` during an outage
 * fails fast and the caller (the watcher) keeps its cursor and tries again later, so nothing is lost.
 */
export function createRedisConnection(url: string, use: "worker" | "producer", logger?: Logger): Redis {
  const connection = new Redis(url, {
    maxRetriesPerRequest: use === "worker" ? null : 3,
    enableReadyCheck: true,
    // Reconnect with capped backoff (ms) forever: Redis restarts must never kill the daemon.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000) + Math.floor(Math.random() * 100),
    lazyConnect: false,
  });
  // Without a listener ioredis prints every failed reconnect to stderr; log them once per outage instead.
  let down = false;
  connection.on("error", (error: Error) => {
    if (!down) logger?.warn({ err: error, use }, "redis connection lost; reconnecting");
    down = true;
  });
  connection.on("ready", () => {
    if (down) logger?.info({ use }, "redis connection restored");
    down = false;
  });
  return connection;
}

/** Readiness check for /health: PING answered. */
export async function pingRedis(connection: Redis): Promise<void> {
  const reply = await connection.ping();
  if (reply !== "PONG") throw new Error(`unexpected PING reply ${reply}`);
}
