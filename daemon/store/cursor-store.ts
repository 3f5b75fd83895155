import path from "node:path";
import { ensureDurableDir, readJsonFile, safeFileKey, writeFileDurable } from "./durable-file.ts";

type Hex = `0x${string}`;

export interface BlockRef {
  number: bigint;
  hash: Hex;
}

/**
 * The watcher's position: the last block it fully handled, plus a few earlier checkpoints (block number and
 * hash) so that after a reorg it can find a common ancestor without trusting anything newer.
 */
export interface WatcherCursor {
  block: BlockRef;
  /** Older checkpoints, newest first, spanning at least the finality depth. */
  checkpoints: BlockRef[];
}

interface StoredCursor {
  block: { number: string; hash: Hex };
  checkpoints: { number: string; hash: Hex }[];
}

/** Persists one cursor per watcher name (e.g. the contract address) under `<stateDir>/cursors/`. */
export class CursorStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "cursors");
    ensureDurableDir(this.dir);
  }

  #file(name: string): string {
    return path.join(this.dir, `${safeFileKey(name)}.json`);
  }

  load(name: string): WatcherCursor | undefined {
    const stored = readJsonFile<StoredCursor>(this.#file(name));
    if (stored === undefined) return undefined;
    const toRef = (r: { number: string; hash: Hex }): BlockRef => ({ number: BigInt(r.number), hash: r.hash });
    return { block: toRef(stored.block), checkpoints: stored.checkpoints.map(toRef) };
  }

  save(name: string, cursor: WatcherCursor): void {
    const toStored = (r: BlockRef) => ({ number: r.number.toString(), hash: r.hash });
    const stored: StoredCursor = { block: toStored(cursor.block), checkpoints: cursor.checkpoints.map(toStored) };
    writeFileDurable(this.#file(name), JSON.stringify(stored));
  }
}
