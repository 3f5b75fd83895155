// Child for shutdown.test.ts; acts only when POQ_TEST_CHILD=shutdown (hardhat runs every .ts under test/).
import { installShutdownHandlers } from "../../../../daemon/runtime/shutdown.ts";
import { createLogger } from "../../../../daemon/observe/logger.ts";

if (process.env.POQ_TEST_CHILD === "shutdown") {
  const mode = process.argv[2];
  const keepAlive = setInterval(() => {}, 1_000);
  installShutdownHandlers({
    logger: createLogger({ level: "silent" }),
    graceMs: 500,
    stop: async () => {
      if (mode === "hang") return new Promise<void>(() => {});
      await new Promise((r) => setTimeout(r, 100));
      clearInterval(keepAlive);
      process.stdout.write("drained\n");
    },
  });
  process.stdout.write("ready\n");
}
