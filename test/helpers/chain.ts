import { artifacts } from "hardhat";
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
import { onLocalNode, type LocalEvm, type LocalNode } from "../../scripts/localnet/chain.ts";

/** The EVMs the tests run on: Hardhat's in-process EDR, and anvil (Foundry's node) in its own process. */
export type TestEvm = LocalEvm;

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
  return onLocalNode(evm, (node) => connect(evm, node));
}

async function connect(evm: TestEvm, node: LocalNode): Promise<TestChain> {
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
