import { redactUrl } from "./commands/status.ts";

/**
 * Errors an operator fixes (a bad file, a wrong password, a down RPC or Redis, a revert naming its cause): the CLI
 * prints their message on one line, without a stack trace, and exits 1. Matched by name so that `poq --help` does
 * not load the modules that define them.
 */
const OPERATOR_ERRORS = new Set([
  "ConfigError", "KeystoreError", "InvalidManifestError", "WrongChainError", "TransactionRevertedError", "BroadcastError",
  "StuckTransactionError", "ManifestInvalidError", "ManifestMismatchError", "ModelFetchError", "ModelNotFetchableError",
  "EvaluatorError", "EvaluatorNotRegisteredError", "WorkerTimingError", "CorruptStateError", "AttestationRecordError",
]);

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}
interface ViemLikeError extends Error {
  shortMessage: string;
  details?: string;
  url?: string;
  walk(fn: (e: unknown) => boolean): unknown;
}

const isSystemError = (e: unknown): e is SystemError => e instanceof Error && typeof (e as SystemError).code === "string" && typeof (e as SystemError).syscall === "string";
const isViemError = (e: unknown): e is ViemLikeError => e instanceof Error && typeof (e as ViemLikeError).shortMessage === "string" && typeof (e as ViemLikeError).walk === "function";

function systemMessage(e: SystemError): string {
  const where = e.path ?? (e.port !== undefined ? `${e.address ?? ""}:${e.port}` : "");
  switch (e.code) {
    case "ENOENT":
      return `no such file or folder: ${where}`;
    case "ENOTDIR":
      return `not a folder (a part of the path is a file): ${where}`;
    case "EISDIR":
      return `${where} is a folder, not a file`;
    case "EACCES":
    case "EPERM":
      return e.syscall === "listen" ? `not allowed to listen on ${where} (ports below 1024 need privileges)` : `permission denied: ${where}`;
    case "EEXIST":
      return `already exists: ${where}`;
    case "EADDRINUSE":
      return `${where} is already in use by another process: stop it or pick another port`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: no such address on this machine`;
    default:
      return `${e.syscall} ${where}: ${e.code}`;
  }
}

function viemMessage(e: ViemLikeError): string {
  const transport = e.walk((x) => {
    const name = (x as Error)?.name;
    return name === "HttpRequestError" || name === "WebSocketRequestError" || name === "TimeoutError" || name === "SocketClosedError";
  }) as ViemLikeError | undefined;
  if (transport) {
    const url = transport.url === undefined ? "" : ` ${redactUrl(transport.url)}`;
    const reason = transport.name === "TimeoutError" ? "no answer in time" : (transport.details ?? transport.shortMessage);
    return `cannot reach the RPC endpoint${url}: ${reason.split("\n")[0]} (is the node running, and is chain.rpcUrls / --rpc-url right?)`;
  }
  return `chain request failed: ${e.shortMessage.split("\n")[0]}`;
}

/** The one-line message for an error the user can fix, or undefined for a bug (printed with its stack). */
export function userMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (OPERATOR_ERRORS.has(error.name)) return error.message.split("\n")[0];
  if (error.name === "MaxRetriesPerRequestError") return "Redis does not answer: start redis-server, or fix redis.url / REDIS_URL";
  if (isSystemError(error)) return systemMessage(error);
  if (isViemError(error)) return viemMessage(error);
  return undefined;
}
