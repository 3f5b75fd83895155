import { writeFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import type { Address } from "viem";
import type { AuditChain } from "../../audit/connect.ts";
import { CliExit, type CliIo } from "../io.ts";
import { visibleText } from "../visible-text.ts";

// Heavy modules (viem clients, evaluators) load inside the actions so `poq --help` stays fast.
const audit = async () => ({
  ...(await import("../../audit/connect.ts")),
  ...(await import("../../audit/errors.ts")),
  ...(await import("../../audit/json.ts")),
  ...(await import("../../audit/format.ts")),
});

interface ChainOptions {
  deployment?: string;
  rpcUrl?: string;
  maxBlockRange?: number;
  json?: boolean;
}

const positiveInteger = (what: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value) || BigInt(value) < 1n) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return BigInt(value);
};
const port = (value: string) => {
  if (!/^[0-9]+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError("must be a TCP port from 0 to 65535 (0 = any free port)");
  return Number(value);
};
const blockNumber = (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError("must be a block number");
  return BigInt(value);
};
// A format check only: viem (checksumming) loads inside the action, so `poq --help` stays fast.
const address = (value: string): Address => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError("must be a 0x-prefixed 20-byte address");
  return value as Address;
};

function withChainOptions(command: Command): Command {
  return command
    .option("--deployment <file>", "deployment manifest JSON (default: POQ_DEPLOYMENT)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (default: POQ_RPC_URL)")
    .option("--max-block-range <n>", "largest block span per eth_getLogs request", (v) => Number(positiveInteger("--max-block-range")(v)))
    .option("--json", "machine-readable output");
}

/**
 * Runs an audit action with a connected chain; the auditor's typed errors (and evaluator file errors) end as a
 * one-line message with exit code 1, anything else propagates as a bug.
 */
async function withChain(options: ChainOptions, action: (chain: AuditChain) => Promise<void>): Promise<void> {
  const { connectAudit, AuditError } = await audit();
  const { EvaluatorError } = await import("../../evaluation/evaluator.ts");
  const { AttestationRecordError } = await import("../../../sdk/attestation-record.ts");
  let chain: AuditChain | undefined;
  try {
    chain = await connectAudit({ deployment: options.deployment, rpcUrl: options.rpcUrl, maxBlockRange: options.maxBlockRange });
    await action(chain);
  } catch (error) {
    if (error instanceof AuditError || error instanceof EvaluatorError || error instanceof AttestationRecordError) throw new CliExit(1, error.message);
    // A chain read that failed after connecting (endpoint went away, timeout): viem's short message is enough.
    const { BaseError } = await import("viem");
    if (error instanceof BaseError) throw new CliExit(1, `chain read failed: ${error.shortMessage}`);
    throw error;
  } finally {
    await chain?.close();
  }
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const group = program.command("audit").description("Read-only auditor tools: tasks, scores, attestations, payouts, re-scoring, dashboard");

  withChainOptions(group.command("task"))
    .description("A task's prompt, answer, committee scores, attestation checks, consensus and payouts")
    .argument("<id>", "task id", positiveInteger("task id"))
    .option("--attestations <sources...>", "published attestations: .jsonl files or validators' /attestations URLs")
    .option("--rescore", "re-run the task's evaluator locally and compare with the consensus")
    .option("--evaluator-dir <dir>", "folder of the evaluator manifest and files (for --rescore)")
    .action(async (taskId: bigint, opts: ChainOptions & { attestations?: string[]; rescore?: boolean; evaluatorDir?: string }) => {
      const { AuditConfigError, toJson, formatTaskAudit } = await audit();
      if (opts.rescore && opts.evaluatorDir === undefined) throw new CliExit(1, new AuditConfigError("--rescore needs --evaluator-dir <dir>").message);
      await withChain(opts, async (chain) => {
        const { readTask } = await import("../../audit/chain-reader.ts");
        const { auditTask } = await import("../../audit/task-audit.ts");
        const { loadAttestations } = await import("../../audit/attestations.ts");
        const { task } = await readTask(chain, taskId);
        const attestations = opts.attestations && { domain: chain.domain, ...(await loadAttestations(opts.attestations, taskId)) };
        const report = await auditTask(task, attestations);
        const rescore = opts.rescore ? await (await import("../../audit/rescore.ts")).rescoreTask(task, opts.evaluatorDir!) : undefined;
        if (opts.json) io.out(toJson({ ...report, rescore }, 2));
        else io.out(formatTaskAudit(report, chain.manifest.token, rescore));
      });
    });

  for (const kind of ["provider", "validator"] as const) {
    withChainOptions(group.command(kind))
      .description(kind === "provider" ? "A provider's jobs, consensus scores, earnings and timeout slashes" : "A validator's scores, agreement with consensus, earnings and slashes")
      .argument("<address>", `${kind} address`, address)
      .option("--from-block <n>", "first block to scan (default: the deployment block)", blockNumber)
      .action(async (account: Address, opts: ChainOptions & { fromBlock?: bigint }) => {
        const { toJson, formatParticipant } = await audit();
        await withChain(opts, async (chain) => {
          const { auditParticipant } = await import("../../audit/participant.ts");
          const report = await auditParticipant(chain, kind, account, { fromBlock: opts.fromBlock });
          io.out(opts.json ? toJson(report, 2) : formatParticipant(report, chain.manifest.token));
        });
      });
  }

  withChainOptions(group.command("export"))
    .description("Every task with members, scores, consensus and payouts, as JSON for offline analysis")
    .option("--from-block <n>", "first block to scan (default: the deployment block)", blockNumber)
    .option("--out <file>", "write to a file instead of stdout")
    .action(async (opts: ChainOptions & { fromBlock?: bigint; out?: string }) => {
      const { toJson } = await audit();
      await withChain(opts, async (chain) => {
        const { exportHistory } = await import("../../audit/export.ts");
        const history = await exportHistory(chain, { fromBlock: opts.fromBlock });
        const text = toJson(history, 2);
        if (opts.out === undefined) return io.out(text);
        writeFileSync(opts.out, `${text}\n`);
        io.out(visibleText(`wrote ${history.tasks.length} task(s) from blocks ${history.fromBlock}-${history.toBlock} to ${opts.out}`));
      });
    });

  withChainOptions(group.command("serve"))
    .description("Read-only web dashboard over the chain: recent tasks, task detail, provider quality, validator agreement")
    .option("--port <n>", "TCP port (0 = any free port)", port, 9_080)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--attestations <sources...>", "published attestations shown in the task detail")
    .option("--model <names...>", "model names to show instead of their ids (an on-chain model id is keccak256 of the name)")
    .action(async (opts: ChainOptions & { port: number; host: string; attestations?: string[]; model?: string[] }) => {
      await withChain(opts, async (chain) => {
        const { startDashboard } = await import("../../audit/dashboard/server.ts");
        const dashboard = await startDashboard({ chain, host: opts.host, port: opts.port, attestationSources: opts.attestations ?? [], modelNames: opts.model ?? [] });
        io.out(opts.json ? JSON.stringify({ url: dashboard.url }) : `dashboard on ${dashboard.url} (read-only; Ctrl-C stops)`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await dashboard.close();
      });
    });
}
