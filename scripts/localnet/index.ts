/**
 * A complete local Proof-of-Quality network in one call, for the demo, the benchmarks and the tests: an in-process
 * Hardhat JSON-RPC server, a private redis-server (or REDIS_URL), the protocol deployed with sdk/deploy.ts and its
 * manifest written, generated keys with encrypted keystores, and a teardown that stops everything it started.
 *
 *   const net = await startLocalnet({ params: { commitWindow: 30 }, evaluators: [{ id, uri }] });
 *   try { const alice = await net.actor("alice"); ... } finally { await net.teardown.run(); }
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { deployProtocol } from "../../sdk/deploy.ts";
import { writeDeploymentManifest, type DeploymentManifest, type MarketParams } from "../../sdk/deployment.ts";
import { createActor, stakeActor, type Actor, type StakeActorOptions } from "./actors.ts";
import { startLocalChain, type LocalChain, type LocalEvm } from "./chain.ts";
import { flushDaemonLogs, startLocalDaemonContext, type LocalDaemon, type LocalDaemonOptions } from "./daemons.ts";
import { redisForLocalnet } from "./redis.ts";
import { createTeardown, type Teardown } from "./teardown.ts";

export type { Actor } from "./actors.ts";
export type { LocalChain } from "./chain.ts";
export type { LocalDaemon } from "./daemons.ts";
export type { Teardown } from "./teardown.ts";

export interface StartLocalnetOptions {
  /** The EVM: Hardhat's in-process one (default) or anvil in its own process. */
  evm?: LocalEvm;
  params?: Partial<MarketParams>;
  evaluators?: readonly { id: Hex; uri: string }[];
  minProviderStake?: bigint;
  minValidatorStake?: bigint;
  /** Handle SIGINT/SIGTERM by tearing down (scripts yes, tests no). */
  signals?: boolean;
  /** Keep the temp folder (keystores, configs, state, logs) after teardown, for inspection. */
  keepDir?: boolean;
}

export interface Localnet {
  chain: LocalChain;
  redisUrl: string;
  manifest: DeploymentManifest;
  manifestPath: string;
  /** The run's temp folder. */
  dir: string;
  /** Every daemon's JSON log lines. */
  logFile: string;
  teardown: Teardown;
  /** A new funded participant with an encrypted keystore. */
  actor(name: string): Promise<Actor>;
  stake(actor: Actor, options: StakeActorOptions): Promise<void>;
  /** A DaemonContext for `actor` from a real config file; closed at teardown (after roles stop, see `track`). */
  daemon(actor: Actor, roles: LocalDaemonOptions["roles"], extra?: LocalDaemonOptions["extra"]): Promise<LocalDaemon>;
  /** Starts producing a block every `intervalMs` (see LocalChain.startBlockProducer); stopped at teardown. */
  startBlocks(intervalMs: number, options?: { automine?: boolean }): Promise<void>;
}

export async function startLocalnet(options: StartLocalnetOptions = {}): Promise<Localnet> {
  const teardown = createTeardown({ signals: options.signals });
  const dir = mkdtempSync(path.join(tmpdir(), "poq-localnet-"));
  if (options.keepDir !== true) teardown.defer("remove temp folder", () => rmSync(dir, { recursive: true, force: true }));
  try {
    const [chain, redis] = await Promise.all([startLocalChain(options.evm), redisForLocalnet()]);
    teardown.defer("redis", () => redis.dispose());
    teardown.defer("chain", () => chain.close());
    const manifest = await deployProtocol({
      publicClient: chain.publicClient,
      walletClient: chain.funderWallet,
      params: options.params,
      minProviderStake: options.minProviderStake,
      minValidatorStake: options.minValidatorStake,
      evaluators: options.evaluators,
    });
    const manifestPath = path.join(dir, "deployment.json");
    writeDeploymentManifest(manifestPath, manifest);
    const logFile = path.join(dir, "daemons.log");
    teardown.defer("flush daemon logs", () => flushDaemonLogs());
    let stopBlocks: (() => Promise<void>) | undefined;
    teardown.defer("block producer", () => stopBlocks?.());
    return {
      chain,
      redisUrl: redis.url,
      manifest,
      manifestPath,
      dir,
      logFile,
      teardown,
      actor: (name) => createActor(chain, dir, name),
      stake: (actor, o) => stakeActor(chain, manifest, actor, o),
      async daemon(actor, roles, extra) {
        const daemon = await startLocalDaemonContext({ chain, redisUrl: redis.url, manifestPath, dir, actor, roles, logFile, extra });
        teardown.defer(`context ${actor.name}`, () => daemon.ctx.close());
        return daemon;
      },
      async startBlocks(intervalMs, blockOptions) {
        await stopBlocks?.();
        stopBlocks = await chain.startBlockProducer(intervalMs, blockOptions);
      },
    };
  } catch (error) {
    await teardown.run();
    throw error;
  }
}
