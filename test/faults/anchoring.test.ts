/**
 * Nothing accepted is lost: the server (its own process) is killed with SIGKILL again and
 * again while batches are being registered and anchored, and the chain node is
 * unreachable for a while as registrations keep coming. Every registration that got a
 * 202 ends up anchored on chain exactly once and present in the query store.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, type Contract } from "ethers";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN, seedDemoSystem, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";
import { startTcpProxy, type TcpProxy } from "../../scripts/lib/tcp-proxy.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

describe("faults while anchoring", () => {
  let node: ChainNode;
  let proxy: TcpProxy;
  let deployment: LocalDeployment;
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess;
  let demo: DemoSystemSummary;
  let provider: JsonRpcProvider;
  let registry: Contract;
  /** Batch ids the server answered 202 for. */
  const accepted = new Map<string, string>();
  let lotCounter = 0;

  async function registerOne(): Promise<"accepted" | "lost"> {
    const lot = `F${String(lotCounter++).padStart(5, "0")}`;
    try {
      const response = await apiClient(server.url, demo.organisations.cooperative.token).post<{
        batch: { batchId: string };
      }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot,
        harvestedAt: "2026-05-01T08:00:00+08:00",
        quantity: { value: "10", unit: "kg" },
        itemCount: 20,
      });
      if (response.status !== 202) throw new Error(`unexpected ${response.status}: ${JSON.stringify(response.body)}`);
      accepted.set(response.body.batch.batchId, lot);
      return "accepted";
    } catch (error) {
      // The process died under the request: the client never heard back, so nothing was promised.
      if (error instanceof TypeError) return "lost";
      throw error;
    }
  }

  async function waitAllAnchored(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const api = apiClient(server.url);
    for (;;) {
      const states = await Promise.all(
        [...accepted.keys()].map(async (batchId) => {
          const body = expectStatus(
            await api.get<{ batch: { ledger: { state: string; failureReason: string | null } } }>(
              `/api/v1/batches/${batchId}`,
            ),
            200,
            `batch ${batchId} is in the query store`,
          );
          return body.batch.ledger;
        }),
      );
      const failed = states.find((s) => s.state === "failed");
      assert.equal(failed, undefined, `a batch failed: ${failed?.failureReason ?? ""}`);
      if (states.every((s) => s.state === "anchored")) return;
      if (Date.now() > deadline) {
        throw new Error(`not all anchored: ${JSON.stringify(states.filter((s) => s.state !== "anchored"))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  async function assertEachAnchoredOnce(): Promise<void> {
    for (const batchId of accepted.keys()) {
      const record = (await registry.getFunction("batch")(batchId)) as { attester: string };
      assert.notEqual(record.attester, ZERO_ADDRESS, `batch ${batchId} is on chain`);
    }
    const attested = await registry.queryFilter("BatchAttested", deployment.deployedAtBlock);
    const perBatch = new Map<string, number>();
    for (const log of attested) {
      const id = (log.topics[1] ?? "").toLowerCase();
      perBatch.set(id, (perBatch.get(id) ?? 0) + 1);
    }
    for (const batchId of accepted.keys()) assert.equal(perBatch.get(batchId.toLowerCase()), 1, `${batchId} once`);
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    proxy = await startTcpProxy(node.port);
    dataDir = mkdtempSync(path.join(tmpdir(), "faults-"));
    env = {
      ...deployment.env,
      CHAIN_RPC_URL: proxy.url,
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_MINUTE: "100000",
      LEDGER_POLL_MS: "100",
    };
    server = await startServerProcess(env);
    demo = await seedDemoSystem(server.url, env.ADMIN_TOKEN ?? "", { itemCount: 10 });
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    registry = traceRegistryAt(deployment.registry, provider);
  });

  after(async () => {
    await server.kill("SIGKILL");
    provider.destroy();
    await proxy.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses nothing and anchors nothing twice when the server is SIGKILLed mid-work, 5 times", async () => {
    for (let cycle = 0; cycle < 5; cycle++) {
      const acceptedBefore = accepted.size;
      const inFlight: Promise<unknown>[] = [];
      for (let i = 0; i < 6; i++) inFlight.push(registerOne());
      // Kill once this cycle has had something accepted, while the rest are in flight and the
      // writer is mid-pass, a different moment each time.
      const deadline = Date.now() + 15_000;
      while (accepted.size === acceptedBefore && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, cycle * 60));
      await server.kill("SIGKILL");
      await Promise.all(inFlight);
      server = await startServerProcess(env);
    }
    assert.ok(accepted.size > 0, "some registrations were accepted before the kills");
    await waitAllAnchored(120_000);
    await assertEachAnchoredOnce();
  });

  it("keeps accepting while the chain node is unreachable, and anchors everything once it is back", async () => {
    await proxy.down();
    const before = accepted.size;
    for (let i = 0; i < 8; i++) assert.equal(await registerOne(), "accepted");
    assert.equal(accepted.size, before + 8);
    // The writer keeps failing to reach the node meanwhile; the work stays pending.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const pending = await apiClient(server.url).get<{ batch: { ledger: { state: string } } }>(
      `/api/v1/batches/${[...accepted.keys()].at(-1) ?? ""}`,
    );
    assert.notEqual(pending.body.batch.ledger.state, "anchored");
    await proxy.up();
    await waitAllAnchored(120_000);
    await assertEachAnchoredOnce();
  });
});
