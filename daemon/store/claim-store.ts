import path from "node:path";
import { ensureDurableDir, readJsonFile, safeFileKey, writeFileDurable } from "./durable-file.ts";

/** Since when this account has held unclaimed credit (the claim policy's interval clock survives restarts). */
export class ClaimStore {
  readonly #file: string;

  constructor(stateDir: string, market: string) {
    const dir = path.join(stateDir, "claims");
    ensureDurableDir(dir);
    this.#file = path.join(dir, `${safeFileKey(market.toLowerCase())}.json`);
  }

  creditSinceMs(): number | undefined {
    return readJsonFile<{ creditSinceMs?: number }>(this.#file)?.creditSinceMs;
  }

  save(creditSinceMs: number | undefined): void {
    writeFileDurable(this.#file, JSON.stringify({ creditSinceMs }));
  }
}
