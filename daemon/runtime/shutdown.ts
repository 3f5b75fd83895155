import type { Logger } from "../observe/logger.ts";

export interface InstallShutdownParameters {
  /** Drains and closes everything (workers first, so active jobs finish, then the context). */
  stop: () => Promise<void>;
  logger: Logger;
  /** After this long the process exits anyway with code 1 (a hung RPC must not block a restart forever). */
  graceMs?: number;
  signals?: NodeJS.Signals[];
}

/**
 * SIGTERM/SIGINT: run `stop` once, then exit 0 (1 if it failed or overran `graceMs`). A second signal exits at
 * once with 130. Durable state never depends on this running: it is the polite path, SIGKILL is also safe.
 * Returns a function that removes the handlers.
 */
export function installShutdownHandlers({ stop, logger, graceMs = 30_000, signals = ["SIGTERM", "SIGINT"] }: InstallShutdownParameters): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "shutting down: draining active jobs");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown overran its grace period; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => {
        logger.info("shutdown complete");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
