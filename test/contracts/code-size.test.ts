import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { size } from "viem";
import { CONTRACT_NAMES, readArtifact } from "../../sdk/artifacts.ts";

// EIP-170: deployed code above 24,576 bytes cannot be deployed on Ethereum mainnet. Hardhat's chain enforces it at
// deployment too (allowUnlimitedContractSize stays off); this test names the contract and its margin.
const EIP170_LIMIT = 24_576;

describe("contract code size", () => {
  for (const name of CONTRACT_NAMES) {
    it(`${name} stays under the EIP-170 limit`, () => {
      const bytes = size(readArtifact(name).deployedBytecode);
      assert.ok(bytes > 0, `${name} has no code`);
      assert.ok(bytes <= EIP170_LIMIT, `${name} is ${bytes} bytes, ${bytes - EIP170_LIMIT} over the limit`);
    });
  }
});
