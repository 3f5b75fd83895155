import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, TEST_QUEUE, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";

const TASKS = 20;
const BLOCK_MS = 250;
// k = 3 of 3 validators: every validator sits on every committee, so each one commits and reveals 20 times.
const PARAMS = { committeeSize: 3, answerWindow: 60, commitWindow: 40, revealWindow: 40, providerFloor: 0 };

/** A process that keeps one core busy until killed. */
const burnCore = (): ChildProcess => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });

/**
 * No missed reveal under load (issue 12): the validators run while as many other processes as the machine has
 * cores keep every core busy, and 20 tasks arrive back to back at the test's block time. Every validator commits
 * and reveals every task: none slashed, nothing in the failed-jobs views.
 */
describe("validators under CPU load: deadlines first", () => {
  let net: TestNetwork;
  const validators: TestDaemon[] = [];
  const burners: ChildProcess[] = [];
  before(async () => {
    net = await startTestNetwork(PARAMS, { daemon: { queue: TEST_QUEUE }, webSocket: true });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 3; i++) validators.push(await net.startValidator());
    await net.startBlocks(BLOCK_MS);
  });
  after(async () => {
    for (const b of burners) b.kill("SIGKILL");
    await net?.close();
  });

  it(`commits and reveals all ${TASKS} tasks with every core kept busy by other processes`, async () => {
    for (let i = 0; i < Math.max(2, availableParallelism()); i++) burners.push(burnCore());
    const ids: bigint[] = [];
    for (let i = 0; i < TASKS; i++) ids.push(await net.createTask(`Question ${i}: why is the sky blue?`));
    const c = net.contracts;
    const ended = async () => (await Promise.all(ids.map((id) => c.taskMarket.read.task([id])))).every((t) => t.status === TaskStatus.Finalized || t.status === TaskStatus.Refunded);
    await waitFor(ended, 240_000, "every task to end");
    for (const b of burners) b.kill("SIGKILL");

    let missed = 0;
    for (const id of ids) {
      const task = await c.taskMarket.read.task([id]);
      assert.equal(task.status, TaskStatus.Finalized, `task ${id} finalized`);
      assert.equal(task.round, 0, `task ${id} settled in its first round`);
      missed += (await roundSeats(net, id, 0)).filter((m) => !m.revealed).length;
    }
    assert.equal(missed, 0, "no missed reveal");
    for (const v of validators) {
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), [], "no failed job");
      const metrics = await (await fetch(`${v.ctx.health.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`poq_tasks_revealed_total\\{role="validator"\\} ${TASKS}`));
    }
  });
});
