/**
 * The peer baseline: @huggingface/transformers (transformers.js), the library a Node user would pick, called
 * directly with AutoTokenizer + AutoModelForSequenceClassification (its pipeline cannot take pairs and softmaxes a
 * single logit). Same model file, same pairs, batches of 16 in arrival order padded to the longest of each batch.
 */
import path from "node:path";
import { AutoModelForSequenceClassification, AutoTokenizer, env } from "@huggingface/transformers";
import type { ScorePair } from "../../daemon/evaluation/evaluator.ts";

export interface Baseline {
  /** Returns the logits of the pairs, scored in batches of `batchSize`. */
  score(pairs: readonly ScorePair[], batchSize: number): Promise<number[]>;
  close(): Promise<void>;
}

export async function loadBaseline(modelDir: string, quantized: boolean): Promise<Baseline> {
  env.allowRemoteModels = false; // never reach for the Hub: the folder is local
  env.allowLocalModels = true;
  // An absolute path: a bare "models/x" would be looked up as a Hub id under node_modules.
  const id = path.resolve(modelDir);
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForSequenceClassification.from_pretrained(id, { dtype: quantized ? "q8" : "fp32", device: "cpu" });
  return {
    async score(pairs, batchSize) {
      const logits: number[] = [];
      for (let start = 0; start < pairs.length; start += batchSize) {
        const batch = pairs.slice(start, start + batchSize);
        const inputs = tokenizer(batch.map((p) => p.prompt), { text_pair: batch.map((p) => p.answer), padding: true, truncation: true });
        const output = await model(inputs);
        logits.push(...Array.from(output.logits.data as Float32Array));
      }
      return logits;
    },
    close: async () => {
      await model.dispose();
    },
  };
}
