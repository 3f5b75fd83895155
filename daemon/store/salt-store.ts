import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { createFileDurableExclusive, ensureDurableDir, readJsonFile, safeFileKey, writeFileDurable } from "./durable-file.ts";

export type Hex = `0x${string}`;

/** What a validator must keep between its commit and its reveal. Losing it means a forced non-reveal: a slash. */
export interface SaltRecord {
  taskId: string;
  round: number;
  score: number;
  salt: Hex;
  /** The commitment hash that was (or is about to be) broadcast. */
  commitment: Hex;
  createdAt: string;
  revealedTxHash?: Hex;
}

/** 32 random bytes from the OS CSPRNG (RELIABILITY.md: short or reused salts are a known weakness). */
export function newSalt(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}

/**
 * Durable salts, one file per (task, round) under `<stateDir>/salts/`. `save` returns only after the record is
 * fsynced; the commit sender must call it BEFORE broadcasting the commit.
 */
export class SaltStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "salts");
    ensureDurableDir(this.dir);
  }

  #file(taskId: string, round: number): string {
    return path.join(this.dir, `${safeFileKey(taskId, round)}.json`);
  }

  /**
   * Saves the salt of (task, round) unless one is saved already, and returns the record that is on disk: the
   * first writer wins, atomically across processes. A job that BullMQ re-runs while its first run is still alive
   * (a stall under CPU load) must commit with the salt the first run may already have broadcast; overwriting it
   * would make the reveal fail (CommitmentMismatch) and get the validator slashed.
   */
  save(record: Omit<SaltRecord, "createdAt">): SaltRecord {
    const full: SaltRecord = { ...record, createdAt: new Date().toISOString() };
    if (createFileDurableExclusive(this.#file(record.taskId, record.round), JSON.stringify(full))) return full;
    return this.get(record.taskId, record.round)!;
  }

  get(taskId: string, round: number): SaltRecord | undefined {
    return readJsonFile<SaltRecord>(this.#file(taskId, round));
  }

  /** Kept (not deleted) after the reveal, so an auditor or a second reveal attempt can still see it. */
  markRevealed(taskId: string, round: number, txHash: Hex): void {
    const record = this.get(taskId, round);
    if (record === undefined) throw new Error(`No salt stored for task ${taskId} round ${round}`);
    writeFileDurable(this.#file(taskId, round), JSON.stringify({ ...record, revealedTxHash: txHash }));
  }

  /** Salts committed but not yet revealed: what a restarted validator must reveal. */
  pendingReveals(): SaltRecord[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(".json"))
      .map((name) => readJsonFile<SaltRecord>(path.join(this.dir, name))!)
      .filter((record) => record.revealedTxHash === undefined);
  }
}
