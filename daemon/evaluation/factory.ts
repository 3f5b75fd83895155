/**
 * One entry point for every evaluator kind: `createEvaluator(manifestDir)` reads the manifest and loads the
 * matching engine. Engines are imported lazily, so a node that only runs the offline evaluator never loads
 * onnxruntime, and one that only runs a cross-encoder never loads TF.js.
 */
import path from "node:path";
import { ManifestInvalidError, type Evaluator } from "./evaluator.ts";
import { MANIFEST_FILE, loadManifest } from "./manifest.ts";

export interface CreateEvaluatorOptions {
  /** Passed to the cross-encoder engine (session options, batch limits). */
  crossEncoder?: import("./cross-encoder/cross-encoder-evaluator.ts").CrossEncoderLoadOptions;
  /** Passed to the reward-model engine (session options, batch limits). */
  rewardModel?: import("./reward-model/reward-model-evaluator.ts").RewardModelLoadOptions;
}

export async function createEvaluator(manifestDir: string, options: CreateEvaluatorOptions = {}): Promise<Evaluator> {
  return createWithin(manifestDir, options, []);
}

/** `chain` holds the composite and cascade folders being loaded, so a composite that (indirectly) contains itself fails. */
async function createWithin(manifestDir: string, options: CreateEvaluatorOptions, chain: readonly string[]): Promise<Evaluator> {
  const resolved = path.resolve(manifestDir);
  if (chain.includes(resolved)) {
    const where = path.join(resolved, MANIFEST_FILE);
    throw new ManifestInvalidError(`composite manifests form a cycle: ${[...chain, resolved].join(" -> ")}`, where);
  }
  const manifest = await loadManifest(manifestDir);
  switch (manifest.kind) {
    case "cross-encoder": {
      const { CrossEncoderEvaluator } = await import("./cross-encoder/cross-encoder-evaluator.ts");
      return CrossEncoderEvaluator.load(manifest, manifestDir, options.crossEncoder);
    }
    case "reward-model": {
      const { RewardModelEvaluator } = await import("./reward-model/reward-model-evaluator.ts");
      return RewardModelEvaluator.load(manifest, manifestDir, options.rewardModel);
    }
    case "sentence-encoder": {
      const { SentenceEncoderEvaluator } = await import("./sentence-encoder.ts");
      return SentenceEncoderEvaluator.load(manifest, manifestDir);
    }
    case "composite": {
      const { CompositeEvaluator } = await import("./composite.ts");
      return CompositeEvaluator.load(manifest, manifestDir, (innerDir) => createWithin(innerDir, options, [...chain, resolved]));
    }
    case "cascade": {
      const { CascadeEvaluator } = await import("./cascade.ts");
      return CascadeEvaluator.load(manifest, manifestDir, (stageDir) => createWithin(stageDir, options, [...chain, resolved]));
    }
  }
}
