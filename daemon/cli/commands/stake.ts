import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { loadConfig } from "../../config/load.ts";
import { CliExit, type CliIo } from "../io.ts";
import { visibleText } from "../visible-text.ts";

type Global = { config?: string; dev?: boolean };

/**
 * A one-shot signer for staking commands: the chain client, the unlocked key and the nonce-safe sender over the
 * same state folder as the daemon (its nonce journal), without Redis or the health server. Stop the daemon of
 * this key first or expect a nonce resync (the sender recovers from "nonce too low").
 */
async function openStaking(global: Global) {
  const config = loadConfig({ file: global.config });
  if (config.deployment === undefined) throw new CliExit(1, "the config has no deployment (path to the deployment manifest; or POQ_DEPLOYMENT)");
  const { readDeploymentManifest } = await import("../../../sdk/deployment.ts");
  const { createChainClient, assertChainId } = await import("../../chain/client.ts");
  const { loadSigner } = await import("../../keys/signer.ts");
  const { createTransactionSender } = await import("../../chain/sender.ts");
  const { NonceJournal } = await import("../../store/nonce-journal.ts");
  const { createLogger } = await import("../../observe/logger.ts");
  const manifest = readDeploymentManifest(config.deployment);
  const logger = createLogger({ level: config.observe.logLevel === "info" ? "warn" : config.observe.logLevel });
  const chain = createChainClient({ chainId: config.chain.chainId, rpcUrls: config.chain.rpcUrls, logger });
  await assertChainId(chain.client, config.chain.chainId);
  const account = await loadSigner({ keystorePath: config.keys.keystorePath, passwordFile: config.keys.passwordFile, dev: global.dev, logger });
  const sender = createTransactionSender({
    client: chain.client, account, chainId: config.chain.chainId, journal: new NonceJournal(config.stateDir, account.address),
    logger, confirmations: config.chain.confirmations, stuckAfterMs: config.sender.stuckAfterMs,
  });
  await sender.recover();
  return { config, manifest, chain, account, sender };
}

/** Runs `fn` with a staking session (a revert reaches runCli, which prints its custom error, e.g. CooldownNotOver(1234)). */
async function withStaking(global: Global, fn: (s: Awaited<ReturnType<typeof openStaking>>) => Promise<void>): Promise<void> {
  let session: Awaited<ReturnType<typeof openStaking>> | undefined;
  try {
    session = await openStaking(global);
    await fn(session);
  } finally {
    await session?.chain.close();
  }
}

/** Gas one stake needs at most (approve ~46k, stake with a sortition-tree insert ~230k, each registerModel ~70k). */
const STAKE_GAS = 300_000n;
const REGISTER_MODEL_GAS = 100_000n;

const parseRole = (value: string) => {
  if (value !== "validator" && value !== "provider") throw new InvalidArgumentError('must be "validator" or "provider"');
  return value;
};

export function registerStakeCommands(program: Command, io: CliIo): void {
  program
    .command("stake")
    .description("Approve and stake tokens for a role (a provider also registers the models it serves)")
    .argument("<amount>", "tokens to stake, in whole tokens (decimals allowed), e.g. 1000 or 12.5")
    .requiredOption("--role <role>", "validator or provider", parseRole)
    .option("--model <name...>", "provider only: model names to register (on-chain id = keccak256 of the name)")
    .option("--evaluator-dir <dir...>", "validator only: evaluator folders it runs (committees are drawn per evaluator; default: the config's roles.validator.evaluatorDir)")
    .action(async (amountText: string, opts: { role: "validator" | "provider"; model?: string[]; evaluatorDir?: string[] }) => {
      if (!/^\d+(\.\d+)?$/.test(amountText)) throw new CliExit(64, `amount "${amountText}" is not a positive decimal number`);
      if (opts.model !== undefined && opts.role !== "provider") throw new CliExit(64, "--model is for --role provider only");
      if (opts.evaluatorDir !== undefined && opts.role !== "validator") throw new CliExit(64, "--evaluator-dir is for --role validator only");
      await withStaking(program.opts<Global>(), async ({ config, manifest, sender, account, chain }) => {
        const { encodeFunctionData, formatEther, formatUnits, parseUnits } = await import("viem");
        const { mockERC20Abi, stakeRegistryAbi, Role } = await import("../../../sdk/contracts.ts");
        const { modelId } = await import("../../../sdk/model-id.ts");
        const amount = parseUnits(amountText, manifest.token.decimals);
        if (amount === 0n) throw new CliExit(64, "amount must be greater than zero");
        const tokens = (v: bigint) => `${formatUnits(v, manifest.token.decimals)} ${manifest.token.symbol}`;
        const registry = manifest.contracts.stakeRegistry;
        const client = chain.client;
        // Everything that would make a transaction fail is checked before the first one is sent.
        const [eth, balance, allowance, fees] = await Promise.all([
          client.getBalance({ address: account.address }),
          client.readContract({ address: manifest.token.address, abi: mockERC20Abi, functionName: "balanceOf", args: [account.address] }),
          client.readContract({ address: manifest.token.address, abi: mockERC20Abi, functionName: "allowance", args: [account.address, registry] }),
          client.estimateFeesPerGas(),
        ]);
        const gasNeeded = (STAKE_GAS + REGISTER_MODEL_GAS * BigInt(opts.model?.length ?? 0)) * fees.maxFeePerGas;
        const howToFund = `on a local dev chain: \`poq dev fund\`; on a real chain send it from an exchange or another wallet (docs/OPERATOR.md, Funding)`;
        if (eth < gasNeeded) {
          throw new CliExit(1, `${account.address} has ${formatEther(eth)} ETH, and the approve and stake need up to ${formatEther(gasNeeded)} ETH of gas: fund it first (${howToFund})`);
        }
        if (balance < amount) {
          throw new CliExit(1, `${account.address} holds ${tokens(balance)}, less than the ${tokens(amount)} to stake: get tokens first (${howToFund})`);
        }
        // Committees are drawn only from validators that declared the task's evaluator: without this the stake
        // would never be drawn. The config's evaluator is the one `validator start` runs.
        const configured = config.roles.validator?.evaluatorDir;
        const evaluatorDirs = opts.evaluatorDir ?? (opts.role === "validator" && configured !== undefined ? [configured] : []);
        const { loadManifest, manifestId } = await import("../../evaluation/manifest.ts");
        const declared = opts.role === "validator"
          ? await client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "evaluatorsOf", args: [account.address] })
          : [];
        const evaluators: { dir: string; id: `0x${string}` }[] = [];
        for (const dir of evaluatorDirs) {
          const manifest = await loadManifest(dir).catch((error: Error) => {
            throw new CliExit(1, `evaluator in ${dir}: ${error.message.split("\n")[0]} (see docs/EVALUATORS.md)`);
          });
          evaluators.push({ dir, id: manifestId(manifest) });
        }
        if (allowance < amount) {
          await sender.send({
            label: "stake:approve", to: manifest.token.address,
            data: encodeFunctionData({ abi: mockERC20Abi, functionName: "approve", args: [registry, amount] }),
            expect: { abi: mockERC20Abi, eventName: "Approval" },
          });
        }
        const staked = await sender.send({
          label: "stake", to: registry,
          data: encodeFunctionData({ abi: stakeRegistryAbi, functionName: "stake", args: [opts.role === "validator" ? Role.Validator : Role.Provider, amount] }),
          expect: { abi: stakeRegistryAbi, eventName: "Staked" },
        });
        io.out(`staked    ${tokens(amount)} as ${opts.role} from ${account.address} (tx ${staked.hash})`);
        io.out(`total     ${tokens(staked.event.args.total as bigint)}`);
        for (const name of opts.model ?? []) {
          const sent = await sender.send({
            label: `registerModel:${name}`, to: registry,
            data: encodeFunctionData({ abi: stakeRegistryAbi, functionName: "registerModel", args: [modelId(name)] }),
            expect: { abi: stakeRegistryAbi, eventName: "ModelRegistered" },
          });
          io.out(visibleText(`model     ${name} ${modelId(name)} registered (tx ${sent.hash})`));
        }
        for (const { id } of evaluators) {
          if (declared.some((d) => d.toLowerCase() === id.toLowerCase())) {
            io.out(`evaluator ${id} already declared`);
            continue;
          }
          const sent = await sender.send({
            label: `registerEvaluator:${id}`, to: registry,
            data: encodeFunctionData({ abi: stakeRegistryAbi, functionName: "registerEvaluator", args: [id] }),
            expect: { abi: stakeRegistryAbi, eventName: "EvaluatorJoined" },
          });
          io.out(`evaluator ${id} registered (tx ${sent.hash})`);
        }
      });
    });

  program
    .command("unstake")
    .description("Request to unstake everything; withdraw after the cooldown (stake stays slashable until then)")
    .action(async () => {
      await withStaking(program.opts<Global>(), async ({ manifest, sender }) => {
        const { encodeFunctionData } = await import("viem");
        const { stakeRegistryAbi } = await import("../../../sdk/contracts.ts");
        const sent = await sender.send({
          label: "unstake", to: manifest.contracts.stakeRegistry,
          data: encodeFunctionData({ abi: stakeRegistryAbi, functionName: "requestUnstake" }),
          expect: { abi: stakeRegistryAbi, eventName: "UnstakeRequested" },
        });
        io.out(`unstake requested (tx ${sent.hash}); withdraw from block ${sent.event.args.withdrawableBlock} with \`poq withdraw\``);
      });
    });

  program
    .command("claim")
    .description("Withdraw this key's rewards now (the daemons claim on their own by the config's claim policy)")
    .action(async () => {
      await withStaking(program.opts<Global>(), async ({ manifest, sender, account, chain }) => {
        const { encodeFunctionData, formatUnits } = await import("viem");
        const { taskMarketAbi, claimableNow } = await import("../../../sdk/contracts.ts");
        const market = manifest.contracts.taskMarket;
        const credit = await chain.client.readContract({ address: market, abi: taskMarketAbi, functionName: "claimable", args: [account.address] });
        const tokens = (v: bigint) => `${formatUnits(v, manifest.token.decimals)} ${manifest.token.symbol}`;
        // claim() keeps 1 wei of the credit (its slot stays non-zero): with no more than that there is nothing to send.
        if (claimableNow(credit) === 0n) {
          io.out(`nothing to claim for ${account.address}`);
          return;
        }
        const sent = await sender.send({
          label: "claim", to: market,
          data: encodeFunctionData({ abi: taskMarketAbi, functionName: "claim" }),
          expect: { abi: taskMarketAbi, eventName: "Claimed" },
        });
        io.out(`claimed   ${tokens(sent.event.args.amount as bigint)} to ${account.address} (tx ${sent.hash})`);
      });
    });

  program
    .command("withdraw")
    .description("Withdraw the stake after the unstake cooldown has passed")
    .action(async () => {
      await withStaking(program.opts<Global>(), async ({ manifest, sender }) => {
        const { encodeFunctionData } = await import("viem");
        const { stakeRegistryAbi } = await import("../../../sdk/contracts.ts");
        const sent = await sender.send({
          label: "withdraw", to: manifest.contracts.stakeRegistry,
          data: encodeFunctionData({ abi: stakeRegistryAbi, functionName: "withdraw" }),
          expect: { abi: stakeRegistryAbi, eventName: "Withdrawn" },
        });
        io.out(`withdrawn ${(await import("viem")).formatUnits(sent.event.args.amount as bigint, manifest.token.decimals)} ${manifest.token.symbol} (tx ${sent.hash})`);
      });
    });
}
