import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { BaseError } from "viem";
import type { AuditChain } from "../connect.ts";
import { AuditError } from "../errors.ts";
import { toJson } from "../json.ts";
import { visibleDeep } from "../../cli/visible-text.ts";
import { createApi } from "./api.ts";
import { createIndexer } from "./indexer.ts";

export interface StartDashboardOptions {
  chain: AuditChain;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Published attestations (.jsonl files or validator URLs) checked in the task detail. */
  attestationSources?: readonly string[];
  /** Model names to show instead of their ids (an id is keccak256 of the name). */
  modelNames?: readonly string[];
  /** Cached chain view lifetime; tests pass 0 to see every new block at once. */
  minRefreshIntervalMs?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** The page's files: a fixed list, so no request path ever reaches the file system. */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/chart.js": { file: "chart.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};
const STATIC_DIR = new URL("./static/", import.meta.url);

// Task prompts and answers are arbitrary user text: the page only ever inserts them as text, and the policy
// forbids inline scripts and foreign origins as a second line of defence.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Starts the read-only dashboard: static page + JSON API under /api, GET and HEAD only. */
export async function startDashboard(options: StartDashboardOptions): Promise<Dashboard> {
  const indexer = createIndexer(options.chain, { minRefreshIntervalMs: options.minRefreshIntervalMs });
  const api = createApi(options.chain, indexer, options.attestationSources ?? [], options.modelNames ?? []);
  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-store" }).end(body);
  };
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        return send(res, 405, "application/json", toJson({ error: "the dashboard is read-only" }));
      }
      const url = new URL(req.url ?? "/", "http://dashboard.invalid");
      if (url.pathname.startsWith("/api/")) {
        const answer = await api(url);
        // Display API: every string is made visible (control and bidi characters escaped; newlines kept as layout).
        // The raw text is in `poq audit export` and `poq audit task --json`.
        return send(res, answer.status, "application/json", toJson(visibleDeep(answer.body)));
      }
      const asset = STATIC_FILES[url.pathname];
      if (asset === undefined) return send(res, 404, "text/plain", "not found");
      return send(res, 200, asset.type, await readFile(new URL(asset.file, STATIC_DIR)));
    } catch (error) {
      // A chain read failed (RPC down, timeout): 503 with viem's short message; anything else is a bug (500).
      const unavailable = error instanceof AuditError || error instanceof BaseError;
      const message = error instanceof BaseError ? `chain read failed: ${error.shortMessage}` : error instanceof Error ? error.message.split("\n")[0] : String(error);
      send(res, unavailable ? 503 : 500, "application/json", toJson({ error: message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
