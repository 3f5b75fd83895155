import type { Command } from "commander";
import { loadConfig, configWarnings } from "../../config/load.ts";
import { keystoreAddress } from "../../keys/keystore.ts";
import { queuePrefixFor } from "../../queue/names.ts";
import { CliExit, type CliIo } from "../io.ts";
import { visibleText } from "../visible-text.ts";

/** Shows scheme, host and port only: RPC URLs often carry an API key in their path or query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 || u.search !== "" ? "/…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

/** The queue prefix of the daemon whose keystore this is, or undefined when the file is missing or not a keystore. */
function daemonQueuePrefix(keystorePath: string): string | undefined {
  try {
    const address = keystoreAddress(keystorePath);
    return address === undefined ? undefined : queuePrefixFor(address);
  } catch {
    return undefined;
  }
}

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

export function registerStatusCommand(program: Command, io: CliIo): void {
  program
    .command("status")
    .description("Print the effective config, each RPC endpoint's chain head, Redis reachability and failed jobs; exit 1 if anything is down")
    .action(async () => {
      const config = loadConfig({ file: program.opts<{ config?: string }>().config });
      // Failed-job reasons and RPC error text can carry chain- or server-sourced text: every line is made visible.
      const say = (line: string) => io.out(visibleText(line));
      // Loaded here, not at the top, so that other commands do not pay for viem and BullMQ at start.
      const { createChainClient } = await import("../../chain/client.ts");
      const { createRedisConnection, pingRedis } = await import("../../queue/connection.ts");
      const { createStepQueues, closeStepQueues } = await import("../../queue/queues.ts");
      const { listFailedJobs } = await import("../../queue/failed-jobs.ts");
      const roles = Object.keys(config.roles).filter((r) => config.roles[r as keyof typeof config.roles] !== undefined);
      say(`chain id      ${config.chain.chainId}`);
      say(`roles         ${roles.join(", ")}`);
      say(`state dir     ${config.stateDir}`);
      say(`keystore      ${config.keys.keystorePath}`);
      say(`confirmations ${config.chain.confirmations} (finality depth ${config.chain.finalityDepth})`);
      for (const warning of configWarnings(config)) say(`warning       ${warning}`);
      let healthy = true;
      if (config.deployment === undefined) say("deployment    (none configured)");
      else {
        try {
          const manifest = (await import("../../../sdk/deployment.ts")).readDeploymentManifest(config.deployment);
          const ok = manifest.chainId === config.chain.chainId;
          healthy &&= ok;
          say(`deployment    ${config.deployment}: TaskMarket ${manifest.contracts.taskMarket}${ok ? "" : ` WRONG CHAIN: the manifest is for chain ${manifest.chainId}`}`);
        } catch (error) {
          healthy = false;
          say(`deployment    ${config.deployment} INVALID: ${(error as Error).message.split("\n")[0]}`);
        }
      }
      for (const url of config.chain.rpcUrls) {
        const { client, close } = createChainClient({ chainId: config.chain.chainId, rpcUrls: [url], requestTimeoutMs: 5_000 });
        try {
          const [chainId, head] = await withTimeout(Promise.all([client.getChainId(), client.getBlockNumber()]), 6_000);
          const ok = chainId === config.chain.chainId;
          healthy &&= ok;
          say(`rpc           ${redactUrl(url)} head ${head}${ok ? "" : ` WRONG CHAIN ${chainId}`}`);
        } catch (error) {
          healthy = false;
          say(`rpc           ${redactUrl(url)} DOWN: ${(error as Error).message.split("\n")[0]}`);
        } finally {
          await close();
        }
      }
      const redis = createRedisConnection(config.redis.url, "producer");
      try {
        await withTimeout(pingRedis(redis), 5_000);
        const prefix = daemonQueuePrefix(config.keys.keystorePath);
        if (prefix === undefined) {
          say(`redis         ${redactUrl(config.redis.url)} ok (failed jobs unknown: cannot read the keystore's address)`);
        } else {
          // The daemon's queues live under a prefix derived from its address (several daemons share one Redis).
          const queues = createStepQueues(redis, { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs }, undefined, prefix);
          const failed = await listFailedJobs(queues, 20);
          await closeStepQueues(queues);
          say(`redis         ${redactUrl(config.redis.url)} ok, queues ${prefix}, ${failed.length} failed job(s)`);
          for (const job of failed) say(`  failed      ${job.queue} ${job.jobId} task ${job.taskId}: ${job.reason}`);
        }
      } catch (error) {
        healthy = false;
        say(`redis         ${redactUrl(config.redis.url)} DOWN: ${(error as Error).message.split("\n")[0]}`);
      } finally {
        redis.disconnect();
      }
      if (!healthy) throw new CliExit(1, "some dependencies are down");
    });
}
