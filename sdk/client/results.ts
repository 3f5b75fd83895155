import { hexToBytes, type Address, type Hex, type PublicClient } from "viem";
import { getTaskMarket, RefundReason, TaskStatus } from "../contracts.ts";
import type { DeploymentManifest } from "../deployment.ts";
import { UnknownTaskError } from "./errors.ts";
import { readRoundScores, RoundNotDrawnError } from "../rounds.ts";

export type TaskStatusName = "Assigned" | "Answered" | "Committee" | "Finalized" | "Refunded";
export type RefundReasonName = keyof typeof RefundReason;

const STATUS_NAMES = Object.fromEntries(Object.entries(TaskStatus).map(([name, value]) => [value, name])) as Record<number, TaskStatusName>;
const REASON_NAMES = Object.fromEntries(Object.entries(RefundReason).map(([name, value]) => [value, name])) as Record<number, RefundReasonName>;

/**
 * A task as the market stores it, with the status as a name. The answer and its output hash are not stored: they
 * are in the task's AnswerSubmitted event (`JobResult.answer` once settled, or `events()` meanwhile).
 */
export interface TaskInfo {
  taskId: bigint;
  status: TaskStatusName;
  round: number;
  requester: Address;
  /**
   * The provider of the current attempt: materialized, or the one its pending draw selects (the zero address until
   * the attempt's seed block is in the chain, or when the draw can no longer select anyone).
   */
  provider: Address;
  fee: bigint;
  modelId: Hex;
  evaluatorId: Hex;
  /** Set once Finalized (basis points, 0..10 000). */
  consensus: number | undefined;
  answerDeadline: bigint;
  commitEnd: bigint;
  revealEnd: bigint;
}

export interface CommitteeMemberScore {
  account: Address;
  /** Revealed score; undefined when the member did not reveal (yet). */
  score: number | undefined;
  revealed: boolean;
}

export interface TaskScore {
  taskId: bigint;
  status: TaskStatusName;
  round: number;
  /** The consensus score once Finalized; undefined before (and for refunded tasks). */
  consensus: number | undefined;
  /** Members of the current (for a settled task: the final) round. Empty before the committee is drawn. */
  members: CommitteeMemberScore[];
}

export interface JobAnswer {
  text: string;
  bytes: Uint8Array;
  uri: string;
  outputHash: Hex;
  provider: Address;
}

export interface JobPayouts {
  provider: bigint;
  requesterRefund: bigint;
  treasury: bigint;
  /** `pay[i]` belongs to member i of the final round. */
  validators: (CommitteeMemberScore & { pay: bigint })[];
}

/** What `waitForResult` returns once a task is settled. */
export interface JobResult {
  taskId: bigint;
  status: "Finalized" | "Refunded";
  task: TaskInfo;
  /** The answer, from its AnswerSubmitted event (undefined when no provider answered). */
  answer: JobAnswer | undefined;
  consensus: number | undefined;
  payouts: JobPayouts | undefined;
  /**
   * A refund's `amount` is what the requester got back; `treasury` is the rest of the escrow, credited to the treasury
   * in the same settlement (0 for every reason but NoCommittee, where the task settles unjudged: PROTOCOL.md).
   */
  refund: { reason: RefundReasonName; amount: bigint; treasury: bigint } | undefined;
  /** Committee members slashed for not revealing, over all rounds. */
  nonRevealers: Address[];
}

async function assertTaskExists(manifest: DeploymentManifest, publicClient: PublicClient, taskId: bigint): Promise<void> {
  const count = await getTaskMarket(manifest.contracts.taskMarket, { public: publicClient }).read.taskCount();
  if (taskId < 1n || taskId > count) throw new UnknownTaskError(taskId, count);
}

export async function getTask(manifest: DeploymentManifest, publicClient: PublicClient, taskId: bigint): Promise<TaskInfo> {
  await assertTaskExists(manifest, publicClient, taskId);
  const market = getTaskMarket(manifest.contracts.taskMarket, { public: publicClient });
  const [t, provider] = await Promise.all([market.read.task([taskId]), market.read.assignedProvider([taskId])]);
  const status = STATUS_NAMES[t.status] ?? "Assigned";
  return {
    taskId,
    status,
    round: t.round,
    requester: t.requester,
    provider,
    fee: t.fee,
    modelId: t.modelId,
    evaluatorId: t.evaluatorId,
    consensus: status === "Finalized" ? t.consensus : undefined,
    answerDeadline: t.answerDeadline,
    commitEnd: t.commitEnd,
    revealEnd: t.revealEnd,
  };
}

export async function getScore(manifest: DeploymentManifest, publicClient: PublicClient, taskId: bigint): Promise<TaskScore> {
  const task = await getTask(manifest, publicClient, taskId);
  const drawn = task.commitEnd > 0n; // a committee was drawn for this task
  const members = drawn
    ? await readRoundScores(publicClient, manifest.contracts.taskMarket, taskId, task.round, BigInt(manifest.deployBlock)).catch((error: unknown) => {
        if (error instanceof RoundNotDrawnError) return [];
        throw error;
      })
    : [];
  return { taskId, status: task.status, round: task.round, consensus: task.consensus, members };
}

/** Gathers answer, consensus, payouts, refund and slashes of a settled task from its events. */
export async function readSettledJob(
  manifest: DeploymentManifest,
  publicClient: PublicClient,
  task: TaskInfo,
): Promise<JobResult> {
  const market = getTaskMarket(manifest.contracts.taskMarket, { public: publicClient });
  const args = { taskId: task.taskId };
  const range = { fromBlock: BigInt(manifest.deployBlock), toBlock: "latest" } as const;
  const [answers, finalized, refunded, slashed] = await Promise.all([
    market.getEvents.AnswerSubmitted(args, range),
    market.getEvents.TaskFinalized(args, range),
    market.getEvents.TaskRefunded(args, range),
    market.getEvents.NonRevealersSlashed(args, range),
  ]);
  const last = answers.at(-1);
  const answer: JobAnswer | undefined =
    last === undefined
      ? undefined
      : {
          bytes: hexToBytes(last.args.output!),
          text: new TextDecoder("utf-8", { fatal: false }).decode(hexToBytes(last.args.output!)),
          uri: last.args.uri!,
          outputHash: last.args.outputHash!,
          provider: last.args.provider!,
        };
  const settled = finalized.at(-1)?.args;
  let payouts: JobPayouts | undefined;
  if (settled !== undefined) {
    const members = await readRoundScores(publicClient, manifest.contracts.taskMarket, task.taskId, Number(settled.round!), BigInt(manifest.deployBlock));
    payouts = {
      provider: settled.providerPay!,
      requesterRefund: settled.requesterRefund!,
      treasury: settled.treasuryShare!,
      validators: members.map((m, i) => ({
        account: m.account,
        revealed: m.revealed,
        score: m.score,
        pay: settled.validatorPay![i] ?? 0n,
      })),
    };
  }
  const refund = refunded.at(-1)?.args;
  return {
    taskId: task.taskId,
    status: task.status === "Finalized" ? "Finalized" : "Refunded",
    task,
    answer,
    consensus: task.consensus,
    payouts,
    refund: refund === undefined ? undefined : { reason: REASON_NAMES[refund.reason!] ?? "NoProvider", amount: refund.amount!, treasury: task.fee - refund.amount! },
    nonRevealers: slashed.flatMap((e) => [...(e.args.validators ?? [])]),
  };
}
