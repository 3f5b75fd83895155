// Scenarios measured by scripts/bench/gas.ts, each on a fresh in-process Hardhat chain so that figures do not
// depend on each other. Figures are the total transaction gas (including the 21,000 base) from receipts, in
// steady state: every account involved has been paid before (non-zero balance slots) unless stated.
import { network } from "hardhat";
import {
  createWalletClient,
  custom,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { computeCommitment, randomSalt } from "../../sdk/commitment.ts";
import { getProtocolContracts, Role, type SigningWalletClient } from "../../sdk/contracts.ts";
import { deployProtocol } from "../../sdk/deploy.ts";
import type { DeploymentManifest, MarketParams } from "../../sdk/deployment.ts";
import { signCommit, taskMarketDomain } from "../../sdk/eip712.ts";

const MODEL_ID = keccak256(toHex("model:bench"));
const EVALUATOR_ID = keccak256(toHex("evaluator:bench"));
const STAKE = 1_000n * 10n ** 18n;
const FEE = 10n * 10n ** 18n;
const FAR_DEADLINE = 2n ** 40n;

export interface TaskGas {
  create: bigint;
  answer: bigint;
  draw: bigint;
  commits: bigint[];
  reveals: bigint[];
  finalize: bigint;
}

export type BenchChain = Awaited<ReturnType<typeof benchChain>>;

/**
 * A fresh chain with the protocol deployed, one provider and `validatorCount` validators. Validator keys are
 * derived at run time from a public label (throwaway keys, identical on every run so the draws repeat).
 */
export async function benchChain(validatorCount: number, params: Partial<MarketParams>) {
  const connection = await network.create();
  const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
  const testClient = await connection.viem.getTestClient();
  const [deployer, requester, provider] = await connection.viem.getWalletClients();
  const manifest: DeploymentManifest = await deployProtocol({
    publicClient,
    walletClient: deployer,
    params,
    evaluators: [{ id: EVALUATOR_ID, uri: "bench://evaluator" }],
  });
  const as = (wallet: SigningWalletClient) => getProtocolContracts(manifest, { public: publicClient, wallet });
  const chain = publicClient.chain!;
  const validators: SigningWalletClient[] = [];
  const deployerContracts = as(deployer);
  for (let i = 0; i < validatorCount; i++) {
    const account: LocalAccount = privateKeyToAccount(keccak256(toHex(`poq-bench-validator-${i}`)));
    const wallet = createWalletClient({ account, chain, transport: custom(connection.provider) });
    await testClient.setBalance({ address: account.address, value: 10n ** 20n });
    await deployerContracts.token.write.mint([account.address, STAKE]);
    await as(wallet).token.write.approve([manifest.contracts.stakeRegistry, STAKE]);
    await as(wallet).stakeRegistry.write.stake([Role.Validator, STAKE]);
    await as(wallet).stakeRegistry.write.registerEvaluator([EVALUATOR_ID]);
    validators.push(wallet);
  }
  const active = await deployerContracts.stakeRegistry.read.activeValidators([EVALUATOR_ID]);
  if (active !== BigInt(validatorCount)) throw new Error(`staked ${active} validators, wanted ${validatorCount}`);
  await deployerContracts.token.write.mint([provider.account.address, STAKE]);
  await as(provider).token.write.approve([manifest.contracts.stakeRegistry, STAKE]);
  await as(provider).stakeRegistry.write.stake([Role.Provider, STAKE]);
  await as(provider).stakeRegistry.write.registerModel([MODEL_ID]);
  await deployerContracts.token.write.mint([requester.account.address, FEE * 1_000n]);
  await as(requester).token.write.approve([manifest.contracts.taskMarket, FEE * 1_000n]);
  const byAddress = new Map(validators.map((v) => [v.account.address.toLowerCase(), v]));
  return { connection, publicClient, testClient, manifest, as, deployer, requester, provider, validators, byAddress };
}

async function gasOf(env: BenchChain, hash: Hex): Promise<bigint> {
  const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`benchmark transaction ${hash} reverted`);
  return receipt.gasUsed;
}

/** Creates and answers a task and draws its committee; returns the task id, members and the gas so far. */
export async function taskToCommittee(env: BenchChain) {
  const market = env.as(env.requester).taskMarket;
  const create = await gasOf(env, await market.write.createTask([MODEL_ID, EVALUATOR_ID, FEE, toHex("bench prompt")]));
  const taskId = await market.read.taskCount();
  const output = toHex("bench answer");
  const answer = await gasOf(
    env,
    await env.as(env.provider).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]),
  );
  await env.testClient.mine({ blocks: 1 });
  const draw = await gasOf(env, await market.write.drawCommittee([taskId]));
  const members = (await market.read.committee([taskId, 0n])).map((m) => m.account);
  return { taskId, members, gas: { create, answer, draw } };
}

const wallet = (env: BenchChain, address: Address) => env.byAddress.get(address.toLowerCase())!;

/** One whole task with direct commits and reveals; every member reveals a score near 8,000. */
export async function runDirectTask(env: BenchChain): Promise<TaskGas> {
  const { taskId, members, gas } = await taskToCommittee(env);
  const chainId = env.manifest.chainId;
  const market = env.manifest.contracts.taskMarket;
  const scores = members.map((_, i) => 8_000 + 37 * i);
  const salts = members.map(() => randomSalt());
  const commits: bigint[] = [];
  for (let i = 0; i < members.length; i++) {
    const c = computeCommitment({ score: scores[i], salt: salts[i], validator: members[i], taskId, round: 0, chainId, market });
    commits.push(await gasOf(env, await env.as(wallet(env, members[i])).taskMarket.write.commit([taskId, BigInt(i), c])));
  }
  const t = await env.as(env.deployer).taskMarket.read.task([taskId]);
  const now = await env.publicClient.getBlockNumber();
  if (now <= t.commitEnd) await env.testClient.mine({ blocks: Number(t.commitEnd - now) });
  const reveals: bigint[] = [];
  for (let i = 0; i < members.length; i++) {
    const m = env.as(wallet(env, members[i])).taskMarket;
    reveals.push(await gasOf(env, await m.write.reveal([taskId, BigInt(i), BigInt(scores[i]), salts[i]])));
  }
  const finalize = await gasOf(env, await env.as(env.deployer).taskMarket.write.finalize([taskId]));
  return { ...gas, commits, reveals, finalize };
}

/**
 * Every payee (provider, requester, validators, treasury) claims its credit, so the next task's finalize writes
 * credit slots from zero: the cold case of a daemon that claimed since its last task.
 */
export async function claimAll(env: BenchChain): Promise<void> {
  const reader = env.as(env.deployer).taskMarket;
  for (const w of [env.deployer, env.requester, env.provider, ...env.validators]) {
    if ((await reader.read.claimable([w.account.address])) === 0n) continue;
    await gasOf(env, await env.as(w).taskMarket.write.claim());
  }
}

/** Gas of one commitBySig transaction relaying the first `count` members' signed commits of a fresh task. */
export async function relayedCommitBatch(env: BenchChain, count: number): Promise<bigint> {
  const { taskId, members } = await taskToCommittee(env);
  const chainId = env.manifest.chainId;
  const market = env.manifest.contracts.taskMarket;
  const domain = taskMarketDomain(chainId, market);
  const items = [];
  for (let i = 0; i < count; i++) {
    const member = members[i];
    const commitment = computeCommitment({ score: 5_000, salt: randomSalt(), validator: member, taskId, round: 0, chainId, market });
    const message = { taskId, round: 0n, commitment, deadline: FAR_DEADLINE };
    const signature = await signCommit(wallet(env, member).account as LocalAccount, domain, message);
    items.push({ ...message, index: BigInt(i), signature });
  }
  return gasOf(env, await env.as(env.deployer).taskMarket.write.commitBySig([items]));
}
