/**
 * onnxruntime-node session options for the cross-encoder, chosen by measurement on a 2-core machine
 * (figures and method in docs/EVALUATORS.md, "Cross-encoder"). Callers may override any of them.
 */
import type { InferenceSession } from "onnxruntime-node";
import { availableParallelism } from "node:os";

/** Default batch limits; see batching.ts for why tokens per batch are bounded. */
export const DEFAULT_MAX_BATCH_SIZE = 16;
export const DEFAULT_MAX_BATCH_TOKENS = 16 * 256;

export function defaultSessionOptions(): InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    // All graph optimisations: fuses the int8 chain into DynamicQuantizeMatMul and MatMul+Add+GELU into BiasGelu.
    graphOptimizationLevel: "all",
    // One model run at a time per evaluator: a sequential plan, parallelism inside each operator.
    executionMode: "sequential",
    intraOpNumThreads: Math.max(1, Math.min(availableParallelism(), 4)),
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
  };
}
