// The one way this project starts a private Redis: the demo, the benchmarks and the tests all come through here.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A redis-server this process started: own free port, own temp folder (AOF on, fsync always). */
export interface LocalRedis {
  url: string;
  port: number;
  dir: string;
  /** Graceful stop (SIGTERM: Redis flushes its AOF); `start()` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops for good and removes the data folder. */
  dispose(): Promise<void>;
}

/** Thrown when the redis-server binary is not installed; the message is the one line that says how to fix it. */
export class RedisNotInstalledError extends Error {
  override name = "RedisNotInstalledError";
  constructor() {
    super("redis-server is not installed (or not on PATH): run `sudo apt-get install redis-server`, or set REDIS_URL to a running Redis");
  }
}

/** A TCP port that was free a moment ago (the OS picks it; a race with another process is possible but rare). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Belt and braces: whatever happens to the caller's teardown, no redis-server outlives this process.
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((p) => p.kill("SIGKILL")));

function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no", "--daemonize", "no",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        running.add(child);
        child.once("exit", () => running.delete(child));
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.resume();
    child.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "ENOENT" ? new RedisNotInstalledError() : error));
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
  });
}

/** Starts a private redis-server on a free port with its own temp folder. */
export async function startLocalRedis(): Promise<LocalRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), "poq-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    child = await launch(port, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null) return;
    const exited = new Promise((r) => current.once("exit", r));
    current.kill("SIGTERM");
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start: async () => {
      if (child === undefined) child = await launch(port, dir);
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Redis a local network uses: REDIS_URL when set (nothing is started, nothing stopped), else a private one.
 * The daemons keep their queues apart with per-account key prefixes, so a shared Redis is safe.
 */
export async function redisForLocalnet(env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; dispose(): Promise<void> }> {
  const external = env.REDIS_URL;
  if (external !== undefined && external !== "") return { url: external, dispose: async () => {} };
  return startLocalRedis();
}
