/**
 * `npm run demo`: the whole system on one machine with demo data. Starts a local EVM
 * node in its own process, deploys the registry, registers demo organisations, a tea
 * batch of items and its events through the contracts, then prints how to verify an item.
 * Keeps running until Ctrl-C (pass `--exit` to stop after seeding).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { runCommand } from "../lib/run-command.ts";
import { startChainNode, choosePort } from "../lib/chain-node.ts";
import { seedDemoLedger } from "../lib/demo-ledger.ts";

const exitAfterSeeding = process.argv.includes("--exit");
const projectRoot = process.cwd();

console.log("[demo] compiling contracts");
const build = await runCommand("hardhat", ["build", "--quiet"]);
if (build.code !== 0) throw new Error("contract compilation failed");

const port = await choosePort(Number(process.env.DEMO_CHAIN_PORT ?? 8545));
console.log(`[demo] starting a Hardhat node on 127.0.0.1:${port}`);
const node = await startChainNode({ port, projectRoot });
const shutdown = async (): Promise<void> => {
  await node.stop();
};
process.once("SIGINT", () => {
  void shutdown().then(() => process.exit(0));
});
process.once("SIGTERM", () => {
  void shutdown().then(() => process.exit(0));
});

try {
  const summary = await seedDemoLedger(node.rpcUrl);
  const stateDir = path.join(projectRoot, ".data", "demo");
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path.join(stateDir, "ledger.json"), JSON.stringify(summary, null, 2));

  console.log(`
[demo] done. What is on the ledger now:
  chain            ${node.rpcUrl} (chain id ${summary.chainId})
  TraceRegistry    ${summary.registry}
  cooperative      ${summary.cooperative.nameZh} / ${summary.cooperative.nameEn}, signer ${summary.cooperative.signer}
  batch            GTIN ${summary.batch.gtin}, lot ${summary.batch.lot}, ${summary.batch.itemCount} items
  batch id         ${summary.batch.batchId}
  items root       ${summary.batch.itemsRoot}
  events           ${summary.events.map((e) => e.bizStep).join(" -> ")}
  event head       ${summary.batch.eventHead}

Verify one item yourself, trusting only the chain (in another terminal):
  npm run cli -- verify-item --rpc ${node.rpcUrl} --registry ${summary.registry} \\
    --gtin ${summary.batch.gtin} --lot ${summary.batch.lot} --serial ${summary.sampleItem.serial} \\
    --proof ${summary.sampleItem.proof.join(",")}
Re-verify the whole batch (signatures, event hash chain):
  npm run cli -- verify-batch --rpc ${node.rpcUrl} --registry ${summary.registry} --gtin ${summary.batch.gtin} --lot ${summary.batch.lot}

State written to .data/demo/ledger.json.`);
} catch (error) {
  await shutdown();
  throw error;
}

if (exitAfterSeeding) {
  await shutdown();
} else {
  console.log("\n[demo] running; press Ctrl-C to stop.");
}
