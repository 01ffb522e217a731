/**
 * A chain reorganisation within the confirmation depth: the block carrying an event is
 * replaced (Hardhat's evm_snapshot / evm_revert) before it is deep enough to count. The
 * writer sends the same signed transaction again, the indexer never saw the orphaned
 * block, and the store ends in the state of the canonical chain: the event anchored once.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider } from "ethers";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { seedDemoSystem, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { eventHead } from "../../server/src/verify/hash-chain.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { getEvent, listBatchEvents } from "../../server/src/storage/events.ts";
import { startTestServer } from "../support/test-server.ts";

const CONFIRMATIONS = 3;

describe("a reorg within the confirmation depth", () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;

  const mine = (blocks: number): Promise<unknown> => provider.send("hardhat_mine", [`0x${blocks.toString(16)}`]);

  /** Drives the writer and indexer by hand, mining blocks so confirmations accrue, until `done`. */
  async function workUntil(done: () => Promise<boolean>): Promise<void> {
    for (let round = 0; round < 60; round++) {
      await server.workOnce();
      if (await done()) return;
      await server.ctx.db.updateTable("outbox").set({ next_attempt_at_ms: 0 }).where("state", "=", "pending").execute();
      await mine(1);
    }
    throw new Error("did not settle");
  }

  before(async () => {
    node = await startChainNode();
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "reorg", {
      CONFIRMATIONS: String(CONFIRMATIONS),
      LEDGER_MAX_WAIT_MS: "1",
    }));
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 5 });
    await workUntil(async () => {
      const events = await listBatchEvents(server.ctx.db, demo.batch.batchId);
      return events.length === demo.eventIds.length && events.every((e) => e.chain !== null);
    });
  });

  after(async () => {
    await server.close();
    provider.destroy();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("ends with the event anchored once, on the canonical chain, and the head matching", async () => {
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    const inspector = apiClient(server.url, demo.organisations.inspector.token);
    const eventId = expectStatus(
      await inspector.post<{ event: { id: string } }>(`/api/v1/batches/${demo.batch.batchId}/events`, {
        bizStep: "inspecting",
        occurredAt: "2026-04-21T10:00:00+08:00",
        data: { tests: [{ substance: "毒死蜱 chlorpyrifos", passed: true }] },
      }),
      202,
      "record",
    ).event.id;
    await server.workOnce(); // signs, records and broadcasts: the node mines it at once
    const sent = await getEvent(server.ctx.db, eventId);
    assert.equal(sent?.ledger.state, "submitted");
    const firstTx = sent.ledger.txHash ?? "";
    assert.notEqual(await provider.getTransactionReceipt(firstTx), null, "mined in a block that is about to vanish");
    await mine(1); // two confirmations: still below the three that count
    await server.workOnce();
    assert.equal(
      (await getEvent(server.ctx.db, eventId))?.chain,
      null,
      "the indexer has not read the unconfirmed block",
    );

    assert.equal(await provider.send("evm_revert", [snapshot]), true);
    await mine(2); // the canonical chain goes on without the event's block
    assert.equal(await provider.getTransactionReceipt(firstTx), null, "the block carrying the event is gone");

    await workUntil(async () => (await getEvent(server.ctx.db, eventId))?.chain != null);
    const anchored = await getEvent(server.ctx.db, eventId);
    assert.equal(anchored?.ledger.state, "anchored");
    assert.equal(anchored.ledger.txHash, firstTx, "the same signed bytes were sent again, not a new transaction");

    const registry = traceRegistryAt(deployment.registry, provider);
    const logs = await registry.queryFilter("EventRecorded", deployment.deployedAtBlock);
    const forBatch = logs.filter((log) => (log.topics[1] ?? "").toLowerCase() === demo.batch.batchId.toLowerCase());
    assert.equal(forBatch.length, demo.eventIds.length + 1, "the lifecycle's events and the inspection, each once");
    const record = (await registry.getFunction("batch")(demo.batch.batchId)) as { eventHead: string };
    const stored = await listBatchEvents(server.ctx.db, demo.batch.batchId);
    assert.equal(eventHead(stored.map((e) => e.digest)), record.eventHead);
    const indexed = await server.ctx.db
      .selectFrom("chain_logs")
      .select("tx_hash")
      .where("event_name", "=", "EventRecorded")
      .execute();
    assert.equal(
      indexed.length,
      demo.eventIds.length + 1,
      "the query store holds the canonical chain's logs and no orphan",
    );
  });
});
