import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The daemon's Prometheus metrics, on a registry of its own (not prom-client's global one) so that several
 * daemons in one test process never share counters. Names follow Prometheus conventions: `_total` for
 * counters, base units (seconds, wei) in the name.
 */
export interface DaemonMetrics {
  registry: Registry;
  tasksSeen: Counter<"role">;
  tasksScored: Counter<"role">;
  tasksCommitted: Counter<"role">;
  tasksRevealed: Counter<"role">;
  tasksClaimed: Counter<"role">;
  tasksAnswered: Counter<"role">;
  queueDepth: Gauge<"queue" | "state">;
  jobsFailed: Counter<"queue" | "reason">;
  scoringLatencySeconds: Histogram<"evaluator">;
  rpcErrors: Counter<"operation">;
  reorgs: Counter<"kind">;
  watcherHeadBlock: Gauge<"contract">;
  transactionsSent: Counter<"kind">;
  balanceWei: Gauge<"address" | "token">;
  providerRequests: Counter<"model" | "outcome">;
  /** Gas of every confirmed transaction of this daemon, by what it did (the label's first part: commit, reveal, ...). */
  gasUsed: Counter<"operation">;
  /** Keeper duties (reassign, draw, finalize) by outcome: sent, done-by-other (simulation showed it done), failed. */
  keeperActions: Counter<"action" | "outcome">;
  /** A commit or reveal that had to start within its safety margin of the phase end (a slash is close). */
  deadlineAtRisk: Counter<"step">;
  /** Answers scored as worthless (0) because they cannot be fetched or verified, by reason. */
  answersUnscorable: Counter<"reason">;
  /** Assignments the provider could not answer, by reason (each is declined where the contracts allow it). */
  tasksDeclined: Counter<"reason" | "outcome">;
}

export interface CreateMetricsParameters {
  /** Also export Node process metrics (CPU, memory, event loop lag); on by default. */
  withProcessMetrics?: boolean;
}

export function createMetrics({ withProcessMetrics = true }: CreateMetricsParameters = {}): DaemonMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: "poq_process_" });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  return {
    registry,
    tasksSeen: counter("poq_tasks_seen_total", "Tasks seen on chain by this daemon", ["role"]),
    tasksScored: counter("poq_tasks_scored_total", "Answers scored with the evaluator", ["role"]),
    tasksCommitted: counter("poq_tasks_committed_total", "Score commitments confirmed on chain", ["role"]),
    tasksRevealed: counter("poq_tasks_revealed_total", "Score reveals confirmed on chain", ["role"]),
    tasksClaimed: counter("poq_tasks_claimed_total", "Reward claims confirmed on chain", ["role"]),
    tasksAnswered: counter("poq_tasks_answered_total", "Provider answers confirmed on chain", ["role"]),
    queueDepth: new Gauge({
      name: "poq_queue_depth",
      help: "Jobs per queue and state (waiting, active, delayed, failed)",
      labelNames: ["queue", "state"],
      registers,
    }),
    jobsFailed: counter("poq_jobs_failed_total", "Jobs that failed for good (bad input or attempts exhausted)", [
      "queue",
      "reason",
    ]),
    scoringLatencySeconds: new Histogram({
      name: "poq_scoring_latency_seconds",
      help: "Time to score one answer with the evaluator",
      labelNames: ["evaluator"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    rpcErrors: counter("poq_rpc_errors_total", "Failed RPC operations (after the transport's own retries)", [
      "operation",
    ]),
    reorgs: counter("poq_reorgs_total", "Chain reorganisations seen by the watcher; kind=deep is an alert", ["kind"]),
    watcherHeadBlock: new Gauge({
      name: "poq_watcher_cursor_block",
      help: "Last block the watcher processed (confirmed)",
      labelNames: ["contract"],
      registers,
    }),
    transactionsSent: counter("poq_transactions_sent_total", "Transactions broadcast; kind=replacement for fee bumps", [
      "kind",
    ]),
    balanceWei: new Gauge({
      name: "poq_balance_wei",
      help: "Balance of the daemon's account (native or token), in the token's smallest unit",
      labelNames: ["address", "token"],
      registers,
    }),
    providerRequests: counter("poq_provider_requests_total", "Chat-completion calls by model and outcome", [
      "model",
      "outcome",
    ]),
    gasUsed: counter("poq_gas_used_total", "Gas used by this daemon's confirmed transactions, by operation", ["operation"]),
    keeperActions: counter("poq_keeper_actions_total", "Keeper duties (reassign, draw, finalize) by outcome", ["action", "outcome"]),
    deadlineAtRisk: counter("poq_deadline_at_risk_total", "Commits or reveals started inside their safety margin before the phase end", ["step"]),
    answersUnscorable: counter("poq_answers_unscorable_total", "Answers scored 0 because they cannot be fetched or verified", ["reason"]),
    tasksDeclined: counter("poq_tasks_declined_total", "Assignments the provider cannot answer, by reason and outcome", ["reason", "outcome"]),
  };
}
