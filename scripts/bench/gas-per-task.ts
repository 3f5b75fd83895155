// Per-task gas as the shipped software sends it (issue 11), for scripts/bench/gas.ts:
// - a task run phase by phase the way the daemons and the SDK send it, each phase in the first block the contracts
//   accept it (blocks from the answer to the finalize counted), all parties' gas from receipts; validators hand
//   their signed commits and openings to the aggregator (the relayer role, docs/design/ROUNDS.md: one commitReport,
//   then one revealReport that settles the task; the commit report, the round's first commit, draws the committee:
//   no draw transaction), and the same task with every member committing and revealing alone (the fallback calls,
//   the first of which draws) and a keeper's finalize is measured beside it (daemonPatternFallback), as is the task
//   with the draw sent on its own first (perTaskParts.separateDraw, the daemons' pattern before the lazy draw);
// - claims amortized by the daemons' own claim policy (daemon/roles/claim-policy.ts, defaults from the config
//   schema), over the tasks one claim covers;
// - eth_estimateGas exactness of createTask: sent with exactly its estimate, across providers of different stakes.
import { encodeFunctionData, keccak256, parseEther, parseGwei, toHex, type Abi, type Address, type Hex } from "viem";
import { configSchema } from "../../daemon/config/schema.ts";
import { decideClaim } from "../../daemon/roles/claim-policy.ts";
import { mockERC20Abi, taskMarketAbi, TaskStatus, type SigningWalletClient } from "../../sdk/contracts.ts";
import { drawnState, readRound, stateArg } from "../../sdk/rounds.ts";
import { APPROVE_KEEPS_WEI, STANDING_ALLOWANCE_JOBS } from "../../sdk/client.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { benchChain, claimAll, commitmentOf, confirmed, sumGas, EVALUATOR_ID, FEE, MODEL_ID, randomBallots, roundReports, wallet, type BenchChain, type TaskGas } from "./gas-scenarios.ts";

export const COMMITTEE_SIZES = ["3", "5", "9", "15", "32"] as const;
export type CommitteeSize = (typeof COMMITTEE_SIZES)[number];

export interface PerTaskFigures {
  /** Every party's transactions for one task as the shipped daemons and SDK send them, claims amortized: the
   * aggregator's commitReport and revealReport (which settles the task). */
  daemonPattern: number;
  /** The same task with every member committing and revealing alone (the fallback calls, k + k transactions) and a
   * keeper's finalize, claims amortized the same way: what a round costs when no aggregator serves it. */
  daemonPatternFallback: number;
  /** The whole task when every payee claimed since its last task (credit slots written from zero). */
  cold: number;
  /** The whole task when every payee still holds credit. */
  warm: number;
  /** The requester's part: createTask and a tenth of the SDK's default "standing" approve (ten fees plus the 1 wei it leaves approved). */
  requester: number;
  /** Blocks from the answer's block to the finalize's, every step in the first block the contracts accept it. */
  blocksAnswerToFinalized: number;
  /** The same for the fallback pattern. */
  blocksAnswerToFinalizedFallback: number;
  /** daemonPattern with the stake token priced realistically against the native coin (claimScenario's
   * realisticTokenPerNative instead of the daemon default): the same policy, fewer claims per task. */
  daemonPatternRealisticPrice: number;
}

/** The parts behind one committee size's figures (printed, and kept in the JSON for comparison). */
export interface PerTaskParts {
  approve: number;
  createTask: number;
  submitAnswer: number;
  /** The draw sent on its own (the keeper's fallback: a round nobody commits to), measured in separateDraw. */
  drawCommittee: number;
  /** The aggregator's commitReport carrying the committee's k signed commits; its first commit of the round, so it
   * draws the committee too (no draw transaction on the happy path). */
  commits: number;
  /** The aggregator's revealReport carrying the k openings, which settles the task (warm payees). */
  revealsAndFinalize: number;
  /** The same when every payee claimed since its last task. */
  revealsAndFinalizeCold: number;
  /** Gas the aggregator pays per task (commits + revealsAndFinalize), and what it spares the others: the
   * validators' own k commits and k reveals, and the keeper's finalize (warm), as measured in the fallback pattern. */
  relayerPays: number;
  validatorsSpared: number;
  keeperSpared: number;
  /** The fallback pattern's phases: k commit and k reveal transactions (sums), the finalize warm and cold. */
  fallback: { commits: number; reveals: number; finalizeWarm: number; finalizeCold: number };
  /** Mean gas of one claim() transaction. */
  claim: number;
  /** Claim gas (claim + what it adds to the next finalize, measured: cold - warm) per task, amortized:
   * daemonPattern - warm. */
  claimsPerTask: number;
  /** Tasks one claim covers under the daemons' policy, per kind of payee. */
  tasksPerClaim: { provider: number; validator: number };
  /** The same two at realisticTokenPerNative (daemonPatternRealisticPrice - warm). */
  claimsPerTaskRealisticPrice: number;
  tasksPerClaimRealisticPrice: { provider: number; validator: number };
  /** Largest single transaction of the task (the one a block gas limit bounds). */
  largestTransaction: number;
  /** The task with the draw sent on its own before the commit report (the daemons' pattern before the draw moved
   * into the round's first commit), warm, claims amortized the same way: for comparison. */
  separateDraw: { daemonPattern: number; commits: number; blocksAnswerToFinalized: number };
}

/** Assumptions of the claim amortization: the daemons' defaults, plus a gas price, a fee and a task rate. */
export const claimScenario = () => {
  const claim = configSchema.shape.claim.parse(undefined);
  const roles = configSchema.shape.roles.parse({ validator: { evaluatorDir: "-" } });
  return {
    gasMargin: claim.gasMargin,
    tokenPerNative: claim.tokenPerNative,
    maxIntervalMs: claim.maxIntervalMs,
    claimBatchMs: roles.validator!.claimBatchMs,
    /** Ethereum L1 at 10 gwei, the anchor. */
    gasPriceGwei: 10,
    /** The benchmark's fee (token units of 18 decimals). */
    fee: Number(FEE / 10n ** 18n),
    /** Each daemon serves one task per claim-check window: the low-traffic daemon of issue 12. */
    taskEveryMs: roles.validator!.claimBatchMs,
    /** A second amortization (daemonPatternRealisticPrice): an operator who sets claim.tokenPerNative to what the
     * token is worth. 200 tokens per ETH makes the bench fee of 10 tokens worth 0.05 ETH. */
    realisticTokenPerNative: 200,
  };
};

type Call = { from: SigningWalletClient; functionName: string; args: readonly unknown[]; to?: Address; abi?: Abi };

const MAX_WAIT_BLOCKS = 1_000;

/**
 * Sends one phase (transactions that do not depend on each other) into one block: first mines empty blocks until
 * the phase's first call passes against the pending block (the contracts decide when a phase opens, nothing here
 * assumes it), then sends every call with twice its estimate and mines one block. Returns each receipt's gas and
 * the block. Automine must be off.
 */
async function phase(env: BenchChain, calls: Call[]): Promise<{ gas: bigint[]; block: bigint; hashes: Hex[] }> {
  const market = env.manifest.contracts.taskMarket;
  const estimate = (c: Call) => estimatePending(env, c);
  await firstAccepted(env, [calls[0]!], estimate);
  const hashes: Hex[] = [];
  for (const c of calls) {
    const gas = (await estimate(c)) * 2n;
    hashes.push(await c.from.sendTransaction({ to: c.to ?? market, data: callData(c), gas, chain: c.from.chain, account: c.from.account }));
  }
  await env.testClient.mine({ blocks: 1 });
  const receipts = await Promise.all(hashes.map((hash) => env.publicClient.waitForTransactionReceipt({ hash })));
  const failed = receipts.find((r) => r.status !== "success");
  if (failed !== undefined) throw new Error(`${calls[0]!.functionName} phase: transaction ${failed.transactionHash} reverted`);
  return { gas: receipts.map((r) => r.gasUsed), block: receipts[0]!.blockNumber, hashes };
}

const callData = (c: Call) => encodeFunctionData({ abi: c.abi ?? taskMarketAbi, functionName: c.functionName, args: c.args } as never);

/** eth_estimateGas of `c` against the pending block (the next one: what a transaction sent now would meet). */
const estimatePending = (env: BenchChain, c: Call) =>
  env.publicClient.estimateGas({ account: c.from.account, to: c.to ?? env.manifest.contracts.taskMarket, data: callData(c), blockTag: "pending" } as never);

/** Mines empty blocks until one of `candidates` passes `estimate`; returns the first that does. */
async function firstAccepted(env: BenchChain, candidates: Call[], estimate: (c: Call) => Promise<unknown>): Promise<Call> {
  for (let waited = 0; ; waited++) {
    const errors: string[] = [];
    for (const c of candidates) {
      try {
        await estimate(c);
        return c;
      } catch (error) {
        errors.push((error as Error).message.split("\n")[0]!);
      }
    }
    if (waited >= MAX_WAIT_BLOCKS) throw new Error(`${candidates[0]!.functionName} still refused after ${MAX_WAIT_BLOCKS} blocks: ${errors.join("; ")}`);
    await env.testClient.mine({ blocks: 1 });
  }
}

/** The members pendingCommittee announces for the task's undrawn round, read against the pending block (what a
 * commit sent now meets), mining empty blocks until its seed block exists. */
async function pendingMembers(env: BenchChain, taskId: bigint): Promise<readonly Address[]> {
  for (let waited = 0; waited < MAX_WAIT_BLOCKS; waited++) {
    const [members] = await env.publicClient.readContract({
      address: env.manifest.contracts.taskMarket, abi: taskMarketAbi, functionName: "pendingCommittee", args: [taskId], blockTag: "pending",
    });
    if (members.length > 0) return members;
    await env.testClient.mine({ blocks: 1 });
  }
  throw new Error(`task ${taskId}: no pending committee after ${MAX_WAIT_BLOCKS} blocks`);
}

/** The call of whichever provider the contracts accept an answer from (they draw it, at creation or later). */
async function answerCall(env: BenchChain, taskId: bigint, output: Hex): Promise<Call> {
  const candidates = env.providers.map((from) => ({ from, functionName: "submitAnswer", args: [taskId, keccak256(output), output, ""] }));
  return firstAccepted(env, candidates, (c) => estimatePending(env, c));
}

/** How a round reaches the chain: the aggregator's two reports (the daemons' path), or every member alone. */
export type RoundPath = "reports" | "fallback";
/** Who draws the committee: the round's first commit (the daemons' path), or a drawCommittee of its own first. */
export type DrawPath = "inFirstCommit" | "separate";

/** One task's gas by step (the finalize is the keeper's, fallback pattern), and what the run adds. */
export interface PhasedTask extends TaskGas {
  approve: bigint;
  blocksAnswerToFinalized: bigint;
  /** What the finalize credited, by payee (lower-case address). */
  credits: Map<string, bigint>;
  /** Every transaction of the task in the order sent, named by its step (for traces: gas-profile.ts). */
  transactions: { step: string; hash: Hex }[];
}

/**
 * One task as the shipped software sends it, each step in its own block after the one that enabled it: the SDK
 * approves (its default approves ten fees plus 1 wei, APPROVE_KEEPS_WEI, when the allowance is below the fee: the
 * approve measured here is that one, from the 1 wei the last of the ten left, counted a tenth per task) and
 * creates the task; the provider the contracts
 * accept an answer from answers; the committee is read from pendingCommittee once the seed block exists, and the
 * round's first commit draws it (with `drawPath` "separate": the provider's keeper draws it first). Then, on the "reports"
 * path (the daemons': docs/design/ROUNDS.md), every member signs its commit (compact signature) and the aggregator
 * (the relayer role, run by the provider's daemon, see docs/OPERATOR.md) sends the k of them in one commitReport,
 * then the k openings in one revealReport, which settles the task; one task's report goes straight to the market
 * (the aggregator uses RelayBatcher.relayEach only for several tasks' reports). On the "fallback" path every member
 * commits and reveals alone with the round's state and the first seat finalizes (rank 0 for a finalize).
 * Every member reveals a score near 8,000.
 */
export async function runPhasedTask(env: BenchChain, path: RoundPath = "reports", drawPath: DrawPath = "inFirstCommit"): Promise<PhasedTask> {
  const market = env.manifest.contracts.taskMarket;
  const reader = env.as(env.deployer).taskMarket;
  await env.testClient.setAutomine(false);
  try {
    const approve = await phase(env, [{ from: env.requester, to: env.manifest.contracts.token, abi: mockERC20Abi, functionName: "approve", args: [market, FEE + APPROVE_KEEPS_WEI] }]);
    const create = await phase(env, [{ from: env.requester, functionName: "createTask", args: [MODEL_ID, EVALUATOR_ID, FEE, toHex("bench")] }]);
    const taskId = await reader.read.taskCount();
    const answerBy = await answerCall(env, taskId, toHex("bench answer"));
    const provider = answerBy.from;
    const assigned = provider.account.address;
    const answer = await phase(env, [answerBy]);
    let draw = { gas: [0n], block: answer.block, hashes: [] as Hex[] };
    let members: readonly Address[];
    if (drawPath === "separate") {
      draw = await phase(env, [{ from: provider, functionName: "drawCommittee", args: [taskId] }]);
      // Members are not in storage: the round's state comes from its CommitteeDrawn.
      members = (await readRound(env.publicClient, market, taskId, 0, draw.block)).state.members;
    } else {
      // The committee is known from the seed block on (pendingCommittee), before any draw: the round's first
      // commit draws it, as the daemons send it.
      members = await pendingMembers(env, taskId);
    }
    const drawn = { state: drawnState(members) };
    const ballots = randomBallots(members);
    const wallets = members.map((m) => wallet(env, m));
    let commits, reveals, finalize;
    if (path === "reports") {
      const reports = await roundReports(env, taskId, members, ballots);
      commits = await phase(env, [{ from: provider, functionName: "commitReport", args: reports.commit }]);
      reveals = await phase(env, [{ from: provider, functionName: "revealReport", args: reports.reveal }]);
      finalize = { gas: [0n], block: reveals.block, hashes: [] as Hex[] };
    } else {
      const state = stateArg(drawn.state);
      commits = await phase(env, members.map((_, i) => ({ from: wallets[i]!, functionName: "commit", args: [taskId, state, BigInt(i), commitmentOf(env, taskId, members, ballots, i)] })));
      reveals = await phase(env, members.map((_, i) => ({ from: wallets[i]!, functionName: "reveal", args: [taskId, state, BigInt(i), BigInt(ballots.scores[i]!), ballots.salts[i]!] })));
      finalize = await phase(env, [{ from: wallets[0]!, functionName: "finalize", args: [taskId, state] }]);
    }
    if ((await reader.read.task([taskId])).status !== TaskStatus.Finalized) throw new Error(`task ${taskId} did not finalize`);
    const [settled] = await reader.getEvents.TaskFinalized({ taskId }, { fromBlock: finalize.block, toBlock: finalize.block });
    const { providerPay, requesterRefund, treasuryShare, validatorPay } = settled!.args;
    const credits = new Map<string, bigint>();
    const credit = (a: string, v: bigint) => v > 0n && credits.set(a.toLowerCase(), (credits.get(a.toLowerCase()) ?? 0n) + v);
    credit(assigned, providerPay!);
    credit(env.requester.account.address, requesterRefund!);
    credit(await reader.read.treasury(), treasuryShare!);
    members.forEach((m, i) => credit(m, validatorPay![i]!));
    const reported = path === "reports";
    return {
      approve: approve.gas[0]!, create: create.gas[0]!, answer: answer.gas[0]!, draw: draw.gas[0]!, commits: commits.gas, reveals: reveals.gas,
      finalize: finalize.gas[0]!, blocksAnswerToFinalized: finalize.block - answer.block, credits,
      transactions: [
        { step: "approve", hash: approve.hashes[0]! }, { step: "createTask", hash: create.hashes[0]! }, { step: "submitAnswer", hash: answer.hashes[0]! },
        ...draw.hashes.map((hash) => ({ step: "drawCommittee", hash })), ...commits.hashes.map((hash) => ({ step: reported ? "commitReport" : "commit", hash })),
        ...reveals.hashes.map((hash) => ({ step: reported ? "revealReport" : "reveal", hash })), ...finalize.hashes.map((hash) => ({ step: "finalize", hash })),
      ],
    };
  } finally {
    await env.testClient.setAutomine(true);
  }
}

/**
 * The SDK approves the fee (plus the wei it keeps approved) before each job: the requester starts from a zero
 * allowance as a new one would (benchChain's standing approve undone); the warm-up task leaves the wei, as every
 * job after a requester's first one finds it.
 */
export async function startAsNewRequester(env: BenchChain): Promise<void> {
  await confirmed(env.publicClient, await env.as(env.requester).token.write.approve([env.manifest.contracts.taskMarket, 0n]));
}
/** The SDK's default "standing" approve covers STANDING_ALLOWANCE_JOBS jobs: one approve per that many tasks. */
const approvePerTask = (t: PhasedTask) => t.approve / STANDING_ALLOWANCE_JOBS;
const total = (t: PhasedTask) => approvePerTask(t) + t.create + t.answer + t.draw + sumGas(t.commits) + sumGas(t.reveals) + t.finalize;

/**
 * Tasks one claim covers under the daemons' claim policy: credit grows by `creditPerTask` each task (one task per
 * `taskEveryMs`), and the daemon claims at the first check where decideClaim says so.
 */
export function tasksPerClaim(creditPerTask: bigint, claimGas: bigint, s: ReturnType<typeof claimScenario>): number {
  if (creditPerTask === 0n) return Infinity;
  for (let n = 1; ; n++) {
    const d = decideClaim({
      credit: creditPerTask * BigInt(n), gas: claimGas, gasPriceWei: parseGwei(String(s.gasPriceGwei)),
      margin: s.gasMargin, tokenPerNative: s.tokenPerNative, creditSinceMs: 0, nowMs: (n - 1) * s.taskEveryMs, maxIntervalMs: s.maxIntervalMs,
    });
    if (d.claim) return n;
  }
}

/** The per-task figures of committee size `k` (pool of k validators, the deployment's default windows). */
export async function measurePerTask(k: number, log: (line: string) => void): Promise<{ figures: PerTaskFigures; parts: PerTaskParts }> {
  log(`per task k=${k}: ${k} validators, warm-up, warm task (fallback, reports), claims, cold task (reports), claims, cold task (fallback)`);
  const env = await benchChain(k, { ...DEFAULT_MARKET_PARAMS, committeeSize: k });
  try {
    await startAsNewRequester(env);
    await runPhasedTask(env); // warm-up: every payee gets paid once
    // Warm-up claims: each payee's token balance becomes non-zero, as a daemon's is after its first claim (the
    // first claim of an account that staked its whole balance also writes its token balance slot from zero).
    await claimAll(env);
    const warmFallback = await runPhasedTask(env, "fallback");
    const warm = await runPhasedTask(env);
    const claims = await claimAll(env);
    const cold = await runPhasedTask(env);
    await claimAll(env);
    const coldFallback = await runPhasedTask(env, "fallback"); // for the fallback finalize's cold figure
    await claimAll(env);
    await runPhasedTask(env); // every payee credited again, as before the warm task
    const separate = await runPhasedTask(env, "reports", "separate");
    const claim = sumGas(claims) / BigInt(claims.length);
    // What a claim adds to the next finalize, per payee, measured: cold - warm (about 0 since claim() keeps 1 wei
    // of each credit; a zero to non-zero credit slot, about 17k, before).
    const afterClaim = (total(cold) - total(warm)) / BigInt(claims.length);
    const scenario = claimScenario();
    const providerAddress = [...warm.credits.keys()].find((a) => env.providers.some((p) => p.account.address.toLowerCase() === a))!;
    const validatorCredits = [...warm.credits.entries()].filter(([a]) => env.validators.some((v) => v.account.address.toLowerCase() === a));
    // Only daemons follow the claim policy: the treasury's and the requester's credits stay (warm) here.
    const amortize = (s: ReturnType<typeof claimScenario>) => {
      const provider = tasksPerClaim(warm.credits.get(providerAddress)!, claim, s);
      const validators = validatorCredits.map(([, c]) => tasksPerClaim(c, claim, s));
      const gas = Number(claim + afterClaim) * (1 / provider + validators.reduce((a, n) => a + 1 / n, 0));
      return { gas, tasksPerClaim: { provider, validator: Math.max(...validators) } };
    };
    const daemonDefault = amortize(scenario);
    const realistic = amortize({ ...scenario, tokenPerNative: scenario.realisticTokenPerNative });
    const amortized = daemonDefault.gas;
    const warmTotal = Number(total(warm));
    return {
      figures: {
        daemonPattern: Math.round(warmTotal + amortized),
        daemonPatternFallback: Math.round(Number(total(warmFallback)) + amortized),
        cold: Number(total(cold)),
        warm: warmTotal,
        requester: Number(approvePerTask(warm) + warm.create),
        blocksAnswerToFinalized: Number(warm.blocksAnswerToFinalized),
        blocksAnswerToFinalizedFallback: Number(warmFallback.blocksAnswerToFinalized),
        daemonPatternRealisticPrice: Math.round(warmTotal + realistic.gas),
      },
      parts: {
        approve: Number(warm.approve), createTask: Number(warm.create), submitAnswer: Number(warm.answer), drawCommittee: Number(separate.draw),
        commits: Number(sumGas(warm.commits)), revealsAndFinalize: Number(sumGas(warm.reveals)), revealsAndFinalizeCold: Number(sumGas(cold.reveals)),
        relayerPays: Number(sumGas(warm.commits) + sumGas(warm.reveals)),
        validatorsSpared: Number(sumGas(warmFallback.commits) + sumGas(warmFallback.reveals)),
        keeperSpared: Number(warmFallback.finalize),
        fallback: {
          commits: Number(sumGas(warmFallback.commits)), reveals: Number(sumGas(warmFallback.reveals)),
          finalizeWarm: Number(warmFallback.finalize), finalizeCold: Number(coldFallback.finalize),
        },
        claim: Number(claim), claimsPerTask: Math.round(amortized),
        tasksPerClaim: daemonDefault.tasksPerClaim,
        claimsPerTaskRealisticPrice: Math.round(realistic.gas), tasksPerClaimRealisticPrice: realistic.tasksPerClaim,
        separateDraw: {
          daemonPattern: Math.round(Number(total(separate)) + amortized), commits: Number(sumGas(separate.commits)),
          blocksAnswerToFinalized: Number(separate.blocksAnswerToFinalized),
        },
        largestTransaction: Number([cold.approve, cold.create, cold.answer, cold.draw, ...cold.commits, ...cold.reveals, cold.finalize].reduce((a, b) => (a > b ? a : b))),
      },
    };
  } finally {
    await env.close();
  }
}

export interface EstimateExactFigures {
  chain: "anvil";
  tries: number;
  succeeded: number;
}

/** Providers of different stakes serving the bench model besides the first (1,000 tokens): the draw varies. */
const EXTRA_PROVIDER_STAKES = [1_500, 2_500, 4_000, 7_000].map((t) => parseEther(String(t)));

/**
 * createTask sent `tries` times with exactly its eth_estimateGas result (made against the chain as the requester
 * sees it before sending, as viem and the SDK do), on anvil, with five providers of different stakes; counts the
 * receipts that succeeded. Whatever the contracts do inside createTask is measured, nothing is assumed about it.
 */
export async function measureEstimateExact(tries: number, log: (line: string) => void): Promise<EstimateExactFigures & { failedGasUsedOfLimit: number[] }> {
  log(`createTask with exactly its estimate: ${tries} tries on anvil, ${1 + EXTRA_PROVIDER_STAKES.length} providers`);
  const env = await benchChain(3, { ...DEFAULT_MARKET_PARAMS, committeeSize: 3 }, { evm: "anvil", extraProviderStakes: EXTRA_PROVIDER_STAKES });
  try {
    const market = env.as(env.requester).taskMarket;
    let succeeded = 0;
    // Of each failed try, gas used / gas limit: 1 = the limit ran out; about 0.98 = a call inside ran out (it
    // gets 63/64 of what is left) and its revert used the rest.
    const failedGasUsedOfLimit: number[] = [];
    for (let i = 0; i < tries; i++) {
      const args = [MODEL_ID, EVALUATOR_ID, FEE, toHex("bench")] as const;
      const gas = await market.estimateGas.createTask(args, { account: env.requester.account });
      const hash = await market.write.createTask(args, { gas });
      const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status === "success") succeeded++;
      else failedGasUsedOfLimit.push(Number(((Number(receipt.gasUsed) / Number(gas))).toFixed(3)));
    }
    return { chain: "anvil", tries, succeeded, failedGasUsedOfLimit };
  } finally {
    await env.close();
  }
}
