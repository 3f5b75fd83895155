import type { Command } from "commander";
import { configWarnings, loadConfig } from "../../config/load.ts";
import type { PoqConfig } from "../../config/schema.ts";
import type { Logger } from "../../observe/logger.ts";
import { keystoreAddress } from "../../keys/keystore.ts";
import { parseValidatorSteps, VALIDATOR_STEPS, type ValidatorStep } from "../../roles/validator/steps.ts";
import { CliExit, type CliIo } from "../io.ts";

/** Errors an operator fixes at start (wrong manifest, unregistered evaluator, wrong chain): message only, exit 1. */
const START_ERRORS = new Set(["EvaluatorNotRegisteredError", "InvalidManifestError", "WrongChainError", "WorkerTimingError", "CorruptStateError"]);

/** How long SIGTERM/SIGINT may take to drain active jobs before the process exits anyway (code 1). */
const SHUTDOWN_GRACE_MS = 30_000;

const ROLE_DESCRIPTIONS = {
  validator: "Score answers, commit and reveal scores, claim rewards",
  provider: "Answer tasks with an OpenAI-compatible endpoint",
  relayer: "Batch validators' EIP-712 signed commits and reveals into commitBySig/revealBySig transactions (pays their gas)",
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
          throw new CliExit(1, (error as Error).message);
        }
        for (const warning of configWarnings(config)) io.err(`warning: ${warning}`);
        // Loaded here so that `poq --help` and other commands do not pay for viem, BullMQ and onnxruntime.
        const { installShutdownHandlers } = await import("../../runtime/shutdown.ts");
        const { createLogger } = await import("../../observe/logger.ts");
        const logger = createLogger({ level: config.observe.logLevel });
        if (steps?.length === 1 && steps[0] === "score") {
          await runScoreWorker(config, logger, io);
          return;
        }
        const { createDaemonContext } = await import("../../runtime/context.ts");
        const ctx = await createDaemonContext({ config, dev: global.dev, logger });
        let running;
        try {
          running = role === "validator"
            ? await (await import("../../roles/validator/validator-role.ts")).startValidatorRole(ctx, { steps })
            : role === "provider"
              ? await (await import("../../roles/provider/provider-role.ts")).startProviderRole(ctx)
              : await (await import("../../roles/relayer/relayer-role.ts")).startRelayerRole(ctx);
        } catch (error) {
          await ctx.close();
          if (error instanceof Error && START_ERRORS.has(error.name)) throw new CliExit(1, error.message);
          throw error;
        }
        const stopped = running;
        installShutdownHandlers({
          logger,
          graceMs: SHUTDOWN_GRACE_MS,
          stop: async () => {
            await stopped.stop();
            await ctx.close();
          },
        });
        io.err(`${role} running as ${ctx.account.address}; health and metrics at ${ctx.health.url} (SIGTERM or Ctrl-C to stop)`);
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
  let worker;
  try {
    worker = await startScoreWorker({ config, account, logger });
  } catch (error) {
    if (error instanceof Error && START_ERRORS.has(error.name)) throw new CliExit(1, error.message);
    throw error;
  }
  const running = worker;
  installShutdownHandlers({ logger, graceMs: SHUTDOWN_GRACE_MS, stop: () => running.stop() });
  io.err(`score worker for ${account} running (no key loaded); health and metrics at ${worker.health.url} (SIGTERM or Ctrl-C to stop)`);
  return new Promise<never>(() => {});
}
