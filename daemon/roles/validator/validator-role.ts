import { RoundNotDrawnError, seatOf, seatsOf } from "../../../sdk/rounds.ts";
import type { Address } from "viem";
import type { DaemonContext } from "../../runtime/context.ts";
import type { Evaluator } from "../../evaluation/evaluator.ts";
import { createEvaluator } from "../../evaluation/factory.ts";
import type { WatcherEvent } from "../../chain/watcher.ts";
import { ConfigError } from "../../config/load.ts";
import { jobIdFor } from "../../queue/names.ts";
import { VALIDATOR_STEPS, type ValidatorStep } from "./steps.ts";
import { enqueueOrRerunStep } from "../../queue/queues.ts";
import { reclaimOrphanedJobs } from "../../queue/orphans.ts";
import type { RunningRole } from "../role.ts";
import { createMarketWatcher, openMarket, startBalanceGauges, type Market } from "../market.ts";
import type { StepHandler } from "../../queue/worker.ts";
import { closeWorkers, startStepWorkers } from "../workers.ts";
import { AttestationLog } from "./attestation-log.ts";
import { enqueue, type ValidatorDeps } from "./deps.ts";
import { EvaluatorNotRegisteredError } from "./errors.ts";
import { scoreStep } from "./score-step.ts";
import { commitStep } from "./commit-step.ts";
import { revealStep } from "./reveal-step.ts";
import { claimStep, scheduleClaim } from "../claim.ts";
import { createKeeper, type Keeper } from "../keeper/keeper.ts";
import { createPhaseWake } from "./phase-wake.ts";

export { VALIDATOR_STEPS, type ValidatorStep } from "./steps.ts";
export { EvaluatorNotRegisteredError, EvaluatorMismatchError, WindowMissedError } from "./errors.ts";

export interface ValidatorRoleOptions {
  /**
   * The steps whose queues this process consumes (default: all). Leave "score" out when separate score-only
   * workers (score-worker.ts, `poq validator start --steps score`) consume the score queue; the evaluator is then
   * not loaded here. This process still follows the chain and enqueues every step's jobs.
   */
  steps?: readonly ValidatorStep[];
  /** Replaces the evaluator loaded from roles.validator.evaluatorDir (the caller keeps ownership and closes it). */
  evaluator?: Evaluator;
  /** Demo/test-only misbehaviour: commit but never reveal (this validator gets slashed). */
  neverReveal?: boolean;
}

/** The evaluator to score with (`given`, or loaded from `dir`), refused unless registered and active on-chain. */
export async function loadCheckedEvaluator(market: Market, dir: string, given?: Evaluator): Promise<Evaluator> {
  const evaluator = given ?? (await createEvaluator(dir));
  try {
    if (!(await market.evaluatorActive(evaluator.id))) throw new EvaluatorNotRegisteredError(evaluator.id);
  } catch (error) {
    if (given === undefined) await evaluator.close();
    throw error;
  }
  return evaluator;
}

/**
 * After a reorg: resynchronise the sender's nonce (transactions of the dropped blocks may be gone) and re-run
 * the commit check of every round not revealed yet (a commit in a dropped block must be sent again, with the
 * same salt). Logs of the new blocks are re-delivered by the watcher and re-run their jobs (see routeEvent).
 */
async function recheckAfterReorg(deps: ValidatorDeps): Promise<void> {
  await deps.ctx.sender.recover();
  for (const record of deps.ctx.salts.pendingReveals()) {
    await enqueueOrRerunStep(deps.ctx.queues, { step: "commit", data: { taskId: record.taskId, round: record.round }, priority: 2 });
  }
}

/**
 * Turns the market's events into jobs: scoring where we sit on the committee, a claim check when a task settles.
 * Every event also goes to the keeper (draws, finalizes and reassigns are its duties, for every task).
 */
async function routeEvent(deps: ValidatorDeps, keeper: Keeper | undefined, event: WatcherEvent, reorg: { above?: bigint }): Promise<void> {
  keeper?.observe(event);
  if (event.type === "malformed") {
    deps.ctx.metrics.jobsFailed.inc({ queue: "watcher", reason: "malformed-event" });
    deps.log.warn({ txHash: event.raw.transactionHash, logIndex: event.raw.logIndex, error: event.error }, "malformed TaskMarket event ignored");
    return;
  }
  if (event.type === "reorg") {
    reorg.above = event.ancestor.number;
    deps.log.warn({ ancestor: String(event.ancestor.number), depth: event.depth }, "reorg: re-checking open commits");
    return recheckAfterReorg(deps);
  }
  if (event.type !== "log") return;
  const { eventName, args, transactionHash: txHash } = event.log;
  // Events from blocks that replaced reorged ones re-run their jobs instead of being ignored as duplicates.
  const add = reorg.above !== undefined && event.log.blockNumber > reorg.above ? (p: Parameters<typeof enqueue>[1]) => enqueueOrRerunStep(deps.ctx.queues, p) : (p: Parameters<typeof enqueue>[1]) => enqueue(deps, p);
  const taskId = String(args.taskId);
  // The seed of a round's committee is the block after the answer, after a roll, or the one a reseed names.
  if (eventName === "AnswerSubmitted") {
    deps.ctx.metrics.tasksSeen.inc({ role: "validator" });
    await scoreIfSeated(deps, add, taskId, 0, event.log.blockNumber + 1n);
  } else if (eventName === "TaskRolled") {
    deps.log.info({ taskId, newRound: String(args.newRound), txHash }, "task rolled to a new committee");
    await scoreIfSeated(deps, add, taskId, Number(args.newRound), event.log.blockNumber + 1n);
  } else if (eventName === "CommitteeReseeded") {
    // Same round, another committee: a score job of the old seed (which could not commit) runs again.
    await scoreIfSeated(deps, (p) => enqueueOrRerunStep(deps.ctx.queues, p), taskId, Number(args.round), BigInt(args.seedBlock as bigint));
  } else if (eventName === "ScoreCommitted") {
    // Reveals open once the whole round committed: each commit brings a parked reveal of that round closer.
    deps.revealWake?.committed(jobIdFor("reveal", taskId, Number(args.round)));
  } else if (eventName === "CommitReported") {
    deps.revealWake?.committed(jobIdFor("reveal", taskId, Number(args.round)), seatsOf(Number(args.mask)).length);
  } else if (eventName === "TaskFinalized") {
    // Any settled task may have paid us; the claim job reads claimable() and does nothing when it is 0.
    await scheduleClaim(deps.ctx, deps.ctx.config.roles.validator?.claimBatchMs ?? 0);
  } else if (eventName === "CommitteeDrawn") {
    // Usually seated already from the seed block (the same job: added once); this covers a daemon that missed it.
    const members = (args.members as Address[]).map((m) => m.toLowerCase());
    const index = members.indexOf(deps.me.toLowerCase());
    if (index < 0) return;
    deps.log.info({ taskId, round: String(args.round), index, txHash, commitEnd: String(args.commitEnd) }, "drawn into a committee");
    await add({ step: "score", data: { taskId, round: Number(args.round), index } });
  }
}

/** How long a round's seat check waits for its seed block to be mined: several blocks of the slowest chain (12 s on
 * Ethereum L1), whatever the poll interval, so that a slow chain never makes a member miss its seat. */
const SEED_BLOCK_WAIT_MS = 60_000;

/**
 * Learns this validator's seat in a round as soon as the round's seed block exists: the committee is public before
 * any draw (pendingCommittee), and the round's first commit (the aggregator's report, or a member's own) draws it,
 * so nobody waits for a draw transaction. Waits for the head to reach the seed block (the pending block then
 * holds its hash). No committee to draw (too few validators, the seed hash gone): nothing to score; the keeper's
 * drawCommittee reseeds (CommitteeReseeded brings us back here) or settles the task.
 */
async function scoreIfSeated(deps: ValidatorDeps, add: (p: Parameters<typeof enqueue>[1]) => Promise<unknown>, taskId: string, round: number, seedBlock: bigint): Promise<void> {
  const { ctx } = deps;
  // The watcher hands over a block's logs once they are `confirmations` deep: with 1 or more (the default is 2) the
  // seed block is already there; with 0 it is the next block. Bounded in time, so that a halted chain cannot hold
  // the watcher (and a stop) for long; missed, the seat comes with the round's CommitteeDrawn, sent by another
  // member's commit or the aggregator's report, or by a keeper only once the commit window has passed.
  const giveUpAt = Date.now() + SEED_BLOCK_WAIT_MS;
  while ((await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) < seedBlock) {
    if (Date.now() > giveUpAt) {
      deps.log.warn({ taskId, round, seedBlock: String(seedBlock) }, "seed block not mined yet; the seat is checked again at the round's draw");
      return;
    }
    await ctx.heads.nextHead(ctx.config.chain.pollIntervalMs);
  }
  const current = await deps.market.round(BigInt(taskId), round, seedBlock).catch((error: unknown) => {
    if (error instanceof RoundNotDrawnError) return undefined;
    throw error;
  });
  if (current === undefined) return;
  const index = seatOf(current.state, deps.me);
  if (index < 0) return;
  deps.log.info({ taskId, round, index, drawn: current.drawn, commitEnd: String(current.commitEnd) }, "seated in a committee");
  await add({ step: "score", data: { taskId, round, index } });
}

/** After a restart: every salt committed but not revealed gets its reveal job back (and a failed one is retried). */
async function resumePendingReveals(deps: ValidatorDeps): Promise<number> {
  const pending = deps.ctx.salts.pendingReveals();
  for (const record of pending) {
    const existing = await deps.ctx.queues.reveal.getJob(jobIdFor("reveal", record.taskId, record.round));
    if (existing !== undefined && (await existing.isFailed())) await existing.retry();
    else await enqueue(deps, { step: "reveal", data: { taskId: record.taskId, round: record.round }, priority: 1 });
  }
  return pending.length;
}

/**
 * Starts the validator role: checks that the evaluator is registered and active on-chain (refuses to start
 * otherwise), resumes pending reveals from the salt store, then follows the TaskMarket and runs the
 * draw/score/commit/reveal/finalize/claim workers. Serves the published attestations at GET /attestations.
 */
export async function startValidatorRole(ctx: DaemonContext, options: ValidatorRoleOptions = {}): Promise<RunningRole> {
  if (ctx.config.roles.validator === undefined) throw new ConfigError("Invalid configuration", ["roles.validator: not set, cannot start the validator role"]);
  const steps = new Set<ValidatorStep>(options.steps ?? VALIDATOR_STEPS);
  const market = openMarket(ctx);
  const evaluator = steps.has("score") ? await loadCheckedEvaluator(market, ctx.config.roles.validator.evaluatorDir, options.evaluator) : undefined;
  const ownsEvaluator = options.evaluator === undefined;
  const me = ctx.account.address;
  const log = ctx.logger.child({ role: "validator" });
  const deps: ValidatorDeps = {
    ctx, market, attestations: new AttestationLog(ctx.config.stateDir), neverReveal: options.neverReveal === true, log, me,
    revealWake: steps.has("reveal") ? createPhaseWake(ctx, "reveal") : undefined,
  };
  if (ctx.config.roles.validator.submit === "relayer") {
    deps.viaRelayer = true;
    log.info({ relayer: ctx.config.roles.validator.relayerUrl }, "commits and reveals go through the relayer first (direct when not on chain in time)");
  }
  if (deps.neverReveal) log.warn("MISBEHAVIOUR ENABLED (neverReveal): this validator commits and never reveals; it will be slashed");
  if (evaluator !== undefined) {
    ctx.health.addCheck("evaluator", async () => {
      if (!(await market.evaluatorActive(evaluator.id))) throw new EvaluatorNotRegisteredError(evaluator.id);
    });
  }
  ctx.health.addRoute("/attestations", (url) => deps.attestations.serve(url));
  // Before any worker runs: commit, reveal and claim jobs a crashed run left active are taken back at once.
  const reclaimed = await reclaimOrphanedJobs((["commit", "reveal", "claim"] as const).filter((step) => steps.has(step)).map((step) => ctx.queues[step]));
  const resumed = await resumePendingReveals(deps);
  const handlers: Record<ValidatorStep, StepHandler> = {
    score: (job) => scoreStep({ ...deps, evaluator: evaluator! }, job),
    commit: (job) => commitStep(deps, job),
    reveal: (job, token) => revealStep(deps, job, token),
    claim: () => claimStep(ctx, market, me, "validator", log),
  };
  const workers = startStepWorkers(ctx, Object.fromEntries([...steps].map((step) => [step, handlers[step]])));
  const keeper = ctx.config.keeper.enabled ? createKeeper(ctx, market, log) : undefined;
  await keeper?.start();
  const reorg: { above?: bigint } = {};
  const watcher = createMarketWatcher(ctx, market, "validator", (event) => routeEvent(deps, keeper, event, reorg), (head) => keeper?.onHead(head));
  watcher.start();
  const stopGauges = startBalanceGauges(ctx, market);
  log.info({ steps: [...steps], evaluator: evaluator?.name, evaluatorId: evaluator?.id, market: market.address, resumedReveals: resumed, reclaimedJobs: reclaimed }, "validator role started");
  return {
    name: "validator",
    async stop() {
      stopGauges();
      await watcher.stop();
      await keeper?.stop();
      await closeWorkers(ctx, workers);
      deps.revealWake?.stop();
      if (ownsEvaluator) await evaluator?.close();
      log.info("validator role stopped");
    },
  };
}
