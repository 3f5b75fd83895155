import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { toJson } from "../../audit/json.ts";
import { CliExit, type CliIo } from "../io.ts";
import { visibleLines } from "../visible-text.ts";

// Requester commands: a thin shell over the requester SDK (sdk/client.ts). Heavy modules load inside the actions.

interface ConnectionOptions {
  deployment?: string;
  rpcUrl?: string;
  keystore?: string;
  passwordFile?: string;
  json?: boolean;
}

async function connect(program: Command, opts: ConnectionOptions, withWallet: boolean) {
  const globals = program.opts<{ config?: string; dev?: boolean }>();
  // A daemon config file (-c) supplies defaults, so an operator can post from the machine that runs the daemon.
  const config = globals.config === undefined ? undefined : (await import("../../config/load.ts")).loadConfig({ file: globals.config });
  const deployment = opts.deployment ?? process.env.POQ_DEPLOYMENT ?? config?.deployment;
  const rpcUrl = opts.rpcUrl ?? process.env.POQ_RPC_URL ?? config?.chain.rpcUrls[0];
  if (deployment === undefined) throw new CliExit(64, "no deployment manifest: pass --deployment <file> (or POQ_DEPLOYMENT)");
  if (rpcUrl === undefined) throw new CliExit(64, "no RPC endpoint: pass --rpc-url <url> (or POQ_RPC_URL)");
  const { createPublicClient, createWalletClient, http } = await import("viem");
  const { readDeploymentManifest } = await import("../../../sdk/deployment.ts");
  const { chainFromId } = await import("../../chain/client.ts");
  const { createPoqClient } = await import("../../../sdk/client.ts");
  const manifest = readDeploymentManifest(deployment);
  const chain = chainFromId(manifest.chainId, [rpcUrl]);
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain, transport });
  if (!withWallet) return { manifest, client: createPoqClient({ manifest, publicClient }) };
  const keystorePath = opts.keystore ?? process.env.POQ_KEYSTORE ?? config?.keys.keystorePath;
  if (keystorePath === undefined && !(globals.dev === true && process.env.POQ_DEV_PRIVATE_KEY)) {
    throw new CliExit(64, "no key to pay the fee: pass --keystore <file> (or POQ_KEYSTORE)");
  }
  const { loadSigner } = await import("../../keys/signer.ts");
  const { createLogger } = await import("../../observe/logger.ts");
  const account = await loadSigner({
    keystorePath: keystorePath ?? "",
    passwordFile: opts.passwordFile ?? process.env.POQ_PASSWORD_FILE ?? config?.keys.passwordFile,
    dev: globals.dev === true,
    logger: createLogger({ level: "warn" }),
  });
  const walletClient = createWalletClient({ chain, transport, account });
  return { manifest, client: createPoqClient({ manifest, publicClient, walletClient }) };
}

/** Turns the SDK's typed errors into one-line operator messages (exit 1), everything else into a bug report. */
async function run<T>(action: () => Promise<T>): Promise<T> {
  const { PoqClientError } = await import("../../../sdk/client.ts");
  try {
    return await action();
  } catch (error) {
    if (error instanceof PoqClientError || (error as Error)?.name === "InvalidManifestError") throw new CliExit(1, (error as Error).message);
    throw error;
  }
}

const parseApprove = (value: string): "standing" | "exact" => {
  if (value !== "standing" && value !== "exact") throw new CliExit(64, `--approve must be "standing" or "exact", got "${value}"`);
  return value;
};

const parseTaskId = (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new CliExit(64, `task id must be a decimal integer, got "${value}"`);
  return BigInt(value);
};

/** The settled task as lines; the answer and every other chain-sourced text is made visible (no control codes). */
function printResult(io: CliIo, result: import("../../../sdk/client.ts").JobResult, decimals: number, symbol: string, formatUnits: (v: bigint, d: number) => string) {
  const fmt = (v: bigint) => `${formatUnits(v, decimals)} ${symbol}`;
  const lines = [`task        ${result.taskId}`, `status      ${result.status}${result.refund ? ` (${result.refund.reason}, ${fmt(result.refund.amount)} back${result.refund.treasury > 0n ? `, ${fmt(result.refund.treasury)} to the treasury` : ""})` : ""}`];
  if (result.answer) lines.push(`provider    ${result.answer.provider}`, `answer      ${result.answer.text || result.answer.uri}`);
  if (result.consensus !== undefined) lines.push(`consensus   ${result.consensus} / 10000`);
  if (result.payouts) {
    lines.push(`payouts     provider ${fmt(result.payouts.provider)}, requester refund ${fmt(result.payouts.requesterRefund)}, treasury ${fmt(result.payouts.treasury)}`);
    for (const v of result.payouts.validators) lines.push(`  validator ${v.account} score ${v.score ?? "not revealed"} pay ${fmt(v.pay)}`);
  }
  io.out(visibleLines(lines));
}

export function registerJobCommands(program: Command, io: CliIo): void {
  const job = program.command("job").description("Post inference jobs and read their answers, scores and payouts (requester SDK)");
  const common = (c: Command) =>
    c
      .option("--deployment <file>", "deployment manifest JSON (default: POQ_DEPLOYMENT, or deployment in the -c config)")
      .option("--rpc-url <url>", "JSON-RPC endpoint (default: POQ_RPC_URL, or the first RPC URL in the -c config)")
      .option("--json", "print JSON instead of text");

  common(job.command("post"))
    .description("Escrow a fee and post a prompt for a model; prints the task id (approves fees when needed)")
    .requiredOption("--model <name>", "model name as providers register it")
    .option("--prompt <text>", "the prompt (public: it goes on-chain)")
    .option("--prompt-file <file>", "read the prompt from a file")
    .requiredOption("--fee <tokens>", "fee in whole tokens, decimals allowed (e.g. 10 or 0.5)")
    .option("--evaluator <id>", "evaluator id (default: the manifest's first active evaluator)")
    .option("--keystore <file>", "encrypted keystore of the paying account (default: POQ_KEYSTORE or the -c config)")
    .option("--password-file <file>", "keystore password file (default: POQ_PASSWORD_FILE or the -c config; else prompts)")
    .option("--approve <kind>", "when the allowance is below the fee: standing (10 fees, then nine jobs need no approve) or exact (this fee)", parseApprove, "standing")
    .option("--wait", "wait for the result and print it")
    .option("--timeout <seconds>", "with --wait: give up after this long", "300")
    .action(async (opts: ConnectionOptions & { model: string; prompt?: string; promptFile?: string; fee: string; evaluator?: string; approve: "standing" | "exact"; wait?: boolean; timeout: string }) => {
      if ((opts.prompt === undefined) === (opts.promptFile === undefined)) throw new CliExit(64, "give exactly one of --prompt and --prompt-file");
      const prompt = opts.prompt ?? readFileSync(opts.promptFile!, "utf8");
      const { isHex, parseUnits, formatUnits } = await import("viem");
      if (opts.evaluator !== undefined && !(isHex(opts.evaluator) && opts.evaluator.length === 66)) throw new CliExit(64, "--evaluator must be a 0x-prefixed 32-byte id");
      const { manifest, client } = await connect(program, opts, true);
      let fee: bigint;
      try {
        fee = parseUnits(opts.fee, manifest.token.decimals);
      } catch {
        throw new CliExit(64, `--fee must be a decimal number of tokens, got "${opts.fee}"`);
      }
      const posted = await run(() => client.postJob({ model: opts.model, prompt, fee, evaluatorId: opts.evaluator as `0x${string}` | undefined, approve: opts.approve }));
      if (!opts.wait) {
        if (opts.json) io.out(toJson(posted));
        else io.out(visibleLines([`task        ${posted.taskId}`, `provider    drawn from block ${posted.seedBlock}, answers by block ${posted.answerDeadline}`, `tx          ${posted.transactionHash}`]));
        return;
      }
      const result = await run(() => client.waitForResult(posted.taskId, { timeoutMs: Number(opts.timeout) * 1000 }));
      if (opts.json) io.out(toJson(result));
      else printResult(io, result, manifest.token.decimals, manifest.token.symbol, formatUnits);
    });

  common(job.command("wait"))
    .description("Wait until a task is finalized or refunded, then print its answer, consensus and payouts")
    .argument("<taskId>", "task id")
    .option("--timeout <seconds>", "give up after this long (exit 1)", "300")
    .action(async (taskId: string, opts: ConnectionOptions & { timeout: string }) => {
      const id = parseTaskId(taskId);
      const { manifest, client } = await connect(program, opts, false);
      const { formatUnits } = await import("viem");
      const result = await run(() => client.waitForResult(id, { timeoutMs: Number(opts.timeout) * 1000 }));
      if (opts.json) io.out(toJson(result));
      else printResult(io, result, manifest.token.decimals, manifest.token.symbol, formatUnits);
    });

  common(job.command("get"))
    .description("Print a task's current state and committee scores without waiting")
    .argument("<taskId>", "task id")
    .action(async (taskId: string, opts: ConnectionOptions) => {
      const id = parseTaskId(taskId);
      const { manifest, client } = await connect(program, opts, false);
      const [task, score] = await run(() => Promise.all([client.getTask(id), client.getScore(id)]));
      if (opts.json) return io.out(toJson({ ...task, members: score.members }));
      const { formatUnits } = await import("viem");
      const lines = [`task        ${task.taskId}`, `status      ${task.status} (round ${task.round})`, `requester   ${task.requester}`, `provider    ${task.provider}`,
        `fee         ${formatUnits(task.fee, manifest.token.decimals)} ${manifest.token.symbol}`, `model id    ${task.modelId}`, `evaluator   ${task.evaluatorId}`];
      if (task.consensus !== undefined) lines.push(`consensus   ${task.consensus} / 10000`);
      for (const m of score.members) lines.push(`  member ${m.account} ${m.revealed ? `score ${m.score}` : "not revealed"}`);
      io.out(visibleLines(lines));
    });
}
