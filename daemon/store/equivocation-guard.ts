import path from "node:path";
import { createFileDurableExclusive, ensureDurableDir, readJsonFile, safeFileKey } from "./durable-file.ts";

type Hex = `0x${string}`;

/** What this validator has signed (or is about to sign) for one task. */
export interface SignedScore {
  taskId: string;
  outputHash: Hex;
  score: number;
}

/** Thrown instead of signing a second, different score for a task: that would be a provable, slashable fault. */
export class EquivocationError extends Error {
  override name = "EquivocationError";
  constructor(
    readonly recorded: SignedScore,
    readonly attempted: SignedScore,
  ) {
    super(
      `Refusing to sign score ${attempted.score} for task ${attempted.taskId}: score ${recorded.score} ` +
        `(output ${recorded.outputHash}) was already signed for it`,
    );
  }
}

/**
 * The equivocation-protection record: one file per task under `<stateDir>/signed/`, created atomically with
 * link(2) so that two daemons sharing the state folder, or a daemon restarted mid-job, cannot both record a
 * different score. Call `checkAndRecord` before EVERY signature; signing the same score again is allowed
 * (retries after a crash must be able to re-sign).
 */
export class EquivocationGuard {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "signed");
    ensureDurableDir(this.dir);
  }

  #file(taskId: string): string {
    return path.join(this.dir, `${safeFileKey(taskId)}.json`);
  }

  /** Records the score durably if none is recorded; throws EquivocationError if a different one is. */
  checkAndRecord(intent: SignedScore): void {
    const record: SignedScore = { taskId: intent.taskId, outputHash: intent.outputHash, score: intent.score };
    const file = this.#file(intent.taskId);
    if (createFileDurableExclusive(file, JSON.stringify(record))) return;
    const existing = readJsonFile<SignedScore>(file)!;
    if (existing.score !== record.score || existing.outputHash.toLowerCase() !== record.outputHash.toLowerCase()) {
      throw new EquivocationError(existing, record);
    }
  }

  recorded(taskId: string): SignedScore | undefined {
    return readJsonFile<SignedScore>(this.#file(taskId));
  }
}
