// A test network for the roles tests: chain + Redis + fake chat server, the protocol deployed with the generated
// tiny int8 cross-encoder registered, and daemons (each its own context, keystore and state folder) started on it.
import type { Hex, PublicClient } from "viem";
import { startTestChain, type TestChain, type TestEvm } from "../../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../../helpers/redis.ts";
import { startFakeChatServer, type FakeChatServer } from "../../../helpers/openai-server.ts";
import { createTestAccount, createTestTask, deployTestProtocol, startBlockProducer, startTestContext, writeDaemonConfig, type TestAccount, type TestProtocol } from "../../../helpers/daemon.ts";
import { ensureGeneratedModel } from "../../../../scripts/models/generated-models.ts";
import { loadManifest, manifestId } from "../../../../daemon/evaluation/manifest.ts";
import type { PoqConfigInput } from "../../../../daemon/config/schema.ts";
import type { DaemonContext } from "../../../../daemon/runtime/context.ts";
import type { RunningRole } from "../../../../daemon/roles/role.ts";
import { startValidatorRole } from "../../../../daemon/roles/validator/validator-role.ts";
import { startProviderRole } from "../../../../daemon/roles/provider/provider-role.ts";
import { startRelayerRole, type RunningRelayer } from "../../../../daemon/roles/relayer/relayer-role.ts";
import { getProtocolContracts } from "../../../../sdk/contracts.ts";
import type { MarketParams } from "../../../../sdk/deployment.ts";

export const MODEL = "test-llm";

type ValidatorInput = NonNullable<PoqConfigInput["roles"]["validator"]>;

// providerFloor 0: the generated tiny model scores at random, and the provider should earn something.
// Windows of 40 blocks at a block every 200 ms (plus one per transaction): 6-8 s.
export const TEST_PARAMS: Partial<MarketParams> = { answerWindow: 60, commitWindow: 40, revealWindow: 40, providerFloor: 0 };
// The production lock settings. A 1 s lock used to be needed for a SIGKILLed validator's commit or reveal job to
// be taken over inside these windows; a restarted validator now takes its orphaned jobs back at once
// (queue/orphans.ts), and a 1 s lock turned every event-loop pause of a loaded machine into a false stall.
export const TEST_QUEUE = { lockDurationMs: 5_000, stalledIntervalMs: 5_000, backoffMs: 100, attempts: 10 };

export interface TestDaemon {
  account: TestAccount;
  configPath: string;
  ctx: DaemonContext;
  role: RunningRole;
}

export interface TestNetwork {
  chain: TestChain;
  redis: TestRedis;
  chat: FakeChatServer;
  protocol: TestProtocol;
  evaluatorDir: string;
  evaluatorId: Hex;
  contracts: ReturnType<typeof getProtocolContracts<{ public: PublicClient }>>;
  /** Staked validator accounts not yet running (start them with startValidator or in a child process). */
  validatorAccount(): Promise<TestAccount>;
  /** Writes the config of a validator daemon for `account` (RPC URLs default to the chain's HTTP URL). */
  validatorConfig(account: TestAccount, rpcUrls?: string[], extra?: Partial<PoqConfigInput>): Promise<string>;
  /** `validator` overrides fields of roles.validator (e.g. submit through a relayer). */
  startValidator(account?: TestAccount, rpcUrls?: string[], validator?: Partial<ValidatorInput>): Promise<TestDaemon>;
  /** A relayer daemon (funded, not staked) on a free port; its role's `url` is the relay endpoint. */
  startRelayer(relayer?: Partial<NonNullable<PoqConfigInput["roles"]["relayer"]>>): Promise<TestDaemon & { role: RunningRelayer }>;
  /** A provider daemon serving MODEL with `endpoints`; pass `account` to run a new daemon for an existing provider. */
  startProvider(endpoints: { url: string; timeoutMs: number }[], rpcUrls?: string[], account?: TestAccount, extra?: Partial<PoqConfigInput>): Promise<TestDaemon>;
  createTask(prompt?: string | { hex: Hex }): Promise<bigint>;
  startBlocks(intervalMs?: number): Promise<void>;
  stopBlocks(): Promise<void>;
  close(): Promise<void>;
}

export interface TestNetworkOptions {
  /** Merged into every daemon's config (e.g. keeper settings). */
  daemon?: Partial<PoqConfigInput>;
  /** Merged into every daemon's chain settings (e.g. a small maxBlockRange). */
  chain?: Partial<PoqConfigInput["chain"]>;
  /** Daemons reach the chain over WebSocket (newHeads subscriptions instead of polling) instead of HTTP. */
  webSocket?: boolean;
  /** The EVM under the network (Hardhat's in-process one unless said). */
  evm?: TestEvm;
}

export async function startTestNetwork(params: Partial<MarketParams> = TEST_PARAMS, options: TestNetworkOptions = {}): Promise<TestNetwork> {
  const evaluatorDir = ensureGeneratedModel("generated-tiny-int8");
  const evaluatorId = manifestId(await loadManifest(evaluatorDir)) as Hex;
  // The parts start side by side. If one fails to start, or the deployment fails, the parts that did start are
  // stopped (anvil and redis-server are processes of their own, and would outlive a failed test).
  const parts = [startTestChain(options.evm), startTestRedis(), startFakeChatServer()] as const;
  const stopStarted = async () => {
    const started = await Promise.allSettled(parts);
    await Promise.all(started.map((s) => s.status === "fulfilled" && ("dispose" in s.value ? s.value.dispose() : s.value.close()).catch(() => {})));
  };
  let chain: TestChain, redis: TestRedis, chat: FakeChatServer, protocol: TestProtocol;
  try {
    [chain, redis, chat] = await Promise.all(parts);
    protocol = await deployTestProtocol(chain, { evaluatorIds: [evaluatorId], params });
  } catch (error) {
    await stopStarted();
    throw error;
  }
  const daemons: TestDaemon[] = [];
  let stopBlocks: () => Promise<void> = async () => {};
  const config = async (account: TestAccount, roles: PoqConfigInput["roles"], rpcUrls: string[] | undefined = options.webSocket === true ? [chain.wsUrl] : undefined, extra: Partial<PoqConfigInput> = {}) =>
    (await writeDaemonConfig({ chain, redisUrl: redis.url, privateKey: account.privateKey, rpcUrls, config: {
      // A token priced at one coin: every credit is worth its claim's gas, so payees claim at once (the default,
      // no price, claims once a day) and the tests see every claim.
      deployment: protocol.manifestPath, roles, queue: TEST_QUEUE, claim: { tokenPerNative: 1 }, ...options.daemon,
      ...(options.chain === undefined ? {} : { chain: { chainId: chain.chainId, rpcUrls: rpcUrls ?? [chain.httpUrl], confirmations: 1, pollIntervalMs: 100, ...options.chain } }),
      ...extra,
    } })).configPath;
  const validatorConfig = (account: TestAccount, rpcUrls?: string[], extra?: Partial<PoqConfigInput>, validator: Partial<ValidatorInput> = {}) =>
    config(account, { validator: { evaluatorDir, claimBatchMs: 0, ...validator } }, rpcUrls, extra);
  const start = async (account: TestAccount, configPath: string, run: (ctx: DaemonContext) => Promise<RunningRole>) => {
    const ctx = await startTestContext(configPath);
    const daemon = { account, configPath, ctx, role: await run(ctx) };
    daemons.push(daemon);
    return daemon;
  };
  return {
    chain, redis, chat, protocol, evaluatorDir, evaluatorId,
    contracts: getProtocolContracts(protocol.manifest, { public: chain.publicClient as PublicClient }),
    validatorAccount: () => createTestAccount(chain, protocol, { role: "validator" }),
    validatorConfig,
    async startValidator(account, rpcUrls, validator) {
      const a = account ?? (await createTestAccount(chain, protocol, { role: "validator" }));
      return start(a, await validatorConfig(a, rpcUrls, undefined, validator), (ctx) => startValidatorRole(ctx));
    },
    async startRelayer(relayer = {}) {
      const a = await createTestAccount(chain);
      const path = await config(a, { relayer: { port: 0, batchMs: 500, ...relayer } });
      return start(a, path, (ctx) => startRelayerRole(ctx)) as Promise<TestDaemon & { role: RunningRelayer }>;
    },
    async startProvider(endpoints, rpcUrls, account, extra) {
      const a = account ?? (await createTestAccount(chain, protocol, { role: "provider", models: [MODEL] }));
      const path = await config(a, { provider: { claimBatchMs: 0, models: { [MODEL]: { endpoints, attemptsPerEndpoint: 2 } } } }, rpcUrls, extra);
      return start(a, path, (ctx) => startProviderRole(ctx));
    },
    createTask: (prompt = "What is the capital of France?") => createTestTask(chain, protocol, MODEL, evaluatorId, prompt),
    // Interval mining: a transaction waits for the next block instead of mining its own (automine), so a window
    // of N blocks lasts N x intervalMs as on a real chain. Under automine every transaction shortened the windows
    // (40 blocks lasted under 4 s in a busy round), which made the roles tests miss commits on a loaded machine.
    async startBlocks(intervalMs = 200) {
      await stopBlocks();
      await chain.testClient.setAutomine(false);
      const stopProducer = startBlockProducer(chain, intervalMs);
      stopBlocks = async () => {
        stopProducer();
        stopBlocks = async () => {};
        await chain.testClient.setAutomine(true).catch(() => {});
        // Turning automine on does not mine what is already waiting in the mempool: a keeper's or a role's
        // transaction sent under interval mining would never get its receipt, and stopping that role would hang.
        await chain.mine(1).catch(() => {});
      };
    },
    stopBlocks: () => stopBlocks(),
    async close() {
      // Blocks keep coming until the roles stopped: a draining job may be waiting for its confirmation.
      const step = async (what: string, fn: () => Promise<unknown>) => {
        const t = Date.now();
        await fn().catch(() => {});
        if (process.env.POQ_TEST_LOG) console.error(`close: ${what} ${Date.now() - t} ms`);
      };
      for (const [i, d] of daemons.entries()) await step(`role ${i}`, () => d.role.stop());
      await stopBlocks();
      for (const [i, d] of daemons.entries()) await step(`ctx ${i}`, () => d.ctx.close());
      await step("chat", () => chat.close());
      await step("chain", () => chain.close());
      await step("redis", () => redis.dispose());
    },
  };
}
