/**
 * Pairwise human-judged data for eval:evaluator: the shared hh-rlhf splits (`../shared/datasets/hh-rlhf/<split>/
 * test.jsonl.gz`, never committed here) and any JSONL file of { prompt, chosen, rejected } given with --data.
 */
import { createReadStream, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";

export interface PreferenceRecord {
  prompt: string;
  /** The answer the human judges preferred. */
  chosen: string;
  rejected: string;
}

export interface Dataset {
  name: string;
  records: PreferenceRecord[];
  /** Non-empty lines in the file. */
  recordsInFile: number;
  /** Lines the comparison cannot use: unparsable, missing fields, identical answers, different hh-rlhf prompts. */
  skipped: number;
}

const FINAL_TURN = "\n\nAssistant:";

/** The shared hh-rlhf splits under `datasetsDir`, sorted by name; empty when the folder is absent. */
export function sharedDatasetFiles(datasetsDir: string): { name: string; file: string; format: "hh-rlhf" }[] {
  const hhDir = path.join(datasetsDir, "hh-rlhf");
  if (!existsSync(hhDir)) return [];
  return readdirSync(hhDir)
    .filter((split) => existsSync(path.join(hhDir, split, "test.jsonl.gz")))
    .sort()
    .map((split) => ({ name: `hh-rlhf/${split}`, file: path.join(hhDir, split, "test.jsonl.gz"), format: "hh-rlhf" as const }));
}

/** Reads a whole file (gzip when it ends in .gz) into usable records. */
export async function readDataset(name: string, file: string, format: "hh-rlhf" | "pairwise"): Promise<Dataset> {
  const records: PreferenceRecord[] = [];
  let recordsInFile = 0;
  const input = file.endsWith(".gz") ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === "") continue;
    recordsInFile++;
    const record = format === "hh-rlhf" ? fromHhRlhf(line) : fromPairwise(line);
    if (record !== undefined) records.push(record);
  }
  return { name, records, recordsInFile, skipped: recordsInFile - records.length };
}

/** `wanted` records evenly spaced through the list (all of them for 0), so runs are reproducible. */
export function evenlySpaced<T>(all: readonly T[], wanted: number): T[] {
  if (wanted === 0 || wanted >= all.length) return [...all];
  return Array.from({ length: wanted }, (_, i) => all[Math.floor((i * all.length) / wanted)]!);
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** { prompt, chosen, rejected }, all strings, answers different. */
function fromPairwise(line: string): PreferenceRecord | undefined {
  const r = parse(line);
  if (!r || typeof r.prompt !== "string" || typeof r.chosen !== "string" || typeof r.rejected !== "string" || r.chosen === r.rejected) return undefined;
  return { prompt: r.prompt, chosen: r.chosen, rejected: r.rejected };
}

/** Two transcripts that share every turn but the final assistant reply: prompt = the shared dialogue. */
function fromHhRlhf(line: string): PreferenceRecord | undefined {
  const r = parse(line);
  if (!r || typeof r.chosen !== "string" || typeof r.rejected !== "string") return undefined;
  const split = (text: string) => {
    const at = text.lastIndexOf(FINAL_TURN);
    return at < 0 ? undefined : { prompt: text.slice(0, at).trim(), reply: text.slice(at + FINAL_TURN.length).trim() };
  };
  const chosen = split(r.chosen);
  const rejected = split(r.rejected);
  if (!chosen || !rejected || chosen.prompt !== rejected.prompt || chosen.reply === rejected.reply) return undefined;
  return { prompt: chosen.prompt, chosen: chosen.reply, rejected: rejected.reply };
}
