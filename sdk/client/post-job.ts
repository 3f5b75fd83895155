import { bytesToHex, parseEventLogs, stringToBytes, type Hex, type PublicClient } from "viem";
import { getProtocolContracts, taskMarketAbi, type SigningWalletClient } from "../contracts.ts";
import type { DeploymentManifest } from "../deployment.ts";
import { modelId as modelIdOf } from "../model-id.ts";
import {
  EvaluatorNotActiveError,
  InsufficientAllowanceError,
  InsufficientBalanceError,
  InvalidFeeError,
  NoActiveEvaluatorError,
  PromptTooLargeError,
  TransactionFailedError,
  UnknownModelError,
} from "./errors.ts";

/** The market stores fees in 96 bits (ITaskMarket.FeeTooLarge). */
const MAX_FEE = (1n << 96n) - 1n;
/** What postJob's approve adds to the fees it covers: left approved after the last of them (see PostJobParameters.approve). */
export const APPROVE_KEEPS_WEI = 1n;
/** Jobs (at this job's fee) that postJob's default "standing" approve covers. */
export const STANDING_ALLOWANCE_JOBS = 10n;

export interface PostJobParameters {
  /** Model NAME as providers register it (on-chain id = modelId(name), sdk/model-id.ts). */
  model: string;
  /** The prompt: text (sent as UTF-8) or raw bytes. Public: it goes into calldata and the TaskCreated event. */
  prompt: string | Uint8Array;
  /** Fee escrowed for the job, in token base units. */
  fee: bigint;
  /** Evaluator that judges the answer; defaults to the first active evaluator of the deployment manifest. */
  evaluatorId?: Hex;
  /**
   * What to do when the market's allowance is below the fee:
   * - "standing" (default): approves STANDING_ALLOWANCE_JOBS (10) times the fee, so the next nine jobs at this fee
   *   send createTask alone (one transaction and one block less each; the approve's 29k gas once per ten jobs);
   * - "exact": approves this fee only (an approve before every job);
   * - "none": throws InsufficientAllowanceError (for callers that manage allowances themselves).
   * Either approve adds 1 wei that stays approved, so the allowance slot never returns to zero and the next approve
   * rewrites a non-zero slot (about 12,000 gas less). What a standing allowance exposes: the market pulls tokens
   * only in createTask, from its caller (`transferFrom(msg.sender, ...)`), so nobody else can spend it; a fault in
   * the market could, and it is bounded by the ten fees.
   */
  approve?: "standing" | "exact" | "none";
}

export interface PostJobReturnType {
  taskId: bigint;
  /**
   * The block whose hash draws the provider (the block after the creation): `getTask(taskId).provider` names it
   * once that block exists. Nobody, the requester included, can know or choose it at creation.
   */
  seedBlock: bigint;
  /** Last block the drawn provider may answer in. */
  answerDeadline: bigint;
  modelId: Hex;
  evaluatorId: Hex;
  transactionHash: Hex;
  blockNumber: bigint;
}

/** Encodes the prompt as the market receives it. */
export function promptBytes(prompt: string | Uint8Array): Uint8Array {
  return typeof prompt === "string" ? stringToBytes(prompt) : prompt;
}

/** Picks the evaluator a job names when the caller gives none: the first one in the manifest that is active. */
export async function defaultEvaluatorId(manifest: DeploymentManifest, publicClient: PublicClient): Promise<Hex> {
  const { evaluatorRegistry } = getProtocolContracts(manifest, { public: publicClient });
  for (const { id } of manifest.evaluators) {
    if (await evaluatorRegistry.read.isActive([id as Hex])) return id as Hex;
  }
  throw new NoActiveEvaluatorError(manifest.evaluators.map((e) => e.id));
}

/**
 * Checks everything the market would reject (fee, prompt size, evaluator, model, balance, allowance) with a typed
 * error, approves when allowed, creates the task and reads its id from the receipt's TaskCreated event.
 */
export async function postJob(
  manifest: DeploymentManifest,
  publicClient: PublicClient,
  wallet: SigningWalletClient,
  p: PostJobParameters,
): Promise<PostJobReturnType> {
  const { token, taskMarket, evaluatorRegistry, stakeRegistry } = getProtocolContracts(manifest, { public: publicClient, wallet });
  const requester = wallet.account.address;
  if (p.fee <= 0n || p.fee > MAX_FEE) throw new InvalidFeeError(p.fee);
  const prompt = promptBytes(p.prompt);
  const params = await taskMarket.read.params(); // live values: governance may have changed the manifest's
  if (prompt.length > params.maxPromptBytes) throw new PromptTooLargeError(prompt.length, params.maxPromptBytes);
  const evaluatorId = p.evaluatorId ?? (await defaultEvaluatorId(manifest, publicClient));
  const modelId = modelIdOf(p.model);
  const [active, providers, balance, allowance] = await Promise.all([
    evaluatorRegistry.read.isActive([evaluatorId]),
    stakeRegistry.read.activeProviders([modelId]),
    token.read.balanceOf([requester]),
    token.read.allowance([requester, manifest.contracts.taskMarket]),
  ]);
  if (!active) throw new EvaluatorNotActiveError(evaluatorId);
  if (providers === 0n) throw new UnknownModelError(p.model, modelId);
  if (balance < p.fee) throw new InsufficientBalanceError(requester, balance, p.fee);
  if (allowance < p.fee) {
    if (p.approve === "none") throw new InsufficientAllowanceError(requester, allowance, p.fee);
    const jobs = p.approve === "exact" ? 1n : STANDING_ALLOWANCE_JOBS;
    const hash = await token.write.approve([manifest.contracts.taskMarket, p.fee * jobs + APPROVE_KEEPS_WEI]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new TransactionFailedError("approve", hash, "reverted");
  }

  const args = [modelId, evaluatorId, p.fee, bytesToHex(prompt)] as const;
  // createTask draws nothing, so its gas does not depend on the block that includes it: viem's estimate is exact.
  const hash = await taskMarket.write.createTask(args);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new TransactionFailedError("createTask", hash, "reverted");
  const ours = receipt.logs.filter((l) => l.address.toLowerCase() === manifest.contracts.taskMarket.toLowerCase());
  const [created] = parseEventLogs({ abi: taskMarketAbi, logs: ours, eventName: "TaskCreated" });
  if (created === undefined) throw new TransactionFailedError("createTask", hash, "the receipt has no TaskCreated event");
  return {
    taskId: created.args.taskId,
    seedBlock: receipt.blockNumber + 1n,
    answerDeadline: receipt.blockNumber + 1n + BigInt(params.answerWindow),
    modelId,
    evaluatorId,
    transactionHash: hash,
    blockNumber: receipt.blockNumber,
  };
}
