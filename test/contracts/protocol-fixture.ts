// Shared set-up of the TypeScript contract tests: an in-process Hardhat chain, the whole protocol deployed with
// sdk/deploy.ts, and staked providers and validators from Hardhat's built-in accounts.
import assert from "node:assert/strict";
import { network } from "hardhat";
import { decodeErrorResult, keccak256, toHex, type Abi, type Address, type Hex } from "viem";
import {
  type SigningWalletClient as WalletClient,
  evaluatorRegistryAbi,
  getEvaluatorRegistry,
  getStakeRegistry,
  getTaskMarket,
  getToken,
  mockERC20Abi,
  relayBatcherAbi,
  Role,
  stakeRegistryAbi,
  taskMarketAbi,
} from "../../sdk/contracts.ts";
import { computeCommitment, randomSalt } from "../../sdk/commitment.ts";
import { deployProtocol } from "../../sdk/deploy.ts";
import { readRound, stateArg } from "../../sdk/rounds.ts";
import type { DeploymentManifest, MarketParams } from "../../sdk/deployment.ts";

export const MODEL_ID = keccak256(toHex("model:llama-3-8b-instruct"));
export const EVALUATOR_ID = keccak256(toHex("evaluator:test-manifest"));
export const STAKE = 1_000n * 10n ** 18n;
export const FEE = 10n * 10n ** 18n;

const ALL_ABIS: Abi = [...taskMarketAbi, ...stakeRegistryAbi, ...evaluatorRegistryAbi, ...mockERC20Abi, ...relayBatcherAbi] as Abi;

/** Asserts that `action` reverts with the custom error `name` (decoded against every protocol ABI). */
export async function expectRevert(action: Promise<unknown>, name: string): Promise<readonly unknown[]> {
  try {
    await action;
  } catch (error) {
    let cursor: unknown = error;
    while (cursor && typeof cursor === "object") {
      const data = (cursor as { data?: unknown }).data;
      const hex = typeof data === "string" ? data : (data as { data?: unknown } | undefined)?.data;
      if (typeof hex === "string" && hex.startsWith("0x") && hex.length >= 10) {
        const decoded = decodeErrorResult({ abi: ALL_ABIS, data: hex as Hex });
        assert.equal(decoded.errorName, name, `expected ${name}, got ${decoded.errorName}`);
        return (decoded.args ?? []) as readonly unknown[];
      }
      cursor = (cursor as { cause?: unknown }).cause;
    }
    assert.fail(`expected custom error ${name}, got: ${String(error).slice(0, 400)}`);
  }
  assert.fail(`expected custom error ${name}, but the call succeeded`);
}

export interface SetupOptions {
  providers?: number;
  validators?: number;
  params?: Partial<MarketParams>;
}

export async function setupProtocol(options: SetupOptions = {}) {
  const connection = await network.create();
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const testClient = await viem.getTestClient();
  const wallets = await viem.getWalletClients();
  const [deployer, requester, ...rest] = wallets;
  const providerCount = options.providers ?? 2;
  const validatorCount = options.validators ?? 6;
  assert.ok(providerCount + validatorCount <= rest.length, "not enough Hardhat accounts");
  const manifest: DeploymentManifest = await deployProtocol({
    publicClient,
    walletClient: deployer,
    params: options.params,
    evaluators: [{ id: EVALUATOR_ID, uri: "ipfs://evaluator-manifest" }],
  });
  const clients = (wallet: WalletClient) => ({ public: publicClient, wallet });
  const as = (wallet: WalletClient) => ({
    market: getTaskMarket(manifest.contracts.taskMarket, clients(wallet)),
    registry: getStakeRegistry(manifest.contracts.stakeRegistry, clients(wallet)),
    evaluators: getEvaluatorRegistry(manifest.contracts.evaluatorRegistry, clients(wallet)),
    token: getToken(manifest.contracts.token, clients(wallet)),
  });
  const read = as(deployer);
  const wait = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    return receipt;
  };
  const fund = async (wallet: WalletClient, amount: bigint, spender: Address) => {
    const c = as(wallet);
    await wait(await c.token.write.mint([wallet.account!.address, amount]));
    await wait(await c.token.write.approve([spender, amount]));
  };
  const stake = async (wallet: WalletClient, role: number, amount = STAKE) => {
    await fund(wallet, amount, manifest.contracts.stakeRegistry);
    await wait(await as(wallet).registry.write.stake([role, amount]));
    // A first stake registers the test model (provider) or evaluator (validator); a top-up keeps them.
    const address = wallet.account!.address;
    if (role === Role.Provider && (await read.registry.read.modelsOf([address])).length === 0) {
      await wait(await as(wallet).registry.write.registerModel([MODEL_ID]));
    }
    if (role === Role.Validator && (await read.registry.read.evaluatorsOf([address])).length === 0) {
      await wait(await as(wallet).registry.write.registerEvaluator([EVALUATOR_ID]));
    }
  };
  const providers = rest.slice(0, providerCount);
  const validators = rest.slice(providerCount, providerCount + validatorCount);
  for (const p of providers) await stake(p, Role.Provider);
  for (const v of validators) await stake(v, Role.Validator);
  const byAddress = new Map(wallets.map((w) => [w.account!.address.toLowerCase(), w]));
  const walletOf = (address: Address): WalletClient => {
    const w = byAddress.get(address.toLowerCase());
    assert.ok(w, `no wallet for ${address}`);
    return w;
  };
  const mine = (blocks: number) => testClient.mine({ blocks });
  const blockNumber = () => publicClient.getBlockNumber();
  const chainId = await publicClient.getChainId();

  /** Creates a task from `requester` and returns its id. */
  const createTask = async (fee = FEE, prompt: Hex = toHex("What is the capital of France?")) => {
    await fund(requester, fee, manifest.contracts.taskMarket);
    await wait(await as(requester).market.write.createTask([MODEL_ID, EVALUATOR_ID, fee, prompt]));
    return read.market.read.taskCount();
  };
  /**
   * The provider of the task's current attempt (drawn from the hash of its seed block): mines until a call can
   * see that hash (an eth_call runs in the context of the head block, whose own hash the EVM does not give), then
   * reads `assignedProvider`. Nothing is materialized on chain.
   */
  const providerOf = async (taskId: bigint): Promise<Address> => {
    const t = await read.market.read.task([taskId]);
    const now = await publicClient.getBlockNumber();
    if (now <= t.seedBlock) await testClient.mine({ blocks: Number(t.seedBlock - now) + 1 });
    return read.market.read.assignedProvider([taskId]);
  };
  /** Mines until the next transaction lands after the answer deadline of the task's current attempt. */
  const toAfterAnswerDeadline = async (taskId: bigint) => {
    const t = await read.market.read.task([taskId]);
    const now = await publicClient.getBlockNumber();
    if (now < t.answerDeadline) await testClient.mine({ blocks: Number(t.answerDeadline - now) });
  };
  /** Answers with the assigned provider. */
  const answer = async (taskId: bigint, output: Hex = toHex("Paris.")) => {
    const provider = await providerOf(taskId);
    await wait(await as(walletOf(provider)).market.write.submitAnswer([taskId, keccak256(output), output, ""]));
  };
  /** The hash of the task's answer, from its AnswerSubmitted event, as a client reads it (the market does not store it). */
  const answerHash = async (taskId: bigint): Promise<Hex> => {
    const logs = await read.market.getEvents.AnswerSubmitted({ taskId }, { fromBlock: 0n, strict: true });
    assert.equal(logs.length, 1, `task ${taskId} has one answer`);
    return logs[0]!.args.outputHash!;
  };
  /** Draws the committee (mining the seed block first) and returns its members in order. */
  const draw = async (taskId: bigint) => {
    await mine(1);
    await wait(await read.market.write.drawCommittee([taskId]));
    const t = await read.market.read.task([taskId]);
    const { state } = await readRound(publicClient, manifest.contracts.taskMarket, taskId, t.round, t.drawBlock);
    return { task: t, members: [...state.members] };
  };
  /** The task's current RoundState, rebuilt from its CommitteeDrawn and CommitReported logs. */
  const roundState = async (taskId: bigint) => {
    const t = await read.market.read.task([taskId]);
    return stateArg((await readRound(publicClient, manifest.contracts.taskMarket, taskId, t.round, t.drawBlock)).state);
  };
  /** finalize(taskId, state) after revealEnd. */
  const finalize = async (taskId: bigint) => wait(await read.market.write.finalize([taskId, await roundState(taskId)]));
  const commitment = (score: number, salt: Hex, validator: Address, taskId: bigint, round: number) =>
    computeCommitment({ score, salt, validator, taskId, round, chainId, market: manifest.contracts.taskMarket });
  /** Commits `scores[i]` for member i (undefined = no commit); returns the salts. */
  const commitScores = async (taskId: bigint, members: Address[], scores: (number | undefined)[], round = 0) => {
    const salts: Hex[] = [];
    for (let i = 0; i < members.length; i++) {
      const salt = randomSalt();
      salts.push(salt);
      const score = scores[i];
      if (score === undefined) continue;
      const c = commitment(score, salt, members[i], taskId, round);
      await wait(await as(walletOf(members[i])).market.write.commit([taskId, await roundState(taskId), BigInt(i), c]));
    }
    return salts;
  };
  /** Reveals member i's score when `reveal[i]` (default all committed). */
  const revealScores = async (
    taskId: bigint,
    members: Address[],
    scores: (number | undefined)[],
    salts: Hex[],
    skip: Set<number> = new Set(),
  ) => {
    for (let i = 0; i < members.length; i++) {
      const score = scores[i];
      if (score === undefined || skip.has(i)) continue;
      await wait(await as(walletOf(members[i])).market.write.reveal([taskId, await roundState(taskId), BigInt(i), BigInt(score), salts[i]]));
    }
  };
  /** Mines until the reveal phase is open. */
  const toRevealPhase = async (taskId: bigint) => {
    const t = await read.market.read.task([taskId]);
    const now = await blockNumber();
    if (now <= t.commitEnd) await mine(Number(t.commitEnd - now));
  };
  const toAfterReveal = async (taskId: bigint) => {
    const t = await read.market.read.task([taskId]);
    const now = await blockNumber();
    if (now <= t.revealEnd) await mine(Number(t.revealEnd - now));
  };

  return {
    connection,
    viem,
    publicClient,
    testClient,
    manifest,
    deployer,
    requester,
    providers,
    validators,
    wallets,
    chainId,
    as,
    read,
    wait,
    fund,
    stake,
    walletOf,
    mine,
    blockNumber,
    createTask,
    providerOf,
    toAfterAnswerDeadline,
    answer,
    answerHash,
    draw,
    roundState,
    finalize,
    commitment,
    commitScores,
    revealScores,
    toRevealPhase,
    toAfterReveal,
    randomSalt,
  };
}

export type Protocol = Awaited<ReturnType<typeof setupProtocol>>;
