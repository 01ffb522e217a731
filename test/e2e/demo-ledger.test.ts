/**
 * The demo's ledger path end to end against a Hardhat node in its own process: seed the
 * demo, then verify through the CLI exactly as a regulator would, and check that the CLI
 * refuses what does not belong.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { seedDemoLedger, type DemoLedgerSummary } from "../../scripts/lib/demo-ledger.ts";
import { runCommand } from "../../scripts/lib/run-command.ts";
import { sendAndWait, traceRegistryAt } from "../../server/src/ledger/deploy.ts";

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
    assert.match(
      result.output,
      /entitlement: registered by the GTIN's owner 0x[0-9a-f]{40} \(company prefix 6901234\)/,
    );
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
    // Who was entitled, from the logs alone: the GTIN's owner registered it, every event's actor
    // had a say, and the batch went from the cooperative to the processor, the carrier and the shop.
    assert.match(result.output, /registered by the GTIN's owner 0x[0-9a-f]{40} \(company prefix \d{6,12}\)/);
    assert.doesNotMatch(result.output, /say: NONE/);
    assert.equal(result.output.match(/say: /g)?.length, summary.events.length);
    assert.equal(result.output.match(/handed over by 0x[0-9a-f]{40} to 0x[0-9a-f]{40}/g)?.length, 3);
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

  // Last: it recalls the demo batch.
  it("says RECALLED, never VERIFIED, for a recalled batch: who, the reason from a gateway, exit status 3", async () => {
    const reason = {
      zh: "抽检发现联苯菊酯超标，召回本批次。",
      en: "Bifenthrin above its limit in a spot check; batch recalled.",
    };
    const document = new TextEncoder().encode(
      JSON.stringify({ type: "oioc.regulator-action", version: 1, action: "recall", reason }),
    );
    const cid = CID.create(1, raw.code, await sha256.digest(document));
    // A path gateway serving the reason document, and one serving other bytes under its CID.
    const gateway = http.createServer((req, res) => {
      if (req.url === `/ipfs/${cid.toString()}`) res.end(document);
      else if (req.url === `/tampered/ipfs/${cid.toString()}`) res.end(document.slice(1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${String((gateway.address() as AddressInfo).port)}`;
    const provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    try {
      const regulator = await provider.getSigner(1);
      const registry = traceRegistryAt(summary.registry, regulator);
      await sendAndWait(registry, "recallBatchAsRegulator", [summary.batch.batchId, cid.bytes]);

      const batch = await cli([
        "verify-batch",
        ...common(),
        "--gtin",
        summary.batch.gtin,
        "--lot",
        summary.batch.lot,
        "--gateway",
        origin,
      ]);
      assert.equal(batch.code, 3, batch.output);
      assert.match(batch.output, /verdict: RECALLED/);
      assert.doesNotMatch(batch.output, /VERIFIED/);
      assert.match(batch.output, new RegExp(`recalled by ${await regulator.getAddress()}`, "i"));
      assert.match(batch.output, new RegExp(`reason document ${cid.toString()}`));
      assert.ok(batch.output.includes(reason.zh) && batch.output.includes(reason.en), batch.output);

      const tampered = await cli([
        "verify-batch",
        ...common(),
        "--gtin",
        summary.batch.gtin,
        "--lot",
        summary.batch.lot,
        "--gateway",
        `${origin}/tampered`,
      ]);
      assert.equal(tampered.code, 3);
      assert.match(tampered.output, /reason: not shown: the gateway's bytes do not match the CID/);
      assert.ok(!tampered.output.includes(reason.zh));

      const item = await cli([
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
      assert.equal(item.code, 3, item.output);
      assert.match(item.output, /verdict: RECALLED/);

      const help = await cli(["help"]);
      assert.match(help.output, /3 RECALLED/);
    } finally {
      provider.destroy();
      await new Promise((resolve) => gateway.close(resolve));
    }
  });
});
