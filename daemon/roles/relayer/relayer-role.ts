import http from "node:http";
import type { AddressInfo } from "node:net";
import type { DaemonContext } from "../../runtime/context.ts";
import { ConfigError } from "../../config/load.ts";
import type { RunningRole } from "../role.ts";
import { openMarket } from "../market.ts";
import { RelayBatcher } from "./batcher.ts";
import { RelayRejectedError, type RelayKind } from "./relay-messages.ts";

const MAX_BODY_BYTES = 16 * 1024;
const ROUTES: Record<string, RelayKind> = { "/relay/commit": "commit", "/relay/reveal": "reveal" };

export interface RunningRelayer extends RunningRole {
  /** Base URL of the relay endpoint (what validators put in roles.validator.relayerUrl). */
  readonly url: string;
  readonly batcher: RelayBatcher;
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RelayRejectedError(413, "TooLarge", `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RelayRejectedError(400, "malformed", "body is not JSON");
  }
}

/**
 * The relayer role, the rounds' aggregator (docs/design/ROUNDS.md): `POST /relay/commit` takes one member's signed
 * commit, `POST /relay/reveal` one member's opening (JSON, see relay-messages.ts); each answers 202 once the item is
 * checked and held (or 4xx naming why not), and the batcher sends each committee's commits as one commitReport and
 * its openings as one revealReport that settles the round (several tasks' reports in one RelayBatcher.relayEach)
 * with this daemon's key (it pays the gas). Accepting an item is not a promise that it lands: validators watch the
 * chain and commit or reveal alone if no report carried theirs in time. Runs alone (`poq relayer start`) or inside a provider's or validator's daemon (roles.relayer set).
 */
export async function startRelayerRole(ctx: DaemonContext): Promise<RunningRelayer> {
  const config = ctx.config.roles.relayer;
  if (config === undefined) throw new ConfigError("Invalid configuration", ["roles.relayer: not set, cannot start the relayer role"]);
  const market = openMarket(ctx);
  const log = ctx.logger.child({ role: "relayer" });
  const batcher = new RelayBatcher({
    market, client: ctx.chain.client, sender: ctx.sender, heads: ctx.heads, from: ctx.account.address, batchMs: config.batchMs, maxBatch: config.maxBatch, log,
  });
  const server = http.createServer((req, res) => {
    const answer = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const kind = ROUTES[new URL(req.url ?? "/", "http://relayer").pathname];
    if (kind === undefined) return answer(404, { error: "NotFound", message: "POST /relay/commit or /relay/reveal" });
    if (req.method !== "POST") return answer(405, { error: "MethodNotAllowed", message: "use POST" });
    readBody(req)
      .then((body) => batcher.accept(kind, body))
      .then(({ signer }) => answer(202, { accepted: true, signer }))
      .catch((error: unknown) => {
        if (error instanceof RelayRejectedError) {
          log.info({ kind, reason: error.reason, message: error.message }, "relay item rejected");
          return answer(error.status, { error: error.reason, message: error.message });
        }
        log.error({ err: error }, "relay request failed");
        answer(500, { error: "Internal", message: "the relayer could not check this item; send it directly" });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, batchMs: config.batchMs, maxBatch: config.maxBatch, sender: ctx.account.address }, "relayer role started");
  return {
    name: "relayer",
    url,
    batcher,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await batcher.close(); // what was accepted still goes out
      log.info("relayer role stopped");
    },
  };
}
