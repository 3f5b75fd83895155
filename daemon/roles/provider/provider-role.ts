import { keccak256, stringToHex, zeroAddress, type Address, type Hex } from "viem";
import type { Job } from "bullmq";
import type { DaemonContext } from "../../runtime/context.ts";
import type { WatcherEvent } from "../../chain/watcher.ts";
import { ConfigError } from "../../config/load.ts";
import { BadInputError } from "../../queue/errors.ts";
import { enqueueOrRerunStep, enqueueStep } from "../../queue/queues.ts";
import { postpone } from "../../queue/postpone.ts";
import type { StepJobData } from "../../queue/names.ts";
import type { Logger } from "../../observe/logger.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { modelId } from "../../../sdk/model-id.ts";
import type { RunningRole } from "../role.ts";
import { createMarketWatcher, declineTask, openMarket, revertName, startBalanceGauges, type DeclineReason, type Market } from "../market.ts";
import { bytesToText, readPrompt } from "../task-content.ts";
import { closeWorkers, startStepWorkers } from "../workers.ts";
import { claimStep, scheduleClaim } from "../claim.ts";
import { createKeeper, type Keeper } from "../keeper/keeper.ts";
import { AllEndpointsFailedError, UnknownModelError, createChatClient, type ChatClient, type ModelRoute } from "./openai-client.ts";

interface ProviderDeps {
  ctx: DaemonContext;
  market: Market;
  chat: ChatClient;
  /** On-chain model id (lower-case hex) -> configured model name. */
  modelNames: Map<string, string>;
  /**
   * Model ids (lower-case hex) whose new tasks may be drawn for us: the configured ones and those this account is
   * registered for on chain (a registered model without configuration is still drawn for us: we decline it).
   */
  drawnFor: Set<string>;
  log: Logger;
  me: Address;
}

/** Routes for the chat client from roles.provider.models; API keys come from the environment variables named there. */
function modelRoutes(ctx: DaemonContext, env: NodeJS.ProcessEnv, maxOutputBytes: number): Record<string, ModelRoute> {
  const routes: Record<string, ModelRoute> = {};
  for (const [name, model] of Object.entries(ctx.config.roles.provider!.models)) {
    routes[name] = {
      attemptsPerEndpoint: model.attemptsPerEndpoint,
      // The on-chain cap wins when it is smaller: an answer over it could never be submitted.
      maxOutputBytes: Math.min(model.maxOutputBytes, maxOutputBytes),
      endpoints: model.endpoints.map((e) => {
        const apiKey = e.apiKeyEnv === undefined ? undefined : env[e.apiKeyEnv];
        if (e.apiKeyEnv !== undefined && (apiKey === undefined || apiKey === "")) throw new ConfigError("Invalid configuration", [`roles.provider.models.${name}: environment variable ${e.apiKeyEnv} (apiKeyEnv) is not set`]);
        return { url: e.url, timeoutMs: e.timeoutMs, remoteModel: e.remoteModel, apiKey };
      }),
    };
  }
  return routes;
}

/**
 * An assignment this provider cannot answer: declined (market.declineTask: no penalty, the task goes to another
 * provider or back to the requester) and the job fails at once (bad input, never retried). Never dropped silently.
 */
async function cannotAnswer(deps: ProviderDeps, taskId: bigint, reason: DeclineReason, message: string): Promise<never> {
  const declined = await declineTask(deps.market, taskId, reason);
  deps.ctx.metrics.tasksDeclined.inc({ reason, outcome: declined ? "declined" : "too-late-to-decline" });
  if (!declined) deps.log.error({ taskId: String(taskId), reason }, "cannot answer and can no longer decline (deadline passed or task moved on)");
  throw new BadInputError(`task ${taskId}: ${message}${declined ? " (declined)" : ""}`, { taskId: String(taskId), reason });
}

/**
 * The prompt as text. A prompt that is not UTF-8 is answered as decoded with U+FFFD for each invalid sequence
 * (what the model makes of it, paid for by the requester who sent it), so a malformed prompt can never get an
 * honest provider penalized; what truly cannot be answered is declined instead (cannotAnswer).
 */
async function promptText(deps: ProviderDeps, taskId: bigint, bytes: Hex): Promise<string> {
  try {
    return bytesToText(bytes, `task ${taskId} prompt`, true);
  } catch {
    deps.ctx.metrics.tasksDeclined.inc({ reason: "prompt-not-utf8", outcome: "answered-lossy" });
    deps.log.warn({ taskId: String(taskId) }, "prompt is not valid UTF-8: answering it as decoded with U+FFFD");
    return bytesToText(bytes, `task ${taskId} prompt`);
  }
}

/**
 * Answers one provider attempt if it was drawn for us: waits (parked, no attempt spent) until the attempt's seed
 * block is in the head, asks the market whom the draw selects (`assignedProvider`; nothing is sent for a task drawn
 * for someone else), then reads the prompt from the TaskCreated log, asks the model's endpoints (fallback in
 * order), and submits the output with its keccak256 before the deadline (the answer also materializes the draw).
 * What it cannot answer (model not served, oversize or empty output) goes to cannotAnswer; a passed deadline
 * fails the job at once; endpoint faults are retried. `job.data.round` is the attempt's seed block.
 */
async function inferStep(deps: ProviderDeps, job: Job<StepJobData>, token?: string): Promise<{ txHash?: Hex }> {
  const { ctx, market } = deps;
  const taskId = BigInt(job.data.taskId);
  const log = deps.log.child({ taskId: job.data.taskId });
  const task = await market.task(taskId);
  if (task.status !== TaskStatus.Assigned || task.seedBlock !== BigInt(job.data.round)) {
    log.debug({ status: task.status }, "provider attempt over (answered, reassigned or settled); nothing to do");
    return {};
  }
  const block = await ctx.chain.client.getBlockNumber({ cacheTime: 0 });
  // A call sees the hash of the seed block once a later block is the head.
  if (block <= task.seedBlock) return postpone(job, token, ctx.config.chain.pollIntervalMs);
  const drawn = task.provider === zeroAddress ? await market.assignedProvider(taskId) : task.provider;
  if (drawn.toLowerCase() !== deps.me.toLowerCase()) {
    log.debug({ drawn }, "drawn for another provider");
    return {};
  }
  ctx.metrics.tasksSeen.inc({ role: "provider" });
  log.info({ answerDeadline: String(task.answerDeadline) }, "task drawn for us");
  if (block >= task.answerDeadline) throw new BadInputError(`task ${taskId}: answer deadline ${task.answerDeadline} passed (block ${block})`, { taskId: job.data.taskId });
  const name = deps.modelNames.get(task.modelId.toLowerCase());
  if (name === undefined) return cannotAnswer(deps, taskId, "model-not-served", `model ${task.modelId} is not served by this provider`);
  const prompt = await promptText(deps, taskId, await readPrompt(ctx, market, taskId, task.createdBlock));
  let content: string;
  try {
    content = (await deps.chat.complete({ model: name, messages: [{ role: "user", content: prompt }] })).content;
  } catch (error) {
    if (error instanceof UnknownModelError) return cannotAnswer(deps, taskId, "model-not-served", error.message);
    if (error instanceof AllEndpointsFailedError && error.onlyOversizeOutput) return cannotAnswer(deps, taskId, "answer-oversize", error.message);
    throw error;
  }
  if (content.length === 0) return cannotAnswer(deps, taskId, "empty-answer", "the model returned an empty answer");
  const output = stringToHex(content);
  try {
    const sent = await market.send(`answer:${taskId}`, "submitAnswer", [taskId, keccak256(output), output, ""], "AnswerSubmitted", (args) => args.taskId === taskId);
    ctx.metrics.tasksAnswered.inc({ role: "provider" });
    log.info({ txHash: sent.hash, model: name, outputBytes: (output.length - 2) / 2 }, "answer submitted");
    return { txHash: sent.hash };
  } catch (error) {
    const reason = revertName(error);
    if (reason === "InvalidStatus") return {}; // answered by an earlier run of this job
    if (reason === "AnswerDeadlinePassed" || reason === "OutputTooLarge" || reason === "NotAssignedProvider") throw new BadInputError(`task ${taskId}: ${reason}`, { taskId: job.data.taskId });
    throw error;
  }
}

async function routeEvent(deps: ProviderDeps, keeper: Keeper | undefined, event: WatcherEvent, reorg: { above?: bigint }): Promise<void> {
  keeper?.observe(event);
  if (event.type === "malformed") {
    deps.ctx.metrics.jobsFailed.inc({ queue: "watcher", reason: "malformed-event" });
    deps.log.warn({ txHash: event.raw.transactionHash, logIndex: event.raw.logIndex, error: event.error }, "malformed TaskMarket event ignored");
    return;
  }
  if (event.type === "reorg") {
    // Transactions of the dropped blocks may be gone: resynchronise the nonce; re-delivered logs re-run their jobs.
    deps.log.warn({ ancestor: String(event.ancestor.number), depth: event.depth }, "reorg: resynchronising the sender");
    await deps.ctx.sender.recover();
    reorg.above = event.ancestor.number;
    return;
  }
  if (event.type !== "log") return;
  // Any settled task may have paid us; the claim job reads claimable() and does nothing when it is 0.
  if (event.log.eventName === "TaskFinalized") return scheduleClaim(deps.ctx, deps.ctx.config.roles.provider!.claimBatchMs);
  // Every provider attempt is announced: the first by TaskCreated (seed block = its block + 1), each later one by
  // ProviderDrawScheduled. The job finds out (after the seed block) whether the draw selected us.
  let seedBlock: bigint;
  if (event.log.eventName === "TaskCreated") {
    if (!deps.drawnFor.has(String(event.log.args.modelId).toLowerCase())) return;
    seedBlock = event.log.blockNumber + 1n;
  } else if (event.log.eventName === "ProviderDrawScheduled") {
    seedBlock = BigInt(event.log.args.seedBlock as bigint);
  } else {
    return;
  }
  const job = { step: "infer" as const, data: { taskId: String(event.log.args.taskId), round: Number(seedBlock) } };
  // An announcement from a block that replaced reorged ones runs again even if its job already finished.
  await (reorg.above !== undefined && event.log.blockNumber > reorg.above ? enqueueOrRerunStep(deps.ctx.queues, job) : enqueueStep(deps.ctx.queues, job));
}

/**
 * Starts the provider role: follows the market's provider draws (TaskCreated, ProviderDrawScheduled) and answers
 * those drawn for this account with the configured endpoints.
 */
export async function startProviderRole(ctx: DaemonContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningRole> {
  if (ctx.config.roles.provider === undefined) throw new ConfigError("Invalid configuration", ["roles.provider: not set, cannot start the provider role"]);
  const market = openMarket(ctx);
  const log = ctx.logger.child({ role: "provider" });
  const routes = modelRoutes(ctx, env, await market.maxOutputBytes());
  const deps: ProviderDeps = {
    ctx, market, log, me: ctx.account.address,
    chat: createChatClient({ models: routes, logger: log, metrics: ctx.metrics }),
    modelNames: new Map(Object.keys(routes).map((name) => [modelId(name).toLowerCase(), name])),
    drawnFor: new Set(Object.keys(routes).map((name) => modelId(name).toLowerCase())),
  };
  for (const id of await market.modelsOf(deps.me)) deps.drawnFor.add(id.toLowerCase());
  const workers = startStepWorkers(ctx, { infer: (job, token) => inferStep(deps, job, token), claim: () => claimStep(ctx, market, deps.me, "provider", log) });
  // The provider is the first keeper of its own tasks' draws (its pay waits on the committee); see keeper/duties.ts.
  const keeper = ctx.config.keeper.enabled ? createKeeper(ctx, market, log) : undefined;
  await keeper?.start();
  const reorg: { above?: bigint } = {};
  const watcher = createMarketWatcher(ctx, market, "provider", (event) => routeEvent(deps, keeper, event, reorg), (head) => keeper?.onHead(head));
  watcher.start();
  const stopGauges = startBalanceGauges(ctx, market);
  log.info({ models: Object.keys(routes), market: market.address }, "provider role started");
  return {
    name: "provider",
    async stop() {
      stopGauges();
      await watcher.stop();
      await keeper?.stop();
      await closeWorkers(ctx, workers);
      log.info("provider role stopped");
    },
  };
}
