import {
  createPublicClient,
  defineChain,
  fallback,
  http,
  webSocket,
  type Chain,
  type PublicClient,
  type Transport,
} from "viem";
import type { Logger } from "../observe/logger.ts";
import type { DaemonMetrics } from "../observe/metrics.ts";
import { WrongChainError } from "./errors.ts";
import { closeWebSocketClients, openWebSocketClient, ownSocketOptions } from "./sockets.ts";

export interface CreateChainClientParameters {
  chainId: number;
  /** In order of preference; http(s) and ws(s) may be mixed. */
  rpcUrls: readonly string[];
  /** How often viem polls (receipts, HTTP block watching). */
  pollingIntervalMs?: number;
  /** One JSON-RPC request's timeout; a hung endpoint costs at most this before the next URL is tried. */
  requestTimeoutMs?: number;
  logger?: Logger;
  metrics?: DaemonMetrics;
}

export interface ChainClient {
  client: PublicClient<Transport, Chain>;
  chain: Chain;
  transport: Transport;
  /** True when the preferred endpoint is a WebSocket, so the watcher can subscribe to new heads. */
  subscribes: boolean;
  /** Opens its WebSocket connections before first use (a daemon calls it first; without it, concurrent first
   * requests may open a socket close() cannot reach). */
  connect(): Promise<void>;
  /** Closes its WebSocket connections (they reconnect forever otherwise and keep the process alive). */
  close(): Promise<void>;
}

/** A viem chain object for a chain known only by id (the protocol does not depend on viem's chain list). */
export function chainFromId(chainId: number, rpcUrls: readonly string[]): Chain {
  const httpUrls = rpcUrls.filter((u) => u.startsWith("http"));
  const wsUrls = rpcUrls.filter((u) => u.startsWith("ws"));
  return defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: httpUrls, webSocket: wsUrls } },
  });
}

/**
 * The daemon's one way to reach the chain: a viem `fallback` transport over every configured URL, so a failed
 * request moves on to the next endpoint. Transport-level retries are off on purpose: the callers' loops retry
 * with jittered, capped backoff (chain/backoff.ts), which avoids the RPC storms naive retries cause.
 */
export function createChainClient({
  chainId,
  rpcUrls,
  pollingIntervalMs = 1_000,
  requestTimeoutMs = 10_000,
  logger,
  metrics,
}: CreateChainClientParameters): ChainClient {
  if (rpcUrls.length === 0) throw new TypeError("createChainClient needs at least one RPC URL");
  // Sockets of this client only (see ownSocketOptions), opened by connect() before any request.
  const sockets = { reconnect: ownSocketOptions(Number.MAX_SAFE_INTEGER, 1_000), keepAlive: { interval: 15_000 } };
  const wsUrls = rpcUrls.filter((url) => url.startsWith("ws"));
  const transports = rpcUrls.map((url) =>
    url.startsWith("ws")
      ? webSocket(url, { timeout: requestTimeoutMs, retryCount: 0, ...sockets })
      : http(url, { timeout: requestTimeoutMs, retryCount: 0 }),
  );
  const transport = fallback(transports, { rank: false, retryCount: 0 });
  const chain = chainFromId(chainId, rpcUrls);
  const client = createPublicClient({ chain, transport, pollingInterval: pollingIntervalMs });
  const onResponse = (client.transport as { onResponse?: (fn: (r: { status: string; method: string; error?: Error; transport: { config: { key: string } } }) => void) => void }).onResponse;
  onResponse?.((response) => {
    if (response.status !== "error") return;
    metrics?.rpcErrors.inc({ operation: response.method });
    logger?.debug({ method: response.method, err: response.error }, "RPC request failed; trying the next endpoint");
  });
  const connect = async () => {
    for (const url of wsUrls) await openWebSocketClient(url, sockets);
  };
  const close = async () => {
    for (const url of wsUrls) closeWebSocketClients(url, sockets.reconnect.owner);
  };
  return { client, chain, transport, subscribes: rpcUrls[0]!.startsWith("ws"), connect, close };
}

/** Refuses to run against an endpoint that serves another chain (a hard-coded or wrong chain id loses funds). */
export async function assertChainId(client: PublicClient, expected: number): Promise<void> {
  const actual = await client.getChainId();
  if (actual !== expected) throw new WrongChainError(expected, actual);
}
