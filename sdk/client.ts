/**
 * The requester SDK: post inference jobs to a Proof-of-Quality deployment and read their answers, scores and
 * payouts. Built on viem and the deployment manifest (sdk/deployment.ts).
 *
 *   const client = createPoqClient({ manifest: readDeploymentManifest("deployment.json"), publicClient, walletClient });
 *   const { taskId } = await client.postJob({ model: "llama-3.1-8b-instruct", prompt: "Why is the sky blue?", fee: 10n ** 18n });
 *   const result = await client.waitForResult(taskId, { timeoutMs: 120_000 });
 *   console.log(result.answer?.text, result.consensus, result.payouts);
 *
 * Every check the market would fail (wrong chain, fee, prompt size, evaluator, model, balance, allowance) is made
 * before a transaction is sent and throws a typed error from sdk/client/errors.ts.
 */
import type { PublicClient } from "viem";
import type { SigningWalletClient } from "./contracts.ts";
import type { DeploymentManifest } from "./deployment.ts";
import { JobTimeoutError, MissingWalletError, WrongChainError } from "./client/errors.ts";
import { marketEvents, type MarketEvent, type MarketEventsParameters } from "./client/events.ts";
import { postJob, type PostJobParameters, type PostJobReturnType } from "./client/post-job.ts";
import { getScore, getTask, readSettledJob, type JobResult, type TaskInfo, type TaskScore } from "./client/results.ts";

export * from "./client/errors.ts";
export type { MarketEvent, MarketEventsParameters } from "./client/events.ts";
export { APPROVE_KEEPS_WEI, STANDING_ALLOWANCE_JOBS } from "./client/post-job.ts";
export type { PostJobParameters, PostJobReturnType } from "./client/post-job.ts";
export type { JobAnswer, JobPayouts, JobResult, TaskInfo, TaskScore, TaskStatusName } from "./client/results.ts";

export interface CreatePoqClientParameters {
  manifest: DeploymentManifest;
  publicClient: PublicClient;
  /** Needed only to post jobs; its account pays the fees. */
  walletClient?: SigningWalletClient;
}

export interface WaitForResultOptions {
  /** Give up (JobTimeoutError) after this long; default 5 minutes. */
  timeoutMs?: number;
  /** How often the task's status is read; default 1 s. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

export interface PoqClient {
  readonly manifest: DeploymentManifest;
  /** Checks, approves the fee when needed, creates the task and returns its id and assigned provider. */
  postJob(parameters: PostJobParameters): Promise<PostJobReturnType>;
  /** Resolves once the task is Finalized or Refunded, with its answer, consensus and payouts. */
  waitForResult(taskId: bigint, options?: WaitForResultOptions): Promise<JobResult>;
  getTask(taskId: bigint): Promise<TaskInfo>;
  getScore(taskId: bigint): Promise<TaskScore>;
  /** The market's events from a block on, in chain order (see sdk/client/events.ts). */
  events(parameters?: Partial<MarketEventsParameters>): AsyncGenerator<MarketEvent, void, undefined>;
}

const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000; // 5 minutes: several commit/reveal rounds on a slow chain
const DEFAULT_POLL_MS = 1_000;

export function createPoqClient({ manifest, publicClient, walletClient }: CreatePoqClientParameters): PoqClient {
  let chainChecked: Promise<void> | undefined;
  const checkChain = () => {
    chainChecked ??= (async () => {
      const rpc = await publicClient.getChainId();
      if (rpc !== manifest.chainId) throw new WrongChainError(manifest.chainId, rpc, "rpc");
    })();
    // A failed check is not cached: the caller may fix the endpoint and retry.
    chainChecked.catch(() => (chainChecked = undefined));
    return chainChecked;
  };
  // One job at a time per client: the approve + createTask pair of two concurrent posts would race on the
  // allowance and on the account's nonce.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    manifest,
    postJob(parameters) {
      const run = async () => {
        if (walletClient === undefined) throw new MissingWalletError("postJob");
        if (walletClient.chain.id !== manifest.chainId) throw new WrongChainError(manifest.chainId, walletClient.chain.id, "wallet");
        await checkChain();
        return postJob(manifest, publicClient, walletClient, parameters);
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async waitForResult(taskId, { timeoutMs = DEFAULT_TIMEOUT_MS, pollIntervalMs = DEFAULT_POLL_MS, signal } = {}) {
      await checkChain();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const task = await getTask(manifest, publicClient, taskId);
        if (task.status === "Finalized" || task.status === "Refunded") return readSettledJob(manifest, publicClient, task);
        if (Date.now() >= deadline || signal?.aborted) throw new JobTimeoutError(taskId, timeoutMs, task.status);
        await new Promise((resolve) => setTimeout(resolve, Math.min(pollIntervalMs, Math.max(0, deadline - Date.now()))));
      }
    },
    async getTask(taskId) {
      await checkChain();
      return getTask(manifest, publicClient, taskId);
    },
    async getScore(taskId) {
      await checkChain();
      return getScore(manifest, publicClient, taskId);
    },
    async *events(parameters = {}) {
      await checkChain();
      yield* marketEvents(publicClient, manifest.contracts.taskMarket, {
        fromBlock: BigInt(manifest.deployBlock),
        ...parameters,
      });
    },
  };
}
