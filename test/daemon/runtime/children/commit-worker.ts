// Child for crash-recovery.test.ts: a validator-like commit worker built on createDaemonContext. Acts only
// when POQ_TEST_CHILD=commit-worker (hardhat runs every .ts under test/ as a test file).
import { encodeAbiParameters, encodeFunctionData, keccak256, parseAbi, type Address, type Hex } from "viem";
import { loadConfig } from "../../../../daemon/config/load.ts";
import { createDaemonContext } from "../../../../daemon/runtime/context.ts";
import { createStepWorker } from "../../../../daemon/queue/worker.ts";
import { newSalt } from "../../../../daemon/store/salt-store.ts";
import { createLogger } from "../../../../daemon/observe/logger.ts";

const abi = parseAbi([
  "function commitScore(uint256 taskId, bytes32 commitment)",
  "event ScoreCommitted(uint256 indexed taskId, address indexed validator, bytes32 commitment)",
]);

if (process.env.POQ_TEST_CHILD === "commit-worker") {
  const [configPath, emitter, crashAfterSaltFor] = process.argv.slice(2);
  const logger = createLogger({ level: "silent" });
  const ctx = await createDaemonContext({ config: loadConfig({ file: configPath!, env: {} }), logger, sender: { receiptPollMs: 50 } });
  const worker = createStepWorker({
    step: "commit", connection: ctx.workerConnection(), timing: ctx.workerTiming, logger,
    handler: async (job) => {
      const { taskId, round } = job.data;
      const score = 4_242;
      ctx.equivocation.checkAndRecord({ taskId, outputHash: keccak256("0x01"), score });
      const existing = ctx.salts.get(taskId, round);
      const salt: Hex = existing?.salt ?? newSalt();
      const commitment = keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [BigInt(score), salt]));
      if (existing === undefined) ctx.salts.save({ taskId, round, score, salt, commitment });
      // The worst moment to die: the salt is on disk, the commit is not on chain yet.
      if (taskId === crashAfterSaltFor) process.kill(process.pid, "SIGKILL");
      const sent = await ctx.sender.send({
        label: `commit:${taskId}:${round}`, to: emitter as Address,
        data: encodeFunctionData({ abi, functionName: "commitScore", args: [BigInt(taskId), commitment] }),
        expect: { abi, eventName: "ScoreCommitted", where: (args) => args.taskId === BigInt(taskId) },
      });
      process.stdout.write(`committed ${taskId} ${sent.hash}\n`);
    },
  });
  worker.on("ready", () => process.stdout.write("ready\n"));
  process.on("SIGTERM", () => void worker.close().then(() => ctx.close()).then(() => process.exit(0)));
}
