import type { Address } from "viem";
import type { PoqConfig } from "../../config/schema.ts";
import { ConfigError } from "../../config/load.ts";
import { assertChainId, createChainClient } from "../../chain/client.ts";
import { rpcHealthCheck } from "../../chain/health.ts";
import type { Evaluator } from "../../evaluation/evaluator.ts";
import type { Logger } from "../../observe/logger.ts";
import { createMetrics } from "../../observe/metrics.ts";
import { startHealthServer, type HealthServer } from "../../observe/health-server.ts";
import { createRedisConnection, pingRedis } from "../../queue/connection.ts";
import { queuePrefixFor } from "../../queue/names.ts";
import { closeStepQueues, createStepQueues } from "../../queue/queues.ts";
import { createStepWorker } from "../../queue/worker.ts";
import type { RunningRole } from "../role.ts";
import { openMarket } from "../market.ts";
import { EvaluatorNotRegisteredError } from "./errors.ts";
import { scoreStep, type ScoreDeps } from "./score-step.ts";
import { loadCheckedEvaluator } from "./validator-role.ts";

export interface StartScoreWorkerParameters {
  config: PoqConfig;
  /** The validator account whose score queue this worker consumes (read from its keystore: no password). */
  account: Address;
  logger: Logger;
  /** Replaces the evaluator loaded from roles.validator.evaluatorDir (the caller closes it). */
  evaluator?: Evaluator;
}

export interface RunningScoreWorker extends RunningRole {
  health: HealthServer;
}

/**
 * A score-only worker (`poq validator start --steps score`): consumes one validator account's score queue next
 * to (or on another machine than) the process that runs the other steps, which is how an operator scales
 * scoring. It holds no key and no salt store: it reads the chain, scores, and enqueues the commit job; the main
 * process signs and saves the salt. Needs the evaluator files, Redis and read-only RPC; serves /health, /metrics.
 */
export async function startScoreWorker(p: StartScoreWorkerParameters): Promise<RunningScoreWorker> {
  const { config, logger } = p;
  if (config.roles.validator === undefined) throw new ConfigError("Invalid configuration", ["roles.validator: not set, cannot start score workers"]);
  const metrics = createMetrics();
  const chain = createChainClient({ chainId: config.chain.chainId, rpcUrls: config.chain.rpcUrls, logger, metrics });
  const producer = createRedisConnection(config.redis.url, "producer", logger);
  const workerConnection = createRedisConnection(config.redis.url, "worker", logger);
  const prefix = queuePrefixFor(p.account);
  const queues = createStepQueues(producer, { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs }, logger, prefix);
  const closeInfra = async () => {
    await closeStepQueues(queues);
    producer.disconnect();
    workerConnection.disconnect();
    await chain.close();
  };
  let evaluator: Evaluator;
  let health: HealthServer;
  let deps: ScoreDeps;
  try {
    await assertChainId(chain.client, config.chain.chainId);
    const market = openMarket({ config, chain });
    evaluator = await loadCheckedEvaluator(market, config.roles.validator.evaluatorDir, p.evaluator);
    health = await startHealthServer({
      registry: metrics.registry,
      host: config.observe.host,
      port: config.observe.port,
      checks: {
        rpc: rpcHealthCheck(chain.client, config.chain.chainId),
        redis: () => pingRedis(producer),
        evaluator: async () => {
          if (!(await market.evaluatorActive(evaluator.id))) throw new EvaluatorNotRegisteredError(evaluator.id);
        },
      },
    });
    deps = { ctx: { config, chain, metrics, queues }, market, evaluator, log: logger.child({ role: "validator", steps: ["score"] }), me: p.account };
  } catch (error) {
    await closeInfra();
    throw error;
  }
  const worker = createStepWorker({
    step: "score",
    connection: workerConnection,
    handler: (job) => scoreStep(deps, job),
    timing: { lockDurationMs: config.queue.lockDurationMs, stalledIntervalMs: config.queue.stalledIntervalMs, maxStalledCount: config.queue.maxStalledCount },
    concurrency: config.queue.concurrency,
    logger,
    metrics,
    prefix,
  });
  deps.log.info({ account: p.account, evaluator: evaluator.name, health: health.url }, "score worker started");
  return {
    name: "validator-score-worker",
    health,
    async stop() {
      await worker.close();
      if (p.evaluator === undefined) await evaluator.close();
      await health.close();
      await closeInfra();
      deps.log.info("score worker stopped");
    },
  };
}
