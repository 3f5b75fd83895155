// Scenarios measured by scripts/bench/gas.ts, each on a fresh chain (Hardhat's in-process EVM, or anvil in its own
// process) so that figures do not depend on each other. Figures are the total transaction gas (including the 21,000 base) from receipts, in
// steady state: every account involved has been paid before (non-zero balance slots) unless stated.
import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  hexToBytes,
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
import { getProtocolContracts, Role, type SigningWalletClient } from "../../sdk/contracts.ts";
import { deployProtocol } from "../../sdk/deploy.ts";
import type { DeploymentManifest, MarketParams } from "../../sdk/deployment.ts";
import { signCommitCompact, taskMarketDomain } from "../../sdk/eip712.ts";
import { drawnState, maskOf, mergeReport, readRound, stateArg, type RoundState } from "../../sdk/rounds.ts";

export const MODEL_ID = keccak256(toHex("model:bench"));
export const EVALUATOR_ID = keccak256(toHex("evaluator:bench"));
const STAKE = 1_000n * 10n ** 18n;
export const FEE = 10n * 10n ** 18n;
/** Signature lifetime of the relayed messages: far ahead of the bench chain's clock. */
export const FAR_DEADLINE = 2n ** 40n;

/** One task's gas by step. */
export interface TaskGas {
  create: bigint;
  answer: bigint;
  draw: bigint;
  /** One commitReport, or each member's commit. */
  commits: bigint[];
  /** One revealReport (the settlement included), or each member's reveal. */
  reveals: bigint[];
  /** The finalize after reveals alone; 0 when a reveal report settled the task. */
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
  const deployerContracts = as(deployer!);
  /** Mints `amount` to `wallet`, which approves and stakes it in `role` (also how a slashed member stakes back). */
  const stake = async (wallet: SigningWalletClient, role: (typeof Role)[keyof typeof Role], amount: bigint) => {
    await confirmed(publicClient, await deployerContracts.token.write.mint([wallet.account.address, amount]));
    await confirmed(publicClient, await as(wallet).token.write.approve([manifest.contracts.stakeRegistry, amount]));
    await confirmed(publicClient, await as(wallet).stakeRegistry.write.stake([role, amount]));
  };
  /** A throwaway key derived from a public label, with native coin for gas. */
  const throwaway = async (label: string) => {
    const account: LocalAccount = privateKeyToAccount(keccak256(toHex(label)));
    await testClient.setBalance({ address: account.address, value: 10n ** 20n });
    return createWalletClient({ account, chain, transport });
  };
  const validators: SigningWalletClient[] = [];
  for (let i = 0; i < validatorCount; i++) {
    const wallet = await throwaway(`poq-bench-validator-${i}`);
    await stake(wallet, Role.Validator, STAKE);
    await confirmed(publicClient, await as(wallet).stakeRegistry.write.registerEvaluator([EVALUATOR_ID]));
    validators.push(wallet);
  }
  const active = await deployerContracts.stakeRegistry.read.activeValidators([EVALUATOR_ID]);
  if (active !== BigInt(validatorCount)) throw new Error(`staked ${active} validators, wanted ${validatorCount}`);
  const providers: SigningWalletClient[] = [provider!];
  for (const [i] of (options.extraProviderStakes ?? []).entries()) providers.push(await throwaway(`poq-bench-provider-${i}`));
  const stakes = [STAKE, ...(options.extraProviderStakes ?? [])];
  for (const [i, p] of providers.entries()) {
    await stake(p, Role.Provider, stakes[i]!);
    await confirmed(publicClient, await as(p).stakeRegistry.write.registerModel([MODEL_ID]));
  }
  await confirmed(publicClient, await deployerContracts.token.write.mint([requester!.account.address, FEE * 1_000n]));
  await confirmed(publicClient, await as(requester!).token.write.approve([manifest.contracts.taskMarket, FEE * 1_000n]));
  const byAddress = new Map([...validators, ...providers].map((v) => [v.account.address.toLowerCase(), v]));
  return { evm, close, publicClient, testClient, manifest, as, stake, deployer: deployer!, requester: requester!, provider: provider!, providers, validators, byAddress };
}

/** The receipt of a benchmark transaction; fails loudly if it reverted. */
export async function confirmed(publicClient: PublicClient, hash: Hex) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`benchmark transaction ${hash} reverted`);
  return receipt;
}

/** Intrinsic calldata gas (EIP-2028): 4 per zero byte, 16 per other byte. */
export const calldataGas = (input: Hex) => hexToBytes(input).reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0);

export const sumGas = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);

export const gasOf = async (env: BenchChain, hash: Hex): Promise<bigint> => (await confirmed(env.publicClient, hash)).gasUsed;

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
  const drawHash = await market.write.drawCommittee([taskId]);
  const draw = await gasOf(env, drawHash);
  // Members are not in storage: the round's state comes from its CommitteeDrawn (sdk/rounds.ts).
  const drawBlock = (await env.publicClient.getTransactionReceipt({ hash: drawHash })).blockNumber;
  const { state } = await readRound(env.publicClient, env.manifest.contracts.taskMarket, taskId, 0, drawBlock);
  return { taskId, members: state.members, state, gas: { create, answer, draw } };
}

export const wallet = (env: BenchChain, address: Address) => env.byAddress.get(address.toLowerCase())!;

/** What each seat of a committee scores and the salt it commits with, by seat. */
export interface Ballots {
  scores: readonly number[];
  salts: readonly Hex[];
}

/** Scores near 8,000 and fresh random salts. */
export const randomBallots = (members: readonly Address[]): Ballots => ({
  scores: members.map((_, i) => 8_000 + 37 * (i % 20)),
  salts: members.map(() => randomSalt()),
});

/** Seat `seat`'s commitment to its ballot in round 0 of `taskId`. */
export function commitmentOf(env: BenchChain, taskId: bigint, members: readonly Address[], ballots: Ballots, seat: number): Hex {
  const { chainId, contracts } = env.manifest;
  return computeCommitment({ score: ballots.scores[seat]!, salt: ballots.salts[seat]!, validator: members[seat]!, taskId, round: 0, chainId, market: contracts.taskMarket });
}

/**
 * A round's two reports, as the aggregator builds them: the commit report of `seats`' signed commits (compact
 * signatures, far deadline) on the drawn state, and the reveal report opening `open` of them (default: all) on the
 * state that report leaves. Each is the argument list of commitReport / revealReport.
 */
export async function roundReports(env: BenchChain, taskId: bigint, members: readonly Address[], ballots: Ballots, seats: readonly number[] = members.map((_, i) => i), open: readonly number[] = seats) {
  const domain = taskMarketDomain(env.manifest.chainId, env.manifest.contracts.taskMarket);
  const commitments = seats.map((i) => commitmentOf(env, taskId, members, ballots, i));
  const signatures = await Promise.all(
    seats.map(async (i, n) => [...(await signCommitCompact(wallet(env, members[i]!), domain, { taskId, round: 0n, commitment: commitments[n]!, deadline: FAR_DEADLINE }))] as [Hex, Hex]),
  );
  const mask = maskOf(seats);
  const drawn = drawnState(members);
  return {
    commit: [stateArg(drawn), { taskId, round: 0n, mask, commitments, deadline: FAR_DEADLINE, signatures }] as const,
    reveal: [
      stateArg(mergeReport(drawn, mask, commitments)),
      { taskId, revealMask: maskOf(open), scores: open.map((i) => ballots.scores[i]!), salts: open.map((i) => ballots.salts[i]!) },
    ] as const,
  };
}

/** Seat `seat` reveals its ballot alone (the fallback call); its gas. */
export async function revealAlone(env: BenchChain, taskId: bigint, state: RoundState, ballots: Ballots, seat: number): Promise<bigint> {
  const market = env.as(wallet(env, state.members[seat]!)).taskMarket;
  return gasOf(env, await market.write.reveal([taskId, stateArg(state), BigInt(seat), BigInt(ballots.scores[seat]!), ballots.salts[seat]!]));
}

export interface DirectTaskOptions {
  /** Each member's ballot (default: randomBallots). */
  ballotsOf?: (members: readonly Address[], taskId: bigint) => Ballots;
  /** Who sends the finalize (default: the deployer). */
  finalizer?: SigningWalletClient;
  /** Reveal as soon as every member committed (the contracts allow it, reading the committed mask) instead of
   * after commitEnd (where they skip that read). */
  revealEarly?: boolean;
}

/** One whole task with every member committing and revealing alone (the fallback calls, with the round's state),
 * then finalize. */
export async function runDirectTask(env: BenchChain, { ballotsOf = randomBallots, finalizer = env.deployer, revealEarly = false }: DirectTaskOptions = {}): Promise<TaskGas> {
  const { taskId, members, state, gas } = await taskToCommittee(env);
  const ballots = ballotsOf(members, taskId);
  const commits: bigint[] = [];
  for (let i = 0; i < members.length; i++) {
    const c = commitmentOf(env, taskId, members, ballots, i);
    commits.push(await gasOf(env, await env.as(wallet(env, members[i]!)).taskMarket.write.commit([taskId, stateArg(state), BigInt(i), c])));
  }
  const { commitEnd } = await env.as(env.deployer).taskMarket.read.task([taskId]);
  const now = await env.publicClient.getBlockNumber();
  if (!revealEarly && now <= commitEnd) await env.testClient.mine({ blocks: Number(commitEnd - now) });
  const reveals: bigint[] = [];
  for (let i = 0; i < members.length; i++) reveals.push(await revealAlone(env, taskId, state, ballots, i));
  const finalize = await gasOf(env, await env.as(finalizer).taskMarket.write.finalize([taskId, stateArg(state)]));
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

/** Gas of one commitReport carrying the first `count` members' signed commits of a fresh task (compact signatures). */
export async function commitReportOf(env: BenchChain, count: number): Promise<bigint> {
  const { taskId, members } = await taskToCommittee(env);
  const ballots = { scores: members.map(() => 5_000), salts: members.map(() => randomSalt()) };
  const { commit } = await roundReports(env, taskId, members, ballots, members.slice(0, count).map((_, i) => i));
  return gasOf(env, await env.as(env.deployer).taskMarket.write.commitReport(commit));
}
