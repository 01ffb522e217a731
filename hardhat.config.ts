import { createRequire } from "node:module";
import path from "node:path";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";
import type { HardhatPlugin } from "hardhat/types/plugins";

// The compiler comes from the pinned `solc` npm package: no compiler download, ever.
const require = createRequire(import.meta.url);
const solcPackageDir = path.dirname(require.resolve("solc/package.json"));
const solcVersion = (require("solc/package.json") as { version: string }).version;

// A compiler warning on our own sources fails the build, as in OpenZeppelin's config.
const warningsAsErrors: HardhatPlugin = {
  id: "one-item-one-code:warnings-as-errors",
  hookHandlers: { solidity: () => import("./scripts/lib/solc-warnings.ts") },
};

// `--coverage` compiles instrumented bytecode. It gets folders of its own, so a coverage run
// neither replaces the plain artifacts the server, e2e and bench deploy from, nor invalidates
// the plain build's cache (and theirs persists between coverage runs).
const coverageRun = process.argv.includes("--coverage");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, warningsAsErrors],
  solidity: {
    version: solcVersion,
    path: path.join(solcPackageDir, "soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
      viaIR: true,
    },
  },
  paths: {
    ...(coverageRun ? { artifacts: "./coverage/build/artifacts", cache: "./coverage/build/cache" } : {}),
    sources: "./contracts",
    tests: {
      mocha: "./test/contracts",
      solidity: "./contracts",
    },
  },
  test: {
    solidity: {
      // As many runs as OpenZeppelin fuzzes with; the seed is Hardhat's fixed default, so a run repeats.
      fuzz: { runs: 5_000 },
    },
  },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.CHAIN_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
});
