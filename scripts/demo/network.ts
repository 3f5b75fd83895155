// Sets up the demo's network: local chain + Redis, the protocol with the evaluator registered, two providers behind
// real OpenAI-compatible HTTP servers, and six validator daemons (4 honest, 1 lazy, 1 that never reveals), all
// running the real daemon code (createDaemonContext + startProviderRole / startValidatorRole). The honest
// provider's daemon also runs the relayer role, and validators submit through it (the shipped pattern: one
// transaction per committee and phase, paid by the provider; see docs/OPERATOR.md), unless `submit: "direct"`.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEther, type Address, type Hex } from "viem";
import { createEvaluator } from "../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../daemon/evaluation/manifest.ts";
import { startProviderRole } from "../../daemon/roles/provider/provider-role.ts";
import { startRelayerRole } from "../../daemon/roles/relayer/relayer-role.ts";
import { startValidatorRole, type ValidatorRoleOptions } from "../../daemon/roles/validator/validator-role.ts";
import type { MarketParams } from "../../sdk/deployment.ts";
import { mintTokens } from "../localnet/actors.ts";
import { startLocalnet, type Actor, type LocalDaemon, type Localnet } from "../localnet/index.ts";
import { startDemoChatServers, type DemoChatServers } from "./chat-servers.ts";
import { createLazyEvaluator } from "./lazy-evaluator.ts";

export const DEMO_MODEL = "demo-chat-1";
const MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../models");

/**
 * Windows in blocks, with a block every BLOCK_TIME_MS (interval mining, automine off, like a real chain). The commit
 * window must cover scoring a burst of jobs on one shared CPU; the answer window bounds how long a job waits for a
 * provider that does not answer (the lazy one's empty replies) before it is reassigned.
 */
export const DEMO_PARAMS: Partial<MarketParams> = { answerWindow: 40, commitWindow: 60, revealWindow: 20 };
export const BLOCK_TIME_MS = 250;
export const PROVIDER_STAKE = parseEther("10000");
/** Large against the minimum, so that every validator stays eligible whatever it loses to penalties. */
export const VALIDATOR_STAKE = parseEther("1000000");
/**
 * The non-revealer stakes 4x the others, so that it sits on nearly every committee until it is jailed (left out of a
 * committee of 5 from these 6 stakes with probability 0.8%): the demo shows its penalties and its jailing on every
 * run, even a 3-job one. There are more validators than seats, so committees go on being drawn once it is jailed.
 */
export const SILENT_VALIDATOR_STAKE = 4n * VALIDATOR_STAKE;
export const MIN_VALIDATOR_STAKE = parseEther("1");
/** Jobs one run may post: enough to show who earns what, few enough to finish in minutes on a laptop. */
export const MAX_JOBS = 100;

export type ParticipantKind = "honest" | "lazy" | "never-reveals";

export interface Participant {
  name: string;
  role: "provider" | "validator";
  kind: ParticipantKind;
  address: Address;
  daemon: LocalDaemon;
}

export interface DemoNetwork {
  net: Localnet;
  chat: DemoChatServers;
  requester: Actor;
  evaluatorId: Hex;
  evaluatorName: string;
  participants: Participant[];
  /** The relay endpoint validators submit through (in the honest provider's daemon); undefined when direct. */
  relayerUrl?: string;
}

/** The fetched cross-encoder when its pinned files are present, else the offline use-lite-checked evaluator. */
export function defaultEvaluatorDir(): string {
  const fetched = path.join(MODELS_DIR, "ms-marco-minilm-l6");
  return existsSync(path.join(fetched, "manifest.json")) && existsSync(path.join(fetched, "onnx")) ? fetched : path.join(MODELS_DIR, "use-lite-checked");
}

export interface StartDemoNetworkOptions {
  evaluatorDir: string;
  /** Fees the requester is funded for. */
  requesterFunds: bigint;
  signals?: boolean;
  keepDir?: boolean;
  /** How validators' commits and reveals reach the chain: through the honest provider's relayer (default), or
   * their own transactions. */
  submit?: "relayer" | "direct";
  onStep?: (message: string) => void;
}

export async function startDemoNetwork(o: StartDemoNetworkOptions): Promise<DemoNetwork> {
  const step = o.onStep ?? (() => {});
  const manifest = await loadManifest(o.evaluatorDir);
  const evaluatorId = manifestId(manifest) as Hex;
  step(`evaluator ${manifest.name} (${evaluatorId.slice(0, 10)}…)`);
  const net = await startLocalnet({
    params: DEMO_PARAMS,
    evaluators: [{ id: evaluatorId, uri: `models/${path.basename(o.evaluatorDir)}` }],
    minValidatorStake: MIN_VALIDATOR_STAKE,
    signals: o.signals,
    keepDir: o.keepDir,
  });
  try {
    step(`chain ${net.chain.chainId} at ${net.chain.rpcUrl}, Redis at ${net.redisUrl}, TaskMarket ${net.manifest.contracts.taskMarket}`);
    const chat = await startDemoChatServers();
    net.teardown.defer("chat servers", () => chat.close());

    const specs = [
      { name: "honest-provider", role: "provider", kind: "honest" },
      { name: "lazy-provider", role: "provider", kind: "lazy" },
      { name: "honest-validator-1", role: "validator", kind: "honest" },
      { name: "honest-validator-2", role: "validator", kind: "honest" },
      { name: "honest-validator-3", role: "validator", kind: "honest" },
      { name: "honest-validator-4", role: "validator", kind: "honest" },
      { name: "lazy-validator", role: "validator", kind: "lazy" },
      { name: "silent-validator", role: "validator", kind: "never-reveals" },
    ] as const;
    const [requester, ...actors] = await Promise.all(["requester", ...specs.map((s) => s.name)].map((name) => net.actor(name)));
    // One staker at a time: gas estimates of concurrent stakes race on the shared sortition tree and can run out.
    await mintTokens(net.chain, net.manifest, requester!, o.requesterFunds);
    for (const [i, s] of specs.entries()) {
      await net.stake(actors[i]!, s.role === "provider" ? { role: "provider", amount: PROVIDER_STAKE, models: [DEMO_MODEL] } : { role: "validator", amount: s.kind === "never-reveals" ? SILENT_VALIDATOR_STAKE : VALIDATOR_STAKE });
    }
    step(`keys generated (encrypted keystores in ${net.dir}), 2 providers and 6 validators staked`);

    const participants: Participant[] = [];
    const relayed = (o.submit ?? "relayer") === "relayer";
    let relayerUrl: string | undefined;
    for (const [i, s] of specs.entries()) {
      const actor = actors[i]!;
      if (s.role === "provider") {
        const url = s.kind === "honest" ? chat.honestUrl : chat.lazyUrl;
        const relays = relayed && s.kind === "honest";
        const daemon = await net.daemon(actor, {
          provider: { claimBatchMs: 2_000, models: { [DEMO_MODEL]: { endpoints: [{ url, timeoutMs: 5_000 }] } } },
          ...(relays ? { relayer: { port: 0 } } : {}),
        });
        const role = await startProviderRole(daemon.ctx, {});
        net.teardown.defer(`${s.name} role`, () => role.stop());
        if (relays) {
          const relayer = await startRelayerRole(daemon.ctx);
          net.teardown.defer(`${s.name} relayer`, () => relayer.stop());
          relayerUrl = relayer.url;
        }
        participants.push({ name: s.name, role: s.role, kind: s.kind, address: actor.address, daemon });
      } else {
        const daemon = await net.daemon(actor, { validator: { evaluatorDir: o.evaluatorDir, claimBatchMs: 2_000, ...(relayerUrl === undefined ? {} : { relayerUrl }) } });
        // Each validator gets its own evaluator instance, loaded (hashes verified) and warmed up before the role
        // starts: all daemons share this process's one thread, and a cold first inference blocks it for seconds.
        const evaluator = s.kind === "lazy" ? createLazyEvaluator(evaluatorId) : await createEvaluator(o.evaluatorDir);
        await evaluator.score([{ prompt: "Is this evaluator warm?", answer: "Yes, it has scored one pair." }]);
        const options: ValidatorRoleOptions = { evaluator, neverReveal: s.kind === "never-reveals" };
        const role = await startValidatorRole(daemon.ctx, options);
        net.teardown.defer(`${s.name} role`, async () => {
          await role.stop();
          await evaluator.close();
        });
        participants.push({ name: s.name, role: s.role, kind: s.kind, address: actor.address, daemon });
      }
    }
    step(relayerUrl === undefined ? "provider and validator daemons running (validators send their own commits and reveals)"
      : `provider and validator daemons running; validators submit through the honest provider's relayer at ${relayerUrl}`);
    await net.startBlocks(BLOCK_TIME_MS, { automine: false });
    return { net, chat, requester: requester!, evaluatorId, evaluatorName: manifest.name, participants, relayerUrl };
  } catch (error) {
    await net.teardown.run();
    throw error;
  }
}
