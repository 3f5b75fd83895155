// INTERIM demo (a later issue replaces it with the full daemon demo): starts an in-process Hardhat chain, deploys
// the protocol with sdk/deploy.ts, and runs one task through its whole life cycle with Hardhat's built-in
// accounts: stake, create, assign, answer, draw the committee, commit, reveal, finalize, claim.
import { network } from "hardhat";
import { formatUnits, keccak256, parseEventLogs, parseUnits, toHex, type Hex } from "viem";
import { computeCommitment, randomSalt } from "../sdk/commitment.ts";
import { getProtocolContracts, Role, taskMarketAbi, type SigningWalletClient } from "../sdk/contracts.ts";
import { deployProtocol } from "../sdk/deploy.ts";

const MODEL_ID = keccak256(toHex("model:demo-llm"));
const EVALUATOR_ID = keccak256(toHex("evaluator:demo-manifest"));
const STAKE = parseUnits("1000", 18);
const FEE = parseUnits("10", 18);
// Scores an evaluator might give (basis points); the fourth validator is lazy and the fifth never reveals.
const SCORES = [8_200, 8_000, 8_350, 2_000, 8_100];

async function main(): Promise<void> {
  const connection = await network.create();
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [deployer, requester, provider, ...validators] = await connection.viem.getWalletClients();
  const wait = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  };
  const manifest = await deployProtocol({
    publicClient,
    walletClient: deployer,
    evaluators: [{ id: EVALUATOR_ID, uri: "ipfs://demo-evaluator-manifest" }],
  });
  console.log(`chain ${manifest.chainId}, deployed at block ${manifest.deployBlock}`);
  for (const [name, address] of Object.entries(manifest.contracts)) console.log(`  ${name.padEnd(18)} ${address}`);
  const as = (wallet: SigningWalletClient) => getProtocolContracts(manifest, { public: publicClient, wallet });
  const read = as(deployer);

  const fundAndApprove = async (wallet: SigningWalletClient, amount: bigint, spender: `0x${string}`) => {
    await wait(await as(wallet).token.write.mint([wallet.account.address, amount]));
    await wait(await as(wallet).token.write.approve([spender, amount]));
  };
  await fundAndApprove(provider, STAKE, manifest.contracts.stakeRegistry);
  await wait(await as(provider).stakeRegistry.write.stake([Role.Provider, STAKE]));
  await wait(await as(provider).stakeRegistry.write.registerModel([MODEL_ID]));
  for (const v of validators.slice(0, 6)) {
    await fundAndApprove(v, STAKE, manifest.contracts.stakeRegistry);
    await wait(await as(v).stakeRegistry.write.stake([Role.Validator, STAKE]));
  }
  console.log(`staked: 1 provider, 6 validators, ${formatUnits(STAKE, 18)} POQ each`);

  await fundAndApprove(requester, FEE, manifest.contracts.taskMarket);
  const prompt = toHex("Explain in one sentence why the sky is blue.");
  await wait(await as(requester).taskMarket.write.createTask([MODEL_ID, EVALUATOR_ID, FEE, prompt]));
  const taskId = await read.taskMarket.read.taskCount();
  console.log(`task ${taskId} created, fee ${formatUnits(FEE, 18)} POQ, provider ${(await read.taskMarket.read.task([taskId])).provider}`);

  const output = toHex("Air molecules scatter short blue wavelengths of sunlight more than red ones (Rayleigh scattering).");
  await wait(await as(provider).taskMarket.write.submitAnswer([taskId, keccak256(output), output, ""]));
  await testClient.mine({ blocks: 1 }); // the committee seed is the hash of the block after the answer
  await wait(await read.taskMarket.write.drawCommittee([taskId]));
  const members = (await read.taskMarket.read.committee([taskId, 0n])).map((m) => m.account);
  console.log(`committee: ${members.join(", ")}`);

  const walletOf = (address: string) => validators.find((v) => v.account.address.toLowerCase() === address.toLowerCase())!;
  const salts = members.map(() => randomSalt());
  for (let i = 0; i < members.length; i++) {
    const commitment = computeCommitment({
      score: SCORES[i],
      salt: salts[i],
      validator: members[i],
      taskId,
      round: 0,
      chainId: manifest.chainId,
      market: manifest.contracts.taskMarket,
    });
    await wait(await as(walletOf(members[i])).taskMarket.write.commit([taskId, BigInt(i), commitment]));
  }
  const t = await read.taskMarket.read.task([taskId]);
  await testClient.mine({ blocks: Number(t.commitEnd - (await publicClient.getBlockNumber())) });
  for (let i = 0; i < members.length - 1; i++) {
    await wait(await as(walletOf(members[i])).taskMarket.write.reveal([taskId, BigInt(i), BigInt(SCORES[i]), salts[i]]));
  }
  await testClient.mine({ blocks: Number(t.revealEnd - (await publicClient.getBlockNumber())) });
  const receipt = await wait(await read.taskMarket.write.finalize([taskId]));
  const [settled] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" });
  const [slashed] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "NonRevealersSlashed" });

  const fmt = (v: bigint) => `${formatUnits(v, 18)} POQ`;
  console.log(`\nsettlement of task ${taskId} (consensus ${settled.args.consensus} / 10000, median):`);
  console.log(`  provider          ${fmt(settled.args.providerPay)}`);
  console.log(`  requester refund  ${fmt(settled.args.requesterRefund)}`);
  console.log(`  treasury          ${fmt(settled.args.treasuryShare)}`);
  members.forEach((m, i) => {
    const note = i === members.length - 1 ? "no reveal: slashed" : `score ${SCORES[i]}`;
    console.log(`  validator ${m} ${fmt(settled.args.validatorPay[i])} (${note})`);
  });
  if (slashed) console.log(`  slashed from non-revealers: ${fmt(slashed.args.total)} (to the treasury)`);

  const before = await read.token.read.balanceOf([provider.account.address]);
  await wait(await as(provider).taskMarket.write.claim());
  const after = await read.token.read.balanceOf([provider.account.address]);
  console.log(`provider claimed ${fmt(after - before)}`);
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
