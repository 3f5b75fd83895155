// Checks an operator's set-up before anything runs or is sent, so a mistake is one clear line instead of a failed
// transaction or a daemon that runs without ever being useful. Used by `config check`, `stake` and `<role> start`.
import { formatUnits, type Address, type PublicClient } from "viem";
import type { PoqConfig } from "../config/schema.ts";
import { createEvaluator } from "../evaluation/factory.ts";
import { loadManifest, manifestId } from "../evaluation/manifest.ts";
import { evaluatorRegistryAbi, stakeRegistryAbi, taskMarketAbi, Role } from "../../sdk/contracts.ts";
import type { DeploymentManifest } from "../../sdk/deployment.ts";
import { modelId } from "../../sdk/model-id.ts";
import { CliExit } from "./io.ts";

const amount = (value: bigint, token: { decimals: number; symbol: string }) => `${formatUnits(value, token.decimals)} ${token.symbol}`;

/**
 * The validator's evaluator: its manifest present and valid; with `load`, also loaded the way the daemon loads it
 * (every file's sha256 checked, wherever the manifest's source keeps them: the folder, an npm package, a composite's
 * inner evaluator); with a chain, its id registered and active. Returns the id and name; throws CliExit(1) naming
 * what is wrong.
 */
export async function checkEvaluator(
  config: PoqConfig,
  options: { load?: boolean; chain?: { client: PublicClient; manifest: DeploymentManifest } } = {},
): Promise<{ id: `0x${string}`; name: string }> {
  const dir = config.roles.validator?.evaluatorDir;
  if (dir === undefined) throw new CliExit(1, "roles.validator.evaluatorDir is not set");
  let manifest;
  try {
    manifest = await loadManifest(dir);
    if (options.load) await (await createEvaluator(dir)).close();
  } catch (error) {
    throw new CliExit(1, `evaluator in ${dir}: ${(error as Error).message.split("\n")[0]} (it needs a manifest.json whose files are present and match their sha256; see docs/EVALUATORS.md)`);
  }
  const id = manifestId(manifest);
  const chain = options.chain;
  if (chain !== undefined) {
    const active = await chain.client.readContract({
      address: chain.manifest.contracts.evaluatorRegistry, abi: evaluatorRegistryAbi, functionName: "isActive", args: [id],
    });
    if (!active) {
      throw new CliExit(1, `evaluator ${manifest.name} in ${dir} has id ${id}, which is not registered and active in the EvaluatorRegistry ${chain.manifest.contracts.evaluatorRegistry}: tasks name an active evaluator, so this validator could score none`);
    }
  }
  return { id, name: manifest.name };
}

export interface ValidatorStanding {
  stake: bigint;
  totalWeight: bigint;
  validators: number;
  committeeSize: number;
  minStake: bigint;
  /** Estimated chance of a seat on one task's committee (see seatChance). */
  chance: number;
  /** Whether the account declared (registerEvaluator) the evaluator it runs: committees are drawn per evaluator. */
  registered: boolean;
}

/**
 * The chance that a stake `stake` of `total` is among `k` seats drawn stake-weighted without replacement from `n`
 * validators (docs/PROTOCOL.md, Draw), taking the others as staking equally: the draw misses us k times in a row
 * with probability prod_i (others left * w) / (others left * w + stake). Exact when every other stake is equal.
 */
export function seatChance(stake: bigint, total: bigint, n: number, k: number): number {
  if (stake === 0n || total === 0n || n < k) return 0;
  const others = n - 1;
  if (others < k) return 1;
  const w = Number(total - stake) / others;
  const s = Number(stake);
  let missed = 1;
  for (let i = 0; i < k; i++) missed *= ((others - i) * w) / ((others - i) * w + s);
  return 1 - missed;
}

/**
 * The account's validator stake against everyone's in the pool of the evaluator it runs (committees are drawn per
 * evaluator), and the chance of being drawn for a task.
 */
export async function validatorStanding(client: PublicClient, manifest: DeploymentManifest, account: Address, evaluatorId: `0x${string}`): Promise<ValidatorStanding> {
  const registry = manifest.contracts.stakeRegistry;
  const [info, totalWeight, validators, minStake, params, evaluators] = await Promise.all([
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "stakeInfo", args: [account] }),
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "totalValidatorWeight", args: [evaluatorId] }),
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "activeValidators", args: [evaluatorId] }),
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "minStake", args: [Role.Validator] }),
    client.readContract({ address: manifest.contracts.taskMarket, abi: taskMarketAbi, functionName: "params" }),
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "evaluatorsOf", args: [account] }),
  ]);
  const registered = evaluators.some((id) => id.toLowerCase() === evaluatorId.toLowerCase());
  const stake = info.role === Role.Validator && info.unstakeBlock === 0n && registered ? BigInt(info.amount) : 0n;
  const committeeSize = Number(params.committeeSize);
  const n = Number(validators);
  return { stake, totalWeight, validators: n, committeeSize, minStake, registered, chance: seatChance(stake, totalWeight, n, committeeSize) };
}

/** One line on the validator's standing; a warning when it will never (or hardly ever) be drawn. */
export function describeStanding(s: ValidatorStanding, token: { decimals: number; symbol: string }, account: Address): { line: string; warn: boolean } {
  if (!s.registered) {
    return {
      line: `${account} has not declared the evaluator it runs (registerEvaluator): committees are drawn only from validators registered for the task's evaluator, so it will never be drawn. Declare it: poq stake <tokens> --role validator --evaluator-dir <dir>`,
      warn: true,
    };
  }
  if (s.stake === 0n || s.stake < s.minStake) {
    return {
      line: `${account} has ${amount(s.stake, token)} staked as validator (minimum ${amount(s.minStake, token)}): it will never be drawn. Stake first: poq stake <tokens> --role validator`,
      warn: true,
    };
  }
  const pct = s.chance * 100;
  const shown = pct >= 1 ? pct.toFixed(0) : pct >= 0.01 ? pct.toFixed(2) : "< 0.01";
  const line = `stake ${amount(s.stake, token)} of ${amount(s.totalWeight, token)} staked by all ${s.validators} validators: about ${shown}% chance of a seat on each task's committee of ${s.committeeSize}`;
  return { line, warn: s.chance < 0.01 };
}

/**
 * The config's deployment manifest read and matched to the configured chain, and (when the first RPC answers) a
 * client to check on-chain facts with. An unreachable RPC is a warning: the file checks still count.
 */
export async function checkDeployment(
  config: PoqConfig,
  warn: (message: string) => void,
): Promise<{ client: PublicClient; manifest: DeploymentManifest; close(): Promise<void> } | undefined> {
  if (config.deployment === undefined) {
    warn("no deployment manifest configured (deployment or POQ_DEPLOYMENT): roles cannot start without one");
    return undefined;
  }
  const { readDeploymentManifest } = await import("../../sdk/deployment.ts");
  const manifest = readDeploymentManifest(config.deployment);
  if (manifest.chainId !== config.chain.chainId) {
    throw new CliExit(1, `deployment ${config.deployment} is for chain ${manifest.chainId}, the config for chain ${config.chain.chainId}`);
  }
  const { createChainClient } = await import("../chain/client.ts");
  const chain = createChainClient({ chainId: config.chain.chainId, rpcUrls: config.chain.rpcUrls.slice(0, 1), requestTimeoutMs: 5_000 });
  try {
    const chainId = await chain.client.getChainId();
    if (chainId !== config.chain.chainId) throw new CliExit(1, `the RPC serves chain ${chainId}, the config says ${config.chain.chainId}`);
  } catch (error) {
    await chain.close();
    if (error instanceof CliExit) throw error;
    warn(`on-chain checks skipped: the RPC does not answer (${(error as Error).message.split("\n")[0]})`);
    return undefined;
  }
  return { client: chain.client, manifest, close: chain.close };
}

/**
 * A provider's set-up problems that would leave it idle: no provider stake, or a configured model it never
 * registered on-chain (the draw only considers providers registered for the task's model). Empty when all is well.
 */
export async function providerProblems(client: PublicClient, manifest: DeploymentManifest, account: Address, models: readonly string[]): Promise<string[]> {
  const registry = manifest.contracts.stakeRegistry;
  const [info, registered] = await Promise.all([
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "stakeInfo", args: [account] }),
    client.readContract({ address: registry, abi: stakeRegistryAbi, functionName: "modelsOf", args: [account] }),
  ]);
  if (info.role !== Role.Provider || info.amount === 0n) {
    return [`${account} has no provider stake: it will never be assigned a task. Stake first: poq stake <tokens> --role provider --model <name>`];
  }
  const ids = new Set(registered.map((id) => id.toLowerCase()));
  return models
    .filter((name) => !ids.has(modelId(name).toLowerCase()))
    .map((name) => `model "${name}" is configured but not registered on-chain for ${account}: no task for it will come here. Register it: poq stake <tokens> --role provider --model ${name} (adds to the stake and calls registerModel)`);
}
