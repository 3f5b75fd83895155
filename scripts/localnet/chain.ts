import nodeHttp, { type Server as HttpServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  type Address,
  type Chain,
  type PublicClient,
  type TestClient,
  type WalletClient,
} from "viem";
import { chainFromId } from "../../daemon/chain/client.ts";
import { closeWebSocketClients } from "../../daemon/chain/sockets.ts";
import { startAnvil } from "./anvil.ts";

/** Hardhat's in-process EVM (the default), or anvil (Foundry's node) in its own process: the second EVM. */
export type LocalEvm = "hardhat" | "anvil";

/** A local chain behind a real HTTP + WebSocket JSON-RPC server on a free port. */
export interface LocalChain {
  evm: LocalEvm;
  /** The node's own process (anvil); undefined when the chain runs inside this process (Hardhat). */
  nodePid?: number;
  rpcUrl: string;
  wsUrl: string;
  chainId: number;
  chain: Chain;
  publicClient: PublicClient;
  testClient: TestClient;
  /** The node's first unlocked account (10 000 ETH): deploys the protocol and funds everyone. */
  funder: Address;
  funderWallet: WalletClient;
  /**
   * Produces blocks every `intervalMs` (commit/reveal windows are counted in blocks, and a quiet chain with
   * automine alone never reaches the end of a window). `automine: true` keeps one block per transaction on top
   * (fast confirmations, but busy periods burn through windows); `false` switches to interval mining only (Hardhat's
   * own; on anvil, automine off and a timer), so blocks come at a steady pace with many transactions each, like a
   * real chain. Returns the stop function.
   */
  startBlockProducer(intervalMs: number, options?: { automine?: boolean }): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Retries of one JSON-RPC request after a transport failure (viem backs off exponentially from 150 ms). */
export const LOCAL_RPC_RETRIES = 3;

/** A running node: its JSON-RPC port (HTTP and WebSocket), its own process when it has one, and how to stop it. */
export interface LocalNode {
  port: number;
  pid?: number;
  stop(): Promise<void>;
}

/** Starts a bare node (no clients): what startLocalChain and the tests' chains are built on. */
export async function startLocalNode(evm: LocalEvm): Promise<LocalNode> {
  if (evm === "anvil") return startAnvil();
  const { result: server, servers } = await recordingHttpServers(() => network.createServer("default", "127.0.0.1", 0));
  const { port } = await server.listen();
  const connections = [...servers].find(([created]) => (created.address() as AddressInfo | null)?.port === port)?.[1] ?? new Set<Socket>();
  return { port, stop: () => closeServer(server, `ws://127.0.0.1:${port}`, connections) };
}

/**
 * Runs `create` while recording each HTTP server node:http makes meanwhile, with its open connections: Hardhat's
 * JSON-RPC server keeps its own private, and its stop needs them (closeServer).
 */
async function recordingHttpServers<T>(create: () => Promise<T>): Promise<{ result: T; servers: Map<HttpServer, Set<Socket>> }> {
  const servers = new Map<HttpServer, Set<Socket>>();
  const original = nodeHttp.createServer;
  nodeHttp.createServer = ((...args: Parameters<typeof nodeHttp.createServer>) => {
    const server = original(...args);
    const sockets = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    servers.set(server, sockets);
    return server;
  }) as typeof nodeHttp.createServer;
  try {
    return { result: await create(), servers };
  } finally {
    nodeHttp.createServer = original;
  }
}

/** Between sweeps of this process's WebSocket clients while the in-process server closes. */
const SWEEP_MS = 250;
/** After this long the connections still open are cut from the server's side. */
const GRACE_MS = 2_000;

/**
 * Closes the in-process server. It finishes closing only once every WebSocket connection to it has closed (ws leaves
 * upgraded connections to their clients), and a viem client can hold a socket nobody can close (viem opens two for
 * one cache key when first requests race, and keeps the unreachable one alive with pings): this process's cached
 * sockets to the node are closed until the server is, and after GRACE_MS the connections left are cut from the
 * server's side. (A stop that waited on such a socket hung a test run for good.)
 */
async function closeServer(server: { close(): Promise<void> }, wsUrl: string, connections: Set<Socket>): Promise<void> {
  let closed = false;
  const closing = server.close().finally(() => (closed = true));
  const cutAt = Date.now() + GRACE_MS;
  while (!closed) {
    closeWebSocketClients(wsUrl);
    if (Date.now() > cutAt) for (const socket of connections) socket.destroy();
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, SWEEP_MS))]);
  }
  await closing;
}

/** Starts `fn` on a fresh node and stops the node again when `fn` fails. */
export async function onLocalNode<T>(evm: LocalEvm, fn: (node: LocalNode) => Promise<T>): Promise<T> {
  const node = await startLocalNode(evm);
  try {
    return await fn(node);
  } catch (error) {
    await node.stop();
    throw error;
  }
}

export async function startLocalChain(evm: LocalEvm = "hardhat"): Promise<LocalChain> {
  return onLocalNode(evm, (node) => connect(evm, node));
}

async function connect(evm: LocalEvm, node: LocalNode): Promise<LocalChain> {
  const rpcUrl = `http://127.0.0.1:${node.port}`;
  // A loaded machine sometimes resets a connection to the in-process server ("fetch failed"): retried, since every
  // call here is a read, a signed raw transaction (the same hash again is harmless) or a dev-account funding.
  const transport = http(rpcUrl, { retryCount: LOCAL_RPC_RETRIES });
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = chainFromId(chainId, [rpcUrl]);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 });
  const testClient = createTestClient({ chain, transport, mode: evm });
  const [funder] = await createWalletClient({ chain, transport }).getAddresses();
  if (funder === undefined) throw new Error(`the local ${evm} node has no unlocked account`);
  const producers = new Set<NodeJS.Timeout>();
  return {
    evm,
    nodePid: node.pid,
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${node.port}`,
    chainId,
    chain,
    publicClient: publicClient as PublicClient,
    testClient: testClient as unknown as TestClient,
    funder,
    funderWallet: createWalletClient({ chain, transport, account: funder }),
    async startBlockProducer(intervalMs, { automine = true } = {}) {
      // anvil's interval mining counts whole seconds: below that, automine off and the timer below mines.
      if (!automine && evm === "anvil") await testClient.setAutomine(false);
      if (!automine && evm === "hardhat") {
        await testClient.setAutomine(false);
        // Raw request: viem's setIntervalMining takes seconds in hardhat mode; Hardhat itself takes milliseconds.
        await testClient.request({ method: "evm_setIntervalMining", params: [intervalMs] } as never);
        return async () => {
          await testClient.request({ method: "evm_setIntervalMining", params: [0] } as never);
          await testClient.setAutomine(true);
        };
      }
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return; // never queue mines behind a slow node: that would burst blocks later
        busy = true;
        testClient.mine({ blocks: 1 }).catch(() => {}).finally(() => (busy = false));
      }, intervalMs);
      producers.add(timer);
      return async () => {
        clearInterval(timer);
        producers.delete(timer);
        if (!automine) await testClient.setAutomine(true);
      };
    },
    async close() {
      producers.forEach(clearInterval);
      producers.clear();
      await node.stop();
    },
  };
}
