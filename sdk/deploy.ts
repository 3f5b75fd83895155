import { BaseError, ContractFunctionRevertedError, type Abi, type Address, type Hash, type Hex, type PublicClient, type WalletClient } from "viem";
import { mockERC20Abi, settlementMathAbi } from "./abi.ts";
import { readArtifact, type ContractName } from "./artifacts.ts";
import { DEFAULT_MARKET_PARAMS, parseDeploymentManifest, type DeploymentManifest, type MarketParams } from "./deployment.ts";

export interface DeployProtocolParameters {
  publicClient: PublicClient;
  /** Deploys and pays; must carry an account. Owns the registries until `governance` accepts ownership. */
  walletClient: WalletClient;
  /** Existing ERC-20 (no fee-on-transfer). Omitted: a MockERC20 "PoQ Test Token" is deployed. */
  token?: Address;
  /** Final owner of all contracts (a timelock in production). Defaults to the deployer. */
  governance?: Address;
  /** Receiver of slashes, unpaid shares and dust. Defaults to `governance`. */
  treasury?: Address;
  /** Overrides of DEFAULT_MARKET_PARAMS. */
  params?: Partial<MarketParams>;
  minProviderStake?: bigint;
  minValidatorStake?: bigint;
  /** Blocks; must exceed the market's max task lifetime. Defaults to that lifetime + 100. */
  unstakeCooldown?: bigint;
  /** Evaluators to register at deploy (id = manifest hash). */
  evaluators?: readonly { id: Hex; uri: string }[];
}

/** Thrown when a deployment transaction reverts or deploys no code. */
export class DeploymentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeploymentError";
  }
}

/** Blocks a provider draw stays provable (the EVM keeps 256 block hashes): MarketParams.DRAW_HORIZON. */
export const DRAW_HORIZON = 256n;

/** Same formula as MarketParams.maxTaskLifetime in Solidity (never below DRAW_HORIZON + 1). */
export function maxTaskLifetime(p: MarketParams): bigint {
  const lifetime =
    BigInt(p.maxReassignments + 1) * BigInt(p.answerWindow + 2) +
    BigInt(p.maxRounds) * BigInt(p.drawWindow + p.commitWindow + p.revealWindow + 3);
  return lifetime > DRAW_HORIZON ? lifetime : DRAW_HORIZON + 1n;
}

/** Reverts of SettlementMath.checkParams as a DeploymentError naming the parameter; the cooldown must exceed the lifetime. */
async function checkMarketParams(publicClient: PublicClient, settlementMath: Address, params: MarketParams, unstakeCooldown: bigint): Promise<void> {
  let lifetime: bigint;
  try {
    [lifetime] = await publicClient.readContract({ address: settlementMath, abi: settlementMathAbi, functionName: "checkParams", args: [params] });
  } catch (error) {
    const revert = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : undefined;
    const data = revert instanceof ContractFunctionRevertedError ? revert.data : undefined;
    if (data?.errorName === "ParameterOutOfBounds") {
      const [name, value] = data.args as [string, bigint];
      throw new DeploymentError(`market parameter ${name} = ${value} is out of its bounds (docs/PROTOCOL.md, Parameters)`, { cause: error });
    }
    throw new DeploymentError(`checking the market parameters failed: ${(error as Error).message}`, { cause: error });
  }
  if (unstakeCooldown <= lifetime) {
    throw new DeploymentError(`unstake cooldown ${unstakeCooldown} must exceed the longest task lifetime of these parameters, ${lifetime} blocks`);
  }
}

/**
 * Deploys token (unless given), StakeRegistry, EvaluatorRegistry, SettlementMath, TaskMarket and RelayBatcher, binds the registry
 * to the market, registers evaluators, hands ownership to `governance` (Ownable2Step: governance must call
 * acceptOwnership on both registries) and returns the manifest. Works on any chain viem can reach.
 */
export async function deployProtocol(options: DeployProtocolParameters): Promise<DeploymentManifest> {
  const { publicClient, walletClient } = options;
  const account = walletClient.account;
  if (!account) throw new DeploymentError("walletClient has no account");
  const deployer = account.address;
  const governance = options.governance ?? deployer;
  const treasury = options.treasury ?? governance;
  const params: MarketParams = { ...DEFAULT_MARKET_PARAMS, ...options.params };
  const minProviderStake = options.minProviderStake ?? 100n * 10n ** 18n;
  const minValidatorStake = options.minValidatorStake ?? 100n * 10n ** 18n;
  const unstakeCooldown = options.unstakeCooldown ?? maxTaskLifetime(params) + 100n;
  const chainId = await publicClient.getChainId();
  const deployBlock = await publicClient.getBlockNumber();

  const send = async (what: string, hash: Hash): Promise<void> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new DeploymentError(`${what} reverted (tx ${hash})`);
  };
  const deploy = async (name: ContractName, args: readonly unknown[]): Promise<Address> => {
    const { abi, bytecode } = readArtifact(name);
    const hash = await walletClient.deployContract({ abi: abi as Abi, bytecode, args, account, chain: walletClient.chain });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new DeploymentError(`deploying ${name} failed (tx ${hash})`);
    }
    return receipt.contractAddress;
  };
  const write = async (what: string, address: Address, name: ContractName, functionName: string, args: unknown[]) => {
    const { abi } = readArtifact(name);
    const hash = await walletClient.writeContract({
      address,
      abi: abi as Abi,
      functionName,
      args,
      account,
      chain: walletClient.chain,
    });
    await send(what, hash);
  };

  // The market's parameters are checked first, with the contract's own rules (SettlementMath is stateless), so that
  // a bad value stops the deployment before anything else is on chain, with the bound it broke named.
  const settlementMath = await deploy("SettlementMath", []);
  await checkMarketParams(publicClient, settlementMath, params, unstakeCooldown);
  const mock = options.token === undefined;
  const token = options.token ?? (await deploy("MockERC20", ["PoQ Test Token", "POQ"]));
  const stakeRegistry = await deploy("StakeRegistry", [
    token,
    deployer,
    minProviderStake,
    minValidatorStake,
    unstakeCooldown,
  ]);
  const evaluatorRegistry = await deploy("EvaluatorRegistry", [deployer]);
  const relayBatcher = await deploy("RelayBatcher", []);
  const taskMarket = await deploy("TaskMarket", [
    token,
    stakeRegistry,
    evaluatorRegistry,
    settlementMath,
    governance,
    treasury,
    params,
  ]);
  await write("StakeRegistry.setTaskMarket", stakeRegistry, "StakeRegistry", "setTaskMarket", [taskMarket]);
  for (const evaluator of options.evaluators ?? []) {
    await write("EvaluatorRegistry.register", evaluatorRegistry, "EvaluatorRegistry", "register", [
      evaluator.id,
      evaluator.uri,
    ]);
  }
  if (governance.toLowerCase() !== deployer.toLowerCase()) {
    await write("StakeRegistry.transferOwnership", stakeRegistry, "StakeRegistry", "transferOwnership", [governance]);
    await write("EvaluatorRegistry.transferOwnership", evaluatorRegistry, "EvaluatorRegistry", "transferOwnership", [
      governance,
    ]);
  }

  const read = <T>(functionName: "name" | "symbol" | "decimals") =>
    publicClient.readContract({ address: token, abi: mockERC20Abi, functionName }) as Promise<T>;
  const [name, symbol, decimals] = await Promise.all([read<string>("name"), read<string>("symbol"), read<number>("decimals")]);

  return parseDeploymentManifest({
    version: 1,
    chainId,
    deployBlock: Number(deployBlock),
    deployer,
    governance,
    treasury,
    contracts: { token, stakeRegistry, evaluatorRegistry, settlementMath, taskMarket, relayBatcher },
    token: { address: token, name, symbol, decimals: Number(decimals), mock },
    parameters: {
      market: { ...params, minFee: params.minFee.toString() },
      minProviderStake: minProviderStake.toString(),
      minValidatorStake: minValidatorStake.toString(),
      unstakeCooldown: Number(unstakeCooldown),
    },
    evaluators: (options.evaluators ?? []).map((e) => ({ id: e.id, uri: e.uri })),
  });
}
