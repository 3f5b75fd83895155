// Child for kill-validator.test.ts: a whole validator daemon (context + role) in its own process, so the test
// can SIGKILL it. Acts only when POQ_TEST_CHILD=validator-daemon (hardhat runs every .ts under test/).
import { loadConfig } from "../../../../daemon/config/load.ts";
import { createDaemonContext } from "../../../../daemon/runtime/context.ts";
import { installShutdownHandlers } from "../../../../daemon/runtime/shutdown.ts";
import { startValidatorRole } from "../../../../daemon/roles/validator/validator-role.ts";
import { testLogger } from "../../../helpers/daemon.ts";

if (process.env.POQ_TEST_CHILD === "validator-daemon") {
  const logger = testLogger();
  const ctx = await createDaemonContext({ config: loadConfig({ file: process.argv[2]!, env: {} }), logger, sender: { receiptPollMs: 50 } });
  const role = await startValidatorRole(ctx);
  installShutdownHandlers({ logger, stop: async () => { await role.stop(); await ctx.close(); } });
  process.stdout.write(`ready ${ctx.account.address}\n`);
}
