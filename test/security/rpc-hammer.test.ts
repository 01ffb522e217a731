/**
 * One client hammering `/rpc` (the heaviest batches the proxy allows, and state-override
 * calls it refuses) while honest consumers, each from its own address, resolve items and
 * read the chain as the scan page does, against the server in its own process and a
 * Hardhat node in another. Correctness with generous bounds (figures: `npm run bench --
 * --only rpc-hammer`): the hammer is refused almost entirely, honest clients are served,
 * and a batch registered meanwhile is anchored.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { apiClient } from "../../scripts/lib/api-client.ts";
import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import {
  DEMO_GTIN,
  DEMO_LOT,
  seedDemoSystem,
  waitUntilAnchored,
  type DemoSystemSummary,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { rpcLoadBodies, rpcRequest, sendFrom } from "../../scripts/lib/rpc-load.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { openDatabase } from "../../server/src/storage/database.ts";
import { encodeBatchCall } from "../../server/src/verify/rpc.ts";

const HAMMER_SECONDS = 6;
const HAMMER_LOOPS = 16;
const HONEST_CLIENTS = 4;

describe("/rpc hammered by one client", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: ServerProcess;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let serials: string[];

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    dataDir = mkdtempSync(path.join(tmpdir(), "rpc-hammer-"));
    server = await startServerProcess({
      ...deployment.env,
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      // The global per-address limit would stop the hammer first: lifted, so the proxy's own limits are what hold.
      RATE_LIMIT_PER_MINUTE: "100000000",
    });
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 20 });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
    const store = await openDatabase({ kind: "sqlite", path: path.join(dataDir, "trace.db") });
    serials = await listItemSerials(store.db, demo.batch.batchId);
    await store.close();
  });

  after(async () => {
    await server.kill();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses the hammer, serves honest consumers, and keeps anchoring", async () => {
    const registry = deployment.registry;
    const { page, heavy } = rpcLoadBodies(registry, demo.batch.batchId, demo.organisations.cooperative.signerAddress);
    const override = JSON.stringify(
      rpcRequest(1, "eth_call", [
        { to: registry, data: encodeBatchCall(demo.batch.batchId) },
        "latest",
        { [registry]: { code: "0x5b600056" } },
      ]),
    );
    const until = performance.now() + HAMMER_SECONDS * 1_000;
    const hammer = { sent: 0, refused: 0, forwarded: 0 };
    const hammering = Promise.all(
      Array.from({ length: HAMMER_LOOPS }, async (_, loop) => {
        while (performance.now() < until) {
          const body = loop % 2 === 0 ? heavy : override;
          const reply = await sendFrom(`${server.url}/rpc`, "127.0.0.1", { method: "POST", body });
          hammer.sent++;
          const refusedInProtocol = reply.status === 200 && body === override;
          if (reply.status === 429 || reply.status === 503 || refusedInProtocol) hammer.refused++;
          else if (reply.status === 200) hammer.forwarded++;
          else assert.fail(`the hammer got ${String(reply.status)}: ${reply.text.slice(0, 200)}`);
          if (refusedInProtocol) {
            assert.match(reply.text, /"code":-32602/, "a state override is never forwarded");
          }
        }
      }),
    );

    // A registration while the node is being hammered through the proxy.
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const registration = coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
      gtin: DEMO_GTIN,
      lot: "HAMMERED-1",
      harvestedAt: "2026-05-01T08:00:00+08:00",
      quantity: { value: "5", unit: "kg" },
      itemCount: 10,
    });

    const resolveMs: number[] = [];
    let pageReads = 0;
    await Promise.all(
      Array.from({ length: HONEST_CLIENTS }, async (_, client) => {
        const from = `127.0.5.${String(client + 1)}`;
        while (performance.now() < until) {
          const t0 = performance.now();
          const resolved = await sendFrom(
            `${server.url}/01/${DEMO_GTIN}/10/${DEMO_LOT}/21/${serials[client] ?? ""}`,
            from,
            { method: "GET" },
          );
          resolveMs.push(performance.now() - t0);
          assert.equal(resolved.status, 200, resolved.text.slice(0, 200));
          // The page's chain read, retried as Retry-After says when the node is busy.
          let read = await sendFrom(`${server.url}/rpc`, from, { method: "POST", body: page });
          for (let attempt = 0; read.status === 503 && attempt < 5; attempt++) {
            await new Promise((resolve) => setTimeout(resolve, Number(read.retryAfter ?? "1") * 1_000));
            read = await sendFrom(`${server.url}/rpc`, from, { method: "POST", body: page });
          }
          assert.equal(read.status, 200, read.text.slice(0, 200));
          const answers = JSON.parse(read.text) as { result?: unknown }[];
          assert.ok(
            answers.every((a) => a.result !== undefined),
            read.text.slice(0, 300),
          );
          pageReads++;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }),
    );
    await hammering;
    const registered = await registration;
    assert.equal(registered.status, 202);
    await waitUntilAnchored(server.url, registered.body.batch.batchId, 0, 60_000);

    resolveMs.sort((a, b) => a - b);
    const p99 = resolveMs[Math.floor((resolveMs.length - 1) * 0.99)] ?? Number.NaN;
    assert.ok(pageReads >= HONEST_CLIENTS * 2, `honest page reads: ${String(pageReads)}`);
    // Generous: catches a resolver stalled behind the hammer, not a slow machine.
    assert.ok(p99 < 5_000, `honest resolve p99 ${String(Math.round(p99))} ms`);
    // The per-address budget (600 calls a minute) lets at most 30 heavy batches through.
    assert.ok(hammer.forwarded <= 30, JSON.stringify(hammer));
    assert.ok(hammer.refused / hammer.sent > 0.9, JSON.stringify(hammer));
  });
});
