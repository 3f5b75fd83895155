/**
 * onnxruntime-node session options for the cross-encoder, chosen by measurement on a 2-core machine shared with
 * other processes (figures and method in docs/EVALUATORS.md, "Cross-encoder"). Callers may override any of them.
 */
import type { InferenceSession } from "onnxruntime-node";
import { availableParallelism } from "node:os";

/** Default batch limits; see batching.ts for why tokens per batch are bounded. */
export const DEFAULT_MAX_BATCH_SIZE = 16;
export const DEFAULT_MAX_BATCH_TOKENS = 16 * 256;

export function defaultSessionOptions(): InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    // All graph optimisations: fuses the int8 chain into DynamicQuantizeMatMul / MatMulIntegerToFloat and
    // MatMul+Add+GELU into BiasGelu; "extended" measured slower on the int8 model.
    graphOptimizationLevel: "all",
    // One model run at a time per evaluator: a sequential plan, parallelism inside each operator.
    executionMode: "sequential",
    intraOpNumThreads: Math.max(1, Math.min(availableParallelism(), 4)),
    interOpNumThreads: 1,
    // The arena keeps buffers between runs; without it the int8 model ran about 1.5x slower.
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    // No busy-waiting of idle intra-op threads: a validator shares its cores with the chain client, Redis and other
    // work, and with spinning on a contended 2-core machine the median single-pair latency was 1.7x worse.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}
