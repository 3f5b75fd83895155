/**
 * onnxruntime-node session options for the cross-encoder, chosen by measurement on a 2-core machine shared with
 * other processes (figures and method in docs/EVALUATORS.md, "Cross-encoder"). Callers may override any of them.
 */
import type { InferenceSession } from "onnxruntime-node";
import { availableParallelism } from "node:os";

/**
 * Default batch limits; see batching.ts for why tokens per batch are bounded. 2,048 padded tokens (16 pairs of 128,
 * 8 of 256): scoring 16 pairs of 256 tokens on the MiniLM int8 model peaked at 304 MB of RSS, against 453 MB with
 * 4,096 (one batch of 16), and was not slower (the GEMMs already have 2,048 rows).
 */
export const DEFAULT_MAX_BATCH_SIZE = 16;
export const DEFAULT_MAX_BATCH_TOKENS = 16 * 128;

export function defaultSessionOptions(): InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    // All graph optimisations: fuses the int8 chain into DynamicQuantizeMatMul / MatMulIntegerToFloat and
    // MatMul+Add+GELU into BiasGelu; "extended" and "basic" were about 25% slower on the int8 model.
    graphOptimizationLevel: "all",
    // One model run at a time per evaluator: a sequential plan, parallelism inside each operator.
    executionMode: "sequential",
    intraOpNumThreads: Math.max(1, Math.min(availableParallelism(), 4)),
    interOpNumThreads: 1,
    // The arena keeps buffers between runs; without it mixed-length int8 scoring was about 10% slower.
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    // Intra-op threads spin briefly between operators (ONNX Runtime's default): 20-25% faster per pair on a quiet
    // machine. On a heavily contended one spinning was 1.7x slower; operators who share cores with heavy work can
    // pass sessionOptions.extra = { session: { intra_op: { allow_spinning: "0" } } }.
  };
}
