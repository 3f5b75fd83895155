import { readdirSync, unlinkSync } from "node:fs";
import path from "node:path";
import { ensureDurableDir, readJsonFile, safeFileKey, writeFileDurable } from "./durable-file.ts";

type Hex = `0x${string}`;

/**
 * One reserved nonce of one account. Written BEFORE the transaction is broadcast, so that after a crash the
 * daemon knows which nonces it may have used and can re-broadcast the very same signed transactions instead of
 * leaving a gap that would freeze every later transaction.
 */
export interface NonceEntry {
  nonce: number;
  /** What the transaction does, e.g. "commit:42:0"; for logs and recovery. */
  label: string;
  /** Signed transactions sent with this nonce, oldest first (later ones are fee bumps). */
  rawTransactions: Hex[];
  hashes: Hex[];
  createdAt: string;
}

/** Per-account journal of nonces in flight, under `<stateDir>/nonces/<address>/`. */
export class NonceJournal {
  readonly dir: string;

  constructor(stateDir: string, address: Hex) {
    this.dir = path.join(stateDir, "nonces", safeFileKey(address.toLowerCase()));
    ensureDurableDir(this.dir);
  }

  #file(nonce: number): string {
    return path.join(this.dir, `${nonce}.json`);
  }

  /**
   * Records the nonce as in use, with its first signed transaction when given (one durable write before the
   * broadcast instead of two). An entry without one is given back at recovery: it was never broadcast.
   */
  reserve(nonce: number, label: string, signed?: { rawTransaction: Hex; hash: Hex }): NonceEntry {
    const entry: NonceEntry = { nonce, label, rawTransactions: signed === undefined ? [] : [signed.rawTransaction], hashes: signed === undefined ? [] : [signed.hash], createdAt: new Date().toISOString() };
    writeFileDurable(this.#file(nonce), JSON.stringify(entry));
    return entry;
  }

  /** Records a signed transaction for the nonce; must return before that transaction is broadcast. */
  addSigned(nonce: number, rawTransaction: Hex, hash: Hex): NonceEntry {
    const entry = this.get(nonce);
    if (entry === undefined) throw new Error(`Nonce ${nonce} was not reserved in ${this.dir}`);
    const next = { ...entry, rawTransactions: [...entry.rawTransactions, rawTransaction], hashes: [...entry.hashes, hash] };
    writeFileDurable(this.#file(nonce), JSON.stringify(next));
    return next;
  }

  get(nonce: number): NonceEntry | undefined {
    return readJsonFile<NonceEntry>(this.#file(nonce));
  }

  /**
   * Forgets a nonce once it is mined (or was never broadcast and has been given back). Not fsynced: an entry
   * that a power loss brings back is re-broadcast at recovery, found mined and released again.
   */
  release(nonce: number): void {
    try {
      unlinkSync(this.#file(nonce));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  /** Entries still in flight, lowest nonce first. */
  pending(): NonceEntry[] {
    return readdirSync(this.dir)
      .filter((name) => /^\d+\.json$/.test(name))
      .map((name) => readJsonFile<NonceEntry>(path.join(this.dir, name))!)
      .sort((a, b) => a.nonce - b.nonce);
  }
}
