import { createRequire } from "node:module";
import path from "node:path";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// The compiler comes from the pinned `solc` npm package: no compiler download, ever.
const require = createRequire(import.meta.url);
const solcPackageDir = path.dirname(require.resolve("solc/package.json"));
const solcVersion = (require("solc/package.json") as { version: string }).version;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
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
    sources: "./contracts",
    tests: {
      mocha: "./test/contracts",
      solidity: "./contracts",
    },
  },
  test: {
    solidity: {
      fuzz: { runs: 1_000 },
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
