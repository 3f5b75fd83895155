import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";

/** Thrown when a state file exists but cannot be parsed: never guessed around, since it may hold a salt. */
export class CorruptStateError extends Error {
  override name = "CorruptStateError";
  constructor(
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(`State file ${file} is unreadable or corrupt; restore it from backup or move it away by hand`, options);
  }
}

/** Makes a folder (mode 0700: state files hold salts) and fsyncs its parent so the folder itself survives a crash. */
export function ensureDurableDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeTempFile(finalPath: string, data: string): string {
  const temp = `${finalPath}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    const buffer = Buffer.from(data, "utf8");
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/**
 * Replaces `file` with `data` so that after a crash (even SIGKILL or power loss) the file holds either the old
 * or the new content, never a mix: write a temp file, fsync it, rename over the target, fsync the folder (the
 * rename is only durable once the folder entry is on disk). Synchronous on purpose: callers must not broadcast
 * anything that depends on this data before it returns.
 */
export function writeFileDurable(file: string, data: string): void {
  const temp = writeTempFile(file, data);
  try {
    renameSync(temp, file);
  } catch (error) {
    unlinkSync(temp);
    throw error;
  }
  fsyncDir(path.dirname(file));
}

/**
 * Creates `file` with `data` only if it does not exist yet, atomically even across processes: `link(2)` of a
 * fully written temp file fails with EEXIST if another writer got there first. Returns false when the file
 * already existed (the caller then reads what is there).
 */
export function createFileDurableExclusive(file: string, data: string): boolean {
  const temp = writeTempFile(file, data);
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
  fsyncDir(path.dirname(file));
  return true;
}

/** Reads a JSON state file; undefined when absent, CorruptStateError when present but not valid JSON. */
export function readJsonFile<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CorruptStateError(file, { cause: error });
  }
}

/** File-name-safe form of an identifier (task ids are decimal or hex strings; anything else is refused). */
export function safeFileKey(...parts: (string | number | bigint)[]): string {
  const key = parts.map(String).join("_");
  if (!/^[0-9A-Za-z_.-]{1,200}$/.test(key) || key.includes("..")) {
    throw new TypeError(`Identifier "${key}" cannot be used as a state file name`);
  }
  return key;
}
