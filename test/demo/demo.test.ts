import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../../daemon/cli/poq.ts";
import { spawnTsChild, waitFor } from "../helpers/child-process.ts";

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

interface DemoReport {
  tasks: number;
  finalized: number;
  providers: { name: string; kind: string; avgScore: number | null; earned: string; tasks: number }[];
  validators: { name: string; kind: string; earned: string; slashed: string; revealed: number; committees: number }[];
  escrowIn: string;
  creditsOut: string;
  expectations: { name: string; ok: boolean }[];
  ok: boolean;
}

/**
 * `npm run demo` end to end with 3 jobs, as a separate process like a user runs it: every expectation holds, the
 * report has the agreed fields, and nothing it started (Redis, chain server, temp folder) outlives it.
 */
describe("npm run demo", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "poq-demo-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs 3 jobs through real daemons, passes its expectations, writes the report, holds for audits and cleans up on Ctrl-C", async (t) => {
    const reportFile = path.join(dir, "report.json");
    const lines: string[] = [];
    const env = { ...process.env };
    delete env.REDIS_URL; // the demo must start (and stop) its own Redis
    const args = ["--jobs", "3", "--report", reportFile, "--hold"];
    const { child, exited, stderr } = spawnTsChild(new URL("../../scripts/demo.ts", import.meta.url), args, (l) => lines.push(l), env);
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    // A failed assertion must not leave the demo (and its chain, Redis and daemons) running: that kept the whole
    // test run waiting after its last file. Ctrl-C first, as a user would, then SIGKILL.
    t.after(async () => {
      if (code !== undefined) return;
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (code === undefined) child.kill("SIGKILL");
    });
    await waitFor(() => code !== undefined || lines.some((l) => l.includes("keeps running")), 150_000, "the demo to finish its jobs");
    const output = lines.join("\n");
    assert.equal(code, undefined, `demo exited early:\n${output}\n${stderr()}`);

    // While it holds, the printed connection works for the CLI (what `poq audit` and `poq job` users get).
    const jobGet = lines.find((l) => l.includes("job get 1"))!.replace(/^\s*npm run poq -- /, "").split(" ");
    const out: string[] = [];
    assert.equal(await runCli(jobGet, { out: (s) => out.push(s), err: (s) => out.push(s) }), 0, out.join("\n"));
    assert.match(out.join("\n"), /status\s+Finalized/);
    // The printed `job post` (the requester's keystore, the model the demo's providers serve) posts a job.
    const at = lines.findIndex((l) => l.includes("job post"));
    const jobPost = `${lines[at]!.replace(/\\$/, "")} ${lines[at + 1]!}`.replace(/^\s*npm run poq -- /, "").trim().split(/\s+/)
      .map((a) => a.replace(/^"|"$/g, ""));
    const prompt = jobPost.indexOf("--prompt");
    jobPost.splice(prompt, jobPost.indexOf("--fee") - prompt, "--prompt", "Why is the sky blue?");
    const posted: string[] = [];
    const postArgs = jobPost.filter((a) => a !== "--wait").concat("--json");
    assert.equal(await runCli(postArgs, { out: (s) => posted.push(s), err: (s) => posted.push(s) }), 0, posted.join("\n"));
    assert.ok(BigInt(JSON.parse(posted.join("")).taskId) > 3n);
    assert.match(output, /^ {2}export POQ_CHAIN_ID=31337 POQ_RPC_URLS=\S+ POQ_REDIS_URL=\S+ POQ_DEPLOYMENT=\S+ POQ_EVALUATOR_DIR=\S+$/m, "the quick path's environment");
    child.kill("SIGINT");
    assert.equal(await exited, 130, "Ctrl-C stops the demo after tearing down");

    const report = JSON.parse(readFileSync(reportFile, "utf8")) as DemoReport;
    assert.ok(report.tasks >= 3, "at least the 3 jobs asked for");
    assert.equal(report.finalized, report.tasks);
    assert.ok(report.ok && report.expectations.length >= 6 && report.expectations.every((e) => e.ok));
    assert.equal(report.escrowIn, (BigInt(report.tasks) * 10n ** 19n).toString(), "10 POQ per job");
    assert.equal(report.creditsOut, report.escrowIn);
    const provider = (kind: string) => report.providers.find((p) => p.kind === kind)!;
    assert.ok(BigInt(provider("honest").earned) > BigInt(provider("lazy").earned));
    assert.equal(report.providers.reduce((n, p) => n + p.tasks, 0), report.tasks);
    const byKind = (kind: string) => report.validators.filter((v) => v.kind === kind);
    assert.equal(byKind("honest").length, 4);
    const silent = byKind("never-reveals")[0]!;
    assert.ok(BigInt(silent.slashed) > 0n && silent.revealed === 0 && silent.committees >= 1);
    // Per seat, not in total: with 3 jobs an honest validator can sit on fewer committees than the lazy one (or on
    // none: k = 5 of 6 validators per round), and the lazy one often earns nothing at all.
    const lazy = byKind("lazy")[0]!;
    const perSeat = (v: { earned: string; committees: number }) => (v.committees === 0 ? 0n : BigInt(v.earned) / BigInt(v.committees));
    for (const v of byKind("honest")) {
      const seen = JSON.stringify({ honest: v, lazy });
      assert.equal(v.revealed, v.committees, `an honest validator revealed on every committee it sat on (relayed or direct): ${seen}`);
      assert.equal(BigInt(v.slashed), 0n, seen);
      if (v.committees > 0) assert.ok(perSeat(v) > perSeat(lazy), `an honest seat earns more than a lazy one: ${seen}`);
    }
    assert.match(output, /escrow in \(fees\)/);
    assert.match(output, /All expectations hold/);

    // Cleanup: the private Redis is gone and the run's temp folder removed.
    const redisPort = Number(/Redis at redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    assert.ok(redisPort > 0, "the demo names its Redis");
    assert.equal(await portOpen(redisPort), false, "redis-server stopped");
    const tempDir = /encrypted keystores in (\S+)\)/.exec(output)?.[1];
    assert.ok(tempDir !== undefined && !existsSync(tempDir), "temp folder removed");
  });

  it("rejects a bad --jobs with a usage error before starting anything", async () => {
    const { exited, stderr } = spawnTsChild(new URL("../../scripts/demo.ts", import.meta.url), ["--jobs", "0"]);
    assert.notEqual(await exited, 0);
    assert.match(stderr(), /--jobs.*integer from 1 to 100/);
  });
});
