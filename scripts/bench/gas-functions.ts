// Attributes the opcodes a trace ran in one contract to the Solidity functions they belong to (used by
// gas-profile.ts --functions). Each program counter maps through the compiler's source map to a source range and
// from there to the innermost function definition holding it. Code with no source range of its own (the
// compiler's ABI coders, checks and copies) counts for the last function that ran before it: its caller, as a rule.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface AstNode {
  nodeType?: string;
  name?: string;
  kind?: string;
  src?: string;
  nodes?: AstNode[];
  [key: string]: unknown;
}

interface FunctionRange {
  file: number;
  start: number;
  end: number;
  name: string;
}

export interface FunctionMap {
  /** The function name for a program counter of the deployed code ("?" outside every range). */
  at(pc: number): string | undefined;
}

/** Function definitions (and modifiers) of every source, with their byte ranges. */
function functionRanges(sources: Record<string, { ast: AstNode; id: number }>): FunctionRange[] {
  const out: FunctionRange[] = [];
  const visit = (node: unknown, contract: string): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, contract);
      return;
    }
    const n = node as AstNode;
    let inside = contract;
    if (n.nodeType === "ContractDefinition") inside = n.name ?? contract;
    if ((n.nodeType === "FunctionDefinition" || n.nodeType === "ModifierDefinition") && n.src) {
      const [start, length, file] = n.src.split(":").map(Number) as [number, number, number];
      const name = n.name || n.kind || "?";
      out.push({ file, start, end: start + length, name: `${inside}.${name}` });
    }
    for (const value of Object.values(n)) if (typeof value === "object") visit(value, inside);
  };
  for (const { ast } of Object.values(sources)) visit(ast, "");
  return out;
}

/** Instruction index of each program counter (PUSH1..PUSH32 carry 1..32 bytes of data). */
function instructionIndex(code: string): Map<number, number> {
  const bytes = Buffer.from(code.replace(/^0x/, ""), "hex");
  const index = new Map<number, number>();
  for (let pc = 0, i = 0; pc < bytes.length; i++) {
    index.set(pc, i);
    const op = bytes[pc]!;
    pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1;
  }
  return index;
}

/** Decodes a compressed source map ("s:l:f:j:m;...") into one [start, length, file] per instruction. */
function decodeSourceMap(map: string): [number, number, number][] {
  const out: [number, number, number][] = [];
  let last: [number, number, number] = [0, 0, -1];
  for (const entry of map.split(";")) {
    const parts = entry.split(":");
    const next: [number, number, number] = [...last];
    for (let k = 0; k < 3; k++) if (parts[k] !== undefined && parts[k] !== "") next[k] = Number(parts[k]);
    out.push(next);
    last = next;
  }
  return out;
}

/** The function map of a deployed contract, from the build info Hardhat wrote next to its artifact. */
export function functionMap(artifactsDir: string, sourceName: string, contractName: string): FunctionMap {
  const buildInfo = join(artifactsDir, "build-info");
  const outputFile = readdirSync(buildInfo).find((f) => f.endsWith(".output.json"));
  if (outputFile === undefined) throw new Error(`no build info output in ${buildInfo}`);
  const { output } = JSON.parse(readFileSync(join(buildInfo, outputFile), "utf8")) as {
    output: { sources: Record<string, { ast: AstNode; id: number }>; contracts: Record<string, Record<string, { evm: { deployedBytecode: { object: string; sourceMap: string } } }>> };
  };
  const key = Object.keys(output.contracts).find((k) => k.endsWith(sourceName));
  const deployed = key === undefined ? undefined : output.contracts[key]?.[contractName]?.evm.deployedBytecode;
  if (deployed === undefined) throw new Error(`${contractName} not in the build info`);
  const ranges = functionRanges(output.sources);
  const index = instructionIndex(deployed.object);
  const map = decodeSourceMap(deployed.sourceMap);
  return {
    at(pc) {
      const i = index.get(pc);
      const src = i === undefined ? undefined : map[i];
      if (src === undefined || src[2] < 0) return undefined;
      const [start, length, file] = src;
      let best: FunctionRange | undefined;
      for (const r of ranges) {
        if (r.file === file && r.start <= start && start + length <= r.end && (best === undefined || r.end - r.start < best.end - best.start)) best = r;
      }
      return best?.name;
    },
  };
}
