/** A role running inside a daemon (its watcher and workers); `stop` drains its workers and stops the watcher. */
export interface RunningRole {
  readonly name: string;
  stop(): Promise<void>;
}
