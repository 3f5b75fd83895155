import { getAddress, isAddress, isHex, type Address, type Hex, type TypedDataDomain } from "viem";
import { z } from "zod";
import { verifyAttestation, type AttestationMessage } from "./eip712.ts";

/**
 * A validator's published, signed statement of its score for one task (the EIP-712 `Attestation`), plus who
 * signed it. Validators publish these only after their reveal (publishing earlier would leak the score during
 * the commit phase); auditors collect them and check each signature against the revealed score on-chain.
 * Wire format: one JSON object per line (JSON Lines), numbers as decimal strings where they can exceed 2^53.
 */
export interface AttestationRecord {
  taskId: bigint;
  outputHash: Hex;
  evaluatorId: Hex;
  score: number;
  validator: Address;
  signature: Hex;
}

const hex32 = z.string().refine((v) => isHex(v) && v.length === 66, "must be a 0x-prefixed 32-byte hex string");

const recordSchema = z
  .object({
    taskId: z.string().regex(/^[0-9]+$/, "must be a decimal string"),
    outputHash: hex32,
    evaluatorId: hex32,
    score: z.number().int().min(0).max(65_535),
    validator: z.string().refine((v) => isAddress(v, { strict: false }), "must be an address"),
    signature: z.string().refine((v) => isHex(v) && v.length >= 132, "must be a 0x-prefixed 65-byte signature"),
  })
  .strict();

export class AttestationRecordError extends Error {
  override name = "AttestationRecordError";
}

export function formatAttestationRecord(record: AttestationRecord): string {
  return JSON.stringify({ ...record, taskId: record.taskId.toString() });
}

/** Parses one JSON line; throws AttestationRecordError naming the bad field. */
export function parseAttestationRecord(line: string): AttestationRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new AttestationRecordError("attestation record is not valid JSON");
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AttestationRecordError(`attestation record field "${issue.path.join(".")}": ${issue.message}`);
  }
  const r = parsed.data;
  return {
    taskId: BigInt(r.taskId),
    outputHash: r.outputHash as Hex,
    evaluatorId: r.evaluatorId as Hex,
    score: r.score,
    validator: getAddress(r.validator),
    signature: r.signature as Hex,
  };
}

/** Parses JSON Lines text (blank lines ignored); a bad line throws with its line number. */
export function parseAttestationRecords(text: string): AttestationRecord[] {
  const records: AttestationRecord[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      records.push(parseAttestationRecord(line));
    } catch (error) {
      throw new AttestationRecordError(`line ${i + 1}: ${(error as Error).message}`);
    }
  });
  return records;
}

export function attestationMessageOf(record: AttestationRecord): AttestationMessage {
  return { taskId: record.taskId, outputHash: record.outputHash, evaluatorId: record.evaluatorId, score: record.score };
}

/** True when `record.signature` is `record.validator`'s signature of the attestation under `domain`. */
export function verifyAttestationRecord(domain: TypedDataDomain, record: AttestationRecord): Promise<boolean> {
  return verifyAttestation(domain, attestationMessageOf(record), record.signature, record.validator);
}
