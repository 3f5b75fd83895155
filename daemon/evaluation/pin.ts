/**
 * Pinning: turns a manifest draft (source + file paths, no hashes) into a pinned manifest by downloading each
 * file once, hashing it and resolving a branch name to the commit the Hub served.
 *
 * Pinning is trust on first use: whoever pins trusts what the server sent at that moment. After that the
 * manifest's hashes (and the evaluator id derived from them) make every later fetch reproducible.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { downloadVerified } from "./download.ts";
import { ModelFetchError, ManifestInvalidError } from "./evaluator.ts";
import { fileUrl, type FetchModelOptions } from "./fetch.ts";
import { MANIFEST_FILE, ManifestSchema, manifestFilePath, manifestId, parseManifest, type EvaluatorId, type Manifest } from "./manifest.ts";

export const DRAFT_FILE = "manifest.draft.json";
const COMMIT_SHA = /^[0-9a-f]{40}$/;
/** Header the Hub sets on `resolve` responses: the commit the file was served from. */
const REPO_COMMIT_HEADER = "x-repo-commit";

/**
 * A manifest whose files have no hashes yet, and whose Hub revision may still be a branch name. A file may already
 * carry the sha256 and size its publisher shows (the Hub's "Git LFS Details" of a large file): pinning then refuses
 * any other bytes for it, so trust on first use is left only for the files whose hash could not be read.
 */
export const ManifestDraftSchema = z
  .object({
    schema: z.literal(1),
    name: z.string(),
    kind: z.enum(["cross-encoder", "sentence-encoder", "reward-model"]),
    description: z.string().optional(),
    source: z.discriminatedUnion("type", [
      z.object({ type: z.literal("hub"), repo: z.string(), revision: z.string().min(1) }).strict(),
      z.object({ type: z.literal("url"), baseUrl: z.string().url() }).strict(),
    ]),
    files: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(), size: z.number().int().nonnegative().optional() }).strict()).min(1),
    model: z.record(z.unknown()).optional(),
    tokenizer: z.record(z.unknown()).optional(),
    scoreMapping: z.record(z.unknown()),
  })
  .strict();

export type ManifestDraft = z.infer<typeof ManifestDraftSchema>;

export async function loadDraft(dir: string): Promise<ManifestDraft> {
  const file = path.join(dir, DRAFT_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new ManifestInvalidError(`cannot read manifest draft ${file}`, file, { cause });
  }
  const result = ManifestDraftSchema.safeParse(json);
  if (!result.success) {
    throw new ManifestInvalidError(`invalid manifest draft ${file}: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, file, {
      cause: result.error,
    });
  }
  return result.data;
}

/**
 * Downloads every draft file into `destDir`, then writes `destDir/manifest.json` with sha256, size and the
 * resolved commit. Returns the pinned manifest and its evaluator id.
 */
export async function pinModel(draft: ManifestDraft, destDir: string, options: FetchModelOptions = {}): Promise<{ manifest: Manifest; id: EvaluatorId }> {
  const source = { ...draft.source };
  const files: Manifest["files"] = [];
  for (const { path: filePath, sha256: expectedSha256, size: expectedSize } of draft.files) {
    const url = fileUrl(source, filePath, options.baseUrl);
    const { sha256, size, headers } = await downloadVerified(url, manifestFilePath(destDir, filePath), {
      label: filePath,
      expectedSha256,
      expectedSize,
      onEvent: options.onProgress,
      signal: options.signal,
      attempts: options.attempts,
      retryDelayMs: options.retryDelayMs,
    });
    if (source.type === "hub" && !COMMIT_SHA.test(source.revision)) {
      const commit = headers.get(REPO_COMMIT_HEADER);
      if (commit === null || !COMMIT_SHA.test(commit)) {
        throw new ModelFetchError(
          `cannot pin ${source.repo}@${source.revision}: the server did not report a commit (${REPO_COMMIT_HEADER}); put a 40-hex commit sha in the draft's revision`,
          url,
        );
      }
      // Fetch the remaining files from that exact commit, so a branch moving mid-pin cannot mix versions.
      source.revision = commit;
    }
    files.push({ path: filePath, sha256, size });
  }
  const manifest = parseManifest({ ...draft, source, files }, `pinned ${draft.name}`);
  await writeFile(path.join(destDir, MANIFEST_FILE), `${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
  return { manifest, id: manifestId(manifest) };
}
