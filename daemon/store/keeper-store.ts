import path from "node:path";
import { ensureDurableDir, readJsonFile, safeFileKey, writeFileDurable } from "./durable-file.ts";

/**
 * Where the keeper resumes after a restart: the lowest task id that was still open (every lower task had
 * reached an end). Losing the file only costs a rescan from task 1, so it is written without a salt's care,
 * but with the same atomic replace so that it is never half-written.
 */
export class KeeperStore {
  readonly #file: string;

  constructor(stateDir: string, market: string) {
    const dir = path.join(stateDir, "keeper");
    ensureDurableDir(dir);
    this.#file = path.join(dir, `${safeFileKey(market.toLowerCase())}.json`);
  }

  lowestOpen(): bigint {
    const stored = readJsonFile<{ lowestOpen: string }>(this.#file);
    return stored === undefined ? 1n : BigInt(stored.lowestOpen);
  }

  saveLowestOpen(taskId: bigint): void {
    writeFileDurable(this.#file, JSON.stringify({ lowestOpen: taskId.toString() }));
  }
}
