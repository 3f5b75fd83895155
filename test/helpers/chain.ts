import { network, artifacts } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { hardhat } from "viem/chains";
import { startAnvil } from "../../scripts/localnet/anvil.ts";

/** The EVMs the tests run on: Hardhat's in-process EDR, and anvil (Foundry's node) in its own process. */
export type TestEvm = "hardhat" | "anvil";

/**
 * A chain served over real HTTP and WebSocket JSON-RPC, with the EventEmitter mock deployed: what the daemon's
 * chain tests talk to. `httpUrl` and `wsUrl` share one port. Hardhat's in-process server by default; `"anvil"`
 * starts an anvil process instead (same chain id, same unlocked dev accounts, stopped by `close`).
 */
export interface TestChain {
  evm: TestEvm;
  httpUrl: string;
  wsUrl: string;
  port: number;
  chainId: number;
  emitter: Address;
  emitterAbi: Abi;
  /** Unlocked Hardhat account that deploys, funds and emits. */
  deployer: Address;
  publicClient: ReturnType<typeof createPublicClient>;
  testClient: ReturnType<typeof createTestClient>;
  walletClient: ReturnType<typeof createWalletClient>;
  /** Calls an EventEmitter function from the deployer and returns the mined block number. */
  emit(functionName: string, args: readonly unknown[]): Promise<bigint>;
  mine(blocks: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestChain(evm: TestEvm = "hardhat"): Promise<TestChain> {
  const node = evm === "anvil" ? await startAnvil() : await startHardhatServer();
  try {
    return await connect(evm, node);
  } catch (error) {
    await node.stop();
    throw error;
  }
}

async function startHardhatServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = await network.createServer("default", "127.0.0.1", 0);
  const { port } = await server.listen();
  return { port, stop: () => server.close() };
}

async function connect(evm: TestEvm, node: { port: number; stop(): Promise<void> }): Promise<TestChain> {
  const { port } = node;
  const httpUrl = `http://127.0.0.1:${port}`;
  const transport = http(httpUrl);
  const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 50, cacheTime: 0 });
  const testClient = createTestClient({ chain: hardhat, transport, mode: evm });
  const [deployer] = await createWalletClient({ chain: hardhat, transport }).getAddresses();
  const walletClient = createWalletClient({ chain: hardhat, transport, account: deployer! });
  const artifact = await artifacts.readArtifact("EventEmitter");
  const deployHash = await walletClient.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, account: deployer!, chain: hardhat });
  const emitter = (await publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress!;
  const emitterAbi = artifact.abi as Abi;
  return {
    evm,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    chainId: await publicClient.getChainId(),
    emitter,
    emitterAbi,
    deployer: deployer!,
    publicClient,
    testClient,
    walletClient,
    async emit(functionName, args) {
      const hash = await walletClient.writeContract({ address: emitter, abi: emitterAbi, functionName, args, account: deployer!, chain: hardhat });
      return (await publicClient.waitForTransactionReceipt({ hash })).blockNumber;
    },
    mine: (blocks) => testClient.mine({ blocks }),
    close: () => node.stop(),
  };
}
