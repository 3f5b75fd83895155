import pino, { type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest string value kept in a log line; longer values (prompts, answers, RPC payloads) are cut. */
export const MAX_LOG_STRING_CHARS = 512;

export interface CreateLoggerParameters {
  /** "silent" is for tests that assert on behaviour, not on log lines. */
  level?: LogLevel | "silent";
  /** Component name, e.g. "watcher" or "sender"; becomes the `component` field of every line. */
  name?: string;
  /** Where lines go; stdout by default. Tests pass a memory stream. */
  destination?: DestinationStream;
}

// Operators drowned in 100 MB of debug logs elsewhere (RELIABILITY.md): every line is one JSON object with a
// bounded size, so a huge prompt or error payload can never blow up the log.
function truncateValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") {
    return value.length > MAX_LOG_STRING_CHARS
      ? `${value.slice(0, MAX_LOG_STRING_CHARS)}...[${value.length - MAX_LOG_STRING_CHARS} more chars]`
      : value;
  }
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object" || depth >= 4) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.slice(0, 20).map((item) => truncateValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value).slice(0, 40)) out[key] = truncateValue(item, depth + 1);
  return out;
}

/**
 * The daemon's one logger: pino JSON lines with bounded field sizes. Conventional fields are `taskId`,
 * `txHash`, `queue`, `jobId` and `err`, so operators can filter on them.
 */
export function createLogger({ level = "info", name, destination }: CreateLoggerParameters = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: name === undefined ? { pid: process.pid } : { pid: process.pid, component: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => truncateValue(object, 0) as Record<string, unknown>,
    },
    // Private keys and passwords never reach a log line, even if a caller passes them by mistake.
    redact: { paths: ["privateKey", "password", "*.privateKey", "*.password", "apiKey", "*.apiKey"], censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
