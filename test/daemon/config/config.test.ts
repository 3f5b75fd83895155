import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, configWarnings, loadConfig } from "../../../daemon/config/load.ts";
import { configReferenceMarkdown } from "../../../daemon/config/reference.ts";

const validFile = {
  chain: { chainId: 31337, rpcUrls: ["http://127.0.0.1:8545", "ws://127.0.0.1:8546"] },
  redis: { url: "redis://127.0.0.1:6379" },
  keys: { keystorePath: "keys/validator.json", passwordFile: "keys/password.txt" },
  stateDir: "state",
  roles: { validator: { evaluatorDir: "models/evaluator" } },
};

function writeConfig(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), "poq-config-"));
  const file = path.join(dir, "poq.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

function loadError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected loadConfig to throw");
}

describe("config/loadConfig", () => {
  it("validators submit through the relayer by default once relayerUrl is set, directly without it, as told when submit is set", () => {
    const submit = (validator: Record<string, unknown>) =>
      loadConfig({ file: writeConfig({ ...validFile, roles: { validator: { evaluatorDir: "models/evaluator", ...validator } } }), env: {} }).roles.validator!.submit;
    assert.equal(submit({}), "direct");
    assert.equal(submit({ relayerUrl: "http://127.0.0.1:9470" }), "relayer");
    assert.equal(submit({ relayerUrl: "http://127.0.0.1:9470", submit: "direct" }), "direct");
    assert.match(loadError(() => submit({ submit: "relayer" })).issues.join("; "), /relayerUrl/);
  });

  it("loads a file, fills defaults and resolves paths against the file's folder", () => {
    const file = writeConfig(validFile);
    const config = loadConfig({ file, env: {} });
    const dir = path.dirname(file);
    assert.equal(config.chain.confirmations, 2);
    assert.equal(config.queue.lockDurationMs, 5_000);
    assert.equal(config.observe.logLevel, "info");
    assert.equal(config.stateDir, path.join(dir, "state"));
    assert.equal(config.keys.keystorePath, path.join(dir, "keys/validator.json"));
    assert.equal(config.roles.validator?.evaluatorDir, path.join(dir, "models/evaluator"));
    assert.deepEqual(configWarnings(config), []);
  });

  it("applies POQ_* environment overrides on top of the file", () => {
    const file = writeConfig(validFile);
    const config = loadConfig({
      file,
      env: { POQ_RPC_URLS: "https://a.example, https://b.example", POQ_CONFIRMATIONS: "5", POQ_LOG_LEVEL: "debug", POQ_REDIS_URL: "redis://redis:6380" },
    });
    assert.deepEqual(config.chain.rpcUrls, ["https://a.example", "https://b.example"]);
    assert.equal(config.chain.confirmations, 5);
    assert.equal(config.observe.logLevel, "debug");
    assert.equal(config.redis.url, "redis://redis:6380");
  });

  it("works from the environment alone", () => {
    const config = loadConfig({
      env: {
        POQ_CHAIN_ID: "1",
        POQ_RPC_URLS: "https://rpc.example",
        POQ_REDIS_URL: "redis://127.0.0.1:6379",
        POQ_KEYSTORE: "/keys/k.json",
        POQ_STATE_DIR: "/state",
        POQ_EVALUATOR_DIR: "/models/evaluator",
      },
    });
    assert.equal(config.chain.chainId, 1);
    assert.ok(configWarnings(config).some((w) => w.includes("second RPC")), "one RPC URL is a warning");
  });

  it("names every bad field and why", () => {
    const file = writeConfig({
      ...validFile,
      chain: { chainId: -1, rpcUrls: ["ftp://x.example"], confirmations: "2" },
      observe: { logLevel: "loud" },
      roles: {},
      extra: true,
    });
    const error = loadError(() => loadConfig({ file, env: {} }));
    const text = error.message;
    assert.ok(error.issues.some((i) => i.startsWith("chain.chainId:")), text);
    assert.ok(error.issues.some((i) => i.startsWith("chain.rpcUrls.0:") && i.includes("http://")), text);
    assert.ok(error.issues.some((i) => i.startsWith("chain.confirmations:") && i.includes("number")), text);
    assert.ok(error.issues.some((i) => i.startsWith("observe.logLevel:")), text);
    assert.ok(error.issues.some((i) => i.startsWith("roles:") && i.includes("at least one role")), text);
    assert.ok(error.issues.some((i) => i.includes("unknown field(s) extra")), text);
    assert.ok(text.includes("POQ_CHAIN_ID"), "points at the env override that could also set the field");
  });

  it("rejects an empty RPC list, a non-integer env value, bad JSON and a missing file", () => {
    const file = writeConfig({ ...validFile, chain: { chainId: 1, rpcUrls: [] } });
    assert.match(loadError(() => loadConfig({ file, env: {} })).message, /chain\.rpcUrls: give at least one RPC URL/);
    assert.match(loadError(() => loadConfig({ file: writeConfig(validFile), env: { POQ_CONFIRMATIONS: "two" } })).message, /POQ_CONFIRMATIONS: "two" is not an integer/);
    assert.match(loadError(() => loadConfig({ file: writeConfig("{ nope"), env: {} })).message, /not valid JSON/);
    assert.match(loadError(() => loadConfig({ file: "/nonexistent/poq.json", env: {} })).message, /Cannot read config file/);
  });

  it("validates provider endpoints", () => {
    const file = writeConfig({ ...validFile, roles: { provider: { models: { "llama-3-8b": { endpoints: [] } } } } });
    const error = loadError(() => loadConfig({ file, env: {} }));
    assert.ok(error.issues.some((i) => i.startsWith("roles.provider.models.llama-3-8b.endpoints:")), error.message);
  });
});

describe("config reference in docs/OPERATOR.md", () => {
  it("matches the zod schema (regenerate with `npm run poq -- config reference`)", () => {
    const doc = readFileSync(new URL("../../../docs/OPERATOR.md", import.meta.url), "utf8");
    const match = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(doc);
    assert.ok(match, "docs/OPERATOR.md has the config-reference markers");
    assert.equal(match[1], configReferenceMarkdown());
  });
});
