// Scenarios measured by scripts/bench/gas.ts, each on a fresh chain (Hardhat's in-process EVM, or anvil in its own
// process) so that figures do not depend on each other. Figures are the total transaction gas (including the 21,000 base) from receipts, in
// steady state: every account involved has been paid before (non-zero balance slots) unless stated.
import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  http,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { startAnvil } from "../localnet/anvil.ts";
import { computeCommitment, randomSalt } from "../../sdk/commitment.ts";
import { getProtocolContracts, relayBatcherAbi, Role, type SigningWalletClient } from "../../sdk/contracts.ts";
import { deployProtocol } from "../../sdk/deploy.ts";
import type { DeploymentManifest, MarketParams } from "../../sdk/deployment.ts";
import { signCommit, signReveal, taskMarketDomain, type TypedDataSigner } from "../../sdk/eip712.ts";

export const MODEL_ID = keccak256(toHex("model:bench"));
export const EVALUATOR_ID = keccak256(toHex("evaluator:bench"));
const STAKE = 1_000n * 10n ** 18n;
export const FEE = 10n * 10n ** 18n;
/** Signature lifetime of the relayed messages: far ahead of the bench chain's clock. */
const FAR_DEADLINE = 2n ** 40n;

type Domain = ReturnType<typeof taskMarketDomain>;

/** Seat `index`'s signed commit of round 0 as a relayer sends it (ITaskMarket.SignedCommit). */
export async function signedCommit(signer: TypedDataSigner, domain: Domain, taskId: bigint, index: number, commitment: Hex) {
  const message = { taskId, round: 0n, commitment, deadline: FAR_DEADLINE };
  return { ...message, index: BigInt(index), signature: await signCommit(signer, domain, message) };
}

/** Seat `index`'s signed reveal of round 0 as a relayer sends it (ITaskMarket.SignedReveal). */
export async function signedReveal(signer: TypedDataSigner, domain: Domain, taskId: bigint, index: number, score: bigint, salt: Hex) {
  const message = { taskId, round: 0n, score, salt, deadline: FAR_DEADLINE };
  return { ...message, index: BigInt(index), signature: await signReveal(signer, domain, message) };
}

export interface TaskGas {
  create: bigint;
  answer: bigint;
  draw: bigint;
  commits: bigint[];
  reveals: bigint[];
  finalize: bigint;
}

export type BenchChain = Awaited<ReturnType<typeof benchChain>>;
export type BenchEvm = "hardhat" | "anvil";

export interface BenchChainOptions {
  /** The EVM: Hardhat's in-process one (default) or anvil in its own process. */
  evm?: BenchEvm;
  /** Stakes of extra providers serving the model besides the first one (which stakes STAKE). */
  extraProviderStakes?: bigint[];
}

/** A fresh EVM behind a viem transport, and how to stop it. */
async function openEvm(evm: BenchEvm): Promise<{ transport: Transport; close(): Promise<void> }> {
  if (evm === "anvil") {
    const node = await startAnvil();
    return { transport: http(node.rpcUrl), close: () => node.stop() };
  }
  const connection = await network.create();
  return { transport: custom(connection.provider), close: () => connection.close() };
}

/**
 * A fresh chain with the protocol deployed, one provider (plus `extraProviderStakes`) and `validatorCount`
 * validators. Validator and extra provider keys are derived at run time from a public label (throwaway keys,
 * identical on every run so the draws repeat); the deployer, requester and first provider are the node's
 * unlocked dev accounts.
 */
export async function benchChain(validatorCount: number, params: Partial<MarketParams>, options: BenchChainOptions = {}) {
  const evm = options.evm ?? "hardhat";
  const { transport, close } = await openEvm(evm);
  const chain = hardhat; // both nodes run chain id 31337
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20, cacheTime: 0 }) as PublicClient;
  const testClient = createTestClient({ chain, transport, mode: evm });
  const [deployer, requester, provider] = (await createWalletClient({ chain, transport }).getAddresses()).map((account) =>
    createWalletClient({ account, chain, transport }) as SigningWalletClient);
  const manifest: DeploymentManifest = await deployProtocol({
    publicClient,
    walletClient: deployer!,
    params,
    evaluators: [{ id: EVALUATOR_ID, uri: "bench://evaluator" }],
  });
  const as = (wallet: SigningWalletClient) => getProtocolContracts(manifest, { public: publicClient, wallet });
  const validators: SigningWalletClient[] = [];
  const deployerContracts = as(deployer!);
  for (let i = 0; i < validatorCount; i++) {
    const account: LocalAccount = privateKeyToAccount(keccak256(toHex(`poq-bench-validator-${i}`)));
    const wallet = createWalletClient({ account, chain, transport });
    await testClient.setBalance({ address: account.address, value: 10n ** 20n });
    await waitOk(publicClient, await deployerContracts.token.write.mint([account.address, STAKE]));
    await waitOk(publicClient, await as(wallet).token.write.approve([manifest.contracts.stakeRegistry, STAKE]));
    await waitOk(publicClient, await as(wallet).stakeRegistry.write.stake([Role.Validator, STAKE]));
    await waitOk(publicClient, await as(wallet).stakeRegistry.write.registerEvaluator([EVALUATOR_ID]));
    validators.push(wallet);
  }
  const active = await deployerContracts.stakeRegistry.read.activeValidators([EVALUATOR_ID]);
  if (active !== BigInt(validatorCount)) throw new Error(`staked ${active} validators, wanted ${validatorCount}`);
  const providers: SigningWalletClient[] = [provider!];
  for (const [i] of (options.extraProviderStakes ?? []).entries()) {
    const account: LocalAccount = privateKeyToAccount(keccak256(toHex(`poq-bench-provider-${i}`)));
    await testClient.setBalance({ address: account.address, value: 10n ** 20n });
    providers.push(createWalletClient({ account, chain, transport }));
  }
  const stakes = [STAKE, ...(options.extraProviderStakes ?? [])];
  for (const [i, p] of providers.entries()) {
    await waitOk(publicClient, await deployerContracts.token.write.mint([p.account.address, stakes[i]!]));
    await waitOk(publicClient, await as(p).token.write.approve([manifest.contracts.stakeRegistry, stakes[i]!]));
    await waitOk(publicClient, await as(p).stakeRegistry.write.stake([Role.Provider, stakes[i]!]));
    await waitOk(publicClient, await as(p).stakeRegistry.write.registerModel([MODEL_ID]));
  }
  await waitOk(publicClient, await deployerContracts.token.write.mint([requester!.account.address, FEE * 1_000n]));
  await waitOk(publicClient, await as(requester!).token.write.approve([manifest.contracts.taskMarket, FEE * 1_000n]));
  const byAddress = new Map([...validators, ...providers].map((v) => [v.account.address.toLowerCase(), v]));
  return { evm, close, publicClient, testClient, manifest, as, deployer: deployer!, requester: requester!, provider: provider!, providers, validators, byAddress };
}

/** Waits for a setup transaction and fails loudly if it reverted. */
async function waitOk(publicClient: PublicClient, hash: Hex): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`benchmark setup transaction ${hash} reverted`);
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
  await env.testClient.mine({ blocks: 1 }); // the provider is drawn from the hash of the block after the creation
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
 * Every payee (providers, requester, validators, treasury) claims its credit, so the next task's finalize writes
 * credit slots from zero: the cold case of a daemon that claimed since its last task. Returns each claim's gas.
 */
export async function claimAll(env: BenchChain): Promise<bigint[]> {
  const reader = env.as(env.deployer).taskMarket;
  const gas: bigint[] = [];
  for (const w of [env.deployer, env.requester, ...env.providers, ...env.validators]) {
    if ((await reader.read.claimable([w.account.address])) === 0n) continue;
    gas.push(await gasOf(env, await env.as(w).taskMarket.write.claim()));
  }
  return gas;
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
    items.push(await signedCommit(wallet(env, member).account as LocalAccount, domain, taskId, i, commitment));
  }
  return gasOf(env, await env.as(env.deployer).taskMarket.write.commitBySig([items]));
}

/** A task whose every member's commit was relayed, with every member's signed reveal ready to relay. */
async function signedRevealsOfTask(env: BenchChain) {
  const { taskId, members } = await taskToCommittee(env);
  const chainId = env.manifest.chainId;
  const market = env.manifest.contracts.taskMarket;
  const domain = taskMarketDomain(chainId, market);
  const commits = [];
  const reveals = [];
  for (let i = 0; i < members.length; i++) {
    const signer = wallet(env, members[i]).account as LocalAccount;
    const [score, salt] = [BigInt(8_000 + 37 * i), randomSalt()];
    const commitment = computeCommitment({ score: Number(score), salt, validator: members[i], taskId, round: 0, chainId, market });
    commits.push(await signedCommit(signer, domain, taskId, i, commitment));
    reveals.push(await signedReveal(signer, domain, taskId, i, score, salt));
  }
  await gasOf(env, await env.as(env.deployer).taskMarket.write.commitBySig([commits]));
  return { taskId, reveals };
}

/**
 * The two ways a relayer can settle a committee whose k reveals it holds, on two tasks of the same chain (payees
 * warm): the market's revealBySig and then a separate finalize (two transactions), or both in one
 * RelayBatcher.revealAndFinalize (what the shipped relayer sends).
 */
export async function relayedRevealsCompared(env: BenchChain): Promise<{ revealBySig: bigint; finalize: bigint; revealAndFinalize: bigint }> {
  const separate = await signedRevealsOfTask(env);
  const relayer = env.as(env.deployer).taskMarket;
  const revealBySig = await gasOf(env, await relayer.write.revealBySig([separate.reveals]));
  const finalize = await gasOf(env, await relayer.write.finalize([separate.taskId]));
  const folded = await signedRevealsOfTask(env);
  const revealAndFinalize = await gasOf(env, await env.deployer.writeContract({
    address: env.manifest.contracts.relayBatcher!, abi: relayBatcherAbi, functionName: "revealAndFinalize",
    args: [env.manifest.contracts.taskMarket, folded.reveals, [folded.taskId]], account: env.deployer.account, chain: env.deployer.chain,
  }));
  return { revealBySig, finalize, revealAndFinalize };
}
