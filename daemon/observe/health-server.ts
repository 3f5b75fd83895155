import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A readiness check: resolves when the dependency is usable, throws (with a reason) when it is not. */
export type HealthCheck = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface HealthReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface StartHealthServerParameters {
  /** Named checks, e.g. { rpc, redis, evaluator }; ready only when every one passes. */
  checks: Record<string, HealthCheck>;
  registry: Registry;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** A check slower than this counts as failed, so a hung dependency cannot hang the probe. */
  checkTimeoutMs?: number;
}

/** The answer of an extra route (e.g. the validator's /attestations). */
export interface RouteResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Handles GET `path`; gets the full request URL (with its query). */
export type RouteHandler = (url: URL) => Promise<RouteResponse>;

export interface HealthServer {
  url: string;
  port: number;
  runChecks(): Promise<HealthReport>;
  /** Adds a readiness check after start (roles add theirs, e.g. the evaluator, once they load it). */
  addCheck(name: string, check: HealthCheck): void;
  /** Serves GET `path` with `handler` (roles publish their own read-only views, e.g. /attestations). */
  addRoute(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, ms: Math.round(performance.now() - started), error: message.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves `GET /health` (200 when every check passes, else 503, with a JSON body naming each check),
 * `GET /live` (200 while the process serves requests) and `GET /metrics` (Prometheus text format).
 * The health endpoint runs the checks on every request so it never reports a stale "ok".
 */
export async function startHealthServer({
  checks,
  registry,
  host = "127.0.0.1",
  port = 0,
  checkTimeoutMs = 3_000,
}: StartHealthServerParameters): Promise<HealthServer> {
  checks = { ...checks };
  const routes = new Map<string, RouteHandler>();
  const runChecks = async (): Promise<HealthReport> => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name]!, checkTimeoutMs)));
    const report: HealthReport = { ready: results.every((r) => r.ok), checks: {} };
    names.forEach((name, i) => (report.checks[name] = results[i]!));
    return report;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET") return reply(405, "text/plain", "method not allowed\n");
    if (path === "/health") {
      runChecks().then(
        (report) => reply(report.ready ? 200 : 503, "application/json", JSON.stringify(report)),
        (error: unknown) => reply(500, "text/plain", `${String(error)}\n`),
      );
    } else if (path === "/live") {
      reply(200, "application/json", '{"live":true}');
    } else if (path === "/metrics") {
      registry.metrics().then(
        (text) => reply(200, registry.contentType, text),
        (error: unknown) => reply(500, "text/plain", `${String(error)}\n`),
      );
    } else if (path !== undefined && routes.has(path)) {
      routes.get(path)!(new URL(req.url ?? "/", "http://localhost")).then(
        (r) => reply(r.status, r.contentType, r.body),
        (error: unknown) => reply(500, "text/plain", `${String(error)}\n`),
      );
    } else {
      reply(404, "text/plain", `not found: try /health, /live, /metrics${[...routes.keys()].map((r) => `, ${r}`).join("")}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    runChecks,
    addCheck: (name, check) => void (checks[name] = check),
    addRoute: (route, handler) => void routes.set(route, handler),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
