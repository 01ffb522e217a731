/**
 * Hostile input and the authorisation matrix, against the real server on a real chain:
 * - fast-check generated bodies, headers, Digital Link paths and Range headers on every
 *   endpoint: no 5xx, no state change, the process stays up with bounded memory;
 * - every write endpoint tried with no credentials, the wrong role, another organisation's
 *   credentials, an expired and a revoked credential: all refused, nothing changed, each
 *   refusal logged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { demoUscc, seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { attack, hostileDigitalLinkPath, type HostileTarget } from "../../scripts/lib/hostile-inputs.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

const RUNS_PER_TARGET = 150;

describe("hostile input and the authorisation matrix", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  const logLines: string[] = [];

  async function stateCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of [
      "organisations",
      "credentials",
      "products",
      "plots",
      "certifications",
      "batches",
      "items",
      "events",
      "outbox",
      "media",
      "signature_requests",
    ] as const) {
      const row = await server.ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    const statuses = await server.ctx.db.selectFrom("organisations").select(["id", "status"]).execute();
    for (const org of statuses) counts[`status:${org.id}:${org.status}`] = 1;
    return counts;
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    dataDir = mkdtempSync(path.join(tmpdir(), "hostile-"));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(
          ...chunk
            .toString()
            .split("\n")
            .filter((line) => line.length > 0),
        );
        done();
      },
    });
    server = await startServer(
      loadConfig({ ...deployment.env, PORT: "0", DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: "1000000" }),
      { logger: pino({ level: "warn" }, sink) },
    );
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", {
      itemCount: 20,
      video: { bytes: new Uint8Array(600_000).fill(7), contentType: "video/mp4" },
    });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`answers ${RUNS_PER_TARGET} hostile inputs per endpoint without a 5xx or a change of state`, async () => {
    const coop = demo.organisations.cooperative.token;
    const batchPath = `/api/v1/batches/${demo.batch.batchId}`;
    const targets: HostileTarget[] = [
      {
        name: "POST /api/v1/organisations",
        method: "POST",
        path: "/api/v1/organisations",
        token: deployment.env.ADMIN_TOKEN,
        kind: "json",
      },
      { name: "POST /api/v1/products", method: "POST", path: "/api/v1/products", token: coop, kind: "json" },
      {
        name: "POST /api/v1/organisations/{id}/plots",
        method: "POST",
        path: `/api/v1/organisations/${demo.organisations.cooperative.id}/plots`,
        token: coop,
        kind: "json",
      },
      {
        name: "POST /api/v1/organisations/{id}/certifications",
        method: "POST",
        path: `/api/v1/organisations/${demo.organisations.cooperative.id}/certifications`,
        token: coop,
        kind: "json",
      },
      { name: "POST /api/v1/batches", method: "POST", path: "/api/v1/batches", token: coop, kind: "json" },
      {
        name: "POST /api/v1/batches/{id}/events",
        method: "POST",
        path: `${batchPath}/events`,
        token: coop,
        kind: "json",
      },
      {
        name: "POST /api/v1/batches/{id}/recall",
        method: "POST",
        path: `${batchPath}/recall`,
        token: coop,
        kind: "json",
      },
      {
        name: "POST /api/v1/organisations/{id}/suspend",
        method: "POST",
        path: `/api/v1/organisations/${demo.organisations.logistics.id}/suspend`,
        token: demo.organisations.regulator.token,
        kind: "json",
      },
      {
        name: "POST /api/v1/signature-requests/{id}",
        method: "POST",
        path: "/api/v1/signature-requests/sigreq_x",
        token: coop,
        kind: "json",
      },
      {
        name: "POST /api/v1/claims/…",
        method: "POST",
        path: `/api/v1/claims/${demo.batch.gtin}/${demo.batch.lot}/SERIAL0000001`,
        kind: "json",
      },
      { name: "POST /rpc", method: "POST", path: "/rpc", kind: "json" },
      {
        name: "GET Digital Link paths",
        method: "GET",
        path: hostileDigitalLinkPath(demo.batch.gtin, demo.batch.lot),
        kind: "json",
      },
      { name: "GET /ipfs/{cid} with Range", method: "GET", path: `/ipfs/${demo.videoCid ?? ""}`, kind: "range" },
      {
        name: "GET /api/v1/batches?…",
        method: "GET",
        path: "/api/v1/batches",
        token: demo.organisations.regulator.token,
        kind: "query",
      },
      {
        name: "GET /api/v1/organisations?…",
        method: "GET",
        path: "/api/v1/organisations",
        token: demo.organisations.regulator.token,
        kind: "query",
      },
      {
        name: "GET /api/v1/batches/{id}/items?…",
        method: "GET",
        path: `${batchPath}/items`,
        token: coop,
        kind: "query",
      },
      {
        name: "GET /api/v1/batches/{id}/labels.pdf?…",
        method: "GET",
        path: `${batchPath}/labels.pdf`,
        token: coop,
        kind: "query",
      },
      {
        name: "GET /api/v1/exports/kde.csv?…",
        method: "GET",
        path: "/api/v1/exports/kde.csv",
        token: demo.organisations.regulator.token,
        kind: "query",
      },
      {
        name: "GET /api/v1/audits?…",
        method: "GET",
        path: "/api/v1/audits",
        token: demo.organisations.regulator.token,
        kind: "query",
      },
    ];
    const before = await stateCounts();
    const rssBefore = process.memoryUsage().rss;
    const report: string[] = [];
    for (const [index, target] of targets.entries()) {
      const outcome = await attack(server.url, target, RUNS_PER_TARGET, 20_261_123 + index);
      report.push(`${outcome.name}: ${outcome.tried} tried, statuses ${JSON.stringify(outcome.statuses)}`);
      assert.equal(outcome.serverErrors, 0, `${outcome.name}: first 5xx from ${outcome.firstServerError ?? ""}`);
      assert.ok(outcome.tried >= RUNS_PER_TARGET * 0.9, `${outcome.name}: most inputs were sent`);
    }
    console.log(report.join("\n"));
    assert.deepEqual(await stateCounts(), before, "no hostile input changed any state");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.ok(growthMiB < 256, `memory stayed bounded (grew ${growthMiB.toFixed(0)} MiB)`);
  });

  it("refuses every write to the unauthenticated, the wrong role, another organisation, expired and revoked credentials", async () => {
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN);
    // A second cooperative: "another organisation's credentials".
    const other = expectStatus(
      await admin.post<{ organisation: { id: string }; credential: { token: string } }>("/api/v1/organisations", {
        kind: "cooperative",
        name: { zh: "另一个合作社" },
        uscc: demoUscc("93", "330106", 5_151),
        regionCode: "330106",
      }),
      201,
      "second cooperative",
    );
    const expiring = expectStatus(
      await admin.post<{ credential: { token: string } }>(
        `/api/v1/organisations/${demo.organisations.cooperative.id}/credentials`,
        { label: "expires soon", expiresAt: new Date(Date.now() + 1_500).toISOString() },
      ),
      201,
      "expiring credential",
    ).credential.token;
    const revoked = expectStatus(
      await admin.post<{ credential: { id: string; token: string } }>(
        `/api/v1/organisations/${demo.organisations.cooperative.id}/credentials`,
        { label: "to revoke" },
      ),
      201,
      "credential to revoke",
    ).credential;
    await fetch(`${server.url}/api/v1/organisations/${demo.organisations.cooperative.id}/credentials/${revoked.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${deployment.env.ADMIN_TOKEN ?? ""}` },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_600));

    const coopId = demo.organisations.cooperative.id;
    const batchPath = `/api/v1/batches/${demo.batch.batchId}`;
    const writes: { path: string; body: unknown; ownerOnly: boolean }[] = [
      {
        path: "/api/v1/organisations",
        body: { kind: "retailer", name: { zh: "x" }, uscc: demoUscc("92", "330106", 9_191), regionCode: "330106" },
        ownerOnly: false,
      },
      { path: `/api/v1/organisations/${coopId}/credentials`, body: { label: "x" }, ownerOnly: false },
      {
        path: `/api/v1/organisations/${coopId}/plots`,
        body: { name: "x", areaHa: 1, regionCode: "330106" },
        ownerOnly: true,
      },
      {
        path: `/api/v1/organisations/${coopId}/certifications`,
        body: {
          kind: "organic",
          number: "x",
          issuer: "x",
          validFrom: "2026-01-01",
          validTo: "2026-12-31",
          scopeGtins: [demo.batch.gtin],
        },
        ownerOnly: true,
      },
      {
        path: "/api/v1/products",
        body: { gtin: "06901234567885", name: { zh: "x" }, category: "x", unit: "kg" },
        ownerOnly: false,
      },
      {
        path: "/api/v1/batches",
        body: {
          gtin: demo.batch.gtin,
          lot: "AUTHZ-1",
          harvestedAt: "2026-05-01T00:00:00+08:00",
          quantity: { value: "1", unit: "kg" },
          itemCount: 2,
        },
        ownerOnly: false,
      },
      {
        path: `${batchPath}/events`,
        body: { bizStep: "harvesting", occurredAt: "2026-04-15T06:00:00+08:00" },
        ownerOnly: true,
      },
      { path: `${batchPath}/recall`, body: { reason: { zh: "x" } }, ownerOnly: true },
      { path: `/api/v1/organisations/${coopId}/suspend`, body: { reason: { zh: "x" } }, ownerOnly: false },
      { path: `/api/v1/organisations/${coopId}/reinstate`, body: { reason: { zh: "x" } }, ownerOnly: false },
      { path: `${batchPath}/regulator-recall`, body: { reason: { zh: "x" } }, ownerOnly: false },
    ];
    const principals: { name: string; token: string | undefined; applies: (ownerOnly: boolean) => boolean }[] = [
      { name: "no credentials", token: undefined, applies: () => true },
      { name: "expired", token: expiring, applies: () => true },
      { name: "revoked", token: revoked.token, applies: () => true },
      { name: "wrong role (retailer)", token: demo.organisations.retailer.token, applies: (ownerOnly) => !ownerOnly },
      { name: "another cooperative", token: other.credential.token, applies: (ownerOnly) => ownerOnly },
    ];
    const before = await stateCounts();
    const refusalsBefore = logLines.filter((line) => line.includes('"msg":"refused')).length;
    let tried = 0;
    for (const write of writes) {
      for (const principal of principals) {
        if (!principal.applies(write.ownerOnly)) continue;
        const response = await apiClient(server.url, principal.token).post<{ code: string }>(write.path, write.body);
        assert.ok(
          [401, 403, 404].includes(response.status),
          `${principal.name} → POST ${write.path}: got ${response.status} ${JSON.stringify(response.body)}`,
        );
        tried += 1;
      }
    }
    assert.deepEqual(await stateCounts(), before, "no refused write changed anything");
    const refusalsLogged = logLines.filter((line) => line.includes('"msg":"refused')).length - refusalsBefore;
    assert.ok(refusalsLogged >= tried, `every refusal was logged (${refusalsLogged} of ${tried})`);
  });
});
