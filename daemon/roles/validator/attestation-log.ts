import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";
import { formatAttestationRecord, parseAttestationRecords, type AttestationRecord } from "../../../sdk/attestation-record.ts";
import type { RouteResponse } from "../../observe/health-server.ts";

export const ATTESTATIONS_FILE = "attestations.jsonl";

/**
 * The validator's published attestations: `<stateDir>/attestations.jsonl`, one JSON line per task
 * (sdk/attestation-record.ts format), appended and fsynced only after the reveal is confirmed (earlier would leak
 * the score during the commit phase). Publishing the same task twice is a no-op, so a re-run reveal job is safe.
 */
export class AttestationLog {
  readonly file: string;
  readonly #published = new Set<string>();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, ATTESTATIONS_FILE);
    for (const record of this.all()) this.#published.add(record.taskId.toString());
  }

  all(): AttestationRecord[] {
    return existsSync(this.file) ? parseAttestationRecords(readFileSync(this.file, "utf8")) : [];
  }

  has(taskId: bigint): boolean {
    return this.#published.has(taskId.toString());
  }

  /** Appends `record` durably (write + fsync); false when this task's attestation was already published. */
  publish(record: AttestationRecord): boolean {
    if (this.has(record.taskId)) return false;
    const fd = openSync(this.file, "a", 0o644);
    try {
      writeSync(fd, `${formatAttestationRecord(record)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#published.add(record.taskId.toString());
    return true;
  }

  /** GET /attestations[?task=<id>] as JSON Lines. */
  async serve(url: URL): Promise<RouteResponse> {
    const task = url.searchParams.get("task");
    if (task !== null && !/^[0-9]+$/.test(task)) return { status: 400, contentType: "text/plain", body: "task must be a decimal task id\n" };
    const records = this.all().filter((r) => task === null || r.taskId === BigInt(task));
    return { status: 200, contentType: "application/x-ndjson", body: records.map((r) => `${formatAttestationRecord(r)}\n`).join("") };
  }
}
