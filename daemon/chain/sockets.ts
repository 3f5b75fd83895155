import { randomUUID } from "node:crypto";
import { getWebSocketRpcClient, socketClientCache } from "viem/utils";

/**
 * Reconnect settings that also give a chain client sockets of its own. viem keeps one socket per URL and options
 * for the whole process (its socket cache, keyed by the options as JSON), so clients with equal options share one:
 * one client's close then closes the others' socket, and their next requests, all missing the cache at once, can
 * open two sockets for one key, the first of which nobody can reach again to close (it stays open, pinged alive,
 * and keeps the process and the node's server from ending). An `owner` field makes the key this client's own.
 */
export function ownSocketOptions(attempts: number, delay: number): { attempts: number; delay: number; owner: string } {
  return { attempts, delay, owner: randomUUID() };
}

/** Opens the client's socket to `url` before anything else uses it: the only time its key misses the cache is then
 * this one call, so no second socket can be opened for it. An unreachable URL is left to the requests' failover. */
export async function openWebSocketClient(url: string, options: { keepAlive: { interval: number }; reconnect: { attempts: number; delay: number } }): Promise<void> {
  await getWebSocketRpcClient(url, options).catch(() => undefined);
}

/**
 * Closes the viem WebSocket clients of this process connected to `url` (those of one `owner` only, when given),
 * without opening one: asking a transport for its client in order to close it opens a socket when none is cached.
 */
export function closeWebSocketClients(url: string, owner?: string): void {
  const target = withoutTrailingSlash(url);
  for (const [key, client] of [...socketClientCache.entries()]) {
    if (withoutTrailingSlash(client.url) !== target) continue;
    if (owner !== undefined && !key.includes(`"owner":"${owner}"`)) continue;
    client.close();
  }
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, "");
