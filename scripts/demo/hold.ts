// What `npm run demo -- --hold` prints so that each kind of user can reach the still-running network: auditors
// (`poq audit`), requesters (the requester's keystore, the model the demo's providers serve) and stakers (the
// environment for docs/OPERATOR.md's quick path). The operator quick-path test runs exactly these lines.
import path from "node:path";
import { formatUnits } from "viem";
import { DEMO_MODEL, VALIDATOR_STAKE, type DemoNetwork } from "./network.ts";

/** A value as one shell word (the temp folder or the repository path may hold spaces). */
const shellWord = (value: string) => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`);

/** `export ...` line that points a `poq` config's chain, Redis and deployment at the demo network. */
export function operatorEnvironment(demo: DemoNetwork, evaluatorDir: string): string {
  return [
    `export POQ_CHAIN_ID=${demo.net.chain.chainId}`,
    `POQ_RPC_URLS=${shellWord(demo.net.chain.rpcUrl)}`,
    `POQ_REDIS_URL=${shellWord(demo.net.redisUrl)}`,
    `POQ_DEPLOYMENT=${shellWord(demo.net.manifestPath)}`,
    `POQ_EVALUATOR_DIR=${shellWord(path.resolve(evaluatorDir))}`,
  ].join(" ");
}

export function holdInstructions(demo: DemoNetwork, evaluatorDir: string): string {
  const connection = `--deployment ${shellWord(demo.net.manifestPath)} --rpc-url ${shellWord(demo.net.chain.rpcUrl)}`;
  const attestations = demo.participants.filter((p) => p.role === "validator").map((p) => `${p.daemon.healthUrl}/attestations`);
  const tokens = formatUnits(VALIDATOR_STAKE, demo.net.manifest.token.decimals);
  return [
    "",
    "The network keeps running (Ctrl-C stops everything). From another terminal:",
    "",
    "Audit it:",
    `  npm run poq -- audit task 1 ${connection} --attestations ${attestations.join(" ")}`,
    `  npm run poq -- audit serve ${connection} --attestations ${attestations.join(" ")}`,
    "",
    `Post a job as the demo's requester (model "${DEMO_MODEL}" is the one the demo's providers serve):`,
    `  npm run poq -- job post ${connection} --keystore ${shellWord(demo.requester.keystorePath)} --password-file ${shellWord(demo.requester.passwordFile)} \\`,
    `      --model ${DEMO_MODEL} --prompt "Why is the sky blue?" --fee 10 --wait`,
    `  npm run poq -- job get 1 ${connection}`,
    "",
    `Join as a validator (docs/OPERATOR.md, "Quick path on the demo network"; each demo validator stakes ${tokens} POQ):`,
    `  ${operatorEnvironment(demo, evaluatorDir)}`,
    ...(demo.relayerUrl === undefined ? [] : [`  The demo's relayer (in the honest provider's daemon) is ${demo.relayerUrl}: set roles.validator.relayerUrl to it to submit through it.`]),
    "",
  ].join("\n");
}
