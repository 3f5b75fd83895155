/**
 * One resumable, verified HTTP download: bytes go to `<dest>.partial`, a dropped connection resumes with an
 * HTTP Range request, and the file is renamed into place only after its sha256 matches. A half-written or
 * wrong file is therefore never visible at `dest`.
 */
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ModelFetchError } from "./evaluator.ts";
import { sha256File } from "./manifest.ts";

export const PARTIAL_SUFFIX = ".partial";

/** Progress of one file, reported while bytes arrive. */
export type DownloadEvent =
  | { type: "start"; file: string; totalBytes: number | undefined; resumedFrom: number }
  | { type: "progress"; file: string; receivedBytes: number; totalBytes: number | undefined }
  | { type: "retry"; file: string; attempt: number; delayMs: number; reason: string }
  | { type: "done"; file: string; bytes: number; sha256: string; skipped: boolean };

export interface DownloadOptions {
  /** Name used in events and errors (the manifest path). */
  label: string;
  /** When set, the download is refused (and deleted) unless its sha256 matches. */
  expectedSha256?: string;
  expectedSize?: number;
  onEvent?: (event: DownloadEvent) => void;
  signal?: AbortSignal;
  /** Attempts per file, the first included. */
  attempts?: number;
  /** First retry delay; doubles each retry up to MAX_RETRY_DELAY_MS. */
  retryDelayMs?: number;
}

export interface DownloadResult {
  sha256: string;
  size: number;
  /** Response headers of the last request (e.g. the Hub's x-repo-commit). */
  headers: Headers;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 30_000; // 30 s

/** A failure worth another attempt (network drop, 5xx, 429, short body); anything else fails at once. */
class RetryableError extends Error {}

export async function downloadVerified(url: string, dest: string, options: DownloadOptions): Promise<DownloadResult> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const partial = dest + PARTIAL_SUFFIX;
  await mkdir(path.dirname(dest), { recursive: true });
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await attemptDownload(url, dest, partial, options);
    } catch (error) {
      if (options.signal?.aborted) {
        throw new ModelFetchError(`download of ${options.label} aborted (partial kept for resume)`, url, undefined, { cause: error });
      }
      if (!(error instanceof RetryableError)) throw error;
      lastError = error;
      if (attempt === attempts) break;
      const delayMs = Math.min(MAX_RETRY_DELAY_MS, (options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (attempt - 1));
      options.onEvent?.({ type: "retry", file: options.label, attempt, delayMs, reason: error.message });
      await sleep(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
  throw new ModelFetchError(`download of ${options.label} failed after ${attempts} attempts: ${String((lastError as Error)?.message)}`, url, undefined, {
    cause: lastError,
  });
}

async function attemptDownload(url: string, dest: string, partial: string, options: DownloadOptions): Promise<DownloadResult> {
  let offset = await fileSize(partial);
  if (options.expectedSize !== undefined && offset > options.expectedSize) {
    // Longer than the pinned size: the partial cannot be a prefix of the right file.
    await rm(partial, { force: true });
    offset = 0;
  }
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (offset > 0) headers.range = `bytes=${offset}-`;

  let response: Response;
  try {
    response = await fetch(url, { headers, signal: options.signal, redirect: "follow" });
  } catch (cause) {
    throw new RetryableError(`network error: ${describe(cause)}`, { cause });
  }
  if (response.status === 416 && offset > 0) {
    // The partial already holds every byte (or the server lost the file version): check it before restarting.
    await response.body?.cancel();
    const existing = await sha256File(partial);
    if (options.expectedSha256 === undefined || existing === options.expectedSha256) {
      return finish(dest, partial, existing, offset, response.headers, options);
    }
    await rm(partial, { force: true });
    throw new RetryableError("server refused the resume range and the partial file is wrong; restarting");
  }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    await response.body?.cancel();
    throw new RetryableError(`HTTP ${response.status}`);
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new ModelFetchError(`download of ${options.label} failed: HTTP ${response.status} ${response.statusText}`, url, response.status);
  }
  if (response.status === 200 && offset > 0) offset = 0; // server ignored Range: start over
  if (response.status === 206 && !contentRangeStartsAt(response.headers.get("content-range"), offset)) {
    await response.body?.cancel();
    await rm(partial, { force: true });
    throw new RetryableError(`server answered the resume with an unexpected range (${response.headers.get("content-range")})`);
  }
  if (!response.body) throw new RetryableError("empty response body");

  const length = Number(response.headers.get("content-length") ?? NaN);
  const totalBytes = options.expectedSize ?? (Number.isFinite(length) ? offset + length : undefined);
  options.onEvent?.({ type: "start", file: options.label, totalBytes, resumedFrom: offset });

  let received = offset;
  // Each chunk is awaited onto disk before the next is read, so whatever arrived before a dropped connection
  // is in the partial file and the retry resumes after it (a buffered write stream would lose its queue).
  const handle = await open(partial, offset > 0 ? "a" : "w");
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (options.expectedSize !== undefined && received > options.expectedSize) {
        await handle.close();
        await rm(partial, { force: true });
        throw new ModelFetchError(`${options.label} is larger than the pinned ${options.expectedSize} bytes`, url, response.status);
      }
      await handle.write(chunk);
      options.onEvent?.({ type: "progress", file: options.label, receivedBytes: received, totalBytes });
    }
  } catch (cause) {
    if (cause instanceof ModelFetchError) throw cause;
    throw new RetryableError(`connection lost after ${received} bytes: ${describe(cause)}`, { cause });
  } finally {
    await handle.close().catch(() => undefined); // already closed when the size check fired
  }
  if (options.expectedSize !== undefined && received < options.expectedSize) {
    throw new RetryableError(`short download: ${received} of ${options.expectedSize} bytes`);
  }
  const actual = await sha256File(partial);
  if (options.expectedSha256 !== undefined && actual !== options.expectedSha256) {
    await rm(partial, { force: true });
    if (offset > 0) {
      // The bytes kept from an earlier attempt may be the bad ones: one clean download decides.
      throw new RetryableError(`sha256 mismatch after resume (got ${actual}); restarting from zero`);
    }
    throw new ModelFetchError(
      `refusing ${options.label}: expected sha256 ${options.expectedSha256}, got ${actual}; nothing was written in place`,
      url,
      response.status,
    );
  }
  return finish(dest, partial, actual, received, response.headers, options);
}

async function finish(dest: string, partial: string, sha256: string, size: number, headers: Headers, options: DownloadOptions): Promise<DownloadResult> {
  // fsync before the rename so a crash cannot leave a renamed but empty file.
  const handle = await open(partial, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, dest);
  options.onEvent?.({ type: "done", file: options.label, bytes: size, sha256, skipped: false });
  return { sha256, size, headers };
}

function contentRangeStartsAt(header: string | null, offset: number): boolean {
  const match = /^bytes (\d+)-/.exec(header ?? "");
  return match !== null && Number(match[1]) === offset;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
