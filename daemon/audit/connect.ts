import type { Chain, PublicClient, Transport, TypedDataDomain } from "viem";
import { createChainClient } from "../chain/client.ts";
import { redactUrl } from "../cli/commands/status.ts";
import { readDeploymentManifest, type DeploymentManifest } from "../../sdk/deployment.ts";
import { taskMarketDomain } from "../../sdk/eip712.ts";
import { AuditConfigError, DeploymentMismatchError, RpcUnreachableError } from "./errors.ts";

/** Where the auditor reads from; flags win over POQ_DEPLOYMENT / POQ_RPC_URL. */
export interface AuditConnectionOptions {
  deployment?: string;
  rpcUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Largest block span of one eth_getLogs request (public endpoints often cap it at 1k-10k). */
  maxBlockRange?: number;
  requestTimeoutMs?: number;
}

/** A checked connection: the RPC answers, serves the manifest's chain, and has the market's code. */
export interface AuditChain {
  client: PublicClient<Transport, Chain>;
  manifest: DeploymentManifest;
  /** Redacted (no path or query: RPC URLs often carry an API key), for messages. */
  rpcLabel: string;
  maxBlockRange: bigint;
  /** EIP-712 domain of the market, for attestation signatures. */
  domain: TypedDataDomain;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BLOCK_RANGE = 2_000;
const DEFAULT_TIMEOUT_MS = 10_000;

function firstLine(error: unknown): string {
  const message = error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
  return message.split("\n")[0]!;
}

/** Reads the manifest, opens a client and checks that the chain is the manifest's; every failure is typed. */
export async function connectAudit(options: AuditConnectionOptions): Promise<AuditChain> {
  const env = options.env ?? process.env;
  const deploymentPath = options.deployment ?? env.POQ_DEPLOYMENT;
  const rpcUrl = options.rpcUrl ?? env.POQ_RPC_URL;
  if (!deploymentPath) throw new AuditConfigError("no deployment manifest: pass --deployment <file> or set POQ_DEPLOYMENT");
  if (!rpcUrl) throw new AuditConfigError("no RPC endpoint: pass --rpc-url <url> or set POQ_RPC_URL");
  const maxBlockRange = options.maxBlockRange ?? DEFAULT_MAX_BLOCK_RANGE;
  if (!Number.isInteger(maxBlockRange) || maxBlockRange < 1) throw new AuditConfigError("--max-block-range must be a positive integer");
  let manifest: DeploymentManifest;
  try {
    manifest = readDeploymentManifest(deploymentPath);
  } catch (error) {
    throw new AuditConfigError(firstLine(error), { cause: error });
  }
  let rpcLabel: string;
  try {
    new URL(rpcUrl);
    rpcLabel = redactUrl(rpcUrl);
  } catch {
    throw new AuditConfigError(`--rpc-url is not a URL: ${rpcUrl}`);
  }
  const { client, close } = createChainClient({
    chainId: manifest.chainId,
    rpcUrls: [rpcUrl],
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    pollingIntervalMs: 250,
  });
  try {
    let chainId: number;
    try {
      chainId = await client.getChainId();
    } catch (error) {
      throw new RpcUnreachableError(rpcLabel, firstLine(error), { cause: error });
    }
    if (chainId !== manifest.chainId) {
      throw new DeploymentMismatchError(`${rpcLabel} serves chain ${chainId} but the deployment manifest is for chain ${manifest.chainId}`);
    }
    const code = await client.getCode({ address: manifest.contracts.taskMarket });
    if (code === undefined || code === "0x") {
      throw new DeploymentMismatchError(`no TaskMarket contract at ${manifest.contracts.taskMarket} on chain ${chainId} (${rpcLabel})`);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    client,
    manifest,
    rpcLabel,
    maxBlockRange: BigInt(maxBlockRange),
    domain: taskMarketDomain(manifest.chainId, manifest.contracts.taskMarket),
    close,
  };
}
