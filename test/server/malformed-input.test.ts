/**
 * Malformed input that used to reach the server's catch-all as a 500 (issue #13), each
 * answered now with a 4xx problem that names it, the store and the pin set unchanged:
 * bad percent-encoding in a path or in X-File-Name, dates before 1970, more temperature
 * readings than a public document holds, a document over 256 KiB. And two that were wrong
 * answers: a JSON upload is stored like any other accepted type, and a lot holding `"` is
 * quoted in the label sheet's Content-Disposition (RFC 6266) instead of breaking it.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN, seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { settledStoreDigest, storeDigest } from "../../scripts/lib/store-digest.ts";
import { DOCUMENT_MAX_BYTES, TEMPERATURE_READINGS_MAX } from "../../server/src/domain/documents.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { expectProblem } from "../support/problems.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

function readings(count: number, from = "2026-04-18T07:00:00+08:00"): { at: string; celsius: number }[] {
  const start = Date.parse(from);
  return Array.from({ length: count }, (_, i) => ({ at: new Date(start + i * 60_000).toISOString(), celsius: 4.5 }));
}

describe(`malformed input is a 4xx and changes nothing (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let coop: ApiClient;
  let adminToken = "";

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "malformed"));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    demo = await seedDemoSystem(server.url, adminToken, { itemCount: 5 });
    // Anchored first, so the ledger writer has nothing left to change while refusals are compared.
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
    coop = apiClient(server.url, demo.organisations.cooperative.token);
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const digest = () => storeDigest(server.ctx.db, path.join(dataDir, "ipfs"));
  const settled = () => settledStoreDigest(server.ctx.db, path.join(dataDir, "ipfs"));

  it("answers bad percent-encoding in any path, and in X-File-Name, with request.invalid", async () => {
    const before = await settled();
    const auth = { authorization: `Bearer ${demo.organisations.cooperative.token}` };
    for (const target of [
      "/ipfs/%ff",
      "/api/v1/batches/%ff",
      "/api/v1/batches/%E0%A4%A/events",
      "/api/v1/signature-requests/%c0",
      "/api/v1/products/%",
    ]) {
      const problem = await expectProblem(
        await fetch(`${server.url}${target}`, { headers: auth }),
        400,
        "request.invalid",
      );
      assert.match(problem.detail ?? "", /percent-encoding/, target);
    }
    const upload = await fetch(`${server.url}/api/v1/media`, {
      method: "POST",
      headers: { ...auth, "content-type": "image/png", "x-file-name": "%E0%A4%A.png" },
      body: new Uint8Array(64).fill(3),
    });
    await expectProblem(upload, 400, "request.invalid");
    assert.deepEqual(await digest(), before);
  });

  const cooperative = (): ApiClient => apiClient(server.url, demo.organisations.cooperative.token);
  const eventsPath = (): string => `/api/v1/batches/${demo.batch.batchId}/events`;
  const cases: { name: string; send: () => Promise<Response>; status: number; code: string; detail: RegExp }[] = [
    {
      name: "a harvest before 1970",
      send: () =>
        post(demo.organisations.cooperative.token, "/api/v1/batches", {
          gtin: DEMO_GTIN,
          lot: "OLD-1969",
          harvestedAt: "1969-12-31T23:59:59Z",
          quantity: { value: "10", unit: "kg" },
          itemCount: 3,
        }),
      status: 400,
      code: "request.invalid",
      detail: /harvestedAt: must not be before 1970/,
    },
    {
      name: "an event before 1970",
      send: () =>
        post(demo.organisations.logistics.token, eventsPath(), {
          bizStep: "shipping",
          occurredAt: "1969-07-20T20:17:40Z",
        }),
      status: 400,
      code: "request.invalid",
      detail: /occurredAt: must not be before 1970/,
    },
    {
      name: "a temperature reading before 1970",
      send: () =>
        post(demo.organisations.logistics.token, eventsPath(), {
          bizStep: "shipping",
          occurredAt: "2026-04-18T07:00:00+08:00",
          data: { temperatures: readings(3, "1969-12-31T23:58:00Z") },
        }),
      status: 400,
      code: "request.invalid",
      detail: /data\.temperatures\.0\.at: must not be before 1970/,
    },
    {
      name: "a certificate valid from before 1970",
      send: () =>
        post(
          demo.organisations.cooperative.token,
          `/api/v1/organisations/${demo.organisations.cooperative.id}/certifications`,
          {
            kind: "organic",
            number: "OLD-1",
            issuer: "测试",
            validFrom: "1960-01-01",
            validTo: "2030-01-01",
            scopeGtins: [DEMO_GTIN],
          },
        ),
      status: 400,
      code: "request.invalid",
      detail: /validFrom: must not be before 1970/,
    },
    {
      name: "a credential expiring before 1970",
      send: () =>
        post(adminToken, `/api/v1/organisations/${demo.organisations.cooperative.id}/credentials`, {
          label: "old",
          expiresAt: "1965-01-01T00:00:00Z",
        }),
      status: 400,
      code: "request.invalid",
      detail: /expiresAt: must not be before 1970/,
    },
    {
      name: `more than ${TEMPERATURE_READINGS_MAX} temperature readings (6,000)`,
      send: () =>
        post(demo.organisations.logistics.token, eventsPath(), {
          bizStep: "shipping",
          occurredAt: "2026-04-19T07:00:00+08:00",
          data: { temperatures: readings(6_000) },
        }),
      status: 400,
      code: "request.invalid",
      detail: /data\.temperatures: .*3000/,
    },
    {
      name: "an event whose public document would exceed 256 KiB",
      send: () =>
        post(demo.organisations.inspector.token, eventsPath(), {
          bizStep: "inspecting",
          occurredAt: "2026-04-16T10:00:00+08:00",
          data: {
            tests: Array.from({ length: 200 }, (_, i) => ({
              substance: `${"农".repeat(190)}${String(i)}`,
              method: "m".repeat(200),
              standard: "s".repeat(200),
              laboratory: "检".repeat(200),
              passed: true,
            })),
          },
        }),
      status: 413,
      code: "request.document_too_large",
      detail: new RegExp(`at most ${String(DOCUMENT_MAX_BYTES)}`),
    },
  ];

  async function post(token: string, target: string, body: unknown): Promise<Response> {
    return fetch(`${server.url}${target}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  for (const c of cases) {
    it(`refuses ${c.name} (${String(c.status)} ${c.code})`, async () => {
      const before = await settled();
      const problem = await expectProblem(await c.send(), c.status, c.code);
      assert.match(problem.detail ?? "", c.detail);
      assert.deepEqual(await digest(), before);
    });
  }

  it(`accepts ${TEMPERATURE_READINGS_MAX} readings, the most one event holds`, async () => {
    // The cooperative ships (the carrier has a say only while it holds the batch).
    const accepted = await cooperative().post(eventsPath(), {
      bizStep: "shipping",
      occurredAt: "2026-04-19T07:00:00+08:00",
      receiver: demo.organisations.logistics.id,
      data: { temperatures: readings(TEMPERATURE_READINGS_MAX) },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  });

  it("stores a JSON upload as it stores every other accepted type, byte for byte", async () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ 检测报告: "HZNJ-2026-04-0877", pages: [1, 2, 3] }, null, 2),
    );
    const uploaded = expectStatus(
      await coop.upload<{ media: { cid: string; contentType: string; sizeBytes: number } }>(
        "/api/v1/media",
        bytes,
        "application/json",
      ),
      201,
      "upload JSON",
    ).media;
    assert.equal(uploaded.contentType, "application/json");
    assert.equal(uploaded.sizeBytes, bytes.byteLength);
    const served = await fetch(`${server.url}/ipfs/${uploaded.cid}`);
    assert.equal(served.status, 200);
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), bytes);
  });

  it("quotes a lot holding `\"` and `;` in the label sheet's file name (RFC 6266)", async () => {
    const lot = 'A"B;C';
    const batch = expectStatus(
      await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot,
        harvestedAt: "2026-04-15T06:30:00+08:00",
        quantity: { value: "10", unit: "kg" },
        itemCount: 2,
      }),
      202,
      "register a batch whose lot holds a quote",
    ).batch;
    const response = await fetch(`${server.url}/api/v1/batches/${batch.batchId}/labels.pdf`, {
      headers: { authorization: `Bearer ${demo.organisations.cooperative.token}` },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/pdf");
    // A quoted-string with the quote escaped: the name cannot end early or grow a parameter.
    assert.equal(response.headers.get("content-disposition"), `attachment; filename="labels-${DEMO_GTIN}-A\\"B;C.pdf"`);
    assert.equal(new TextDecoder().decode((await response.arrayBuffer()).slice(0, 5)), "%PDF-");
  });
});
