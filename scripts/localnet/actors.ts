import { writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { createWalletClient, http, parseEther, type Address, type Hex, type PublicClient } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { createKeystore, decryptKeystore } from "../../daemon/keys/keystore.ts";
import { getProtocolContracts, Role, type SigningWalletClient } from "../../sdk/contracts.ts";
import type { DeploymentManifest } from "../../sdk/deployment.ts";
import { modelId } from "../../sdk/model-id.ts";
import { LOCAL_RPC_RETRIES, type LocalChain } from "./chain.ts";

/** Throw-away local keys use the light scrypt cost (like `poq keys new --light-kdf`): never for real funds. */
const LIGHT_SCRYPT_N = 2 ** 12;
const GAS_ETH = parseEther("100");

/** One participant of the local network: an encrypted keystore and its password file in the run's temp folder. */
export interface Actor {
  name: string;
  address: Address;
  keystorePath: string;
  passwordFile: string;
  account: PrivateKeyAccount;
  wallet: SigningWalletClient;
}

/** Generates a key, writes it as an encrypted keystore + a 0600 password file under `dir`, and funds it with gas. */
export async function createActor(chain: LocalChain, dir: string, name: string): Promise<Actor> {
  const password = randomBytes(18).toString("base64url");
  const keysDir = path.join(dir, "keys", name);
  const { address, file } = await createKeystore({ dir: keysDir, password, scryptN: LIGHT_SCRYPT_N });
  const passwordFile = path.join(keysDir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const account = await decryptKeystore(file, password);
  const hash = await chain.funderWallet.sendTransaction({ to: address, value: GAS_ETH, account: chain.funder, chain: chain.chain });
  await waitOk(chain.publicClient, hash, `funding ${name}`);
  const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl, { retryCount: LOCAL_RPC_RETRIES }), account }) as SigningWalletClient;
  return { name, address: account.address, keystorePath: file, passwordFile, account, wallet };
}

export async function waitOk(publicClient: PublicClient, hash: Hex, what: string): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${what} reverted (tx ${hash})`);
}

/** Mints test tokens (the deployment's MockERC20) to `actor`. */
export async function mintTokens(chain: LocalChain, manifest: DeploymentManifest, actor: Actor, amount: bigint): Promise<void> {
  if (!manifest.token.mock) throw new Error("the deployment's token is not the mock: cannot mint");
  const { token } = getProtocolContracts(manifest, { public: chain.publicClient, wallet: actor.wallet });
  await waitOk(chain.publicClient, await token.write.mint([actor.address, amount]), `minting for ${actor.name}`);
}

export interface StakeActorOptions {
  role: "provider" | "validator";
  amount: bigint;
  /** Model names a provider serves. */
  models?: readonly string[];
}

/** Mints, approves and stakes `amount` for the role; providers also register their models. */
export async function stakeActor(chain: LocalChain, manifest: DeploymentManifest, actor: Actor, o: StakeActorOptions): Promise<void> {
  const { token, stakeRegistry } = getProtocolContracts(manifest, { public: chain.publicClient, wallet: actor.wallet });
  await mintTokens(chain, manifest, actor, o.amount);
  await waitOk(chain.publicClient, await token.write.approve([manifest.contracts.stakeRegistry, o.amount]), `approve (${actor.name})`);
  const role = o.role === "provider" ? Role.Provider : Role.Validator;
  await waitOk(chain.publicClient, await stakeRegistry.write.stake([role, o.amount]), `stake (${actor.name})`);
  for (const model of o.models ?? []) {
    await waitOk(chain.publicClient, await stakeRegistry.write.registerModel([modelId(model)]), `registerModel ${model} (${actor.name})`);
  }
  // Committees are drawn only from validators that run the task's evaluator: a local validator runs every
  // evaluator of the deployment.
  if (role === Role.Validator) {
    for (const evaluator of manifest.evaluators) {
      await waitOk(chain.publicClient, await stakeRegistry.write.registerEvaluator([evaluator.id as Hex]), `registerEvaluator (${actor.name})`);
    }
  }
}
