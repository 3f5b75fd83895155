/** What commands write to and exit with; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Thrown by a command to end with a given exit code and message (no stack trace for expected failures). */
export class CliExit extends Error {
  override name = "CliExit";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
