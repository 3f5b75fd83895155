import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createWalletClient, http, parseEther, type Address, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import type { TestChain } from "./chain.ts";
import { loadConfig } from "../../daemon/config/load.ts";
import type { PoqConfigInput } from "../../daemon/config/schema.ts";
import { createKeystore, importPrivateKey } from "../../daemon/keys/keystore.ts";
import { createLogger, type LogLevel } from "../../daemon/observe/logger.ts";
import { createDaemonContext, type DaemonContext } from "../../daemon/runtime/context.ts";
import { getProtocolContracts, Role, type SigningWalletClient } from "../../sdk/contracts.ts";
import { deployProtocol } from "../../sdk/deploy.ts";
import { writeDeploymentManifest, type DeploymentManifest, type MarketParams } from "../../sdk/deployment.ts";
import { modelId } from "../../sdk/model-id.ts";

/** Test log level: silent unless POQ_TEST_LOG names a level (e.g. POQ_TEST_LOG=info to debug a failing run). */
export const testLogger = () => createLogger({ level: (process.env.POQ_TEST_LOG as LogLevel | undefined) ?? "silent" });

export const STAKE = parseEther("1000");
export const FEE = parseEther("10");

/** Mines a block every `intervalMs` (commit/reveal windows are in blocks; automine alone only mines on transactions). */
export function startBlockProducer(chain: TestChain, intervalMs = 150): () => void {
  const timer = setInterval(() => void chain.mine(1).catch(() => {}), intervalMs);
  return () => clearInterval(timer);
}

export interface TestProtocol {
  manifest: DeploymentManifest;
  /** The manifest JSON on disk (what config.deployment points at). */
  manifestPath: string;
  dir: string;
}

/** Deploys the whole protocol on the test chain with the deployer account and writes its manifest to a temp folder. */
export async function deployTestProtocol(chain: TestChain, options: { params?: Partial<MarketParams>; evaluatorIds?: Hex[] } = {}): Promise<TestProtocol> {
  const manifest = await deployProtocol({
    publicClient: chain.publicClient as PublicClient,
    walletClient: chain.walletClient,
    params: options.params,
    evaluators: (options.evaluatorIds ?? []).map((id) => ({ id, uri: "test://evaluator" })),
  });
  const dir = mkdtempSync(path.join(tmpdir(), "poq-protocol-"));
  const manifestPath = path.join(dir, "deployment.json");
  writeDeploymentManifest(manifestPath, manifest);
  return { manifest, manifestPath, dir };
}

export interface TestAccount {
  privateKey: Hex;
  address: Address;
}

/** A fresh account with 10 ETH for gas, optionally staked as validator or provider (serving `models` by name). */
export async function createTestAccount(chain: TestChain, protocol?: TestProtocol, stake?: { role: "validator" | "provider"; models?: string[] }): Promise<TestAccount> {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const funding = await chain.walletClient.sendTransaction({ to: account.address, value: parseEther("10"), account: chain.deployer, chain: hardhat });
  await chain.publicClient.waitForTransactionReceipt({ hash: funding });
  if (protocol !== undefined && stake !== undefined) {
    const wallet = createWalletClient({ chain: hardhat, transport: http(chain.httpUrl), account });
    const c = getProtocolContracts(protocol.manifest, { public: chain.publicClient as PublicClient, wallet: wallet as SigningWalletClient });
    const wait = async (hash: Hex) => {
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`setup transaction ${hash} reverted`);
    };
    await wait(await c.token.write.mint([account.address, STAKE]));
    await wait(await c.token.write.approve([protocol.manifest.contracts.stakeRegistry, STAKE]));
    await wait(await c.stakeRegistry.write.stake([stake.role === "validator" ? Role.Validator : Role.Provider, STAKE]));
    for (const name of stake.models ?? []) await wait(await c.stakeRegistry.write.registerModel([modelId(name)]));
    // A test validator runs every evaluator of the deployment (committees are drawn per evaluator).
    if (stake.role === "validator") {
      for (const e of protocol.manifest.evaluators) await wait(await c.stakeRegistry.write.registerEvaluator([e.id as Hex]));
    }
  }
  return { privateKey, address: account.address };
}

/** Creates a task from the deployer (minting and approving its fee) and returns its id; `{ hex }` gives raw prompt bytes. */
export async function createTestTask(chain: TestChain, protocol: TestProtocol, model: string, evaluatorId: Hex, prompt: string | { hex: Hex }, fee = FEE): Promise<bigint> {
  const c = getProtocolContracts(protocol.manifest, { public: chain.publicClient as PublicClient, wallet: chain.walletClient as SigningWalletClient });
  const wait = (hash: Hex) => chain.publicClient.waitForTransactionReceipt({ hash });
  await wait(await c.token.write.mint([chain.deployer, fee]));
  await wait(await c.token.write.approve([protocol.manifest.contracts.taskMarket, fee]));
  await wait(await c.taskMarket.write.createTask([modelId(model), evaluatorId, fee, typeof prompt === "string" ? `0x${Buffer.from(prompt, "utf8").toString("hex")}` : prompt.hex]));
  return c.taskMarket.read.taskCount();
}

export interface DaemonFixtureOptions {
  chain: TestChain;
  redisUrl: string;
  /** Roles section and any other overrides of the generated config. */
  config: Partial<PoqConfigInput> & Pick<PoqConfigInput, "roles">;
  rpcUrls?: string[];
  /** The daemon's key (e.g. a staked test account), written into its keystore; a random key when omitted. */
  privateKey?: Hex;
  /** Native currency sent from the deployer to the daemon's account for gas. */
  fundWei?: bigint;
}

/**
 * The config file of a test daemon in its own temp folder: an encrypted keystore (fast scrypt) with its
 * password file, state folder, the chain and Redis of the test, metrics on a free port, short queue timings.
 */
export async function writeDaemonConfig(o: DaemonFixtureOptions): Promise<{ dir: string; configPath: string; address: Address }> {
  const dir = mkdtempSync(path.join(tmpdir(), "poq-daemon-"));
  const keystore = { dir: path.join(dir, "keys"), password: "test password", scryptN: 2 ** 10 };
  const { file: keystorePath, address } = o.privateKey === undefined ? await createKeystore(keystore) : await importPrivateKey({ ...keystore, privateKey: o.privateKey });
  writeFileSync(path.join(dir, "pw"), "test password\n", { mode: 0o600 });
  const config: PoqConfigInput = {
    chain: { chainId: o.chain.chainId, rpcUrls: o.rpcUrls ?? [o.chain.httpUrl], confirmations: 1, pollIntervalMs: 100 },
    redis: { url: o.redisUrl },
    keys: { keystorePath, passwordFile: "pw" },
    stateDir: "state",
    observe: { port: 0 },
    queue: { lockDurationMs: 2_000, stalledIntervalMs: 2_000, backoffMs: 100, attempts: 10 },
    // A transaction lost to a reorg is replaced (same nonce, higher fee) after 3 s instead of a minute; a stop
    // waits at most 3 s for sends to be confirmed (tests stop the block producer before some roles).
    sender: { stuckAfterMs: 3_000, drainMs: 3_000 },
    ...o.config,
  };
  const configPath = path.join(dir, "poq.json");
  writeFileSync(configPath, JSON.stringify(config));
  if (o.fundWei !== undefined) {
    const hash = await o.chain.walletClient.sendTransaction({ to: address, value: o.fundWei, account: o.chain.deployer, chain: hardhat });
    await o.chain.publicClient.waitForTransactionReceipt({ hash });
  }
  return { dir, configPath, address };
}

/** A daemon context for `config` (keystore unlocked from its file, or `devKey` through POQ_DEV_PRIVATE_KEY). */
export async function startTestContext(configPath: string, devKey?: Hex): Promise<DaemonContext> {
  return createDaemonContext({
    config: loadConfig({ file: configPath, env: {} }),
    dev: devKey !== undefined,
    env: devKey === undefined ? {} : { POQ_DEV_PRIVATE_KEY: devKey },
    logger: testLogger(),
    sender: { receiptPollMs: 50 },
    gaugeIntervalMs: 500,
  });
}
