import type { Redis } from "ioredis";
import type { PrivateKeyAccount } from "viem/accounts";
import type { PoqConfig } from "../config/schema.ts";
import { configWarnings } from "../config/load.ts";
import { createChainClient, assertChainId, type ChainClient } from "../chain/client.ts";
import { retryWithBackoff } from "../chain/backoff.ts";
import { rpcHealthCheck } from "../chain/health.ts";
import { createTransactionSender, type TransactionSender } from "../chain/sender.ts";
import { createHeadFollower, type HeadFollower } from "../chain/heads.ts";
import { loadSigner } from "../keys/signer.ts";
import { createLogger, type Logger } from "../observe/logger.ts";
import { createMetrics, type DaemonMetrics } from "../observe/metrics.ts";
import { startHealthServer, type HealthCheck, type HealthServer } from "../observe/health-server.ts";
import { createRedisConnection, pingRedis } from "../queue/connection.ts";
import { closeStepQueues, createStepQueues, type StepQueues } from "../queue/queues.ts";
import { queuePrefixFor } from "../queue/names.ts";
import { updateQueueDepth } from "../queue/failed-jobs.ts";
import type { WorkerTiming } from "../queue/timing.ts";
import { CursorStore } from "../store/cursor-store.ts";
import { EquivocationGuard } from "../store/equivocation-guard.ts";
import { NonceJournal } from "../store/nonce-journal.ts";
import { SaltStore } from "../store/salt-store.ts";

/** Everything a role needs, built once from the config: the one logger, client, sender, queues and stores. */
export interface DaemonContext {
  config: PoqConfig;
  logger: Logger;
  metrics: DaemonMetrics;
  chain: ChainClient;
  /** The chain head, followed once per daemon (WebSocket newHeads or polling): steps that wait for a phase start here. */
  heads: HeadFollower;
  account: PrivateKeyAccount;
  sender: TransactionSender;
  queues: StepQueues;
  /** BullMQ key prefix of this account's queues (workers must use the same one). */
  queuePrefix: string;
  workerTiming: WorkerTiming;
  /** A new Redis connection for one BullMQ worker (workers block on theirs, so each needs its own). */
  workerConnection(): Redis;
  salts: SaltStore;
  equivocation: EquivocationGuard;
  cursors: CursorStore;
  health: HealthServer;
  /** Stops timers, the health server, Redis and RPC connections; roles close their workers first. Idempotent. */
  close(): Promise<void>;
}

export interface CreateDaemonContextParameters {
  config: PoqConfig;
  /** `--dev`: allows POQ_DEV_PRIVATE_KEY (with a loud warning). */
  dev?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Extra readiness checks, e.g. { evaluator } from the validator role. */
  checks?: Record<string, HealthCheck>;
  /** Sender tuning (tests shorten these). */
  sender?: { stuckAfterMs?: number; receiptPollMs?: number };
  /** How often balances and queue depths are refreshed for /metrics. */
  gaugeIntervalMs?: number;
  logger?: Logger;
}

/**
 * Builds the daemon's shared infrastructure in a safe order: check the chain id, unlock the key, re-broadcast
 * journaled transactions (sender.recover) before anything new is sent, connect Redis, then serve /health and
 * /metrics. Roles add their watchers and workers on top.
 */
export async function createDaemonContext(p: CreateDaemonContextParameters): Promise<DaemonContext> {
  const { config } = p;
  const logger = p.logger ?? createLogger({ level: config.observe.logLevel });
  for (const warning of configWarnings(config)) logger.warn({ warning }, "config warning");
  const metrics = createMetrics();
  const chain = createChainClient({ chainId: config.chain.chainId, rpcUrls: config.chain.rpcUrls, logger, metrics });
  // Everything opened from here on, in order: a failed start closes what it had opened (it must leave no head
  // follower polling and no connection open, or the process would never exit), and close() closes all of it.
  const opened: (() => unknown)[] = [() => chain.close()];
  let closing: Promise<void> | undefined;
  try {
    await chain.connect();
    await retryWithBackoff(() => assertChainId(chain.client, config.chain.chainId), {
      attempts: 6,
      baseMs: 500,
      maxMs: 10_000,
      isRetryable: (e) => (e as Error).name !== "WrongChainError",
      onRetry: (e, attempt, delayMs) => logger.warn({ err: e, attempt, delayMs }, "RPC not reachable at start; retrying"),
    });
    const account = await loadSigner({ keystorePath: config.keys.keystorePath, passwordFile: config.keys.passwordFile, dev: p.dev, env: p.env, logger });
    const heads = createHeadFollower({ client: chain.client, subscribe: chain.subscribes, pollIntervalMs: config.chain.pollIntervalMs, quietPeriodMs: config.chain.quietPeriodMs, logger });
    opened.push(() => heads.stop());
    const sender = createTransactionSender({
      client: chain.client, account, chainId: config.chain.chainId, journal: new NonceJournal(config.stateDir, account.address),
      // A step counts as done only once its receipt is as deep as the watcher's confirmations (reorg safety).
      // Receipts and confirmations are looked for at each new head (the poll interval is the fallback).
      logger, metrics, confirmations: config.chain.confirmations, heads,
      stuckAfterMs: config.sender.stuckAfterMs, feeBumpPercent: config.sender.feeBumpPercent, maxFeeBumps: config.sender.maxFeeBumps,
      ...p.sender,
    });
    const recovered = await sender.recover();
    if (recovered.length > 0) logger.info({ recovered }, "journaled transactions from the last run handled");
    const producer = createRedisConnection(config.redis.url, "producer", logger);
    opened.push(() => producer.disconnect());
    // One prefix per account: daemons of different accounts can share a Redis, workers of one account share queues.
    const queuePrefix = queuePrefixFor(account.address);
    const queues = createStepQueues(producer, { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs }, logger, queuePrefix);
    const workerConnections: Redis[] = [];
    opened.push(() => workerConnections.forEach((connection) => connection.disconnect()));
    opened.push(() => closeStepQueues(queues));
    const health = await startHealthServer({
      registry: metrics.registry,
      host: config.observe.host,
      port: config.observe.port,
      checks: { rpc: rpcHealthCheck(chain.client, config.chain.chainId), redis: () => pingRedis(producer), ...p.checks },
    });
    opened.push(() => health.close());
    const refreshGauges = async () => {
      try {
        const balance = await chain.client.getBalance({ address: account.address });
        metrics.balanceWei.set({ address: account.address, token: "native" }, Number(balance));
        await updateQueueDepth(queues, metrics);
      } catch (error) {
        logger.debug({ err: error }, "gauge refresh failed");
      }
    };
    await refreshGauges();
    const timer = setInterval(() => void refreshGauges(), p.gaugeIntervalMs ?? 15_000);
    timer.unref();
    opened.push(() => clearInterval(timer));
    logger.info({ address: account.address, health: health.url, chainId: config.chain.chainId }, "daemon context ready");
    return {
      config, logger, metrics, chain, heads, account, sender, queues, queuePrefix,
      workerTiming: { lockDurationMs: config.queue.lockDurationMs, stalledIntervalMs: config.queue.stalledIntervalMs, maxStalledCount: config.queue.maxStalledCount },
      workerConnection: () => {
        const connection = createRedisConnection(config.redis.url, "worker", logger);
        workerConnections.push(connection);
        return connection;
      },
      salts: new SaltStore(config.stateDir),
      equivocation: new EquivocationGuard(config.stateDir),
      cursors: new CursorStore(config.stateDir),
      health,
      // Everything opened above, last-opened first (the same list a failed start unwinds). Once: a second caller
      // (a role's shutdown and the process's, or a harness's teardown) waits for the same close.
      close() {
        closing ??= (async () => {
          for (const close of [...opened].reverse()) await close();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const close of opened.reverse()) await Promise.resolve().then(close).catch(() => {});
    throw error;
  }
}
