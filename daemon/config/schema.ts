import { z } from "zod";
import { LOG_LEVELS } from "../observe/logger.ts";

// Every field carries `.describe()`: docs/OPERATOR.md's config reference is generated from these texts
// (daemon/config/reference.ts), and a test fails when the two drift apart.

const rpcUrl = z
  .string()
  .url()
  .refine((u) => /^(https?|wss?):\/\//.test(u), "must start with http://, https://, ws:// or wss://");

const chainSchema = z
  .object({
    chainId: z.number().int().positive().describe("Chain id the daemon expects; it refuses to start on another chain"),
    rpcUrls: z
      .array(rpcUrl)
      .min(1, "give at least one RPC URL (two or more from different providers are recommended)")
      .describe("RPC endpoints in order of preference (http(s) or ws(s)); the client fails over between them"),
    confirmations: z
      .number()
      .int()
      .min(0)
      .default(2)
      .describe("Blocks a log must be buried under before the watcher hands it to the roles"),
    finalityDepth: z
      .number()
      .int()
      .min(1)
      .default(64)
      .describe("A reorg deeper than this many blocks is raised as an alert instead of being rewound"),
    pollIntervalMs: z.number().int().min(50).default(2_000).describe("How often the watcher polls for new blocks over HTTP"),
    quietPeriodMs: z
      .number()
      .int()
      .min(100)
      .default(30_000)
      .describe("With no new block for this long, the head subscription is renewed and the watcher polls (dead subscriptions die silently)"),
    maxBlockRange: z.number().int().min(1).default(2_000).describe("Largest block range of one eth_getLogs request"),
    startBlock: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Block to backfill from when no cursor has been saved yet (the deployment block)"),
  })
  .strict()
  .describe("The chain to watch and send to");

const keysSchema = z
  .object({
    keystorePath: z.string().min(1).describe("Encrypted JSON keystore (scrypt) of the account that signs and sends"),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe("File holding the keystore password (mode 0600); without it the daemon prompts on the terminal"),
  })
  .strict()
  .describe("The signing account");

const windowsSchema = z
  .object({
    commitSafetyBlocks: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe("Do not start a commit this close (in blocks) to the end of the commit phase"),
    revealSafetyBlocks: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe("Reveal at the latest this many blocks before the reveal phase ends"),
  })
  .strict()
  .describe("Safety margins inside the on-chain commit and reveal windows");

const queueSchema = z
  .object({
    lockDurationMs: z
      .number()
      .int()
      .min(1_000)
      .default(5_000)
      .describe("BullMQ job lock; a SIGKILLed worker's job is taken over about lockDuration + stalledInterval later"),
    stalledIntervalMs: z.number().int().min(1_000).default(5_000).describe("How often workers look for stalled jobs"),
    maxStalledCount: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe("Crashes a job may survive before it is failed (BullMQ's default of 1 fails it on the second crash)"),
    attempts: z.number().int().min(1).default(8).describe("Attempts for transient faults (flaky RPC) before a job fails"),
    backoffMs: z.number().int().min(10).default(1_000).describe("First retry delay; doubles each attempt"),
    concurrency: z.number().int().min(1).default(4).describe("Scoring jobs one worker process runs at once (CPU-bound: about one per core)"),
    deadlineConcurrency: z
      .number()
      .int()
      .min(1)
      .default(32)
      .describe("Commit, reveal and claim jobs one process runs at once; they wait on the chain, not the CPU, so never fewer than the rounds open at once"),
  })
  .strict()
  .describe("BullMQ worker settings, chosen against the protocol windows");

const senderSchema = z
  .object({
    stuckAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(60_000)
      .describe("A transaction without a receipt for this long is replaced with higher fees on the same nonce"),
    feeBumpPercent: z.number().int().min(10).max(200).default(15).describe("Fee increase per replacement (nodes require at least 10)"),
    maxFeeBumps: z.number().int().min(0).default(5).describe("Replacements before the sender gives up and alerts"),
    drainMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe("On stop, how long sends may still wait for receipts and confirmations; then the wait ends (journaled, the job runs again at the next start)"),
  })
  .strict()
  .describe("The transaction sender (one per key)");

const keeperSchema = z
  .object({
    enabled: z.boolean().default(true).describe("Take part in the keeper duties: reassign overdue tasks, draw committees, finalize every drawn round"),
    fallbackBlocks: z
      .number()
      .int()
      .min(1)
      .max(1_000)
      .default(2)
      .describe("Blocks each keeper rank waits after the one before it (rank 0 acts in the block a duty falls due)"),
    fallbackRanks: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe("Daemons without a stake in a duty spread over this many fallback ranks (by a hash of account and task)"),
  })
  .strict()
  .describe("Keeper duties every running daemon shares so that every task reaches an end with no human");

const claimSchema = z
  .object({
    gasMargin: z
      .number()
      .min(1)
      .max(1_000_000)
      .default(100)
      .describe("With tokenPerNative set: claim once the credit is worth this many times the claim's gas"),
    tokenPerNative: z
      .number()
      .positive()
      .optional()
      .describe("Stake tokens one native coin is worth (both in 18-decimal units), to compare credit with gas; set it from a price feed. Unset: the price is unknown and credit is claimed every maxIntervalMs (or with poq claim)"),
    maxIntervalMs: z
      .number()
      .int()
      .min(60_000)
      .default(24 * 3_600_000)
      .describe("Claim anyway once credit has waited this long, however small"),
  })
  .strict()
  .describe("When rewards are withdrawn: economically (credit worth the gas, when a price is set), or after a long interval");

const endpointSchema = z
  .object({
    url: z.string().url().describe("Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"),
    apiKeyEnv: z.string().min(1).optional().describe("Name of the environment variable holding this endpoint's API key"),
    timeoutMs: z.number().int().min(100).default(60_000).describe("Timeout of one request"),
    remoteModel: z.string().min(1).optional().describe("Model name the endpoint expects, if not the on-chain name"),
  })
  .strict();

const providerSchema = z
  .object({
    models: z
      .record(
        z.string().min(1),
        z
          .object({
            endpoints: z
              .array(endpointSchema)
              .min(1, "list at least one endpoint for each model")
              .describe("Endpoints tried in order; the next one is used when one fails"),
            maxOutputBytes: z.number().int().min(1).default(64 * 1024).describe("Largest answer accepted"),
            attemptsPerEndpoint: z.number().int().min(1).default(2).describe("Tries on one endpoint before the next"),
          })
          .strict()
          .describe("One model, keyed by its on-chain name"),
      )
      .refine((models) => Object.keys(models).length > 0, "serve at least one model")
      .describe("Models this provider serves, each with its endpoints in order of preference"),
    claimBatchMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe("Claim checks (see claim) for tasks settled within this long are made once"),
  })
  .strict();

const validatorSchema = z
  .object({
    evaluatorDir: z.string().min(1).describe("Folder with the evaluator model files (checked against on-chain hashes)"),
    claimBatchMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe("Claim checks (see claim) for tasks finalized within this long are made once"),
    submit: z
      .enum(["direct", "relayer"])
      .optional()
      .describe("How commits and reveals reach the chain: handed to a relayer, the rounds' aggregator, for its commit and reveal reports (the default when relayerUrl is set; alone when no report carried them in time), or own transactions (the default without relayerUrl)"),
    relayerUrl: z.string().url().optional().describe("Base URL of the relayer (a daemon running roles.relayer); setting it makes submit default to relayer"),
    relayFallbackBlocks: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe("Commit or reveal alone when no report carried this seat this many blocks before its phase ends"),
  })
  .strict()
  .refine((v) => v.submit !== "relayer" || v.relayerUrl !== undefined, { message: "set relayerUrl when submit is relayer", path: ["relayerUrl"] })
  .transform((v) => ({ ...v, submit: v.submit ?? (v.relayerUrl === undefined ? "direct" : "relayer") }));

const relayerSchema = z
  .object({
    host: z.string().default("127.0.0.1").describe("Address the relayer's HTTP endpoint listens on"),
    port: z.number().int().min(0).max(65_535).default(9470).describe("Port of the relayer's HTTP endpoint (POST /relay/commit, /relay/reveal)"),
    batchMs: z.number().int().min(1).default(1_000).describe("A committee's commits are reported the moment the last one arrives; an incomplete set at most this long after its first (or earlier, before a validator's fallback block); openings the same way: at once when they settle the round, else those held, as a partial reveal report"),
    maxBatch: z.number().int().min(1).max(256).default(32).describe("Everything held is reported at once when this many items are held"),
  })
  .strict();


export const configSchema = z
  .object({
    chain: chainSchema,
    redis: z
      .object({ url: z.string().url().describe("Redis URL for the BullMQ queues, e.g. redis://127.0.0.1:6379") })
      .strict()
      .describe("The Redis server behind the work queues (use AOF persistence)"),
    keys: keysSchema,
    deployment: z
      .string()
      .min(1)
      .optional()
      .describe("Deployment manifest JSON (contract addresses, deploy block) written by scripts/deploy.ts; required by the roles"),
    stateDir: z
      .string()
      .min(1)
      .describe("Folder for durable state (salts, equivocation record, watcher cursor, nonce journal); back it up"),
    windows: windowsSchema.default({}),
    queue: queueSchema.default({}),
    sender: senderSchema.default({}),
    keeper: keeperSchema.default({}),
    claim: claimSchema.default({}),
    observe: z
      .object({
        host: z.string().default("127.0.0.1").describe("Address of the /health and /metrics server"),
        port: z.number().int().min(0).max(65_535).default(9464).describe("Port of the /health and /metrics server"),
        logLevel: z.enum(LOG_LEVELS).default("info").describe("Log level (fatal, error, warn, info, debug, trace)"),
      })
      .strict()
      .default({})
      .describe("Logs, metrics and health"),
    roles: z
      .object({
        validator: validatorSchema.optional().describe("Set to run the validator role"),
        provider: providerSchema.optional().describe("Set to run the provider role"),
        relayer: relayerSchema.optional().describe("Set to run a relayer, the rounds' aggregator: sends each committee's signed commits as one commit report and its openings as one reveal report that settles (pays their gas)"),
      })
      .strict()
      .refine((r) => r.validator !== undefined || r.provider !== undefined || r.relayer !== undefined, "enable at least one role")
      .describe("Which roles this daemon runs"),
  })
  .strict();

export type PoqConfig = z.infer<typeof configSchema>;
export type PoqConfigInput = z.input<typeof configSchema>;
