import type { Command } from "commander";
import { CliExit, type CliIo } from "../io.ts";

/** Chain ids of local development nodes (Hardhat, anvil: 31337; geth --dev, Ganache: 1337). Nothing else is funded. */
const DEV_CHAIN_IDS = new Set([31337, 1337]);

interface FundOptions {
  deployment?: string;
  rpcUrl?: string;
  eth: string;
  tokens: string;
}

export function registerDevCommands(program: Command, io: CliIo): void {
  const dev = program.command("dev").description("Local development chains only (Hardhat, anvil, the demo): test funds");
  dev
    .command("fund")
    .description("Send test ETH (gas) and mint test tokens to an address, from the node's unlocked dev account; refuses any chain but a local dev chain (31337, 1337) with the mock token")
    .argument("[address]", "who to fund (default: the address of the keystore in the -c config)")
    .option("--deployment <file>", "deployment manifest JSON (default: POQ_DEPLOYMENT, or deployment in the -c config)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (default: POQ_RPC_URL, or the first RPC URL in the -c config)")
    .option("--eth <amount>", "ETH for gas", "10")
    .option("--tokens <amount>", "test tokens to mint (whole tokens)", "1000")
    .action(async (target: string | undefined, opts: FundOptions) => {
      const globals = program.opts<{ config?: string }>();
      const config = globals.config === undefined ? undefined : (await import("../../config/load.ts")).loadConfig({ file: globals.config });
      const deployment = opts.deployment ?? process.env.POQ_DEPLOYMENT ?? config?.deployment;
      const rpcUrl = opts.rpcUrl ?? process.env.POQ_RPC_URL ?? config?.chain.rpcUrls[0];
      if (deployment === undefined) throw new CliExit(64, "no deployment manifest: pass --deployment <file> (or POQ_DEPLOYMENT, or -c config)");
      if (rpcUrl === undefined) throw new CliExit(64, "no RPC endpoint: pass --rpc-url <url> (or POQ_RPC_URL, or -c config)");
      const { createPublicClient, createWalletClient, formatEther, formatUnits, getAddress, http, isAddress, parseEther, parseUnits } = await import("viem");
      let address = target;
      if (address === undefined && config !== undefined) address = (await import("../../keys/keystore.ts")).keystoreAddress(config.keys.keystorePath);
      if (address === undefined) throw new CliExit(64, "give the address to fund (or -c with a config whose keys.keystorePath is a keystore)");
      if (!isAddress(address, { strict: false })) throw new CliExit(64, `"${address}" is not an address`);
      const to = getAddress(address);
      let eth: bigint;
      let tokens: bigint;
      const { readDeploymentManifest } = await import("../../../sdk/deployment.ts");
      const manifest = readDeploymentManifest(deployment);
      try {
        eth = parseEther(opts.eth);
        tokens = parseUnits(opts.tokens, manifest.token.decimals);
      } catch {
        throw new CliExit(64, "--eth and --tokens are decimal numbers");
      }
      const { chainFromId } = await import("../../chain/client.ts");
      const transport = http(rpcUrl, { retryCount: 0 });
      const chainId = await createPublicClient({ transport }).getChainId();
      if (!DEV_CHAIN_IDS.has(chainId)) {
        throw new CliExit(1, `refusing: chain ${chainId} is not a local dev chain (31337 or 1337). On a real chain, buy or transfer ETH and tokens to ${to} (docs/OPERATOR.md, Funding)`);
      }
      if (chainId !== manifest.chainId) throw new CliExit(1, `the RPC serves chain ${chainId} but the deployment manifest is for chain ${manifest.chainId}`);
      if (!manifest.token.mock) throw new CliExit(1, `the deployment's token ${manifest.token.address} is not the mock test token: it cannot be minted`);
      const chain = chainFromId(chainId, [rpcUrl]);
      const publicClient = createPublicClient({ chain, transport });
      const [funder] = await createWalletClient({ chain, transport }).getAddresses();
      if (funder === undefined) throw new CliExit(1, "the node has no unlocked dev account to fund from (start it as a dev node: Hardhat, anvil, or the demo)");
      const wallet = createWalletClient({ chain, transport, account: funder });
      const { mockERC20Abi } = await import("../../../sdk/contracts.ts");
      const confirm = async (hash: `0x${string}`, what: string) => {
        const receipt = await publicClient.waitForTransactionReceipt({ hash });
        if (receipt.status !== "success") throw new CliExit(1, `${what} reverted (tx ${hash})`);
      };
      if (eth > 0n) await confirm(await wallet.sendTransaction({ to, value: eth }), "sending ETH");
      if (tokens > 0n) {
        await confirm(await wallet.writeContract({ address: manifest.token.address, abi: mockERC20Abi, functionName: "mint", args: [to, tokens] }), "minting tokens");
      }
      const [ethNow, tokensNow] = await Promise.all([
        publicClient.getBalance({ address: to }),
        publicClient.readContract({ address: manifest.token.address, abi: mockERC20Abi, functionName: "balanceOf", args: [to] }),
      ]);
      io.out(`funded    ${to} on dev chain ${chainId}: now ${formatEther(ethNow)} ETH and ${formatUnits(tokensNow, manifest.token.decimals)} ${manifest.token.symbol}`);
    });
}
