import type { Command } from "commander";
import { configWarnings, loadConfig } from "../../config/load.ts";
import type { PoqConfig } from "../../config/schema.ts";
import type { Logger } from "../../observe/logger.ts";
import { keystoreAddress } from "../../keys/keystore.ts";
import { parseValidatorSteps, VALIDATOR_STEPS, type ValidatorStep } from "../../roles/validator/steps.ts";
import { CliExit, type CliIo } from "../io.ts";

/** How long SIGTERM/SIGINT may take to drain active jobs before the process exits anyway (code 1). */
const SHUTDOWN_GRACE_MS = 30_000;

const ROLE_DESCRIPTIONS = {
  validator: "Score answers, commit and reveal scores, claim rewards",
  provider: "Answer tasks with an OpenAI-compatible endpoint",
  relayer: "Send each committee's EIP-712 signed commits in one transaction, its reveals and the finalize in another (pays their gas)",
} as const;

export function registerRoleCommands(program: Command, io: CliIo): void {
  for (const role of ["validator", "provider", "relayer"] as const) {
    const start = program
      .command(role)
      .description(ROLE_DESCRIPTIONS[role])
      .command("start")
      .description(`Run the ${role} role until stopped (SIGTERM/SIGINT drain active jobs first; a second signal exits at once)`);
    if (role === "validator") {
      start.option("--steps <list>", `comma-separated steps this process runs (${VALIDATOR_STEPS.join(",")}); "score" alone runs a keyless score worker (see Scaling scoring in docs/OPERATOR.md)`, VALIDATOR_STEPS.join(","));
    }
    start.action(async (options: { steps?: string }) => {
        const global = program.opts<{ config?: string; dev?: boolean }>();
        const config = loadConfig({ file: global.config });
        if (config.roles[role] === undefined) throw new CliExit(1, `the config does not enable roles.${role}`);
        if (config.deployment === undefined) throw new CliExit(1, "the config has no deployment (path to the deployment manifest; or POQ_DEPLOYMENT)");
        let steps: ValidatorStep[] | undefined;
        try {
          steps = options.steps === undefined ? undefined : parseValidatorSteps(options.steps);
        } catch (error) {
          throw new CliExit(64, (error as Error).message);
        }
        for (const warning of configWarnings(config)) io.err(`warning: ${warning}`);
        // Loaded here so that `poq --help` and other commands do not pay for viem, BullMQ and onnxruntime.
        const { installShutdownHandlers } = await import("../../runtime/shutdown.ts");
        const { createLogger } = await import("../../observe/logger.ts");
        const logger = createLogger({ level: config.observe.logLevel });
        // Checked before anything starts: BullMQ workers would otherwise wait for a down Redis forever, silently.
        await assertRedisAnswers(config.redis.url);
        if (role === "validator") await (await import("../preflight.ts")).checkEvaluator(config);
        if (steps?.length === 1 && steps[0] === "score") {
          await runScoreWorker(config, logger, io);
          return;
        }
        const { createDaemonContext } = await import("../../runtime/context.ts");
        const ctx = await createDaemonContext({ config, dev: global.dev, logger });
        const running: { name: string; stop(): Promise<void> }[] = [];
        const stopAll = async () => {
          for (const r of running.reverse()) await r.stop();
        };
        const startRelayer = async () => (await import("../../roles/relayer/relayer-role.ts")).startRelayerRole(ctx);
        try {
          running.push(role === "validator"
            ? await (await import("../../roles/validator/validator-role.ts")).startValidatorRole(ctx, { steps })
            : role === "provider"
              ? await (await import("../../roles/provider/provider-role.ts")).startProviderRole(ctx)
              : await startRelayer());
          // A provider's or validator's config with roles.relayer also relays, in the same process: one key, one
          // sender, so the relayer's transactions and the role's own never compete for a nonce.
          if (role !== "relayer" && config.roles.relayer !== undefined) {
            const relayer = await startRelayer();
            running.push(relayer);
            io.err(`relayer endpoint at ${relayer.url} (validators' relayerUrl)`);
          }
        } catch (error) {
          await stopAll().catch(() => {});
          await ctx.close();
          throw error; // runCli prints an operator's mistake (unregistered evaluator, corrupt state) on one line
        }
        installShutdownHandlers({
          logger,
          graceMs: SHUTDOWN_GRACE_MS,
          stop: async () => {
            await stopAll();
            await ctx.close();
          },
        });
        io.err(`${role} running as ${ctx.account.address}; health and metrics at ${ctx.health.url} (SIGTERM or Ctrl-C to stop)`);
        if (role === "validator") await reportStanding(ctx, io);
        if (role === "provider") await reportProviderProblems(ctx, io);
        // Runs until a signal: the shutdown handler drains and exits the process.
        await new Promise<never>(() => {});
      });
  }
}

/** `--steps score`: a keyless score worker for the validator whose keystore the config names (address only). */
async function runScoreWorker(config: PoqConfig, logger: Logger, io: CliIo): Promise<never> {
  const account = keystoreAddress(config.keys.keystorePath);
  if (account === undefined) throw new CliExit(1, `keys.keystorePath ${config.keys.keystorePath} is not a keystore: a score worker reads the validator's address from it (no password needed)`);
  const { startScoreWorker } = await import("../../roles/validator/score-worker.ts");
  const { installShutdownHandlers } = await import("../../runtime/shutdown.ts");
  const worker = await startScoreWorker({ config, account, logger });
  const running = worker;
  installShutdownHandlers({ logger, graceMs: SHUTDOWN_GRACE_MS, stop: () => running.stop() });
  io.err(`score worker for ${account} running (no key loaded); health and metrics at ${worker.health.url} (SIGTERM or Ctrl-C to stop)`);
  return new Promise<never>(() => {});
}

/** Fails with one line when Redis does not answer a PING within a few seconds. */
async function assertRedisAnswers(url: string): Promise<void> {
  const { createRedisConnection, pingRedis } = await import("../../queue/connection.ts");
  const { redactUrl } = await import("./status.ts");
  const redis = createRedisConnection(url, "producer");
  try {
    await Promise.race([
      pingRedis(redis),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 5 s")), 5_000).unref()),
    ]);
  } catch (error) {
    throw new CliExit(1, `Redis at ${redactUrl(url)} does not answer (${(error as Error).message.split("\n")[0]}): start redis-server or fix redis.url`);
  } finally {
    redis.disconnect();
  }
}

/** Says how likely this validator is to be drawn, and warns when it never or hardly ever will be. */
async function reportStanding(ctx: import("../../runtime/context.ts").DaemonContext, io: CliIo): Promise<void> {
  const { validatorStanding, describeStanding, checkEvaluator } = await import("../preflight.ts");
  const { readDeploymentManifest } = await import("../../../sdk/deployment.ts");
  const manifest = readDeploymentManifest(ctx.config.deployment!);
  try {
    const { id } = await checkEvaluator(ctx.config);
    const standing = await validatorStanding(ctx.chain.client, manifest, ctx.account.address, id);
    const { line, warn } = describeStanding(standing, manifest.token, ctx.account.address);
    io.err(warn ? `warning: ${line}` : line);
  } catch (error) {
    io.err(`warning: could not read this validator's stake: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** Warns when this provider cannot be assigned anything: no stake, or configured models it never registered. */
async function reportProviderProblems(ctx: import("../../runtime/context.ts").DaemonContext, io: CliIo): Promise<void> {
  const { providerProblems } = await import("../preflight.ts");
  const { readDeploymentManifest } = await import("../../../sdk/deployment.ts");
  const models = Object.keys(ctx.config.roles.provider?.models ?? {});
  try {
    for (const problem of await providerProblems(ctx.chain.client, readDeploymentManifest(ctx.config.deployment!), ctx.account.address, models)) io.err(`warning: ${problem}`);
  } catch (error) {
    io.err(`warning: could not read this provider's stake: ${(error as Error).message.split("\n")[0]}`);
  }
}
