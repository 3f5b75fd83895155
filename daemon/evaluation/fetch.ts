/**
 * `models fetch`: downloads every file a pinned manifest lists, from the Hugging Face Hub
 * (`<base>/<repo>/resolve/<revision>/<path>`) or a mirror with the same layout, verifying each sha256.
 * Files already present with the right hash are kept; nothing unverified ever lands at its final path.
 */
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { downloadVerified, type DownloadEvent } from "./download.ts";
import { EvaluatorError, ManifestInvalidError } from "./evaluator.ts";
import { MANIFEST_FILE, loadManifest, manifestFilePath, manifestId, sha256File, type Manifest, type ManifestSource } from "./manifest.ts";

export type { DownloadEvent } from "./download.ts";

/** The public Hub. A mirror must serve the same `<repo>/resolve/<revision>/<path>` layout. */
export const HUB_BASE_URL = "https://huggingface.co";

export interface FetchModelOptions {
  /**
   * Hub sources: replaces HUB_BASE_URL (a mirror). URL sources: replaces the manifest's `baseUrl`.
   * The manifest (and so the evaluator id) does not change: the hashes decide what is accepted.
   */
  baseUrl?: string;
  /** Progress events, e.g. from `createProgressReporter()` in fetch-progress.ts. */
  onProgress?: (event: DownloadEvent) => void;
  signal?: AbortSignal;
  /** Attempts per file (default 5) and first retry delay (default 500 ms, doubling). */
  attempts?: number;
  retryDelayMs?: number;
}

export interface FetchModelResult {
  dir: string;
  downloaded: string[];
  /** Files that were already present with the right sha256. */
  skipped: string[];
}

/** A manifest whose files cannot be downloaded (generated or npm sources). */
export class ModelNotFetchableError extends EvaluatorError {
  override readonly name: string = "ModelNotFetchableError";
}

/** URL of one manifest file under a source (and optional mirror base URL). */
export function fileUrl(source: ManifestSource, filePath: string, baseUrl?: string): string {
  const encodedPath = filePath.split("/").map(encodeURIComponent).join("/");
  switch (source.type) {
    case "hub":
      return `${trimSlash(baseUrl ?? HUB_BASE_URL)}/${source.repo}/resolve/${source.revision}/${encodedPath}`;
    case "url":
      return `${trimSlash(baseUrl ?? source.baseUrl)}/${encodedPath}`;
    case "generated":
      throw new ModelNotFetchableError(`files of a generated model come from its generator (${source.generator}), not a download`);
    case "npm":
      throw new ModelNotFetchableError(`files of ${source.package}@${source.version} are installed by npm, not downloaded`);
  }
}

export async function fetchModel(manifest: Manifest, destDir: string, options: FetchModelOptions = {}): Promise<FetchModelResult> {
  if (manifest.source === undefined) {
    throw new ModelNotFetchableError(`manifest ${manifest.name} (kind ${manifest.kind}) has no source to download from`);
  }
  const result: FetchModelResult = { dir: destDir, downloaded: [], skipped: [] };
  for (const entry of manifest.files) {
    const dest = manifestFilePath(destDir, entry.path);
    const url = fileUrl(manifest.source, entry.path, options.baseUrl);
    if ((await existingSha256(dest)) === entry.sha256) {
      options.onProgress?.({ type: "done", file: entry.path, bytes: entry.size, sha256: entry.sha256, skipped: true });
      result.skipped.push(entry.path);
      continue;
    }
    await downloadVerified(url, dest, {
      label: entry.path,
      expectedSha256: entry.sha256,
      expectedSize: entry.size,
      onEvent: options.onProgress,
      signal: options.signal,
      attempts: options.attempts,
      retryDelayMs: options.retryDelayMs,
    });
    result.downloaded.push(entry.path);
  }
  await writeManifest(manifest, destDir);
  return result;
}

/**
 * Writes the manifest beside the fetched files so `createEvaluator(destDir)` loads exactly this model. An existing
 * manifest with the same id is left alone (formatting may differ); a different one is replaced atomically.
 */
export async function writeManifest(manifest: Manifest, destDir: string): Promise<void> {
  const file = path.join(destDir, MANIFEST_FILE);
  try {
    if (manifestId(await loadManifest(destDir)) === manifestId(manifest)) return;
  } catch {
    // absent or invalid: (re)write it below
  }
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeFile(partial, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, file);
  } catch (cause) {
    throw new ManifestInvalidError(`cannot write ${file}`, file, { cause });
  }
}

async function existingSha256(file: string): Promise<string | undefined> {
  try {
    return await sha256File(file);
  } catch {
    return undefined;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
