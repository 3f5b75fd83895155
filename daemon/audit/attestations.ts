import { readFile } from "node:fs/promises";
import type { Address, TypedDataDomain } from "viem";
import { parseAttestationRecords, verifyAttestationRecord, type AttestationRecord } from "../../sdk/attestation-record.ts";
import type { TaskRecord } from "./history.ts";

/** What one `--attestations` source gave: a failed source is reported, not fatal (other sources still count). */
export interface AttestationSourceResult {
  source: string;
  records: number;
  error?: string;
}

/**
 * A committee member's published attestation, checked against the chain:
 * - verified: signed by the member, for this task's output and evaluator, with the score it revealed;
 * - missing: no source holds one ("no attestation found" is a state, e.g. a non-revealer publishes none);
 * - invalid-signature: the signature does not recover to the member;
 * - mismatch: a valid signature over other facts than the chain holds (other output, evaluator or score);
 * - equivocation: two valid signatures of different scores for this task (reportable on-chain for a bounty).
 */
export type AttestationState = "verified" | "missing" | "invalid-signature" | "mismatch" | "equivocation";

export interface AttestationVerdict {
  state: AttestationState;
  detail?: string;
  /** Score of the (first valid) signed attestation. */
  attestedScore?: number;
}

const SOURCE_TIMEOUT_MS = 10_000;

async function readSource(source: string, taskId: bigint | undefined): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (taskId !== undefined) url.searchParams.set("task", taskId.toString());
    const response = await fetch(url, { signal: AbortSignal.timeout(SOURCE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }
  return readFile(source, "utf8");
}

/** Reads every source (a .jsonl file or a validator's /attestations URL); `taskId` narrows URL queries. */
export async function loadAttestations(
  sources: readonly string[],
  taskId?: bigint,
): Promise<{ records: AttestationRecord[]; sources: AttestationSourceResult[] }> {
  const results = await Promise.all(
    sources.map(async (source) => {
      try {
        const records = parseAttestationRecords(await readSource(source, taskId));
        return { records, result: { source, records: records.length } };
      } catch (error) {
        const message = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
        return { records: [], result: { source, records: 0, error: message.split("\n")[0] } };
      }
    }),
  );
  return { records: results.flatMap((r) => r.records), sources: results.map((r) => r.result) };
}

/** Checks one member's attestations for `task` (all records of other tasks or signers are ignored). */
export async function verdictFor(
  domain: TypedDataDomain,
  task: TaskRecord,
  member: { validator: Address; revealed: boolean; score?: number },
  records: readonly AttestationRecord[],
): Promise<AttestationVerdict> {
  const mine = records.filter((r) => r.taskId === task.taskId && r.validator.toLowerCase() === member.validator.toLowerCase());
  if (mine.length === 0) return { state: "missing", detail: "no attestation found" };
  const valid: AttestationRecord[] = [];
  for (const record of mine) if (await verifyAttestationRecord(domain, record)) valid.push(record);
  if (valid.length === 0) return { state: "invalid-signature", detail: "signature does not recover to the member" };
  const scores = new Set(valid.map((r) => r.score));
  const first = valid[0]!;
  if (scores.size > 1) return { state: "equivocation", detail: `signed scores ${[...scores].join(" and ")}`, attestedScore: first.score };
  const problems: string[] = [];
  if (task.answer && first.outputHash.toLowerCase() !== task.answer.outputHash.toLowerCase()) problems.push("other output hash");
  if (first.evaluatorId.toLowerCase() !== task.evaluatorId.toLowerCase()) problems.push("other evaluator id");
  if (member.revealed && first.score !== member.score) problems.push(`signed ${first.score}, revealed ${member.score}`);
  if (problems.length > 0) return { state: "mismatch", detail: problems.join("; "), attestedScore: first.score };
  return { state: "verified", attestedScore: first.score };
}
