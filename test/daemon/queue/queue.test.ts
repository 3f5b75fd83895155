import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";
import { createRedisConnection, pingRedis } from "../../../daemon/queue/connection.ts";
import { closeStepQueues, createStepQueues, enqueueStep, type StepQueues } from "../../../daemon/queue/queues.ts";
import { createStepWorker } from "../../../daemon/queue/worker.ts";
import { reclaimOrphanedJobs } from "../../../daemon/queue/orphans.ts";
import { BadInputError, TransientError } from "../../../daemon/queue/errors.ts";
import { listFailedJobs, updateQueueDepth } from "../../../daemon/queue/failed-jobs.ts";
import { jobIdFor } from "../../../daemon/queue/names.ts";
import { assertRecoveryFitsWindow, worstCaseRecoveryMs } from "../../../daemon/queue/timing.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";

const fastTiming = { lockDurationMs: 2_000, stalledIntervalMs: 2_000, maxStalledCount: 5 };
const workerUrl = new URL("./children/worker.ts", import.meta.url);

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _e, done) {
      String(chunk).split("\n").filter(Boolean).forEach((l) => lines.push(JSON.parse(l)));
      done();
    },
  });
  return { logger: createLogger({ destination, level: "warn" }), lines };
}

describe("queue (real redis-server)", () => {
  let redis: TestRedis;
  let producer: Redis;
  let queues: StepQueues;
  const connections: Redis[] = [];
  const workerConnection = () => {
    const c = createRedisConnection(redis.url, "worker");
    connections.push(c);
    return c;
  };

  before(async () => {
    redis = await startTestRedis();
    producer = createRedisConnection(redis.url, "producer");
    queues = createStepQueues(producer, { attempts: 4, backoffMs: 50 });
  });
  after(async () => {
    await closeStepQueues(queues);
    for (const c of [producer, ...connections]) c.disconnect();
    await redis.dispose();
  });

  it("names jobs idempotently: the same step, task and round is one job", async () => {
    assert.equal(jobIdFor("commit", 42n, 1), "commit-42-1");
    assert.throws(() => jobIdFor("commit", "4:2", 0), TypeError);
    await enqueueStep(queues, { step: "reveal", data: { taskId: "1", round: 0 }, runAtMs: Date.now() + 60_000 });
    await enqueueStep(queues, { step: "reveal", data: { taskId: "1", round: 0 }, runAtMs: Date.now() + 60_000 });
    assert.equal(await queues.reveal.getDelayedCount(), 1);
    await pingRedis(producer);
  });

  it("retries transient faults with exponential backoff, fails bad input at once and surfaces it", async () => {
    const { logger, lines } = logSink();
    const metrics = createMetrics({ withProcessMetrics: false });
    const attempts = new Map<string, number[]>();
    const worker = createStepWorker({
      step: "commit",
      connection: workerConnection(),
      timing: fastTiming,
      logger,
      metrics,
      handler: async (job) => {
        attempts.set(job.data.taskId, [...(attempts.get(job.data.taskId) ?? []), Date.now()]);
        if (job.data.taskId === "bad") throw new BadInputError("score out of range", { score: 20_000 });
        if (job.data.taskId === "down") throw new TransientError("RPC down for good");
        if (attempts.get(job.data.taskId)!.length < 3) throw new TransientError("RPC timeout");
        return "ok";
      },
    });
    try {
      await enqueueStep(queues, { step: "commit", data: { taskId: "flaky", round: 0 } });
      await enqueueStep(queues, { step: "commit", data: { taskId: "bad", round: 0 } });
      await enqueueStep(queues, { step: "commit", data: { taskId: "down", round: 0 } });
      await waitFor(async () => (await queues.commit.getJob("commit-flaky-0"))?.finishedOn !== undefined, 10_000, "flaky job");
      await waitFor(async () => (await queues.commit.getFailedCount()) === 2, 10_000, "bad and down jobs to fail");
      const flaky = (await queues.commit.getJob("commit-flaky-0"))!;
      assert.equal(flaky.returnvalue, "ok");
      const times = attempts.get("flaky")!;
      assert.equal(times.length, 3);
      assert.ok(times[2]! - times[1]! >= times[1]! - times[0]!, "backoff grows");
      assert.equal(attempts.get("bad")!.length, 1, "bad input is not retried");
      assert.equal(attempts.get("down")!.length, 4, "transient faults use every attempt");
      const failed = await listFailedJobs(queues);
      assert.deepEqual(failed.map((f) => f.taskId).sort(), ["bad", "down"]);
      assert.match(failed.find((f) => f.taskId === "bad")!.reason, /score out of range/);
      const text = await metrics.registry.metrics();
      assert.match(text, /poq_jobs_failed_total\{queue="poq-commit",reason="bad-input"\} 1/);
      assert.match(text, /poq_jobs_failed_total\{queue="poq-commit",reason="attempts-exhausted"\} 1/);
      assert.ok(lines.some((l) => l.level === "error" && l.taskId === "bad" && l.reason === "bad-input"));
      assert.equal(lines.filter((l) => l.level === "warn" && l.taskId === "down").length, 3, "each retried attempt is a warning");
      await updateQueueDepth(queues, metrics);
      assert.match(await metrics.registry.metrics(), /poq_queue_depth\{queue="poq-commit",state="failed"\} 2/);
    } finally {
      await worker.close();
    }
  });

  it("runs a delayed job no earlier than its phase opens", async () => {
    const { logger } = logSink();
    let ranAt = 0;
    const worker = createStepWorker({
      step: "reveal", connection: workerConnection(), timing: fastTiming, logger,
      handler: async () => void (ranAt = Date.now()),
    });
    try {
      const runAtMs = Date.now() + 700;
      await enqueueStep(queues, { step: "reveal", data: { taskId: "9", round: 0 }, runAtMs });
      await waitFor(() => ranAt > 0, 5_000, "delayed reveal");
      assert.ok(ranAt >= runAtMs, `ran ${runAtMs - ranAt} ms early`);
    } finally {
      await worker.close();
    }
  });

  it("recovers a SIGKILLed worker's job in another, already running process within the stall bound", async () => {
    const bound = worstCaseRecoveryMs(fastTiming);
    assert.ok(bound <= 6_000);
    const started: string[] = [];
    const done: string[] = [];
    const ready: string[] = [];
    const onLine = (line: string) => {
      if (line.startsWith("started")) started.push(line);
      if (line.startsWith("done")) done.push(line);
      if (line.startsWith("ready")) ready.push(line);
    };
    const env = { POQ_TEST_CHILD: "queue-worker" };
    const victim = spawnTsChild(workerUrl, [redis.url, "hang", "0"], onLine, env);
    await enqueueStep(queues, { step: "score", data: { taskId: "kill", round: 0 } });
    await waitFor(() => started.length === 1, 15_000, `victim to start the job ${victim.stderr()}`);
    // The rescuer is up before the kill, as in production; the job is locked by the victim until then.
    const rescuer = spawnTsChild(workerUrl, [redis.url, "work", "10"], onLine, env);
    try {
      await waitFor(() => ready.length === 2, 15_000, `rescuer ready ${rescuer.stderr()}`);
      victim.child.kill("SIGKILL");
      await victim.exited;
      const killedAt = Date.now();
      await waitFor(() => done.length === 1, 15_000, `rescuer to finish the job ${rescuer.stderr()}`);
      const recoveryMs = Date.now() - killedAt;
      assert.ok(done[0]!.includes(String(rescuer.child.pid)));
      assert.ok(recoveryMs <= bound + 2_000, `recovered after ${recoveryMs} ms, bound ${bound} ms`);
      console.log(`    SIGKILL recovery: ${recoveryMs} ms (lockDuration ${fastTiming.lockDurationMs} ms, stalledInterval ${fastTiming.stalledIntervalMs} ms, bound ${bound} ms)`);
      // The child prints "done" just before BullMQ records the completion: wait for the record.
      await waitFor(async () => (await queues.score.getJob("score-kill-0"))?.finishedOn !== undefined, 5_000, "completion record");
      const job = (await queues.score.getJob("score-kill-0"))!;
      assert.equal(await job.getState(), "completed");
      assert.equal(job.attemptsMade, 1, "the stall did not count as a failed attempt");
    } finally {
      rescuer.child.kill("SIGTERM");
      await rescuer.exited;
    }
  });

  it("a restarted key holder takes back the commit job its crashed run left active at once, not after the lock expires", async () => {
    const slowLocks = { lockDurationMs: 60_000, stalledIntervalMs: 60_000, maxStalledCount: 5 };
    const crashed = createStepWorker({ step: "commit", connection: workerConnection(), handler: () => new Promise(() => {}), timing: slowLocks, logger: createLogger({ level: "silent" }) });
    await enqueueStep(queues, { step: "commit", data: { taskId: "77", round: 0 } });
    await waitFor(async () => (await queues.commit.getActiveCount()) === 1, 10_000, "the job to be taken");
    await crashed.close(true); // gone without releasing its lock, as after SIGKILL
    assert.equal(await reclaimOrphanedJobs([queues.commit]), 1);
    const done: string[] = [];
    const restarted = createStepWorker({ step: "commit", connection: workerConnection(), handler: async (job) => void done.push(job.data.taskId), timing: slowLocks, logger: createLogger({ level: "silent" }) });
    try {
      await waitFor(() => done.length === 1, 5_000, "the reclaimed job to run (its lock had 60 s left)");
      assert.deepEqual(done, ["77"]);
    } finally {
      await restarted.close();
    }
  });

  it("shares one queue between two worker processes, each job done once", async () => {
    const done = new Map<string, string>();
    const ready = new Set<string>();
    const onLine = (line: string) => {
      const [kind, id, pid] = line.split(" ");
      if (kind === "ready") ready.add(id!);
      if (kind === "done") {
        assert.equal(done.has(id!), false, `job ${id} ran twice`);
        done.set(id!, pid!);
      }
    };
    const env = { POQ_TEST_CHILD: "queue-worker" };
    const a = spawnTsChild(workerUrl, [redis.url, "work", "40"], onLine, env);
    const b = spawnTsChild(workerUrl, [redis.url, "work", "40"], onLine, env);
    try {
      await waitFor(() => ready.size === 2, 15_000, "both workers ready");
      for (let i = 0; i < 40; i++) await enqueueStep(queues, { step: "score", data: { taskId: `shared${i}`, round: 0 } });
      await waitFor(() => done.size === 40, 20_000, "40 jobs");
      const perProcess = new Set(done.values());
      assert.equal(perProcess.size, 2, "both processes took work");
    } finally {
      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
    }
  });

  it("loses nothing when Redis stops and restarts mid-run", async () => {
    const { logger } = logSink();
    const processed = new Set<string>();
    const worker = createStepWorker({
      step: "claim", connection: workerConnection(), timing: fastTiming, concurrency: 2, logger,
      handler: async (job) => {
        await new Promise((r) => setTimeout(r, 30));
        processed.add(job.data.taskId);
      },
    });
    // The watcher's contract: an enqueue that fails is retried (its cursor does not move), so keep trying.
    const enqueueUntilAccepted = async (taskId: string) => {
      for (;;) {
        try {
          return await enqueueStep(queues, { step: "claim", data: { taskId, round: 0 } });
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    try {
      for (let i = 0; i < 30; i++) await enqueueUntilAccepted(`before${i}`);
      await waitFor(() => processed.size >= 5, 10_000, "some progress before the outage");
      await redis.stop();
      const during = Promise.all(Array.from({ length: 10 }, (_, i) => enqueueUntilAccepted(`during${i}`)));
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.start();
      await during;
      await waitFor(() => processed.size === 40, 20_000, `all 40 jobs (have ${processed.size})`);
      assert.equal(await queues.claim.getFailedCount(), 0);
    } finally {
      await worker.close();
    }
  });

  it("refuses stall settings that do not fit the protocol window", () => {
    assert.doesNotThrow(() => assertRecoveryFitsWindow({ lockDurationMs: 5_000, stalledIntervalMs: 5_000, maxStalledCount: 5 }, 60_000, 10_000));
    assert.throws(
      () => assertRecoveryFitsWindow({ lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1 }, 60_000),
      /does not fit the 60000 ms window/,
    );
  });
});
