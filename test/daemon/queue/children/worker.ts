// Child worker process for queue.test.ts. Hardhat runs every .ts under test/ as a test file, so this only acts
// when the parent sets POQ_TEST_CHILD=queue-worker.
import { createRedisConnection } from "../../../../daemon/queue/connection.ts";
import { createStepWorker } from "../../../../daemon/queue/worker.ts";
import { createLogger } from "../../../../daemon/observe/logger.ts";

if (process.env.POQ_TEST_CHILD === "queue-worker") {
  const [redisUrl, mode, workMs] = process.argv.slice(2);
  const worker = createStepWorker({
    step: "score",
    connection: createRedisConnection(redisUrl!, "worker"),
    timing: { lockDurationMs: 2_000, stalledIntervalMs: 2_000, maxStalledCount: 5 },
    concurrency: 2,
    logger: createLogger({ level: "warn", destination: process.stderr as never }),
    handler: async (job) => {
      process.stdout.write(`started ${job.id} ${process.pid}\n`);
      // "hang" simulates a long scoring job that the parent SIGKILLs midway.
      await new Promise((r) => setTimeout(r, mode === "hang" ? 600_000 : Number(workMs)));
      process.stdout.write(`done ${job.id} ${process.pid}\n`);
      return { pid: process.pid };
    },
  });
  worker.on("ready", () => process.stdout.write(`ready ${process.pid}\n`));
  process.on("SIGTERM", () => void worker.close().then(() => process.exit(0)));
}
