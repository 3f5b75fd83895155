// Gas of one task (k = 5, or --k N up to 32) through the round calls of docs/design/ROUNDS.md (not a test):
// `npx hardhat build --quiet && npx tsx scripts/bench/gas-rounds.ts [--json] [--k N]`. bench:gas includes its
// figures (measureRounds, k = 5) under `rounds`: what it adds to bench:gas's per-task phases is the reports of
// several tasks batched in one RelayBatcher.relayEach, the calldata share of each report and the views' delegation.
// Measured in one run on Hardhat's in-process EVM, from receipts (total transaction gas, 21,000 base included), in
// steady state (every payee was paid by a warm-up task first): the report path (commitReport, revealReport that
// settles) against the per-member fallback path of the same contracts (5 commits, 5 reveals, finalize). The
// per-member path of the previous protocol (main before this branch) is quoted from docs/BENCHMARKS.md, which
// measured it with scripts/bench/gas.ts before the port. Self-contained (artifacts' ABIs, its own accounts): it was
// written before the SDK spoke the rounds ABI; only the SDK's deployer is used.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  parseEventLogs,
  signatureToCompactSignature,
  parseSignature,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { computeCommitment } from "../../sdk/commitment.ts";
import { deployProtocol } from "../../sdk/deploy.ts";

const STAKE = 1_000n * 10n ** 18n;
const FEE = 10n * 10n ** 18n;
const MODEL_ID = keccak256(toHex("model:bench"));
const EVALUATOR_ID = keccak256(toHex("evaluator:bench"));
/** Measured by scripts/bench/gas.ts on main before this branch (docs/BENCHMARKS.md, "Where the gas of a k = 5 task
 * goes"): the per-member flow with member and commitment slots, k = 5, warm. */
const PREVIOUS_PROTOCOL = {
  approve: 29_278,
  createTask: 187_135,
  submitAnswer: 103_462,
  drawCommittee: 388_490,
  commits: 176_966,
  revealsAndFinalize: 346_198,
  total: 1_231_529,
};
/** The same, as the shipped relayer sent it (docs/BENCHMARKS.md, perTaskParts k = 5): the committee's commits in one
 * commitBySig, its reveals and the finalize in one RelayBatcher.revealAndFinalize. */
const PREVIOUS_RELAYED = {
  ...PREVIOUS_PROTOCOL,
  commits: 121_995,
  revealsAndFinalize: 270_825,
  total: PREVIOUS_PROTOCOL.total - PREVIOUS_PROTOCOL.commits - PREVIOUS_PROTOCOL.revealsAndFinalize + 121_995 + 270_825,
};

const artifact = (path: string): Abi => (JSON.parse(readFileSync(new URL(`../../artifacts/${path}`, import.meta.url), "utf8")) as { abi: Abi }).abi;
const marketAbi = artifact("contracts/interfaces/ITaskMarketClient.sol/ITaskMarketClient.json");
const tokenAbi = artifact("contracts/mocks/MockERC20.sol/MockERC20.json");
const registryAbi = artifact("contracts/StakeRegistry.sol/StakeRegistry.json");
const batcherAbi = artifact("contracts/RelayBatcher.sol/RelayBatcher.json");
/** Tasks whose reports share one RelayBatcher.relayEach transaction in the batched figure. */
const BATCH = 10;

interface RoundState {
  members: Address[];
  reportMask: number;
  reportCommitments: Hex[];
}

/** Measures the figures of committee size `K` on a fresh in-process chain. */
export async function measureRounds(K: number) {
  // As many validators as seats (as scripts/bench/gas.ts does): every committee is the same five, so the warm-up
  // task pays every member once and the measured task rewrites non-zero credit slots only.
  const VALIDATORS = K;
  const connection = await network.create();
  const transport = custom(connection.provider);
  const chain = hardhat;
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20, cacheTime: 0 }) as PublicClient;
  const testClient = createTestClient({ chain, transport, mode: "hardhat" });
  const wallets = (await createWalletClient({ chain, transport }).getAddresses()).map(
    (account): WalletClient => createWalletClient({ account, chain, transport }),
  );
  const [deployer, requester, provider] = [wallets[0]!, wallets[1]!, wallets[2]!];
  // Windows wide enough for k one-transaction-per-block fallback calls (automine) in each phase, and for the
  // batched figure's tasks (about 5 blocks each to reach their committee) to wait for one another.
  const window = Math.max(10, K + 5, 5 * BATCH + 10);
  const manifest = await deployProtocol({
    publicClient,
    walletClient: deployer as never,
    params: { committeeSize: K, commitWindow: window, revealWindow: window },
    evaluators: [{ id: EVALUATOR_ID, uri: "bench://evaluator" }],
  });
  const { taskMarket: market, token, stakeRegistry } = manifest.contracts;

  const gasOf = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`benchmark transaction ${hash} reverted`);
    return receipt;
  };
  /** What the transaction's calldata costs of its gas (EIP-2028: 16 a non-zero byte, 4 a zero byte). */
  const calldataGas = async (hash: Hex) => {
    const { input } = await publicClient.getTransaction({ hash });
    let gas = 0;
    for (let i = 2; i < input.length; i += 2) gas += input.slice(i, i + 2) === "00" ? 4 : 16;
    return gas;
  };
  const send = async (wallet: WalletClient, address: Address, abi: Abi, functionName: string, args: unknown[]) =>
    gasOf(await wallet.writeContract({ address, abi, functionName, args, account: wallet.account!, chain }));
  const read = (functionName: string, args: unknown[]) =>
    publicClient.readContract({ address: market, abi: marketAbi, functionName, args });

  // Throwaway keys derived from a public label (identical on every run, so the draws repeat).
  const validators: PrivateKeyAccount[] = [];
  const walletOf = new Map<string, WalletClient>();
  for (let i = 0; i < VALIDATORS; i++) {
    const account = privateKeyToAccount(keccak256(toHex(`poq-bench-validator-${i}`)));
    const wallet = createWalletClient({ account, chain, transport });
    await testClient.setBalance({ address: account.address, value: 10n ** 20n });
    await send(deployer, token, tokenAbi, "mint", [account.address, STAKE]);
    await send(wallet, token, tokenAbi, "approve", [stakeRegistry, STAKE]);
    await send(wallet, stakeRegistry, registryAbi, "stake", [2, STAKE]); // Role.Validator
    await send(wallet, stakeRegistry, registryAbi, "registerEvaluator", [EVALUATOR_ID]);
    validators.push(account);
    walletOf.set(account.address.toLowerCase(), wallet);
  }
  await send(deployer, token, tokenAbi, "mint", [provider.account!.address, STAKE]);
  await send(provider, token, tokenAbi, "approve", [stakeRegistry, STAKE]);
  await send(provider, stakeRegistry, registryAbi, "stake", [1, STAKE]); // Role.Provider
  await send(provider, stakeRegistry, registryAbi, "registerModel", [MODEL_ID]);
  await send(deployer, token, tokenAbi, "mint", [requester.account!.address, FEE * 100n]);
  const chainId = await publicClient.getChainId();
  const accountOf = (member: Address) => validators.find((v) => v.address.toLowerCase() === member.toLowerCase())!;
  const salt = (taskId: bigint, member: Address) => keccak256(encodeAbiParameters([{ type: "string" }, { type: "uint256" }, { type: "address" }], ["bench salt", taskId, member]));
  const scoreOf = (i: number) => 6_000 + i * 10;
  const commitmentOf = (taskId: bigint, member: Address, i: number) =>
    computeCommitment({ score: scoreOf(i), salt: salt(taskId, member), validator: member, taskId, round: 0, chainId, market });

  /** approve, createTask, submitAnswer, drawCommittee; the committee from CommitteeDrawn. */
  const toCommittee = async () => {
    // As the SDK approves (fee + APPROVE_KEEPS_WEI): the allowance slot never returns to zero, as in the previous figures.
    const approve = await send(requester, token, tokenAbi, "approve", [market, FEE + 1n]);
    const create = await send(requester, market, marketAbi, "createTask", [MODEL_ID, EVALUATOR_ID, FEE, toHex("bench prompt")]);
    const taskId = (await read("taskCount", [])) as bigint;
    await testClient.mine({ blocks: 1 });
    const output = toHex("bench answer");
    const answer = await send(provider, market, marketAbi, "submitAnswer", [taskId, keccak256(output), output, ""]);
    await testClient.mine({ blocks: 1 });
    const draw = await send(requester, market, marketAbi, "drawCommittee", [taskId]);
    const [drawn] = parseEventLogs({ abi: marketAbi, logs: draw.logs, eventName: "CommitteeDrawn" }) as unknown as [{ args: { members: Address[] } }];
    return { taskId, members: drawn.args.members, gas: { approve: approve.gasUsed, createTask: create.gasUsed, submitAnswer: answer.gasUsed, drawCommittee: draw.gasUsed } };
  };

  /** The whole committee through the two reports (sent by the requester's wallet: anyone may). */
  /** The arguments of a committee's commit report and reveal report (every member in both). */
  const reportsOf = async (taskId: bigint, members: readonly Address[]) => {
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    const commitments = members.map((m, i) => commitmentOf(taskId, m, i));
    const signatures: [Hex, Hex][] = [];
    for (const [i, m] of members.entries()) {
      const signature = await accountOf(m).signTypedData({
        domain: { name: "PoQ TaskMarket", version: "2", chainId, verifyingContract: market },
        types: { Commit: [{ name: "taskId", type: "uint256" }, { name: "round", type: "uint256" }, { name: "commitment", type: "bytes32" }, { name: "deadline", type: "uint256" }] },
        primaryType: "Commit",
        message: { taskId, round: 0n, commitment: commitments[i]!, deadline },
      });
      const compact = signatureToCompactSignature(parseSignature(signature));
      signatures.push([compact.r, compact.yParityAndS]);
    }
    const all = 2 ** members.length - 1;
    const drawState: RoundState = { members: [...members], reportMask: 0, reportCommitments: [] };
    const state: RoundState = { members: [...members], reportMask: all, reportCommitments: commitments };
    return {
      commit: [drawState, { taskId, round: 0n, mask: all, commitments, deadline, signatures }] as const,
      reveal: [state, { taskId, revealMask: all, scores: members.map((_, i) => scoreOf(i)), salts: members.map((m) => salt(taskId, m)) }] as const,
    };
  };

  /** The whole committee through the two reports (sent by the requester's wallet: anyone may). */
  const reportTask = async () => {
    const { taskId, members, gas } = await toCommittee();
    const reports = await reportsOf(taskId, members);
    const commitReport = await send(requester, market, marketAbi, "commitReport", [...reports.commit]);
    const revealReport = await send(requester, market, marketAbi, "revealReport", [...reports.reveal]);
    return {
      ...gas,
      commitReport: commitReport.gasUsed,
      revealReport: revealReport.gasUsed,
      calldata: { commitReport: await calldataGas(commitReport.transactionHash), revealReport: await calldataGas(revealReport.transactionHash) },
    };
  };

  /** BATCH tasks' commit reports in one RelayBatcher.relayEach, then their reveal reports in another: per task. */
  const batchedTasks = async () => {
    const tasks = [];
    for (let b = 0; b < BATCH; b++) {
      const { taskId, members } = await toCommittee();
      tasks.push(await reportsOf(taskId, members));
    }
    const relay = async (calls: Hex[]) => {
      const receipt = await send(requester, manifest.contracts.relayBatcher!, batcherAbi, "relayEach", [market, calls]);
      const skipped = parseEventLogs({ abi: batcherAbi, logs: receipt.logs, eventName: "RelayedItemSkipped" });
      if (skipped.length !== 0) throw new Error(`a batched report was skipped: ${JSON.stringify(skipped[0]!.args, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
      return receipt.gasUsed;
    };
    const commits = await relay(tasks.map((t) => encodeFunctionData({ abi: marketAbi, functionName: "commitReport", args: [...t.commit] })));
    const reveals = await relay(tasks.map((t) => encodeFunctionData({ abi: marketAbi, functionName: "revealReport", args: [...t.reveal] })));
    return { tasks: BATCH, commitReportPerTask: Number(commits) / BATCH, revealReportPerTask: Number(reveals) / BATCH };
  };

  /** The same task with every member committing and revealing alone, then finalize. */
  const fallbackTask = async () => {
    const { taskId, members, gas } = await toCommittee();
    const state: RoundState = { members, reportMask: 0, reportCommitments: [] };
    let commits = 0n;
    let reveals = 0n;
    for (const [i, m] of members.entries()) {
      commits += (await send(walletOf.get(m.toLowerCase())!, market, marketAbi, "commit", [taskId, state, BigInt(i), commitmentOf(taskId, m, i)])).gasUsed;
    }
    for (const [i, m] of members.entries()) {
      reveals += (await send(walletOf.get(m.toLowerCase())!, market, marketAbi, "reveal", [taskId, state, BigInt(i), BigInt(scoreOf(i)), salt(taskId, m)])).gasUsed;
    }
    const finalize = await send(requester, market, marketAbi, "finalize", [taskId, state]);
    return { ...gas, commits, reveals, finalize: finalize.gasUsed };
  };

  /**
   * The silent seat: every member commits in the commit report, one never opens. Before partial reveal
   * reports the other k-1 had to reveal alone (a report had to open every committed seat); now their openings go in
   * one partial revealReport. Either way the round settles by finalize after revealEnd, slashing the silent one.
   */
  const silentSeatTask = async (partial: boolean) => {
    const { taskId, members } = await toCommittee();
    const reports = await reportsOf(taskId, members);
    const commitReport = await send(requester, market, marketAbi, "commitReport", [...reports.commit]);
    const [state, all] = reports.reveal;
    // Always the same account is silent (its slash then updates the same stake-tree path in every run).
    const silent = members.findIndex((m) => m.toLowerCase() === validators[0]!.address.toLowerCase());
    const open = members.map((_, i) => i).filter((i) => i !== silent);
    let reveals = 0n;
    if (partial) {
      const report = { taskId, revealMask: all.revealMask ^ (1 << silent), scores: open.map((i) => all.scores[i]!), salts: open.map((i) => all.salts[i]!) };
      reveals = (await send(requester, market, marketAbi, "revealReport", [state, report])).gasUsed;
    } else {
      for (const i of open) {
        const m = members[i]!;
        reveals += (await send(walletOf.get(m.toLowerCase())!, market, marketAbi, "reveal", [taskId, state, BigInt(i), BigInt(scoreOf(i)), salt(taskId, m)])).gasUsed;
      }
    }
    const { revealEnd } = (await read("task", [taskId])) as { revealEnd: bigint };
    await testClient.mine({ blocks: Number(revealEnd - (await publicClient.getBlockNumber())) + 1 });
    const finalize = await send(requester, market, marketAbi, "finalize", [taskId, state]);
    const slashed = parseEventLogs({ abi: marketAbi, logs: finalize.logs, eventName: "NonRevealersSlashed" }) as unknown as { args: { total: bigint } }[];
    if (slashed.length !== 1) throw new Error("the silent seat was not slashed");
    // It stakes back what it lost, so that it stays eligible and the next committee is the same k accounts.
    const silentWallet = walletOf.get(validators[0]!.address.toLowerCase())!;
    await send(deployer, token, tokenAbi, "mint", [validators[0]!.address, slashed[0]!.args.total]);
    await send(silentWallet, token, tokenAbi, "approve", [stakeRegistry, slashed[0]!.args.total]);
    await send(silentWallet, stakeRegistry, registryAbi, "stake", [2, slashed[0]!.args.total]);
    await reportTask(); // a round it opens clears its miss (three in a row would jail it)
    return { commitReport: commitReport.gasUsed, reveals, finalize: finalize.gasUsed, total: commitReport.gasUsed + reveals + finalize.gasUsed };
  };

  await reportTask(); // warm-up: every payee gets a non-zero credit slot
  await fallbackTask();
  const reports = await reportTask();
  const fallback = await fallbackTask();
  const batched = await batchedTasks();
  // A warm-up first: the first slash of the run writes slots no later one does.
  const silentSeat = K < 2 ? undefined : (await silentSeatTask(true), { alone: await silentSeatTask(false), partialReport: await silentSeatTask(true) });
  // The price of serving views from the TaskViews module (EIP-170): a view through the market's fallback
  // (DELEGATECALL) against the same view called on the module itself (same slots, its own empty storage). No
  // state-changing call goes through the fallback.
  const views = (await publicClient.readContract({ address: market, abi: artifact("contracts/TaskMarket.sol/TaskMarket.json"), functionName: "views" })) as Address;
  const estimate = (to: Address) => publicClient.estimateGas({ to, data: encodeFunctionData({ abi: marketAbi, functionName: "paramsAt", args: [0n] }) });
  const viewThroughMarket = await estimate(market);
  const viewOnModule = await estimate(views);
  await connection.close();

  return { reports, fallback, batched, silentSeat, viewThroughMarket, viewOnModule };
}

async function main(): Promise<void> {
  const kArg = process.argv.indexOf("--k");
  const K = kArg === -1 ? 5 : Number(process.argv[kArg + 1]);
  if (!Number.isInteger(K) || K < 1 || K > 32) {
    console.error("--k takes a committee size from 1 to 32");
    process.exit(2);
  }
  const json = process.argv.includes("--json");
  const { reports, fallback, batched, silentSeat, viewThroughMarket, viewOnModule } = await measureRounds(K);
  const n = (v: bigint) => Number(v);
  const { calldata, ...reportGas } = reports;
  const reportsTotal = n(reports.approve + reports.createTask + reports.submitAnswer + reports.drawCommittee + reports.commitReport + reports.revealReport);
  const fallbackTotal = n(fallback.approve + fallback.createTask + fallback.submitAnswer + fallback.drawCommittee + fallback.commits + fallback.reveals + fallback.finalize);
  const figures = {
    k: K,
    reports: { ...Object.fromEntries(Object.entries(reportGas).map(([key, v]) => [key, n(v)])), total: reportsTotal },
    /** Of the two reports' gas, what their calldata costs. */
    reportsCalldata: calldata,
    fallback: { ...Object.fromEntries(Object.entries(fallback).map(([key, v]) => [key, n(v)])), total: fallbackTotal },
    /** The two reports of BATCH tasks sent as two RelayBatcher.relayEach transactions, per task. */
    batched: { ...batched, reportsPerTask: batched.commitReportPerTask + batched.revealReportPerTask },
    /** One committed member never opens (commit report, the others' openings, finalize after revealEnd): the
     * others revealing alone (the only way before partial reveal reports) against one partial revealReport. */
    ...(silentSeat === undefined
      ? {}
      : {
          silentSeat: {
            alone: Object.fromEntries(Object.entries(silentSeat.alone).map(([f, g]) => [f, n(g)])),
            partialReport: Object.fromEntries(Object.entries(silentSeat.partialReport).map(([f, g]) => [f, n(g)])),
          },
        }),
    /** paramsAt(0) through the market (delegated) and on the module: the split's overhead on a view. */
    viewDelegation: { throughMarket: Number(viewThroughMarket), onModule: Number(viewOnModule), overhead: Number(viewThroughMarket - viewOnModule) },
    ...(K === 5 ? { previousProtocol: PREVIOUS_PROTOCOL, previousRelayed: PREVIOUS_RELAYED } : {}),
    ratios: {
      reportsToFallback: reportsTotal / fallbackTotal,
      ...(K === 5
        ? { reportsToPrevious: reportsTotal / PREVIOUS_PROTOCOL.total, reportsToPreviousRelayed: reportsTotal / PREVIOUS_RELAYED.total }
        : {}),
    },
  };
  const previous = K === 5; // the quoted figures are k = 5's
  const row = (name: string, ...cells: (number | string)[]) =>
    console.log(name.padEnd(26) + cells.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : c).padStart(14)).join(""));
  const [p, r] = [PREVIOUS_PROTOCOL, PREVIOUS_RELAYED];
  const prev = (...cells: number[]) => (previous ? cells : []);
  row(`k = ${K}, warm (gas)`, "reports", "fallback", ...(previous ? ["prev. direct", "prev. relayed"] : []));
  row("approve", n(reports.approve), n(fallback.approve), ...prev(p.approve, r.approve));
  row("createTask", n(reports.createTask), n(fallback.createTask), ...prev(p.createTask, r.createTask));
  row("submitAnswer", n(reports.submitAnswer), n(fallback.submitAnswer), ...prev(p.submitAnswer, r.submitAnswer));
  row("drawCommittee", n(reports.drawCommittee), n(fallback.drawCommittee), ...prev(p.drawCommittee, r.drawCommittee));
  row("commits", n(reports.commitReport), n(fallback.commits), ...prev(p.commits, r.commits));
  row("reveals + settlement", n(reports.revealReport), n(fallback.reveals + fallback.finalize), ...prev(p.revealsAndFinalize, r.revealsAndFinalize));
  row("total", reportsTotal, fallbackTotal, ...prev(p.total, r.total));
  console.log(`of which calldata: commitReport ${calldata.commitReport.toLocaleString("en-US")}, revealReport ${calldata.revealReport.toLocaleString("en-US")}`);
  const ratio = (x: number) => x.toFixed(3);
  const single = n(reports.commitReport + reports.revealReport);
  const perTask = Math.round(figures.batched.reportsPerTask);
  console.log(`${BATCH} tasks' reports in two RelayBatcher.relayEach transactions: ${perTask.toLocaleString("en-US")} gas a task for both reports (commit ${Math.round(batched.commitReportPerTask).toLocaleString("en-US")}, reveal ${Math.round(batched.revealReportPerTask).toLocaleString("en-US")}) against ${single.toLocaleString("en-US")} sent alone (-${(single - perTask).toLocaleString("en-US")})`);
  if (silentSeat !== undefined) {
    const [a, b] = [silentSeat.alone, silentSeat.partialReport];
    console.log(`one silent seat (commits, never opens), commit report to settlement: the other ${K - 1} reveal alone ${n(a.reveals).toLocaleString("en-US")} + finalize ${n(a.finalize).toLocaleString("en-US")} = ${n(a.total).toLocaleString("en-US")}; in one partial revealReport ${n(b.reveals).toLocaleString("en-US")} + finalize ${n(b.finalize).toLocaleString("en-US")} = ${n(b.total).toLocaleString("en-US")} (-${n(a.total - b.total).toLocaleString("en-US")}, x${ratio(n(b.total) / n(a.total))})`);
  }
  console.log(`a view through the market's fallback (paramsAt): ${figures.viewDelegation.throughMarket.toLocaleString("en-US")} gas, on the module ${figures.viewDelegation.onModule.toLocaleString("en-US")} (+${figures.viewDelegation.overhead.toLocaleString("en-US")}); no transaction of a task goes through it`);
  if (previous) {
    console.log(`reports / fallback ${ratio(figures.ratios.reportsToFallback)}, reports / previous direct ${ratio(reportsTotal / p.total)}, / previous relayed ${ratio(reportsTotal / r.total)} (previous: docs/BENCHMARKS.md, not this run)`);
  } else {
    console.log(`reports / fallback ${ratio(figures.ratios.reportsToFallback)}; largest report ${Math.max(n(reports.commitReport), n(reports.revealReport)).toLocaleString("en-US")} gas, ${((100 * Math.max(n(reports.commitReport), n(reports.revealReport))) / 30_000_000).toFixed(2)}% of a 30M block`);
  }
  if (json) console.log(JSON.stringify(figures));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
