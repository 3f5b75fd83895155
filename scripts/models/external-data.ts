/**
 * ONNX external data: a model over protobuf's 2 GB limit (a 0.6B fp32 decoder export is 2.4 GB) keeps its weights in
 * a side file (`model.onnx_data`), each initializer pointing at (location, offset, length). The quantizer reads them
 * back in (`inlineExternalData`) so a real export can be turned into a single int8 file; `externalizeData` writes the
 * same layout, which tests use to check that both forms quantize to identical bytes.
 */
import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import type { onnx as OnnxTypes } from "onnx-proto";
import { onnx } from "./onnx-graph-builder.ts";

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

function entry(tensor: OnnxTypes.ITensorProto, key: string): string | undefined {
  return tensor.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

/** Replaces every external initializer's reference by its bytes, read from files beside the model. Returns how many. */
export function inlineExternalData(model: OnnxTypes.ModelProto, modelDir: string): number {
  const handles = new Map<string, number>();
  let count = 0;
  try {
    for (const tensor of model.graph?.initializer ?? []) {
      if (tensor.dataLocation !== EXTERNAL) continue;
      const location = entry(tensor, "location");
      if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes("..")) throw new Error(`initializer ${tensor.name}: bad external data location ${location}`);
      const offset = Number(entry(tensor, "offset") ?? 0);
      const length = Number(entry(tensor, "length"));
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length < 0) throw new Error(`initializer ${tensor.name}: external data without a valid offset and length`);
      let fd = handles.get(location);
      if (fd === undefined) {
        fd = openSync(path.join(modelDir, location), "r");
        handles.set(location, fd);
      }
      const bytes = new Uint8Array(length);
      let read = 0;
      while (read < length) {
        const n = readSync(fd, bytes, read, length - read, offset + read);
        if (n === 0) throw new Error(`initializer ${tensor.name}: ${location} ends before offset ${offset + length}`);
        read += n;
      }
      tensor.rawData = bytes;
      tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      tensor.externalData = [];
      count++;
    }
  } finally {
    for (const fd of handles.values()) closeSync(fd);
  }
  return count;
}

/**
 * Moves the raw bytes of every initializer of at least `sizeThreshold` bytes into one side file (returned), as
 * `onnx.save_model(..., save_as_external_data=True)` does (same 1 kB default: shape constants stay inline, where
 * shape inference needs them).
 */
export function externalizeData(model: OnnxTypes.ModelProto, location: string, sizeThreshold = 1024): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const bytes = tensor.rawData;
    if (!bytes || bytes.length < sizeThreshold) continue;
    tensor.externalData = [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(bytes.length) },
    ];
    tensor.dataLocation = EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return data;
}
