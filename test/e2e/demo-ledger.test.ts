/**
 * The demo's ledger path end to end against a Hardhat node in its own process: seed the
 * demo, then verify through the CLI exactly as a regulator would, and check that the CLI
 * refuses what does not belong.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { seedDemoLedger, type DemoLedgerSummary } from "../../scripts/lib/demo-ledger.ts";
import { runCommand } from "../../scripts/lib/run-command.ts";

describe("demo ledger", () => {
  let node: ChainNode;
  let summary: DemoLedgerSummary;

  before(async () => {
    node = await startChainNode();
    summary = await seedDemoLedger(node.rpcUrl);
  });
  after(async () => {
    await node.stop();
  });

  const cli = (args: string[]) => runCommand("node", ["scripts/tasks/cli.ts", ...args]);
  const common = () => ["--rpc", node.rpcUrl, "--registry", summary.registry];

  it("verifies the sample item on chain and off chain", async () => {
    const result = await cli([
      "verify-item",
      ...common(),
      "--gtin",
      summary.batch.gtin,
      "--lot",
      summary.batch.lot,
      "--serial",
      summary.sampleItem.serial,
      "--proof",
      summary.sampleItem.proof.join(","),
    ]);
    assert.equal(result.code, 0);
    assert.match(result.output, /verdict: VERIFIED/);
  });

  it("says a serial outside the batch is not in it", async () => {
    const result = await cli([
      "verify-item",
      ...common(),
      "--gtin",
      summary.batch.gtin,
      "--lot",
      summary.batch.lot,
      "--serial",
      `${summary.sampleItem.serial}X`,
      "--proof",
      summary.sampleItem.proof.join(","),
    ]);
    assert.equal(result.code, 1);
    assert.match(result.output, /verdict: NOT IN BATCH/);
  });

  it("re-verifies every signature and the event hash chain of the batch", async () => {
    const result = await cli(["verify-batch", ...common(), "--gtin", summary.batch.gtin, "--lot", summary.batch.lot]);
    assert.equal(result.code, 0);
    assert.match(result.output, new RegExp(`${summary.events.length} events`));
    assert.match(result.output, /verdict: VERIFIED/);
    assert.doesNotMatch(result.output, /signature BAD/);
  });

  it("answers an unknown lot as unknown", async () => {
    const result = await cli(["verify-batch", ...common(), "--gtin", summary.batch.gtin, "--lot", "NO-SUCH-LOT"]);
    assert.equal(result.code, 1);
    assert.match(result.output, /UNKNOWN/);
  });

  it("refuses malformed input with a usage error and exit code 2", async () => {
    const result = await cli([
      "verify-item",
      ...common(),
      "--gtin",
      "123",
      "--lot",
      "x",
      "--serial",
      "y",
      "--proof",
      "0x01",
    ]);
    assert.equal(result.code, 2);
    assert.match(result.output, /--gtin must be 14 digits/);
  });
});
