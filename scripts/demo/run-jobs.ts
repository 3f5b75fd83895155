// The requester's side of the demo: posts jobs through the SDK, follows the market's events for live progress,
// asks for a reassignment when an assigned provider lets its answer window pass, and waits until every job settled.
import { formatUnits, zeroAddress, type Address } from "viem";
import type { MarketEvent } from "../../sdk/client/events.ts";
import { createPoqClient, type JobResult, type PoqClient } from "../../sdk/client.ts";
import { getProtocolContracts, RefundReason } from "../../sdk/contracts.ts";
import { waitOk } from "../localnet/actors.ts";
import { DEMO_MODEL, type DemoNetwork } from "./network.ts";
import { questionAt } from "./qa-set.ts";

/** RefundReason numbers to names, for the progress lines. */
const REFUND_REASONS: Record<number, string> = Object.fromEntries(Object.entries(RefundReason).map(([name, n]) => [n, name]));

export type JobStage = "assigned" | "answered" | "committee" | "revealing" | "finalized" | "refunded";

export interface JobsProgress {
  total: number;
  counts: Record<JobStage, number>;
}

export interface RunJobsOptions {
  jobs: number;
  fee: bigint;
  /** Gap between two posts: a steady stream instead of one burst, as real requesters arrive. */
  postGapMs: number;
  timeoutMs: number;
  onProgress: (progress: JobsProgress) => void;
  onLine: (line: string) => void;
}

export interface RunJobsResult {
  client: PoqClient;
  results: JobResult[];
  /** Jobs posted beyond --jobs so that each provider was assigned at least one (see postJobs). */
  extraJobs: number;
  reassignments: number;
}

const SETTLED: readonly JobStage[] = ["finalized", "refunded"];

export async function runJobs(demo: DemoNetwork, o: RunJobsOptions): Promise<RunJobsResult> {
  const { net, requester } = demo;
  const client = createPoqClient({ manifest: net.manifest, publicClient: net.chain.publicClient, walletClient: requester.wallet });
  const contracts = getProtocolContracts(net.manifest, { public: net.chain.publicClient, wallet: requester.wallet });
  const providers = demo.participants.filter((p) => p.role === "provider");
  const nameOf = (address: Address) => demo.participants.find((p) => p.address.toLowerCase() === address.toLowerCase())?.name ?? address;

  // Stages of every task seen (events may arrive before postJob returns), progress counted over ours only.
  const stage = new Map<bigint, JobStage>();
  const deadlines = new Map<bigint, bigint>();
  const taskIds: bigint[] = [];
  const report = () => {
    const counts = { assigned: 0, answered: 0, committee: 0, revealing: 0, finalized: 0, refunded: 0 } as Record<JobStage, number>;
    for (const id of taskIds) counts[stage.get(id) ?? "assigned"]++;
    o.onProgress({ total: taskIds.length, counts });
  };
  const settled = (id: bigint) => SETTLED.includes(stage.get(id) ?? "assigned");

  // Live progress from the SDK's event iterator (the same stream a requester's app would follow).
  const follow = new AbortController();
  const startBlock = await net.chain.publicClient.getBlockNumber();
  // A busy machine can reset an RPC connection: the follower then resumes from the block of the last event it saw
  // (events of that block come again and are skipped by their position), instead of dying unhandled.
  const seen = new Set<string>();
  const following = (async () => {
    let from = startBlock;
    while (!follow.signal.aborted) {
      try {
        for await (const event of client.events({ fromBlock: from, pollIntervalMs: 150, signal: follow.signal })) {
          from = event.blockNumber;
          const position = `${event.blockNumber}:${event.logIndex}`;
          if (seen.has(position)) continue;
          seen.add(position);
          onEvent(event);
        }
        return;
      } catch (error) {
        if (follow.signal.aborted) return;
        o.onLine(`event reader: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message.split("\n")[0]}; resuming from block ${from}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  function onEvent(event: MarketEvent) {
    const taskId = "taskId" in event.args ? (event.args.taskId as bigint | undefined) : undefined;
    if (taskId === undefined || settled(taskId)) return;
    switch (event.eventName) {
      case "ProviderDrawScheduled": // a reassignment: a new provider is drawn, with its own deadline
        stage.set(taskId, "assigned");
        deadlines.set(taskId, event.args.answerDeadline!);
        break;
      case "ProviderTimedOut":
        o.onLine(`job ${taskId}: ${nameOf(event.args.provider!)} missed its answer window and was slashed ${formatUnits(event.args.slashed!, net.manifest.token.decimals)} ${net.manifest.token.symbol}; reassigned`);
        break;
      case "AnswerSubmitted":
        stage.set(taskId, "answered");
        break;
      case "CommitteeDrawn":
        stage.set(taskId, "committee");
        break;
      case "CommitReported": // the aggregator's commit report: reveals open once every seat committed
      case "ScoreRevealed": // a member that revealed alone (fallback); a reveal report settles at once
        stage.set(taskId, "revealing");
        break;
      case "TaskFinalized":
        stage.set(taskId, "finalized");
        o.onLine(`job ${taskId}: finalized, consensus ${event.args.consensus} / 10000`);
        break;
      case "TaskRefunded":
        stage.set(taskId, "refunded");
        o.onLine(`job ${taskId}: refunded (${REFUND_REASONS[event.args.reason!] ?? `reason ${event.args.reason}`})`);
        break;
    }
    report();
  }

  // One approval for every fee (postJob would otherwise approve job by job).
  const budget = o.fee * BigInt(o.jobs * 2);
  await waitOk(net.chain.publicClient, await contracts.token.write.approve([net.manifest.contracts.taskMarket, budget]), "approve fees");

  // Jobs are drawn to providers stake-weighted at random, from the hash of the block after each creation. The
  // comparison between providers needs each to have served, so when the first --jobs happened to go to one
  // provider, more are posted (at most --jobs more) until both have.
  const assignedTo = new Map<string, number>();
  const undrawn = new Set<bigint>();
  const tallyDraws = async () => {
    for (const id of undrawn) {
      const drawn = await contracts.taskMarket.read.assignedProvider([id]);
      if (drawn === zeroAddress) continue; // its seed block is not in the head yet
      undrawn.delete(id);
      assignedTo.set(drawn.toLowerCase(), (assignedTo.get(drawn.toLowerCase()) ?? 0) + 1);
    }
  };
  const post = async (i: number) => {
    const posted = await client.postJob({ model: DEMO_MODEL, prompt: questionAt(i), fee: o.fee, approve: "none" });
    taskIds.push(posted.taskId);
    undrawn.add(posted.taskId);
    deadlines.set(posted.taskId, posted.answerDeadline);
    report();
    return posted.taskId;
  };
  let extraJobs = 0;
  for (let i = 0; i < o.jobs * 2; i++) {
    await tallyDraws();
    const everyoneServed = providers.every((p) => (assignedTo.get(p.address.toLowerCase()) ?? 0) > 0);
    if (i >= o.jobs && everyoneServed) break;
    if (i >= o.jobs) extraJobs++;
    await post(i);
    await new Promise((r) => setTimeout(r, o.postGapMs));
  }
  if (extraJobs > 0) o.onLine(`posted ${extraJobs} extra job(s) so that both providers were assigned at least one`);

  // Wait for every job to settle; ask for a reassignment when an answer window passes without an answer.
  let reassignments = 0;
  const deadline = Date.now() + o.timeoutMs;
  try {
    while (taskIds.some((id) => !settled(id))) {
      if (Date.now() > deadline) throw new Error(`jobs not settled within ${o.timeoutMs} ms: ${taskIds.filter((id) => !settled(id)).join(", ")}`);
      const head = await net.chain.publicClient.getBlockNumber();
      for (const id of taskIds) {
        const answerDeadline = deadlines.get(id);
        if ((stage.get(id) ?? "assigned") !== "assigned" || answerDeadline === undefined || head <= answerDeadline) continue;
        deadlines.delete(id); // the next ProviderDrawScheduled (if any) sets the new deadline
        try {
          // The late provider's draw reads a past block only: the estimate is exact.
          await waitOk(net.chain.publicClient, await contracts.taskMarket.write.reassign([id]), `reassign ${id}`);
          reassignments++;
        } catch (error) {
          o.onLine(`job ${id}: reassign not possible (${(error as Error).message.split("\n")[0]})`);
        }
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    follow.abort();
    await following.catch(() => {});
  }
  const results = await Promise.all(taskIds.map((id) => client.waitForResult(id, { timeoutMs: 5_000 })));
  return { client, results, extraJobs, reassignments };
}
