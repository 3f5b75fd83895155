import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxViem from "@nomicfoundation/hardhat-toolbox-viem";

// These machines cannot download compilers, so we compile with the solc-js (WASM) build that ships in the npm
// `solc` package. The version below and the installed package must agree, or the build would silently use a
// different compiler than the one the config (and the audit trail) names.
const SOLC_VERSION = "0.8.28";
const require = createRequire(import.meta.url);
const installedSolc: string = require("solc/package.json").version;
if (installedSolc !== SOLC_VERSION) {
  throw new Error(`hardhat.config.ts pins solc ${SOLC_VERSION} but node_modules has solc ${installedSolc}: run npm ci`);
}

const fuzzSeed = process.env.POQ_FUZZ_SEED ? { seed: process.env.POQ_FUZZ_SEED } : {};

export default defineConfig({
  plugins: [hardhatToolboxViem],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
    },
  },
  paths: {
    tests: { solidity: "test/contracts", nodejs: "test" },
  },
  test: {
    solidity: {
      // The CI profile (`default`) runs every fuzz test 10,000 times; `quick` is for the edit-test loop and
      // `deep` for long soak runs outside `npm test` (HARDHAT_TEST_PROFILE=deep npm run test:contracts).
      // The fuzzer's seed is fixed (Hardhat's default) unless POQ_FUZZ_SEED names one: the same code then replays the
      // same sequences, and `npm run soak:contracts` walks through fresh seeds (a liveness bug once hid behind one).
      profiles: {
        default: { fuzz: { runs: 10_000, ...fuzzSeed }, invariant: { runs: 256, depth: 50 } },
        quick: { fuzz: { runs: 256, ...fuzzSeed }, invariant: { runs: 32, depth: 20 } },
        deep: { fuzz: { runs: 100_000, ...fuzzSeed }, invariant: { runs: 2_000, depth: 100 } },
      },
    },
  },
  networks: {
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
  },
});
