import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { loadConfig } from "../../daemon/config/load.ts";
import type { PoqConfigInput } from "../../daemon/config/schema.ts";
import { createLogger, type LogLevel, type Logger } from "../../daemon/observe/logger.ts";
import { createDaemonContext, type DaemonContext } from "../../daemon/runtime/context.ts";
import type { Actor } from "./actors.ts";
import type { LocalChain } from "./chain.ts";

export interface LocalDaemonOptions {
  chain: LocalChain;
  redisUrl: string;
  manifestPath: string;
  /** The run's temp folder; the daemon gets `<dir>/daemons/<actor name>/` for its config and state. */
  dir: string;
  actor: Actor;
  roles: PoqConfigInput["roles"];
  /** Daemon log lines go to this file (the terminal is for the demo's own output). */
  logFile: string;
  logLevel?: LogLevel;
  /** Merged over the generated config (e.g. queue concurrency). */
  extra?: Partial<PoqConfigInput>;
}

export interface LocalDaemon {
  name: string;
  configPath: string;
  stateDir: string;
  ctx: DaemonContext;
  /** Base URL of its /health, /metrics and /attestations server. */
  healthUrl: string;
}

/**
 * Writes a real daemon config file for `actor` (its encrypted keystore and password file, its own state folder,
 * the local chain and Redis) and builds its DaemonContext through the same loader `poq ... start` uses.
 * Confirmations 1 and 100 ms polling: a local chain does not reorg, and the demo should feel quick.
 */
export async function startLocalDaemonContext(o: LocalDaemonOptions): Promise<LocalDaemon> {
  const home = path.join(o.dir, "daemons", o.actor.name);
  const stateDir = path.join(home, "state");
  mkdirSync(stateDir, { recursive: true });
  const config: PoqConfigInput = {
    chain: { chainId: o.chain.chainId, rpcUrls: [o.chain.rpcUrl], confirmations: 1, pollIntervalMs: 100 },
    redis: { url: o.redisUrl },
    keys: { keystorePath: o.actor.keystorePath, passwordFile: o.actor.passwordFile },
    deployment: o.manifestPath,
    stateDir,
    observe: { port: 0, logLevel: o.logLevel ?? "info" },
    queue: { backoffMs: 200, attempts: 10 },
    ...o.extra,
    roles: o.roles,
  };
  const configPath = path.join(home, "poq.json");
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const logger = daemonLogger(o.logFile, o.actor.name, o.logLevel ?? "info");
  const ctx = await createDaemonContext({ config: loadConfig({ file: configPath, env: {} }), logger, sender: { receiptPollMs: 50 }, gaugeIntervalMs: 2_000 });
  return { name: o.actor.name, configPath, stateDir, ctx, healthUrl: ctx.health.url.replace(/\/$/, "") };
}

const destinations = new Map<string, pino.DestinationStream>();

/** One append-only JSON-lines log file shared by every daemon of the run; `daemon` tells their lines apart. */
function daemonLogger(file: string, name: string, level: LogLevel): Logger {
  let destination = destinations.get(file);
  if (destination === undefined) {
    destination = pino.destination({ dest: file, sync: false, mkdir: true });
    destinations.set(file, destination);
  }
  return createLogger({ level, destination }).child({ daemon: name });
}

/** Flushes the shared log files (call at teardown, after the daemons stopped). */
export function flushDaemonLogs(): void {
  for (const destination of destinations.values()) (destination as unknown as { flushSync?: () => void }).flushSync?.();
  destinations.clear();
}
