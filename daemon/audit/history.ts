import { parseEventLogs, type Address, type Hex, type Log } from "viem";
import { stakeRegistryAbi, taskMarketAbi } from "../../sdk/contracts.ts";
import type { MarketParams } from "../../sdk/deployment.ts";
import { seatsOf } from "../../sdk/rounds.ts";

/** Where an event happened; logs are ordered by (block, logIndex). */
export interface ChainPosition {
  block: bigint;
  logIndex: number;
  txHash: Hex;
}

export interface MemberRecord {
  index: number;
  validator: Address;
  committed: boolean;
  revealed: boolean;
  /** Revealed score (basis points); undefined until revealed. */
  score?: number;
  /** Tokens slashed from this member for not revealing in this round. */
  slashed: bigint;
}

export interface RoundRecord {
  round: number;
  drawBlock: bigint;
  commitEnd: bigint;
  revealEnd: bigint;
  members: MemberRecord[];
  /** Ended below quorum and a new committee was drawn. */
  rolled: boolean;
}

export interface Settlement {
  round: number;
  consensus: number;
  providerPay: bigint;
  requesterRefund: bigint;
  /** Treasury share including rounding dust (as TaskFinalized reports it). */
  treasuryShare: bigint;
  /** validatorPay[i] belongs to member i of the final round. */
  validatorPay: bigint[];
  at: ChainPosition;
}

export type TaskStatusName = "Assigned" | "Answered" | "Committee" | "Finalized" | "Refunded";
export const REFUND_REASONS = ["NoProvider", "NoCommittee", "NoQuorum", "Declined"] as const;

export interface TaskRecord {
  taskId: bigint;
  status: TaskStatusName;
  requester: Address;
  modelId: Hex;
  evaluatorId: Hex;
  fee: bigint;
  prompt: Hex;
  created: ChainPosition;
  /** Parameters in force at the creation: every step of the task, settlement included, uses these (a later setParams
   * applies to new tasks only). */
  params: MarketParams;
  /** The currently (or finally) assigned provider. */
  provider: Address;
  /** Providers that missed their answer deadline, with the tokens slashed. */
  timeouts: { provider: Address; slashed: bigint }[];
  answer?: { provider: Address; outputHash: Hex; output: Hex; uri: string; at: ChainPosition };
  rounds: RoundRecord[];
  settlement?: Settlement;
  refund?: { reason: (typeof REFUND_REASONS)[number]; amount: bigint; at: ChainPosition };
  equivocations: { validator: Address; reporter: Address; slashed: bigint; bounty: bigint }[];
}

/** A ParamsSet event: the market parameters from `at` on. */
export interface ParamsChange {
  params: MarketParams;
  at: ChainPosition;
}

const position = (log: Log): ChainPosition => ({ block: log.blockNumber!, logIndex: log.logIndex!, txHash: log.transactionHash! });
const before = (a: ChainPosition, b: ChainPosition) => a.block < b.block || (a.block === b.block && a.logIndex < b.logIndex);

/** Decodes ParamsSet logs into a list ordered by position. */
export function paramsChanges(logs: Log[]): ParamsChange[] {
  return parseEventLogs({ abi: taskMarketAbi, logs, eventName: "ParamsSet" }).map((log) => ({
    params: { ...log.args.params } as MarketParams,
    at: position(log),
  }));
}

/** The parameters in force just before `at` (ParamsSet is emitted by the constructor, so one always exists). */
export function paramsAt(changes: readonly ParamsChange[], at: ChainPosition): MarketParams {
  let current: MarketParams | undefined;
  for (const change of changes) if (before(change.at, at)) current = change.params;
  if (current === undefined) throw new Error(`no ParamsSet event before block ${at.block}: was the scan started after the deployment?`);
  return current;
}

/**
 * Folds TaskMarket logs (and the StakeRegistry's Slashed logs, which give each non-revealer's own slash) into one
 * record per task. Only tasks whose TaskCreated is among the logs are kept: a scan that starts mid-way skips
 * tasks it saw only the end of, rather than showing half a task.
 */
export function buildTaskRecords(marketLogs: Log[], registryLogs: Log[], params: readonly ParamsChange[]): Map<bigint, TaskRecord> {
  const slashedInTx = new Map<string, bigint>(); // `${txHash}:${staker}` -> amount
  for (const log of parseEventLogs({ abi: stakeRegistryAbi, logs: registryLogs, eventName: "Slashed" })) {
    const key = `${log.transactionHash}:${log.args.staker.toLowerCase()}`;
    slashedInTx.set(key, (slashedInTx.get(key) ?? 0n) + log.args.amount);
  }
  const tasks = new Map<bigint, TaskRecord>();
  const roundOf = (task: TaskRecord, round: bigint) => task.rounds.find((r) => r.round === Number(round));
  for (const log of parseEventLogs({ abi: taskMarketAbi, logs: marketLogs })) {
    if (log.eventName === "TaskCreated") {
      const a = log.args;
      tasks.set(a.taskId, {
        taskId: a.taskId, status: "Assigned", requester: a.requester, modelId: a.modelId, evaluatorId: a.evaluatorId,
        fee: a.fee, prompt: a.prompt, created: position(log), params: paramsAt(params, position(log)), provider: "0x0000000000000000000000000000000000000000",
        timeouts: [], rounds: [], equivocations: [],
      });
      continue;
    }
    const taskId = (log.args as { taskId?: bigint }).taskId;
    const task = taskId === undefined ? undefined : tasks.get(taskId);
    if (task === undefined) continue;
    switch (log.eventName) {
      case "ProviderAssigned": // materialized at the first touch after the draw's seed block (answer, decline, reassign)
        task.provider = log.args.provider;
        break;
      case "ProviderDrawScheduled": // a new attempt: its provider is known once someone materializes the draw
        task.provider = "0x0000000000000000000000000000000000000000";
        break;
      case "ProviderTimedOut":
        task.timeouts.push({ provider: log.args.provider, slashed: log.args.slashed });
        break;
      case "AnswerSubmitted":
        task.status = "Answered";
        task.answer = { provider: log.args.provider, outputHash: log.args.outputHash, output: log.args.output, uri: log.args.uri, at: position(log) };
        break;
      case "CommitteeDrawn":
        task.status = "Committee";
        task.rounds.push({
          round: Number(log.args.round), drawBlock: log.blockNumber!, commitEnd: log.args.commitEnd, revealEnd: log.args.revealEnd, rolled: false,
          members: log.args.members.map((validator, index) => ({ index, validator, committed: false, revealed: false, slashed: 0n })),
        });
        break;
      // A report names its seats by mask (bit i: member i), in seat order; a member that acted alone by address.
      case "CommitReported": {
        const members = roundOf(task, log.args.round)?.members ?? [];
        for (const seat of seatsOf(log.args.mask)) if (members[seat]) members[seat].committed = true;
        break;
      }
      case "RevealReported": {
        const members = roundOf(task, log.args.round)?.members ?? [];
        seatsOf(log.args.mask).forEach((seat, i) => {
          if (members[seat]) Object.assign(members[seat], { revealed: true, score: log.args.scores[i] });
        });
        break;
      }
      case "ScoreCommitted":
      case "ScoreRevealed": {
        const member = roundOf(task, log.args.round)?.members.find((m) => m.validator === log.args.validator);
        if (member === undefined) break;
        if (log.eventName === "ScoreCommitted") member.committed = true;
        else Object.assign(member, { revealed: true, score: Number(log.args.score) });
        break;
      }
      case "NonRevealersSlashed": {
        const round = roundOf(task, log.args.round);
        for (const member of round?.members ?? []) {
          if (log.args.validators.includes(member.validator)) member.slashed = slashedInTx.get(`${log.transactionHash}:${member.validator.toLowerCase()}`) ?? 0n;
        }
        break;
      }
      case "TaskRolled": {
        const previous = roundOf(task, log.args.newRound - 1n);
        if (previous) previous.rolled = true;
        task.status = "Answered";
        break;
      }
      case "TaskFinalized":
        task.status = "Finalized";
        task.settlement = {
          round: Number(log.args.round), consensus: Number(log.args.consensus), providerPay: log.args.providerPay,
          requesterRefund: log.args.requesterRefund, treasuryShare: log.args.treasuryShare,
          validatorPay: [...log.args.validatorPay], at: position(log),
        };
        break;
      case "TaskRefunded":
        task.status = "Refunded";
        task.refund = { reason: REFUND_REASONS[log.args.reason] ?? "NoProvider", amount: log.args.amount, at: position(log) };
        break;
      case "EquivocationReported":
        task.equivocations.push({ validator: log.args.validator, reporter: log.args.reporter, slashed: log.args.slashed, bounty: log.args.bounty });
        break;
    }
  }
  return tasks;
}

/** The round that decides a task: the settled one, else the latest drawn. */
export function finalRound(task: TaskRecord): RoundRecord | undefined {
  if (task.settlement) return task.rounds.find((r) => r.round === task.settlement!.round);
  return task.rounds[task.rounds.length - 1];
}
