import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { getAddress, isAddress, type Address } from "viem";
import { z } from "zod";

/** Governance parameters of the task market (mirror of ITaskMarket.Params; see docs/PROTOCOL.md for bounds). */
export interface MarketParams {
  committeeSize: number;
  maxRounds: number;
  maxReassignments: number;
  consensusRule: number; // 0 median, 1 trimmed mean, 2 stake-weighted median
  quorumBps: number;
  trimBps: number;
  validatorPoolBps: number;
  providerFloor: number;
  tolerance: number;
  refundBps: number;
  nonRevealPenaltyBps: number; // bps of the seat's share of the validator pool
  providerTimeoutPenaltyBps: number; // bps of the provider pool
  equivocationSlashBps: number;
  reporterBountyBps: number;
  answerWindow: number; // blocks
  commitWindow: number; // blocks
  revealWindow: number; // blocks
  drawWindow: number; // blocks a round waits (reseeding) for enough eligible validators
  maxPromptBytes: number;
  maxOutputBytes: number;
  minFee: bigint; // token base units
}

/** The defaults of contracts/libraries/MarketParams.sol (a test checks they match the chain). */
export const DEFAULT_MARKET_PARAMS: MarketParams = {
  committeeSize: 5,
  maxRounds: 3,
  maxReassignments: 2,
  consensusRule: 0,
  quorumBps: 6_000,
  trimBps: 2_000,
  validatorPoolBps: 2_000,
  providerFloor: 3_000,
  tolerance: 1_500,
  refundBps: 2_500,
  nonRevealPenaltyBps: 30_000,
  providerTimeoutPenaltyBps: 10_000,
  equivocationSlashBps: 5_000,
  reporterBountyBps: 1_000,
  answerWindow: 20,
  commitWindow: 10,
  revealWindow: 10,
  drawWindow: 50,
  maxPromptBytes: 8_192,
  maxOutputBytes: 16_384,
  minFee: 10n ** 16n,
};

const address = z
  .string()
  .refine((value) => isAddress(value), { message: "not an address" })
  .transform((value) => getAddress(value) as Address);
const uintString = z.string().regex(/^\d+$/, "decimal integer string");
const nonNegative = z.number().int().nonnegative();

const marketParamsSchema = z.object({
  committeeSize: nonNegative,
  maxRounds: nonNegative,
  maxReassignments: nonNegative,
  consensusRule: nonNegative,
  quorumBps: nonNegative,
  trimBps: nonNegative,
  validatorPoolBps: nonNegative,
  providerFloor: nonNegative,
  tolerance: nonNegative,
  refundBps: nonNegative,
  nonRevealPenaltyBps: nonNegative,
  providerTimeoutPenaltyBps: nonNegative,
  equivocationSlashBps: nonNegative,
  reporterBountyBps: nonNegative,
  answerWindow: nonNegative,
  commitWindow: nonNegative,
  revealWindow: nonNegative,
  drawWindow: nonNegative,
  maxPromptBytes: nonNegative,
  maxOutputBytes: nonNegative,
  minFee: uintString, // token base units, as a decimal string
});

/** Thrown for market parameters a deployment would refuse (an unknown name, a value outside its bounds). */
export class InvalidMarketParamsError extends Error {
  override name = "InvalidMarketParamsError";
}

/**
 * Market parameter overrides as a file gives them (`scripts/deploy.ts --params`): any subset of the manifest's
 * `parameters.market` keys, `minFee` as a decimal string. Unknown keys are refused (a misspelt key would otherwise
 * deploy the default silently); the bounds are the contract's (checked on chain before anything is deployed).
 */
export function parseMarketParamsOverrides(value: unknown, source = "<value>"): Partial<MarketParams> {
  const result = marketParamsSchema.partial().strict().safeParse(value);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new InvalidMarketParamsError(`${source}: ${details} (known parameters: ${Object.keys(marketParamsSchema.shape).join(", ")})`);
  }
  const { minFee, ...rest } = result.data;
  return minFee === undefined ? rest : { ...rest, minFee: BigInt(minFee) };
}

/** JSON schema of a deployment manifest (what scripts/deploy.ts writes and the daemon reads). */
export const deploymentManifestSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int().positive(),
  deployBlock: nonNegative, // first block to scan for events
  deployer: address,
  governance: address,
  treasury: address,
  contracts: z.object({
    token: address,
    stakeRegistry: address,
    evaluatorRegistry: address,
    settlementMath: address,
    relayBatcher: address.optional(), // relays signed batches item by item (older manifests have none)
    taskMarket: address,
  }),
  token: z.object({ address, name: z.string(), symbol: z.string(), decimals: nonNegative, mock: z.boolean() }),
  parameters: z.object({
    market: marketParamsSchema,
    minProviderStake: uintString, // token base units, as a decimal string (JSON has no bigint)
    minValidatorStake: uintString,
    unstakeCooldown: nonNegative, // blocks
  }),
  evaluators: z.array(z.object({ id: z.string().regex(/^0x[0-9a-fA-F]{64}$/), uri: z.string() })),
});

export type DeploymentManifest = z.infer<typeof deploymentManifestSchema>;

/** Thrown when a manifest file cannot be read or does not match the schema. */
export class InvalidManifestError extends Error {
  constructor(
    readonly path: string,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid deployment manifest ${path}: ${details}`, options);
    this.name = "InvalidManifestError";
  }
}

/** Validates an already-parsed manifest object (addresses come back checksummed). */
export function parseDeploymentManifest(value: unknown, source = "<value>"): DeploymentManifest {
  const result = deploymentManifestSchema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new InvalidManifestError(source, details);
  }
  return result.data;
}

/** Reads and validates a manifest JSON file. */
export function readDeploymentManifest(path: string): DeploymentManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new InvalidManifestError(path, "cannot read or parse JSON", { cause });
  }
  return parseDeploymentManifest(raw, path);
}

/** Validates and writes a manifest as pretty JSON, creating parent folders. */
export function writeDeploymentManifest(path: string, manifest: DeploymentManifest): void {
  const checked = parseDeploymentManifest(manifest, path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(checked, null, 2) + "\n");
}
