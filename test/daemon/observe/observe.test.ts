import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createLogger, MAX_LOG_STRING_CHARS } from "../../../daemon/observe/logger.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";
import { startHealthServer, type HealthReport } from "../../../daemon/observe/health-server.ts";

function memoryStream() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe("observe/logger", () => {
  it("writes one bounded JSON object per line with taskId/txHash fields and redacted secrets", () => {
    const { stream, lines } = memoryStream();
    const logger = createLogger({ name: "test", destination: stream, level: "debug" });
    logger.info({ taskId: "7", txHash: "0xabc", prompt: "x".repeat(10_000), privateKey: "0xdead" }, "scored");
    logger.debug({ nested: { answer: "y".repeat(5_000), big: 10n ** 30n } }, "deep");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!);
    assert.equal(first.level, "info");
    assert.equal(first.component, "test");
    assert.equal(first.taskId, "7");
    assert.equal(first.txHash, "0xabc");
    assert.equal(first.privateKey, "[redacted]");
    assert.ok(first.prompt.length < MAX_LOG_STRING_CHARS + 40, "long strings are cut");
    assert.ok(lines[0]!.length < 2_000);
    const second = JSON.parse(lines[1]!);
    assert.ok(second.nested.answer.includes("more chars"));
    assert.equal(second.nested.big, (10n ** 30n).toString());
  });

  it("respects the level", () => {
    const { stream, lines } = memoryStream();
    const logger = createLogger({ destination: stream, level: "warn" });
    logger.info("hidden");
    logger.warn("shown");
    assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["shown"]);
  });
});

describe("observe/health-server", () => {
  it("is ready only when every check passes, and serves Prometheus metrics", async () => {
    const metrics = createMetrics({ withProcessMetrics: false });
    let redisUp = true;
    const server = await startHealthServer({
      registry: metrics.registry,
      checkTimeoutMs: 300,
      checks: {
        rpc: async () => {},
        redis: async () => {
          if (!redisUp) throw new Error("ECONNREFUSED");
        },
        evaluator: async () => {},
      },
    });
    try {
      let res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 200);
      let body = (await res.json()) as HealthReport;
      assert.equal(body.ready, true);
      assert.deepEqual(Object.keys(body.checks).sort(), ["evaluator", "redis", "rpc"]);

      redisUp = false;
      res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 503);
      body = (await res.json()) as HealthReport;
      assert.equal(body.ready, false);
      assert.equal(body.checks.redis!.ok, false);
      assert.match(body.checks.redis!.error!, /ECONNREFUSED/);
      assert.equal(body.checks.rpc!.ok, true);

      metrics.tasksSeen.inc({ role: "validator" }, 3);
      metrics.queueDepth.set({ queue: "poq-score", state: "waiting" }, 4);
      metrics.scoringLatencySeconds.observe({ evaluator: "e1" }, 0.2);
      res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /poq_tasks_seen_total\{role="validator"\} 3/);
      assert.match(text, /poq_queue_depth\{queue="poq-score",state="waiting"\} 4/);
      assert.match(text, /poq_scoring_latency_seconds_count\{evaluator="e1"\} 1/);
      for (const name of ["poq_tasks_committed_total", "poq_tasks_revealed_total", "poq_tasks_claimed_total", "poq_rpc_errors_total", "poq_balance_wei"]) {
        assert.ok(text.includes(`# HELP ${name}`), name);
      }
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
      assert.equal((await fetch(`${server.url}/live`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it("fails a hung check after the timeout instead of hanging the probe", async () => {
    const metrics = createMetrics({ withProcessMetrics: false });
    const server = await startHealthServer({
      registry: metrics.registry,
      checkTimeoutMs: 200,
      checks: { rpc: () => new Promise<void>(() => {}) },
    });
    try {
      const started = Date.now();
      const res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as HealthReport).checks.rpc!.error!, /timed out/);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await server.close();
    }
  });
});
