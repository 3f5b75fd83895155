import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";
import { STAKE, startTestContext } from "../../helpers/daemon.ts";
import { startTestNetwork, TEST_QUEUE, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import type { DaemonContext } from "../../../daemon/runtime/context.ts";
import type { RunningRole } from "../../../daemon/roles/role.ts";
import { startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";

const poqCli = new URL("../../../daemon/cli/poq.ts", import.meta.url);
const TASKS = 4;

/**
 * Scaling scoring: one validator account whose score queue is consumed by two separate score-only worker
 * processes (the real CLI, `poq validator start --steps score`, which loads no key), while this process runs
 * the other steps (draw, commit, reveal, finalize, claim) and holds the key and the salts.
 */
describe("validator score workers in separate processes", () => {
  let net: TestNetwork;
  let ctx: DaemonContext | undefined;
  let role: RunningRole | undefined;
  const children: ReturnType<typeof spawnTsChild>[] = [];
  before(async () => {
    // Over WebSocket: newHeads subscriptions instead of a poll loop per daemon (six daemons share this process).
    net = await startTestNetwork(undefined, { webSocket: true, daemon: { queue: TEST_QUEUE } });
  });
  after(async () => {
    for (const c of children) c.child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await role?.stop();
    await ctx?.close();
    await net?.close();
  });

  it("scores every task exactly once across two worker processes; every round finalizes", async () => {
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 4; i++) await net.startValidator();
    const account = await net.validatorAccount();
    // concurrency 1: each worker process takes one job at a time, so both get work. (Commits and reveals have their
    // own deadlineConcurrency: with one shared setting they queued behind each other's receipts and missed the
    // commit window on a busy machine.)
    const configPath = await net.validatorConfig(account, [net.chain.wsUrl], { queue: { ...TEST_QUEUE, concurrency: 1 } });
    const scored: Map<number, string[]> = new Map([[0, []], [1, []]]);
    const started = [false, false];
    for (const w of [0, 1]) {
      children.push(spawnTsChild(poqCli, ["-c", configPath, "validator", "start", "--steps", "score"], (line) => {
        if (!line.startsWith("{")) return;
        const entry = JSON.parse(line) as { msg: string; taskId?: string };
        if (entry.msg === "score worker started") started[w] = true;
        if (entry.msg === "answer scored") scored.get(w)!.push(entry.taskId!);
      }));
    }
    await waitFor(() => started.every(Boolean) || children.some((c) => c.child.exitCode !== null), 40_000, "both score workers to start");
    assert.ok(started.every(Boolean), children.map((c) => c.stderr()).join("\n"));
    ctx = await startTestContext(configPath);
    role = await startValidatorRole(ctx, { steps: ["commit", "reveal", "claim"] });
    await net.startBlocks();

    const ids: bigint[] = [];
    for (let i = 0; i < TASKS; i++) ids.push(await net.createTask(`Question number ${i}: what is the capital of France?`));
    const c = net.contracts;
    await waitFor(async () => (await Promise.all(ids.map((id) => c.taskMarket.read.task([id])))).every((t) => t.status === TaskStatus.Finalized), 60_000, "every task to be finalized");

    const all = [...scored.values()].flat();
    assert.deepEqual([...all].sort(), ids.map(String).sort(), "each task scored exactly once, by the worker processes");
    assert.ok(scored.get(0)!.length > 0 && scored.get(1)!.length > 0, `both workers scored (${scored.get(0)!.length} + ${scored.get(1)!.length})`);
    for (const id of ids) {
      const member = (await roundSeats(net, id, 0)).find((m) => m.account === account.address);
      assert.equal(member?.revealed, true, `the split validator revealed task ${id}`);
      assert.equal(ctx.salts.get(String(id), 0)?.score, member!.score, "the main process sealed the workers' score");
    }
    assert.equal((await c.stakeRegistry.read.stakeInfo([account.address])).amount, STAKE, "not slashed");
    const metrics = await (await fetch(`${ctx.health.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`poq_tasks_revealed_total\\{role="validator"\\} ${TASKS}`));
    assert.doesNotMatch(metrics, /poq_tasks_scored_total\{role="validator"\} [1-9]/, "the main process scored nothing itself");
    assert.deepEqual(await listFailedJobs(ctx.queues), []);
  });
});
