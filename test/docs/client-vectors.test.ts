// docs/CLIENT.md gives an outside client the round hash and the EIP-712 commit digest byte by byte, with test
// vectors, and the selectors of the round calls. These tests recompute each vector two ways (the recipe as the page
// writes it, and the SDK the daemons use, whose round hash rounds.test.ts checks against the contract's roundOf)
// and each selector from the ABI, so the page cannot drift from the code.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { concat, encodeAbiParameters, getAbiItem, hashTypedData, keccak256, pad, toFunctionSelector, toHex, type Address, type Hex } from "viem";
import { relayBatcherAbi, taskMarketAbi } from "../../sdk/abi.ts";
import { commitTypes, taskMarketDomain } from "../../sdk/eip712.ts";
import { roundHash } from "../../sdk/rounds.ts";

const page = readFileSync(new URL("../../docs/CLIENT.md", import.meta.url), "utf8");

/** The rows of the table between `<!-- vector:name -->` and `<!-- /vector:name -->`: first cell -> second cell. */
function vector(name: string): Map<string, string> {
  const match = page.match(new RegExp(`<!-- vector:${name} -->([\\s\\S]*?)<!-- /vector:${name} -->`));
  assert.ok(match, `docs/CLIENT.md has no vector "${name}"`);
  const rows = new Map<string, string>();
  for (const line of match[1]!.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || cells[1] === "input" || cells[1]!.startsWith("---")) continue;
    rows.set(cells[1]!, cells[2]!);
  }
  return rows;
}

const hexes = (cell: string): Hex[] => [...cell.matchAll(/`(0x[0-9a-fA-F]+)`/g)].map((m) => m[1] as Hex);
const one = (cell: string | undefined): Hex => {
  const all = hexes(cell ?? "");
  assert.equal(all.length, 1, `expected one hex value in "${cell}"`);
  return all[0]!;
};
const word = (n: bigint): Hex => pad(toHex(n), { size: 32 });

describe("docs/CLIENT.md vectors", () => {
  it("the round hash, by the page's byte recipe and by sdk/rounds.ts", () => {
    const v = vector("roundHash");
    const members = hexes(v.get("members")!) as Address[];
    const reportMask = Number(v.get("reportMask"));
    const commitments = hexes(v.get("reportCommitments")!);
    const expected = one(v.get("roundHash"));
    // The recipe as written: offset word 32, length, then the elements as 32-byte words; then 96 bytes hashed.
    const membersHash = keccak256(concat([word(32n), word(BigInt(members.length)), ...members.map((m) => pad(m, { size: 32 }))]));
    const commitmentsHash = keccak256(concat([word(32n), word(BigInt(commitments.length)), ...commitments]));
    assert.equal(keccak256(concat([membersHash, word(BigInt(reportMask)), commitmentsHash])), expected);
    assert.equal(roundHash({ members, reportMask, reportCommitments: commitments }), expected);
    // The empty-commitments hash the page quotes.
    assert.ok(page.includes(keccak256(concat([word(32n), word(0n)]))), "the hash of an empty commitments array is quoted");
  });

  it("the EIP-712 commit digest, by the page's recipe and by viem with the SDK's domain and types", () => {
    const v = vector("commitDigest");
    const chainId = BigInt(v.get("chainId")!);
    const market = one(v.get("market")) as Address;
    const [taskId, round] = v.get("taskId, round")!.split(",").map((x) => BigInt(x.trim())) as [bigint, bigint];
    const commitment = one(v.get("commitment"));
    const deadline = BigInt(v.get("deadline")!);
    const domainSeparator = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
        [keccak256(toHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")), keccak256(toHex("PoQ TaskMarket")), keccak256(toHex("2")), chainId, market],
      ),
    );
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes32" }, { type: "uint256" }],
        [keccak256(toHex("Commit(uint256 taskId,uint256 round,bytes32 commitment,uint256 deadline)")), taskId, round, commitment, deadline],
      ),
    );
    assert.equal(domainSeparator, one(v.get("domainSeparator")));
    assert.equal(structHash, one(v.get("structHash")));
    const digest = one(v.get("digest"));
    assert.equal(keccak256(concat(["0x1901", domainSeparator, structHash])), digest);
    assert.equal(hashTypedData({ domain: taskMarketDomain(chainId, market), types: commitTypes, primaryType: "Commit", message: { taskId, round, commitment, deadline } }), digest);
  });

  it("the selectors of the round calls and of relayEach", () => {
    const rows = [...page.matchAll(/^\| `(?:RelayBatcher\.)?(\w+)\([^`]*\)` \| `(0x[0-9a-f]{8})` \|/gm)];
    assert.equal(rows.length, 6, "six calls in the selector table");
    for (const [, name, selector] of rows) {
      const abi = name === "relayEach" ? relayBatcherAbi : taskMarketAbi;
      const item = getAbiItem({ abi: abi as readonly unknown[] as typeof taskMarketAbi, name: name as never });
      assert.ok(item, `${name} is in the ABI`);
      assert.equal(toFunctionSelector(item as never), selector, name);
    }
  });
});
