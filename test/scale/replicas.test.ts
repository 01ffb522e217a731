/**
 * Scale-out on real engines: two server replicas (separate processes, no shared memory)
 * on one PostgreSQL, one chain node mining on an interval (a block a second, so pending
 * transactions and confirmation depth are real), and one IPFS block store both reach.
 * Registrations, events and scans go to both; exactly one ledger writer is elected
 * through the database; when it dies the other takes over; every accepted batch is
 * anchored exactly once and no relayer nonce is used twice.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, type Contract } from "ethers";
import pg from "pg";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { freshPostgresDatabase } from "../../scripts/lib/fresh-database.ts";
import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN, seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";

const DATABASE_URL = process.env.TEST_DATABASE_URL;

// Outside CI, a machine without PostgreSQL (and without root to install it) skips, after the test command's warning.
const skip = DATABASE_URL === undefined && process.env.CI !== "true" ? "no PostgreSQL on this machine" : false;

describe("two replicas on one PostgreSQL", { skip }, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let registry: Contract;
  let deployment: LocalDeployment;
  let dataDir: string;
  let databaseUrl: string;
  let replicas: ServerProcess[] = [];
  const envs: Record<string, string>[] = [];
  let demo: DemoSystemSummary;
  const accepted: string[] = [];
  let lot = 0;

  const coopAt = (replica: ServerProcess): ApiClient => apiClient(replica.url, demo.organisations.cooperative.token);

  async function register(replica: ServerProcess): Promise<void> {
    const body = expectStatus(
      await coopAt(replica).post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: `R${String(lot++).padStart(5, "0")}`,
        harvestedAt: "2026-05-03T08:00:00+08:00",
        quantity: { value: "2", unit: "kg" },
        itemCount: 10,
      }),
      202,
      "register",
    );
    accepted.push(body.batch.batchId);
  }

  async function db<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  before(async () => {
    assert.ok(DATABASE_URL !== undefined, "the test command provides TEST_DATABASE_URL (a throwaway PostgreSQL)");
    databaseUrl = await freshPostgresDatabase(DATABASE_URL, "replicas");
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registry = traceRegistryAt(deployment.registry, provider);
    // From here on the node mines a block every second, whatever arrives: transactions wait in its pool.
    await provider.send("evm_setAutomine", [false]);
    await provider.send("evm_setIntervalMining", [1_000]);
    dataDir = mkdtempSync(path.join(tmpdir(), "replicas-"));
    for (let i = 0; i < 2; i++) {
      envs.push({
        ...deployment.env,
        DATABASE_URL: databaseUrl,
        // One shared data directory: the IPFS block store (atomic writes) and the key backups.
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        CONFIRMATIONS: "2",
        LOG_LEVEL: "warn",
        RATE_LIMIT_PER_MINUTE: "100000",
      });
    }
    replicas = await Promise.all(envs.map((env) => startServerProcess(env)));
    demo = await seedDemoSystem(replicas[0]?.url ?? "", deployment.env.ADMIN_TOKEN ?? "", { itemCount: 20 });
    await waitUntilAnchored(replicas[1]?.url ?? "", demo.batch.batchId, demo.eventIds.length, 180_000);
  });

  after(async () => {
    for (const replica of replicas) await replica.kill("SIGKILL");
    provider.destroy();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("spreads registrations, events and scans over both, anchoring each batch once with one writer", async () => {
    const [a, b] = replicas;
    assert.ok(a !== undefined && b !== undefined);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 24; i++) work.push(register(i % 2 === 0 ? a : b));
    for (let i = 0; i < 6; i++) {
      const retailer = apiClient((i % 2 === 0 ? a : b).url, demo.organisations.retailer.token);
      work.push(
        retailer.post(`/api/v1/batches/${demo.batch.batchId}/events`, {
          bizStep: "retail_selling",
          occurredAt: new Date(Date.parse("2026-04-21T10:00:00+08:00") + i * 60_000).toISOString(),
        }),
      );
    }
    await Promise.all(work);
    const item = (
      await coopAt(a).get<{ items: { uri: string }[] }>(`/api/v1/batches/${demo.batch.batchId}/items?limit=1`)
    ).body.items[0]?.uri;
    const itemPath = new URL(item ?? "").pathname;
    for (const replica of [a, b, a]) {
      const page = await fetch(`${replica.url}${itemPath}`, { headers: { accept: "text/html" } });
      assert.equal(page.status, 200);
    }
    // A page view is answered only once its scan is committed, so the other replica sees it at once.
    const seen = (await apiClient(b.url).get<{ scans: { count: number } }>(itemPath)).body.scans.count;
    assert.equal(seen, 3, "scans made on either replica count together");

    for (const batchId of accepted) await waitUntilAnchored(b.url, batchId, 0, 180_000);
    await waitUntilAnchored(a.url, demo.batch.batchId, demo.eventIds.length + 6, 180_000);

    const holders = await db((c) => c.query<{ holder: string }>("select distinct sender from ledger_transactions"));
    assert.equal(holders.rowCount, 2, "the relayer and the admin keys sent transactions, nobody else");
    const nonces = await db((c) =>
      c.query<{ sender: string; n: string; distinct_nonces: string }>(
        "select sender, count(*) as n, count(distinct account_nonce) as distinct_nonces from ledger_transactions group by sender",
      ),
    );
    for (const row of nonces.rows) assert.equal(row.n, row.distinct_nonces, `no nonce of ${row.sender} used twice`);
    const writers = await db((c) => c.query("select distinct claimed_by from outbox where claimed_by is not null"));
    assert.ok((writers.rowCount ?? 0) <= 1, "at most one writer holds claims at a time");

    const attested = await registry.queryFilter("BatchAttested", deployment.deployedAtBlock);
    const count = new Map<string, number>();
    for (const log of attested) count.set(log.topics[1] ?? "", (count.get(log.topics[1] ?? "") ?? 0) + 1);
    for (const batchId of accepted) assert.equal(count.get(batchId.toLowerCase()), 1, `${batchId} anchored once`);
  });

  it("fails over to the other replica when the elected writer is killed", async () => {
    const lease = await db((c) =>
      c.query<{ holder: string }>("select holder from leases where name = 'ledger-worker'"),
    );
    const holderPid = Number((lease.rows[0]?.holder ?? "").split("-")[0]);
    const index = replicas.findIndex((replica) => replica.process.pid === holderPid);
    assert.ok(index >= 0, "one of the two replicas holds the writer lease");
    const dead = replicas[index];
    const survivor = replicas[1 - index];
    assert.ok(dead !== undefined && survivor !== undefined);
    const before = accepted.length;
    await Promise.all([register(dead), register(survivor), register(survivor)]);
    await dead.kill("SIGKILL");
    for (let i = 0; i < 4; i++) await register(survivor);
    for (const batchId of accepted.slice(before)) await waitUntilAnchored(survivor.url, batchId, 0, 180_000);
    const after = await db((c) =>
      c.query<{ holder: string }>("select holder from leases where name = 'ledger-worker'"),
    );
    assert.equal(Number((after.rows[0]?.holder ?? "").split("-")[0]), survivor.process.pid, "the survivor took over");
    // The dead replica comes back and joins as a follower.
    replicas[index] = await startServerProcess(envs[index] ?? {});
  });
});
