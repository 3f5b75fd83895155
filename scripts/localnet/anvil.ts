// The one way this project starts anvil (Foundry's node, from the @foundry-rs/anvil devDependency): the second EVM
// the tests and bench:gas run the protocol on, next to Hardhat's in-process one (scripts/localnet/chain.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

/** An anvil process this process started, on a port the OS picked. */
export interface AnvilNode {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within a second; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when no anvil binary came with the install (an unsupported platform, or npm skipped optional packages). */
export class AnvilNotInstalledError extends Error {
  override name = "AnvilNotInstalledError";
  constructor(detail: string) {
    super(`anvil is not installed (${detail}): run \`npm ci\` on Node 22 so that @foundry-rs/anvil's platform package is installed`);
  }
}

// The npm package's own launcher (bin.mjs) is a Node wrapper that spawns the binary: killing the wrapper with
// SIGKILL would leave anvil running. The binary itself lives in the platform package, which is resolved here.
const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
  "win32-x64": "@foundry-rs/anvil-win32-amd64",
};

export function anvilBinary(): string {
  const name = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (name === undefined) throw new AnvilNotInstalledError(`no anvil build for ${process.platform}-${process.arch}`);
  try {
    const packageJson = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return path.join(path.dirname(packageJson), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  } catch {
    throw new AnvilNotInstalledError(`${name} is missing`);
  }
}

// Belt and braces: whatever happens to the caller's teardown, no anvil outlives this process.
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((p) => p.kill("SIGKILL")));

/** Process ids of the anvil nodes this process started that have not exited yet (for leak checks in tests). */
export const runningAnvils = (): number[] => [...running].map((p) => p.pid!);

const READY = /Listening on 127\.0\.0\.1:(\d+)/;
const START_TIMEOUT_MS = 30_000;

/**
 * Starts anvil on 127.0.0.1 with a port the OS picks (`--port 0`, read back from its banner: no race with other
 * test files for a "free" port). Its ten unlocked dev accounts hold 10,000 ETH each, chain id 31337 as on
 * Hardhat; blocks are mined per transaction until a caller turns automine off.
 */
export function startAnvil(): Promise<AnvilNode> {
  const child = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (running.delete(child), resolve())));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 1_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let output = "";
    // A node that neither listens nor exits (a changed banner, a wedged machine) must not hang the caller.
    const timer = setTimeout(() => {
      reject(new Error(`anvil did not report a listening port within ${START_TIMEOUT_MS} ms:\n${output}`));
      void stop();
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = READY.exec(output);
      if (ready === null) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stderr!.off("data", onStderr);
      // anvil logs every request: drain its output, never keep it.
      child.stdout!.resume();
      child.stderr!.resume();
      const port = Number(ready[1]);
      resolve({ rpcUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, port, pid: child.pid!, stop });
    };
    child.stdout!.on("data", onData);
    const onStderr = (chunk: Buffer) => (output += chunk.toString());
    child.stderr!.on("data", onStderr);
    child.once("error", (error) => (clearTimeout(timer), running.delete(child), reject(error)));
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`anvil exited with ${code} before it was ready:\n${output}`))));
  });
}
