/**
 * Hostile input and the authorisation matrix, against the real server on a real chain:
 * - 10,000 fast-check generated requests on every endpoint (paths with broken percent-
 *   encoding, query strings, Authorization, Content-Type, Idempotency-Key, Range, Accept and
 *   X-File-Name headers, bodies): no 5xx, every table and the IPFS pin set unchanged after
 *   each endpoint, the process up with bounded memory;
 * - every write endpoint tried with no credentials, the wrong role, another organisation's
 *   credentials, an expired and a revoked credential, and people inside organisations (a
 *   person's session without the capability, a revoked session, the chair of another
 *   cooperative): all refused, nothing changed, each refusal logged; a sign-in link works
 *   once and not after it expired.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { pino } from "pino";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { demoUscc, seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { HostileClient, hostileTargets, type HostileFixture } from "../../scripts/lib/hostile-inputs.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { settledStoreDigest, storeDigest } from "../../scripts/lib/store-digest.ts";
import { loadConfig } from "../../server/src/config.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

// What the server keeps, not what it has yet to collect: heap figures are read after a full
// collection (the flag must be set before a context asks for `gc`).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Generated requests per endpoint (issue #13: at least 10,000, zero 5xx, no state change). */
const RUNS_PER_ENDPOINT = 10_000;

describe("hostile input and the authorisation matrix", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  // Counted, not kept: hundreds of thousands of requests log a refusal each.
  let refusalsLogged = 0;

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
      "inspection_requests",
      "applications",
      "members",
      "sign_in_links",
      "orders",
      "order_items",
      "containers",
      "container_steps",
      "sscc_allocations",
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
        refusalsLogged += chunk.toString().split('"msg":"refused').length - 1;
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

  it(`answers ${String(RUNS_PER_ENDPOINT)} generated inputs on every endpoint without a 5xx or a change of state`, async () => {
    const coop = demo.organisations.cooperative;
    const items = expectStatus(
      await apiClient(server.url, coop.token).get<{ items: { serial: string }[] }>(
        `/api/v1/batches/${demo.batch.batchId}/items?limit=1`,
      ),
      200,
      "an item",
    ).items;
    const fixture: HostileFixture = {
      adminToken: deployment.env.ADMIN_TOKEN ?? "",
      cooperative: coop,
      logisticsId: demo.organisations.logistics.id,
      regulatorToken: demo.organisations.regulator.token,
      gtin: demo.batch.gtin,
      lot: demo.batch.lot,
      batchId: demo.batch.batchId,
      serial: items[0]?.serial ?? "",
      videoCid: demo.videoCid ?? "",
    };
    const targets = hostileTargets(fixture);
    const ipfsDir = path.join(dataDir, "ipfs");
    const before = await settledStoreDigest(server.ctx.db, ipfsDir);
    // The server's own heap (this thread's; the client's is the worker's): bounded, whatever came in.
    const heapBefore = retainedHeap();
    const report: string[] = [];
    // The requests are generated and sent from a worker thread: the server keeps this one.
    const client = new HostileClient();
    after(() => client.close());
    for (const [index, target] of targets.entries()) {
      const started = performance.now();
      const outcome = await client.run({
        baseUrl: server.url,
        fixture,
        index,
        runs: RUNS_PER_ENDPOINT,
        seed: 20_261_123 + index * 1_000_003,
        options: { concurrency: 16 },
      });
      assert.equal(outcome.name, target.name);
      const seconds = (performance.now() - started) / 1000;
      report.push(
        `${outcome.name}: ${String(outcome.tried)} in ${seconds.toFixed(1)} s, ${JSON.stringify(outcome.statuses)}`,
      );
      assert.equal(outcome.serverErrors, 0, `${outcome.name}: first 5xx from ${outcome.firstServerError ?? ""}`);
      assert.equal(outcome.tried, RUNS_PER_ENDPOINT, `${outcome.name}: every input was sent and answered`);
      // Once per endpoint: every table's rows and the pin set, exactly as before.
      assert.deepEqual(await storeDigest(server.ctx.db, ipfsDir), before, `${outcome.name} changed the store`);
    }
    console.log(report.join("\n"));
    assert.ok(targets.length >= 40, `every endpoint is attacked (${String(targets.length)})`);
    assert.deepEqual(await settledStoreDigest(server.ctx.db, ipfsDir), before, "nothing changed afterwards either");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const growthMiB = (retainedHeap() - heapBefore) / 1024 / 1024;
    console.log(`server heap retained after the inputs: ${growthMiB.toFixed(1)} MiB more than before`);
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
    // People inside organisations (issue 15): the demo cooperative's API token adds two people,
    // one with no capability and one whose session is then revoked; a cooperative that joined by
    // application has a chair.
    const coopApi = apiClient(server.url, demo.organisations.cooperative.token);
    const coopPath = `/api/v1/organisations/${demo.organisations.cooperative.id}`;
    const signIn = async (url: string) =>
      apiClient(server.url).post<{ session: { id: string; token: string }; code: string }>("/api/v1/sign-in", {
        token: new URL(url).hash.replace(/^#t=/, ""),
      });
    const person = async (name: string, capabilities: string[]) => {
      const member = expectStatus(
        await coopApi.post<{ member: { id: string } }>(`${coopPath}/members`, { name, capabilities }),
        201,
        `add ${name}`,
      ).member;
      const link = expectStatus(
        await coopApi.post<{ signIn: { id: string; url: string } }>(
          `${coopPath}/members/${member.id}/sign-in-links`,
          {},
        ),
        201,
        `link for ${name}`,
      ).signIn;
      return { member, link, session: expectStatus(await signIn(link.url), 201, `${name} signs in`).session };
    };
    const powerless = await person("无权限成员", []);
    const revokedPerson = await person("被退出的成员", ["batches", "events", "members"]);
    const revokeAnswer = await fetch(
      `${server.url}${coopPath}/members/${revokedPerson.member.id}/sessions/${revokedPerson.session.id}`,
      { method: "DELETE", headers: { authorization: `Bearer ${demo.organisations.cooperative.token}` } },
    );
    assert.equal(revokeAnswer.status, 204);
    const usedTwice = await signIn(powerless.link.url);
    assert.equal(usedTwice.status, 401, "a link works once");
    assert.equal(usedTwice.body.code, "sign_in.invalid");
    const lapsing = expectStatus(
      await coopApi.post<{ signIn: { id: string; url: string } }>(
        `${coopPath}/members/${powerless.member.id}/sign-in-links`,
        {},
      ),
      201,
      "a link to let expire",
    ).signIn;
    await server.ctx.db
      .updateTable("sign_in_links")
      .set({ expires_at_ms: Date.now() - 1 })
      .where("id", "=", lapsing.id)
      .execute();
    assert.equal((await signIn(lapsing.url)).status, 401, "an expired link is refused");
    const applied = expectStatus(
      await apiClient(server.url).post<{ application: { id: string } }>("/api/v1/applications", {
        kind: "cooperative",
        name: { zh: "申请加入的合作社" },
        uscc: demoUscc("93", "330106", 5_252),
        regionCode: "330106",
        contact: { name: "赵主任", phone: "13900139000" },
      }),
      201,
      "an application",
    ).application;
    const approval = expectStatus(
      await admin.post<{ signIn: { url: string } }>(`/api/v1/applications/${applied.id}/approve`, {}),
      201,
      "approval",
    );
    const otherChair = expectStatus(await signIn(approval.signIn.url), 201, "the other chair signs in").session;
    await new Promise((resolve) => setTimeout(resolve, 1_600));

    const coopId = demo.organisations.cooperative.id;
    const batchPath = `/api/v1/batches/${demo.batch.batchId}`;
    // An order of the cooperative's, which nobody else may see, scan into, despatch or cancel.
    const orderLine = { gtin: demo.batch.gtin, lot: demo.batch.lot, quantity: 1 };
    const orderPath = expectStatus(
      await apiClient(server.url, demo.organisations.cooperative.token).post<{ order: { url: string } }>(
        "/api/v1/orders",
        { buyerReference: "authz", channel: "shop", lines: [orderLine] },
      ),
      201,
      "an order",
    ).order.url;
    // `anyOrganisation`: a write every organisation may make for itself (media), so only
    // credentials that are no good, and people without the capability, are to be refused.
    const writes: { path: string; body: unknown; ownerOnly: boolean; anyOrganisation?: true }[] = [
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
      {
        path: `${batchPath}/inspection-requests`,
        body: { inspector: demo.organisations.inspector.id },
        ownerOnly: true,
      },
      { path: `${batchPath}/recall`, body: { reason: { zh: "x" } }, ownerOnly: true },
      { path: `/api/v1/organisations/${coopId}/suspend`, body: { reason: { zh: "x" } }, ownerOnly: false },
      { path: `/api/v1/organisations/${coopId}/reinstate`, body: { reason: { zh: "x" } }, ownerOnly: false },
      { path: `${batchPath}/regulator-recall`, body: { reason: { zh: "x" } }, ownerOnly: false },
      {
        path: "/api/v1/containers",
        body: {
          sscc: "069012349999999998",
          items: [{ gtin: demo.batch.gtin, lot: demo.batch.lot, serial: "x" }],
          occurredAt: new Date().toISOString(),
        },
        ownerOnly: true,
      },
      {
        path: "/api/v1/containers/069012349999999998/events",
        body: { action: "shipping", receiver: demo.organisations.retailer.id, occurredAt: new Date().toISOString() },
        ownerOnly: false,
      },
      { path: "/api/v1/containers/sscc", body: { count: 1 }, ownerOnly: false },
      {
        path: "/api/v1/orders",
        body: { buyerReference: "x", channel: "shop", lines: [orderLine] },
        ownerOnly: true,
      },
      {
        path: `${orderPath}/items`,
        body: { codes: [`/01/${demo.batch.gtin}/10/${demo.batch.lot}/21/x`] },
        ownerOnly: true,
      },
      {
        path: `${orderPath}/despatch`,
        body: {
          sscc: "069012340000000017",
          shipTo: demo.organisations.retailer.id,
          occurredAt: new Date().toISOString(),
        },
        ownerOnly: true,
      },
      { path: `${orderPath}/cancel`, body: {}, ownerOnly: true },
      { path: `${coopPath}/members`, body: { name: "x", capabilities: ["members"] }, ownerOnly: true },
      { path: `${coopPath}/members/${powerless.member.id}/sign-in-links`, body: {}, ownerOnly: true },
      {
        path: "/api/v1/media/uploads",
        body: { contentType: "video/mp4", sizeBytes: 1_000, fileName: "x.mp4" },
        ownerOnly: false,
        anyOrganisation: true,
      },
      { path: "/api/v1/media", body: { not: "a file" }, ownerOnly: false, anyOrganisation: true },
    ];
    const refusedForAnyOrganisation = new Set([
      "no credentials",
      "expired",
      "revoked",
      "a person without capabilities",
      "a revoked person's session",
    ]);
    const principals: { name: string; token: string | undefined; applies: (ownerOnly: boolean) => boolean }[] = [
      { name: "no credentials", token: undefined, applies: () => true },
      { name: "expired", token: expiring, applies: () => true },
      { name: "revoked", token: revoked.token, applies: () => true },
      { name: "wrong role (retailer)", token: demo.organisations.retailer.token, applies: (ownerOnly) => !ownerOnly },
      { name: "another cooperative", token: other.credential.token, applies: (ownerOnly) => ownerOnly },
      { name: "a person without capabilities", token: powerless.session.token, applies: () => true },
      { name: "a revoked person's session", token: revokedPerson.session.token, applies: () => true },
      { name: "the chair of another cooperative", token: otherChair.token, applies: (ownerOnly) => ownerOnly },
    ];
    const before = await stateCounts();
    const refusalsBefore = refusalsLogged;
    let tried = 0;
    for (const write of writes) {
      for (const principal of principals) {
        if (
          write.anyOrganisation === true
            ? !refusedForAnyOrganisation.has(principal.name)
            : !principal.applies(write.ownerOnly)
        ) {
          continue;
        }
        const response = await apiClient(server.url, principal.token).post<{ code: string }>(write.path, write.body);
        assert.ok(
          [401, 403, 404].includes(response.status),
          `${principal.name} → POST ${write.path}: got ${response.status} ${JSON.stringify(response.body)}`,
        );
        tried += 1;
      }
    }
    // The operator's reads (issue 15 part 6): the admin token only, not a regulator nor a cooperative.
    const operatorReads = [
      "/api/v1/admin/organisations",
      "/api/v1/admin/keys",
      "/api/v1/admin/relayer",
      "/api/v1/admin/outbox",
    ];
    const readers = [
      ...principals,
      { name: "a regulator", token: demo.organisations.regulator.token },
      { name: "the cooperative itself", token: demo.organisations.cooperative.token },
    ];
    for (const read of operatorReads) {
      for (const principal of readers) {
        const response = await apiClient(server.url, principal.token).get<{ code: string }>(read);
        assert.ok(
          [401, 403].includes(response.status),
          `${principal.name} → GET ${read}: got ${response.status} ${JSON.stringify(response.body)}`,
        );
        tried += 1;
      }
    }
    assert.deepEqual(await stateCounts(), before, "no refused write changed anything");
    const refusals = refusalsLogged - refusalsBefore;
    assert.ok(refusals >= tried, `every refusal was logged (${String(refusals)} of ${String(tried)})`);
  });
});
