// Deploys the whole protocol to any JSON-RPC chain and writes the deployment manifest the daemon reads.
//
//   npx tsx scripts/deploy.ts --rpc-url http://127.0.0.1:8545 --out deployments/local.json
//   npx tsx scripts/deploy.ts --rpc-url $RPC --private-key-file ./deployer.key --token 0x... \
//       --governance 0xTimelock --treasury 0xSafe --params params.json --evaluator 0xid=ipfs://manifest
//
// Without --private-key-file the node's first unlocked account deploys (hardhat node, anvil). Without --token a
// MockERC20 test token is deployed. Run `npx hardhat build` first (npm run build).
import { readFileSync } from "node:fs";
import { Command } from "commander";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isAddress,
  isHex,
  type Account,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployProtocol } from "../sdk/deploy.ts";
import { parseMarketParamsOverrides, writeDeploymentManifest } from "../sdk/deployment.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

function parseAddress(flag: string, value: string | undefined): Address | undefined {
  if (value === undefined) return undefined;
  if (!isAddress(value)) throw new Error(`${flag}: not an address: ${value}`);
  return value;
}

function parseEvaluator(spec: string): { id: Hex; uri: string } {
  const at = spec.indexOf("=");
  const id = spec.slice(0, at);
  if (at < 0 || !isHex(id) || id.length !== 66) throw new Error(`--evaluator expects <0x 32-byte id>=<uri>, got ${spec}`);
  return { id, uri: spec.slice(at + 1) };
}

async function main(): Promise<void> {
  const program = new Command()
    .name("deploy")
    .description("Deploy the PoQ contracts and write the deployment manifest")
    .requiredOption("--out <path>", "where to write the manifest JSON")
    .option("--rpc-url <url>", "JSON-RPC endpoint", "http://127.0.0.1:8545")
    .option("--private-key-file <path>", "file holding the deployer's hex private key (else the node's first account)")
    .option("--token <address>", "existing ERC-20 for stakes and fees (else a MockERC20 is deployed)")
    .option("--governance <address>", "final owner (must accept ownership of the registries)")
    .option("--treasury <address>", "receiver of slashes, unpaid shares and dust (default: governance)")
    .option("--params <path>", "JSON file with TaskMarket parameter overrides")
    .option("--min-provider-stake <wei>", "minimum provider stake, token base units")
    .option("--min-validator-stake <wei>", "minimum validator stake, token base units")
    .option("--unstake-cooldown <blocks>", "unstake cooldown (must exceed the max task lifetime)")
    .option("--evaluator <id=uri>", "register an evaluator (repeatable)", collect, [] as string[])
    .parse();
  const opts = program.opts<{
    out: string;
    rpcUrl: string;
    privateKeyFile?: string;
    token?: string;
    governance?: string;
    treasury?: string;
    params?: string;
    minProviderStake?: string;
    minValidatorStake?: string;
    unstakeCooldown?: string;
    evaluator: string[];
  }>();

  const transport = http(opts.rpcUrl);
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [opts.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport });
  let account: Account | Address;
  if (opts.privateKeyFile) {
    const key = readFileSync(opts.privateKeyFile, "utf8").trim();
    if (!isHex(key) || key.length !== 66) throw new Error(`${opts.privateKeyFile}: expected a 0x-prefixed 32-byte hex key`);
    account = privateKeyToAccount(key);
  } else {
    const [first] = await createWalletClient({ chain, transport }).getAddresses();
    if (!first) throw new Error("the node has no unlocked account: pass --private-key-file");
    account = first;
  }
  const walletClient = createWalletClient({ chain, transport, account });
  const params = opts.params ? parseMarketParamsOverrides(readJson(opts.params), opts.params) : undefined;

  const manifest = await deployProtocol({
    publicClient,
    walletClient,
    token: parseAddress("--token", opts.token),
    governance: parseAddress("--governance", opts.governance),
    treasury: parseAddress("--treasury", opts.treasury),
    params,
    minProviderStake: opts.minProviderStake === undefined ? undefined : BigInt(opts.minProviderStake),
    minValidatorStake: opts.minValidatorStake === undefined ? undefined : BigInt(opts.minValidatorStake),
    unstakeCooldown: opts.unstakeCooldown === undefined ? undefined : BigInt(opts.unstakeCooldown),
    evaluators: opts.evaluator.map(parseEvaluator),
  });
  writeDeploymentManifest(opts.out, manifest);
  console.log(`deployed to chain ${manifest.chainId} (scan for its events from block ${manifest.deployBlock}):`);
  for (const [name, address] of Object.entries(manifest.contracts)) console.log(`  ${name.padEnd(18)} ${address}`);
  console.log(`manifest written to ${opts.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
