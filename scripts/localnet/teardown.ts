/**
 * Runs every cleanup registered with `defer`, last first, exactly once: on a normal end, on an error, and on
 * SIGINT/SIGTERM (Ctrl-C during the demo must not leave a redis-server or an HTTP server behind).
 */
export interface Teardown {
  /** Registers a cleanup; cleanups run in reverse order of registration. */
  defer(label: string, cleanup: () => unknown): void;
  /** Runs all cleanups (each failure is reported, none stops the others). Idempotent. */
  run(): Promise<void>;
}

export interface CreateTeardownOptions {
  /** Install SIGINT/SIGTERM handlers that tear down, then exit with 130/143. */
  signals?: boolean;
  /** Where cleanup failures are reported. */
  onError?: (label: string, error: unknown) => void;
  /** Longest a single cleanup may take before it is abandoned. */
  stepTimeoutMs?: number;
}

const DEFAULT_STEP_TIMEOUT_MS = 10_000; // a stuck close must not keep a Ctrl-C'd demo alive forever

export function createTeardown({ signals = false, onError, stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS }: CreateTeardownOptions = {}): Teardown {
  const steps: { label: string; cleanup: () => unknown }[] = [];
  let running: Promise<void> | undefined;
  const report = onError ?? ((label, error) => process.stderr.write(`cleanup "${label}" failed: ${(error as Error)?.message ?? error}\n`));

  const run = () => {
    running ??= (async () => {
      for (const { label, cleanup } of steps.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs);
        });
        try {
          await Promise.race([Promise.resolve().then(cleanup), timeout]);
        } catch (error) {
          report(label, error);
        } finally {
          clearTimeout(timer);
        }
      }
      removeSignalHandlers();
    })();
    return running;
  };

  const handlers = new Map<NodeJS.Signals, () => void>();
  const removeSignalHandlers = () => handlers.forEach((handler, signal) => process.off(signal, handler));
  if (signals) {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const handler = () => {
        process.stderr.write(`\n${signal}: stopping everything this run started...\n`);
        // A second signal while cleaning up exits at once (the 'exit' hooks still kill child processes).
        process.once(signal, () => process.exit(code));
        void run().finally(() => process.exit(code));
      };
      handlers.set(signal, handler);
      process.once(signal, handler);
    }
  }
  return { defer: (label, cleanup) => void steps.push({ label, cleanup }), run };
}
