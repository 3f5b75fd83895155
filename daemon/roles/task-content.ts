import { getAbiItem, type Hex } from "viem";
import type { DaemonContext } from "../runtime/context.ts";
import { BadInputError } from "../queue/errors.ts";
import { taskMarketAbi, type Market } from "./market.ts";

/** Reading task content needs only the config and a read-only chain client. */
type ReadContext = Pick<DaemonContext, "config" | "chain">;

const taskCreated = getAbiItem({ abi: taskMarketAbi, name: "TaskCreated" });
const answerSubmitted = getAbiItem({ abi: taskMarketAbi, name: "AnswerSubmitted" });

type TaskEvent = "TaskCreated" | "AnswerSubmitted";

/**
 * Finds the newest `eventName` log of `taskId` in [fromBlock, toBlock], filtering on the indexed task id and
 * walking back in ranges of chain.maxBlockRange (RPC providers cap eth_getLogs ranges) down to `fromBlock` (the
 * task's creation block, never below the deployment): a task is found whatever its age (a late draw or reassign
 * must never hide a task from its committee, which would make every member miss its commit). A task's events
 * are never older than its creation, so the node scans only the task's own blocks.
 */
async function findTaskLog(ctx: ReadContext, market: Market, eventName: TaskEvent, taskId: bigint, fromBlock: bigint, toBlock: bigint) {
  const deployBlock = BigInt(market.manifest.deployBlock);
  const lowest = fromBlock > deployBlock ? fromBlock : deployBlock;
  const range = BigInt(ctx.config.chain.maxBlockRange);
  for (let to = toBlock; to >= lowest; to -= range) {
    const from = to - range + 1n > lowest ? to - range + 1n : lowest;
    const logs = await ctx.chain.client.getLogs({
      address: market.address,
      event: eventName === "TaskCreated" ? taskCreated : answerSubmitted,
      args: { taskId },
      fromBlock: from,
      toBlock: to,
      strict: true,
    } as never);
    const last = (logs as unknown as { args: Record<string, unknown> }[]).at(-1);
    if (last !== undefined) return last.args;
    if (from === lowest) break;
  }
  throw new BadInputError(`no ${eventName} log for task ${taskId} between blocks ${lowest} and ${toBlock}`, { taskId: String(taskId), eventName });
}

/** The prompt bytes of a task, from its TaskCreated log in the task's `createdBlock` (the prompt lives in the event, not in storage). */
export async function readPrompt(ctx: ReadContext, market: Market, taskId: bigint, createdBlock: bigint): Promise<Hex> {
  const args = await findTaskLog(ctx, market, "TaskCreated", taskId, createdBlock, createdBlock);
  if (typeof args.prompt !== "string") throw new BadInputError(`TaskCreated of task ${taskId} carries no prompt`, { taskId: String(taskId) });
  return args.prompt as Hex;
}

/** The answer bytes and URI of a task, from its newest AnswerSubmitted log between its creation and `atOrBelow`. */
export async function readAnswer(ctx: ReadContext, market: Market, taskId: bigint, createdBlock: bigint, atOrBelow: bigint): Promise<{ output: Hex; uri: string; outputHash: Hex }> {
  const args = await findTaskLog(ctx, market, "AnswerSubmitted", taskId, createdBlock, atOrBelow);
  return { output: args.output as Hex, uri: String(args.uri ?? ""), outputHash: args.outputHash as Hex };
}

/**
 * Bytes to text the same way on every validator: UTF-8 with U+FFFD for invalid sequences (deterministic), so
 * odd bytes get a low score rather than a crash. `strict` (the provider's prompt) refuses invalid UTF-8.
 */
export function bytesToText(bytes: Hex, what: string, strict = false): string {
  try {
    return new TextDecoder("utf-8", { fatal: strict }).decode(Buffer.from(bytes.slice(2), "hex"));
  } catch (error) {
    throw new BadInputError(`${what} is not valid UTF-8`, { cause: String(error) });
  }
}
