/**
 * Model manifests (`models/<name>/manifest.json`): what an evaluator is, where its files come from, and the
 * sha256 of every file. The evaluator id registered on-chain is the keccak256 of the manifest's canonical JSON,
 * so changing any weight, tokenizer setting or score mapping changes the id.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { keccak256, stringToHex } from "viem";
import { z } from "zod";
import { CheckThresholdsSchema } from "./checks.ts";
import { ManifestInvalidError, ManifestMismatchError } from "./evaluator.ts";
import { MAX_RAW_DECIMALS } from "./score-mapping.ts";

export const MANIFEST_FILE = "manifest.json";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex characters");
/** A relative POSIX path that cannot escape the model folder. */
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), {
    message: "file paths must be relative, use '/', and not contain '..'",
  });

export const ManifestFileSchema = z.object({ path: relativePath, sha256: sha256Hex, size: z.number().int().nonnegative() }).strict();

export const ManifestSourceSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hub"),
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "repo must be owner/name"),
    // A full commit sha: branch names move, and a moving source cannot back a fixed on-chain id.
    revision: z.string().regex(/^[0-9a-f]{40}$/, "revision must be a 40-hex commit sha (pin it first)"),
  }).strict(),
  z.object({ type: z.literal("url"), baseUrl: z.string().url() }).strict(),
  z.object({ type: z.literal("generated"), generator: z.string().min(1), seed: z.number().int(), shape: z.string().min(1) }).strict(),
  z.object({ type: z.literal("npm"), package: z.string().min(1), version: z.string().min(1) }).strict(),
]);

export const ScoreMappingSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("sigmoid"), center: z.number(), scale: z.number().positive(), rawDecimals: z.number().int().min(0).max(MAX_RAW_DECIMALS) }).strict(),
  // max > min is checked in ManifestSchema (a discriminated union member cannot carry a refinement).
  z.object({ type: z.literal("linear"), min: z.number(), max: z.number(), rawDecimals: z.number().int().min(0).max(MAX_RAW_DECIMALS) }).strict(),
]);

// `model` and `tokenizer` are read by the engine that owns the kind; unknown keys are kept (and hashed) so an
// engine can add settings without a schema change here.
export const ModelSectionSchema = z.object({ file: relativePath }).passthrough();
export const TokenizerSectionSchema = z.object({ file: relativePath.optional() }).passthrough();

/** Composite rule parameters; see docs/EVALUATORS.md "Composite rule". */
export const CompositeSectionSchema = z.object({
  /** Inner model evaluator: folder relative to this manifest's folder, and its expected evaluator id. */
  inner: z.object({ path: z.string().min(1), id: z.string().regex(/^0x[0-9a-f]{64}$/) }).strict(),
  /** Score ceiling applied when any hard check fails. */
  hardFailCap: z.number().int().min(0).max(10_000),
  /** Multiplier per failed soft check, as an integer in basis points (e.g. 6000 = x0.6). */
  softPenaltyBps: z.number().int().min(0).max(10_000),
  /** Thresholds of the cheap checks (daemon/evaluation/checks.ts). */
  checks: CheckThresholdsSchema,
}).strict();

/** Another evaluator a composed manifest uses: folder relative to this manifest's folder, and its expected id. */
export const EvaluatorRefSchema = z.object({ path: z.string().min(1), id: z.string().regex(/^0x[0-9a-f]{64}$/) }).strict();

/** Cascade rule; see docs/EVALUATORS.md "Cascade". */
export const CascadeSectionSchema = z.object({
  /** Cheap evaluator that scores every pair. */
  first: EvaluatorRefSchema,
  /** Heavier evaluator that scores only the pairs the escalation rule sends to it. */
  judge: EvaluatorRefSchema,
  /** Escalate when the first stage's integer score lies in [minScore, maxScore] (inclusive). */
  escalate: z.object({ minScore: z.number().int().min(0).max(10_000), maxScore: z.number().int().min(0).max(10_000) }).strict()
    .refine((band) => band.maxScore >= band.minScore, { message: "escalate.maxScore must be >= minScore" }),
}).strict();

const KindSchema = z.enum(["cross-encoder", "sentence-encoder", "composite", "cascade", "reward-model"]);

export const ManifestSchema = z
  .object({
    schema: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "name must be lowercase letters, digits, '.', '_' or '-'"),
    kind: KindSchema,
    description: z.string().optional(),
    source: ManifestSourceSchema.optional(),
    files: z.array(ManifestFileSchema),
    model: ModelSectionSchema.optional(),
    tokenizer: TokenizerSectionSchema.optional(),
    scoreMapping: ScoreMappingSchema.optional(),
    composite: CompositeSectionSchema.optional(),
    cascade: CascadeSectionSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const need = (cond: boolean, message: string) => cond || ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    need((m.kind === "cascade") === (m.cascade !== undefined), "kind cascade needs a 'cascade' section, and only kind cascade may have one");
    if (m.kind === "composite") {
      need(m.composite !== undefined, "kind composite needs a 'composite' section");
    } else if (m.kind === "cascade") {
      need(m.files.length === 0 && m.composite === undefined, "kind cascade has no files and no 'composite' section");
    } else {
      need(m.source !== undefined, `kind ${m.kind} needs a 'source'`);
      need(m.scoreMapping !== undefined, `kind ${m.kind} needs a 'scoreMapping'`);
      need(m.files.length > 0, `kind ${m.kind} needs at least one file`);
      need(m.composite === undefined, "only kind composite may have a 'composite' section");
    }
    if (m.scoreMapping?.type === "linear") need(m.scoreMapping.max > m.scoreMapping.min, "linear scoreMapping needs max > min");
    const paths = m.files.map((f) => f.path);
    need(new Set(paths).size === paths.length, "file paths must be unique");
    for (const ref of [m.model?.file, m.tokenizer?.file]) {
      if (ref !== undefined) need(paths.includes(ref), `'${ref}' is referenced but not listed in files`);
    }
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;
export type ManifestSource = z.infer<typeof ManifestSourceSchema>;
export type EvaluatorId = `0x${string}`;

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, as RFC 8785), no whitespace, numbers and strings as
 * JSON.stringify writes them. `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot canonicalise ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Evaluator id = keccak256(utf8(canonical JSON of the manifest)). */
export function manifestId(manifest: Manifest): EvaluatorId {
  return keccak256(stringToHex(canonicalJson(manifest)));
}

/** Validates an already-parsed object; `where` names the source in errors. */
export function parseManifest(value: unknown, where: string): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new ManifestInvalidError(`invalid manifest ${where}: ${issues}`, where, { cause: result.error });
  }
  return result.data;
}

/** Reads and validates `<dir>/manifest.json`. Does not touch the model files (see verifyFiles). */
export async function loadManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new ManifestInvalidError(`cannot read manifest ${file}`, file, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ManifestInvalidError(`manifest ${file} is not valid JSON`, file, { cause });
  }
  return parseManifest(json, file);
}

/** sha256 of a file, streamed (model files are tens of MB). Rejects with the fs error when unreadable. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Checks every listed file under `dir` against its pinned sha256. Throws ManifestMismatchError for the first
 * file that is missing or differs (the error always names the actual hash, so a file is hashed even when its
 * size already differs).
 */
export async function verifyFiles(manifest: Manifest, dir: string): Promise<void> {
  for (const entry of manifest.files) {
    const file = path.join(dir, ...entry.path.split("/"));
    let actual: string;
    try {
      actual = await sha256File(file);
    } catch (cause) {
      throw new ManifestMismatchError(entry.path, entry.sha256, "missing", { cause });
    }
    if (actual !== entry.sha256) throw new ManifestMismatchError(entry.path, entry.sha256, actual);
  }
}

/** Absolute path of a manifest-listed file inside `dir`. */
export function manifestFilePath(dir: string, relative: string): string {
  return path.join(dir, ...relative.split("/"));
}
