import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";

/** Contracts whose Hardhat artifacts the SDK reads (bytecode for deployment, ABI for the committed sdk/abi.ts). */
export const CONTRACT_NAMES = [
  "MockERC20",
  "StakeRegistry",
  "EvaluatorRegistry",
  "SettlementMath",
  "TaskMarket",
  "TaskViews",
  "RelayBatcher",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface ContractArtifact {
  contractName: ContractName;
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
}

/** Thrown when a build artifact is missing (run `npx hardhat build`) or malformed. */
export class ArtifactNotFoundError extends Error {
  constructor(
    readonly contractName: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`artifact of ${contractName} not found at ${path}: run \`npx hardhat build\``, options);
    this.name = "ArtifactNotFoundError";
  }
}

const SOURCE_DIR: Record<ContractName, string> = {
  MockERC20: "contracts/mocks/MockERC20.sol",
  StakeRegistry: "contracts/StakeRegistry.sol",
  EvaluatorRegistry: "contracts/EvaluatorRegistry.sol",
  SettlementMath: "contracts/SettlementMath.sol",
  TaskMarket: "contracts/TaskMarket.sol",
  TaskViews: "contracts/TaskViews.sol",
  RelayBatcher: "contracts/RelayBatcher.sol",
};

/** Reads a Hardhat 3 build artifact from the repository's artifacts/ folder. */
export function readArtifact(name: ContractName): ContractArtifact {
  const url = new URL(`../artifacts/${SOURCE_DIR[name]}/${name}.json`, import.meta.url);
  const path = fileURLToPath(url);
  let parsed: { abi?: Abi; bytecode?: Hex; deployedBytecode?: Hex };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ArtifactNotFoundError(name, path, { cause });
  }
  if (!parsed.abi || !parsed.bytecode || !parsed.deployedBytecode) throw new ArtifactNotFoundError(name, path);
  return { contractName: name, abi: parsed.abi, bytecode: parsed.bytecode, deployedBytecode: parsed.deployedBytecode };
}

/** Where a contract's client ABI differs from its artifact's: the market serves its TaskViews module's views at its
 * own address (DELEGATECALL fallback), so its callable ABI is the ITaskMarketClient interface's, merged with the
 * artifact's for the errors its libraries raise. */
const CLIENT_INTERFACE: Partial<Record<ContractName, { source: string; name: string }>> = {
  TaskMarket: { source: "contracts/interfaces/ITaskMarketClient.sol", name: "ITaskMarketClient" },
};

function entryKey(entry: Abi[number]): string {
  if (!("name" in entry)) return entry.type;
  const inputs = "inputs" in entry ? entry.inputs.map((input) => input.type).join(",") : "";
  return `${entry.type} ${entry.name}(${inputs})`;
}

/** The ABI a client uses at the contract's address (sdk/abi.ts is generated from it). */
export function readClientAbi(name: ContractName): Abi {
  const artifact = readArtifact(name).abi;
  const iface = CLIENT_INTERFACE[name];
  if (!iface) return artifact;
  const path = fileURLToPath(new URL(`../artifacts/${iface.source}/${iface.name}.json`, import.meta.url));
  let extra: Abi;
  try {
    extra = (JSON.parse(readFileSync(path, "utf8")) as { abi: Abi }).abi;
  } catch (cause) {
    throw new ArtifactNotFoundError(iface.name, path, { cause });
  }
  const seen = new Set(artifact.map(entryKey));
  return [...artifact, ...extra.filter((entry) => !seen.has(entryKey(entry)))];
}
