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

/** An in-process Hardhat chain behind a real HTTP + WebSocket JSON-RPC server on a free port. */
export interface LocalChain {
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
   * Mines a block every `intervalMs` on top of automine (commit/reveal windows are counted in blocks, and a
   * quiet chain with automine alone would never reach the end of a window). Returns the stop function.
   */
  startBlockProducer(intervalMs: number): () => void;
  close(): Promise<void>;
}

export async function startLocalChain(): Promise<LocalChain> {
  const server = await network.createServer("default", "127.0.0.1", 0);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const transport = http(rpcUrl, { retryCount: 0 });
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = chainFromId(chainId, [rpcUrl]);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 });
  const testClient = createTestClient({ chain, transport, mode: "hardhat" });
  const [funder] = await createWalletClient({ chain, transport }).getAddresses();
  if (funder === undefined) throw new Error("the local Hardhat node has no unlocked account");
  const producers = new Set<NodeJS.Timeout>();
  return {
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    chainId,
    chain,
    publicClient: publicClient as PublicClient,
    testClient: testClient as unknown as TestClient,
    funder,
    funderWallet: createWalletClient({ chain, transport, account: funder }),
    startBlockProducer(intervalMs) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return; // never queue mines behind a slow node: that would burst blocks later
        busy = true;
        testClient.mine({ blocks: 1 }).catch(() => {}).finally(() => (busy = false));
      }, intervalMs);
      producers.add(timer);
      return () => {
        clearInterval(timer);
        producers.delete(timer);
      };
    },
    async close() {
      producers.forEach(clearInterval);
      producers.clear();
      await server.close();
    },
  };
}
