/**
 * A small helper for writing ONNX graphs with onnx-proto: named nodes, typed initializers stored as raw
 * little-endian bytes, and model serialisation. Output is byte-identical for identical calls, because protobufjs
 * writes fields in declaration order and the builder keeps insertion order.
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import type { SeededRandom } from "./seeded-random.ts";

export const { onnx } = onnxProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type NodeProto = OnnxTypes.INodeProto;
type AttributeProto = OnnxTypes.IAttributeProto;
type ValueInfoProto = OnnxTypes.IValueInfoProto;
export type TensorDataType = "float32" | "int64" | "int8" | "uint8" | "int32";

const DATA_TYPE_CODES: Record<TensorDataType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  int32: onnx.TensorProto.DataType.INT32,
};

type TypedValues = Float32Array | BigInt64Array | Int8Array | Uint8Array | Int32Array;
export type AttributeValue = number | number[] | string | { float: number };

/** Raw little-endian bytes of a typed array (this code only runs on little-endian hosts, like ONNX Runtime). */
export function rawBytes(values: TypedValues): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function makeTensor(name: string, type: TensorDataType, dims: readonly number[], values: TypedValues): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`tensor ${name}: ${values.length} values for dims [${dims.join(",")}]`);
  return { name, dataType: DATA_TYPE_CODES[type], dims: [...dims], rawData: rawBytes(values) };
}

function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if (typeof value === "object") return { name, type: A.FLOAT, f: value.float };
  return { name, type: A.INT, i: value };
}

export interface ValueInfo {
  name: string;
  type: TensorDataType;
  /** Symbolic ("batch") or fixed sizes. */
  shape: readonly (string | number)[];
}

function makeValueInfo(info: ValueInfo): ValueInfoProto {
  return {
    name: info.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE_CODES[info.type],
        shape: { dim: info.shape.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly usedNames = new Set<string>();

  /** `rng` draws the weights of `random` (generated random-weight models); graphs without random weights omit it. */
  constructor(private readonly rng?: SeededRandom) {}

  /** Adds a node and returns the name of its first output (outputs are named after the node). */
  node(opType: string, inputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}, outputCount = 1, domain = ""): string {
    if (this.usedNames.has(name)) throw new Error(`duplicate node name ${name}`);
    this.usedNames.add(name);
    const outputs = Array.from({ length: outputCount }, (_, i) => (i === 0 ? `${name}_output_0` : `${name}_output_${i}`));
    this.nodes.push({
      opType,
      name,
      domain,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([k, v]) => makeAttribute(k, v)),
    });
    return outputs[0]!;
  }

  initializer(name: string, type: TensorDataType, dims: readonly number[], values: TypedValues): string {
    this.initializers.push(makeTensor(name, type, dims, values));
    return name;
  }

  /** A scalar or 1-D int64 constant stored as an initializer. */
  int64(name: string, values: readonly number[], scalar = false): string {
    return this.initializer(name, "int64", scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  float(name: string, values: readonly number[], scalar = false): string {
    return this.initializer(name, "float32", scalar ? [] : [values.length], Float32Array.from(values));
  }

  /** A float32 initializer of shape `dims`, uniform with standard deviation `std`, in the order the rng draws. */
  random(name: string, dims: readonly number[], std: number): string {
    if (this.rng === undefined) throw new Error("GraphBuilder.random needs the builder to be made with a SeededRandom");
    return this.initializer(name, "float32", dims, this.rng.fillUniform(new Float32Array(dims.reduce((a, b) => a * b, 1)), std));
  }

  /** A float32 vector of `size` copies of `value` (a norm's weight or bias at initialization). */
  filled(name: string, size: number, value: number): string {
    return this.initializer(name, "float32", [size], new Float32Array(size).fill(value));
  }
}

export interface ModelSpec {
  graphName: string;
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  opsetVersion: number;
  /** Extra operator domains, e.g. com.microsoft for contrib ops. */
  extraOpsets?: readonly { domain: string; version: number }[];
  producerName: string;
  docString: string;
}

/** The ModelProto object; encodeModel serialises it. A model over protobuf's 2 GB limit stays an object (see quantize-dynamic.ts). */
export function buildModelProto(graph: GraphBuilder, spec: ModelSpec): OnnxTypes.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: spec.producerName,
    producerVersion: "1",
    docString: spec.docString,
    opsetImport: [{ domain: "", version: spec.opsetVersion }, ...(spec.extraOpsets ?? [])],
    graph: {
      name: spec.graphName,
      node: graph.nodes,
      initializer: graph.initializers,
      input: spec.inputs.map(makeValueInfo),
      output: spec.outputs.map(makeValueInfo),
    },
  });
}

export function encodeModel(graph: GraphBuilder, spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModelProto(graph, spec)).finish();
}
