import { readFileSync } from "node:fs";
import path from "node:path";
import type { ZodIssue } from "zod";
import { configSchema, type PoqConfig } from "./schema.ts";

/** Thrown when the config file or the environment holds a bad value; `issues` name each bad field. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(issues.length === 0 ? message : `${message}:\n  - ${issues.join("\n  - ")}`, options);
  }
}

type EnvKind = "string" | "int" | "list";

/**
 * Environment overrides, one explicit line each, so that `POQ_*` names are stable and documented
 * (a generic path-to-name mapping would silently accept typos). Lists are comma separated.
 */
export const ENV_OVERRIDES: Readonly<Record<string, { path: readonly string[]; kind: EnvKind }>> = {
  POQ_CHAIN_ID: { path: ["chain", "chainId"], kind: "int" },
  POQ_RPC_URLS: { path: ["chain", "rpcUrls"], kind: "list" },
  POQ_CONFIRMATIONS: { path: ["chain", "confirmations"], kind: "int" },
  POQ_FINALITY_DEPTH: { path: ["chain", "finalityDepth"], kind: "int" },
  POQ_START_BLOCK: { path: ["chain", "startBlock"], kind: "int" },
  POQ_REDIS_URL: { path: ["redis", "url"], kind: "string" },
  POQ_KEYSTORE: { path: ["keys", "keystorePath"], kind: "string" },
  POQ_PASSWORD_FILE: { path: ["keys", "passwordFile"], kind: "string" },
  POQ_STATE_DIR: { path: ["stateDir"], kind: "string" },
  POQ_DEPLOYMENT: { path: ["deployment"], kind: "string" },
  POQ_EVALUATOR_DIR: { path: ["roles", "validator", "evaluatorDir"], kind: "string" },
  POQ_METRICS_HOST: { path: ["observe", "host"], kind: "string" },
  POQ_METRICS_PORT: { path: ["observe", "port"], kind: "int" },
  POQ_LOG_LEVEL: { path: ["observe", "logLevel"], kind: "string" },
};

function parseEnvValue(name: string, raw: string, kind: EnvKind): unknown {
  if (kind === "list") return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (kind === "int") {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError("Bad environment override", [`${name}: "${raw}" is not an integer`]);
    return Number(raw.trim());
  }
  return raw;
}

function setPath(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== "object") node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function describeIssue(issue: ZodIssue, source: string): string {
  const field = issue.path.length === 0 ? "(top level)" : issue.path.join(".");
  const env = Object.entries(ENV_OVERRIDES).find(([, o]) => o.path.join(".") === issue.path.join("."));
  const from = env === undefined ? source : `${source} or ${env[0]}`;
  if (issue.code === "unrecognized_keys") return `${field}: unknown field(s) ${issue.keys.join(", ")} (in ${from})`;
  return `${field}: ${issue.message} (in ${from})`;
}

export interface LoadConfigParameters {
  /** JSON config file; optional when every required field comes from the environment. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The daemon's one config loader: reads the JSON file, applies `POQ_*` environment overrides on top, validates
 * with zod and resolves relative paths against the config file's folder. Throws ConfigError naming each bad field.
 */
export function loadConfig({ file, env = process.env }: LoadConfigParameters = {}): PoqConfig {
  let raw: Record<string, unknown> = {};
  const source = file ?? "environment";
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`, [], { cause: error });
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`, [], { cause: error });
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(`Config file ${file} must hold a JSON object`);
    }
  }
  for (const [name, override] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(raw, override.path, parseEnvValue(name, value, override.kind));
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError("Invalid configuration", result.error.issues.map((i) => describeIssue(i, source)));
  }
  const config = result.data;
  if (file !== undefined) {
    // Paths in the file are relative to the file, not to wherever the operator happened to start the daemon.
    const base = path.dirname(path.resolve(file));
    config.stateDir = path.resolve(base, config.stateDir);
    if (config.deployment !== undefined) config.deployment = path.resolve(base, config.deployment);
    config.keys.keystorePath = path.resolve(base, config.keys.keystorePath);
    if (config.keys.passwordFile !== undefined) config.keys.passwordFile = path.resolve(base, config.keys.passwordFile);
    if (config.roles.validator !== undefined) {
      config.roles.validator.evaluatorDir = path.resolve(base, config.roles.validator.evaluatorDir);
    }
  }
  return config;
}

/** Warnings that do not stop the daemon but that an operator should fix. */
export function configWarnings(config: PoqConfig): string[] {
  const warnings: string[] = [];
  if (config.chain.rpcUrls.length < 2) {
    warnings.push("chain.rpcUrls has one URL: add a second RPC provider so an outage does not stop the daemon");
  }
  if (config.chain.confirmations >= config.chain.finalityDepth) {
    warnings.push("chain.confirmations >= chain.finalityDepth: deep-reorg alerts can never fire");
  }
  return warnings;
}
