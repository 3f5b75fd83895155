import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const POQ_CLI = fileURLToPath(new URL("../../daemon/cli/poq.ts", import.meta.url));
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

export interface DaemonProcess {
  name: string;
  child: ChildProcess;
  /** user + system CPU of the process so far, in ms (from /proc). */
  cpuMs(): number;
  /** Peak resident set size so far, in MB (VmHWM from /proc). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** user + system CPU of process `pid` so far, in ms (from /proc); after it exited, the last reading. */
export function processCpu(pid: number): () => number {
  let last = 0;
  return () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      last = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
    } catch {
      // exited: keep the last reading
    }
    return last;
  };
}

/**
 * Starts `poq -c <config> <role> start` as its own process (as in production) and resolves once it runs.
 * `cpuProfileDir`: the process writes a V8 CPU profile there when it exits (node --cpu-prof), to see where its time goes.
 */
export async function startDaemonProcess(name: string, configPath: string, role: "validator" | "provider", options: { timeoutMs?: number; cpuProfileDir?: string } = {}): Promise<DaemonProcess> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const profile = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", POQ_CLI, "-c", configPath, role, "start"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("running as")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
  });
  const proc = (file: string) => readFileSync(`/proc/${child.pid}/${file}`, "utf8");
  const cpu = processCpu(child.pid!);
  let lastRss = 0;
  return {
    name,
    child,
    cpuMs: cpu,
    peakRssMb() {
      try {
        lastRss = Number(/VmHWM:\s+(\d+) kB/.exec(proc("status"))?.[1] ?? 0) / 1024;
      } catch {
        // exited: keep the last reading
      }
      return lastRss;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
