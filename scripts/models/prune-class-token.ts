/**
 * Class-token pruning of a BERT sequence classifier's last layer. The classifier reads one row of the last hidden
 * state, the [CLS] token's (pooler Gather at position 0), and in the last layer every other row only feeds rows
 * that are thrown away: their keys and values are still needed, but not their queries, attention output, residual,
 * LayerNorms or feed-forward. This rewrite slices the last layer's input to its first rows (KEPT_ROWS) before the
 * query projection and the residual Add, so those run on 2 rows instead of the whole sequence (about 1/7 of the
 * model's multiply-adds at 128 tokens, exact math). It works on a Hugging Face export as on the generated graphs: it needs
 * only the attention pattern (query MatMul -> ... -> scores MatMul -> ... -> Softmax) and a residual Add on the
 * layer input; pruneIfExact checks the result against the original before it is used.
 */
import { maxLogitGap } from "./compare-models.ts";
import { onnx, type NodeProto } from "./onnx-graph-builder.ts";

export class PruneError extends Error {}

/**
 * Rows kept: [CLS] and one more. With a 1-row query, ONNX Runtime's float MatMul of attention probabilities by values
 * takes its vector path, whose summation order depends on the (padded) key length: the same pair then scored 1 ulp
 * differently alone and in a padded batch (seen on 1 of 96 mixed pairs). Two rows take the matrix kernel, which sums
 * in key order whatever the padding.
 */
const KEPT_ROWS = 2;

/** Ops that pass an activation through between a projection MatMul and the scores MatMul. */
const PASS_THROUGH = new Set(["Add", "Reshape", "Transpose", "Mul", "Div", "Cast", "Squeeze", "Unsqueeze"]);

export function pruneToClassToken(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node) throw new PruneError("ONNX model has no graph");
  const nodes = graph.node;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producer.set(output, node);
  const isActivation = (name: string) => !initializers.has(name) && producer.get(name)?.opType !== "Constant";

  const softmax = nodes.filter((n) => n.opType === "Softmax").at(-1);
  if (!softmax) throw new PruneError("no attention Softmax found");
  // Scores MatMul: the first MatMul of two activations upstream of the last Softmax.
  let cursor: NodeProto | undefined = producer.get(softmax.input![0]!);
  while (cursor && !(cursor.opType === "MatMul" && cursor.input!.every(isActivation))) {
    if (!PASS_THROUGH.has(cursor.opType ?? "") && cursor.opType !== "Where") throw new PruneError(`unexpected ${cursor.opType} between scores and Softmax`);
    cursor = producer.get(cursor.input!.find(isActivation) ?? "");
  }
  if (!cursor) throw new PruneError("no scores MatMul upstream of the last Softmax");
  // Query projection: walk back from the scores MatMul's first input to a MatMul with a weight initializer.
  let query = producer.get(cursor.input![0]!);
  while (query && !(query.opType === "MatMul" && initializers.has(query.input![1]!))) {
    if (!PASS_THROUGH.has(query.opType ?? "")) throw new PruneError(`unexpected ${query.opType} on the query path`);
    query = producer.get(query.input!.find(isActivation) ?? "");
  }
  if (!query) throw new PruneError("no query projection found");
  const layerInput = query.input![0]!;
  const residuals = nodes.filter((n) => n.opType === "Add" && n.input!.includes(layerInput));
  if (residuals.length !== 1) throw new PruneError(`expected one residual Add on the last layer's input, found ${residuals.length}`);

  const sliced = `${layerInput}_class_token`;
  const int64 = (name: string, value: number) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [value] });
  graph.initializer!.push(int64(`${sliced}/start`, 0), int64(`${sliced}/end`, KEPT_ROWS), int64(`${sliced}/axis`, 1));
  const slice: NodeProto = { opType: "Slice", name: `${sliced}/Slice`, domain: "", input: [layerInput, `${sliced}/start`, `${sliced}/end`, `${sliced}/axis`], output: [sliced], attribute: [] };
  query.input = [sliced, ...query.input!.slice(1)];
  const residual = residuals[0]!;
  residual.input = residual.input!.map((name) => (name === layerInput ? sliced : name));
  // Keep topological order: the Slice goes right before the query MatMul.
  nodes.splice(nodes.indexOf(query), 0, slice);
  return onnx.ModelProto.encode(model).finish();
}

/** Largest logit difference accepted between the original and the pruned graph (float reassociation only). */
export const PRUNE_TOLERANCE = 1e-4;

/**
 * The pruned graph if it runs and gives the original's logits on seeded padded batches, else the original bytes
 * and why. A graph that computes its reshape targets from the layer input's length fails to run once pruned: that
 * is a failed check, not an error.
 */
export async function pruneIfExact(modelBytes: Uint8Array): Promise<{ bytes: Uint8Array; pruned: boolean; reason: string }> {
  try {
    const pruned = pruneToClassToken(modelBytes);
    const gap = await maxLogitGap(modelBytes, pruned).catch((cause: unknown) => {
      throw new PruneError(`pruned graph does not run: ${cause instanceof Error ? cause.message.split("\n")[0] : String(cause)}`);
    });
    if (gap > PRUNE_TOLERANCE) throw new PruneError(`pruned graph's logits differ by ${gap}`);
    return { bytes: pruned, pruned: true, reason: `max logit gap ${gap.toExponential(1)}` };
  } catch (error) {
    if (!(error instanceof PruneError)) throw error;
    return { bytes: modelBytes, pruned: false, reason: error.message };
  }
}
