/**
 * Hostile input and the authorisation matrix, against the real server on a real chain:
 * - every route and router middleware of the running server (its Express router stack) has a
 *   hostile target, or a line saying why not: a route added without one fails at once;
 * - 10,000 fast-check generated requests on every endpoint, 500 on the later reads of fixed
 *   answers (paths with broken percent-encoding, query strings, Authorization, Content-Type,
 *   Idempotency-Key, Range, Accept and X-File-Name headers, an upload's Upload-Offset and
 *   hand-written Content-Length, bodies): no 5xx, every table, every upload's waiting bytes
 *   and the IPFS pin set unchanged after each endpoint, the process up with bounded memory;
 * - every write endpoint tried with no credentials, the wrong role, another organisation's
 *   credentials, an expired and a revoked credential, and people inside organisations (a
 *   person's session without the capability, a revoked session, the chair of another
 *   cooperative): all refused, nothing changed, each refusal logged; a sign-in link works
 *   once and not after it expired.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
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
import { HostileClient, hostileTargets, sampleOf, type HostileFixture } from "../../scripts/lib/hostile-inputs.ts";
import { ensureDebianPackages } from "../../scripts/lib/debian-packages.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { dispatch, endpointsOf } from "../../scripts/lib/route-inventory.ts";
import { settledStoreDigest, storeDigest } from "../../scripts/lib/store-digest.ts";
import { loadConfig } from "../../server/src/config.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { WQY_FONT } from "../support/label-tools.ts";

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

/**
 * What the router walk finds that no target's valid request reaches by dispatch, and why.
 * Anything else unreached fails the coverage check: give the new route a target.
 */
const NOT_DISPATCHED: Readonly<Record<string, string>> = {
  // A middleware mounted at `/` inside a router sees every request, so no single request
  // "reaches" it; this one parses every path under /01/ itself (resolver.ts).
  "USE /": "the Digital Link resolver: attacked by the target 'GET Digital Link paths', whose paths are generated",
};

/** The file of every upload session's waiting bytes (name, size, SHA-256): its offset is its size. */
async function uploadsDigest(dir: string): Promise<Record<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return {};
    throw error;
  }
  const digest: Record<string, string> = {};
  for (const name of names.sort()) {
    const bytes = await readFile(path.join(dir, name));
    digest[name] = `${String(bytes.byteLength)}:${createHash("sha256").update(bytes).digest("hex")}`;
  }
  return digest;
}

describe("hostile input and the authorisation matrix", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let fixture: HostileFixture;
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
      "upload_sessions",
      "certificates",
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
    // The certificate PDF route draws with the CJK font; without it every request there is a 503.
    const { missing } = await ensureDebianPackages([WQY_FONT]);
    assert.deepEqual(missing, [], "the CJK label font is installed (the certificate PDF route needs it)");
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
    fixture = await hostileFixture();
  });

  /** Sends one piece of an upload, as the consoles do. */
  async function sendPiece(token: string, id: string, offset: number, bytes: Uint8Array): Promise<number> {
    const answer = await fetch(`${server.url}/api/v1/media/uploads/${id}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/offset+octet-stream",
        "upload-offset": String(offset),
      },
      body: Buffer.from(bytes),
    });
    await answer.arrayBuffer();
    return answer.status;
  }

  /** The demo's records, and those the later endpoints need to be reached past their lookups. */
  async function hostileFixture(): Promise<HostileFixture> {
    const coop = demo.organisations.cooperative;
    const coopApi = apiClient(server.url, coop.token);
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN);
    const items = expectStatus(
      await coopApi.get<{ items: { serial: string }[] }>(`/api/v1/batches/${demo.batch.batchId}/items?limit=1`),
      200,
      "an item",
    ).items;
    const openUpload = async (sizeBytes: number): Promise<string> =>
      expectStatus(
        await coopApi.post<{ upload: { id: string } }>("/api/v1/media/uploads", {
          contentType: "video/mp4",
          sizeBytes,
          fileName: "hostile.mp4",
        }),
        201,
        "an upload session",
      ).upload.id;
    // All but the last byte: no piece of two bytes or more fits.
    const upload = { id: await openUpload(1_000), offset: 999, sizeBytes: 1_000 };
    assert.equal(await sendPiece(coop.token, upload.id, 0, new Uint8Array(999).fill(3)), 200);
    const finishedUploadId = await openUpload(16);
    assert.equal(await sendPiece(coop.token, finishedUploadId, 0, new Uint8Array(16).fill(5)), 201);
    const coopPath = `/api/v1/organisations/${coop.id}`;
    const addPerson = async (name: string): Promise<string> =>
      expectStatus(
        await coopApi.post<{ member: { id: string } }>(`${coopPath}/members`, { name, capabilities: ["events"] }),
        201,
        `add ${name}`,
      ).member.id;
    const memberId = await addPerson("在岗的成员");
    const removedMemberId = await addPerson("已离开的成员");
    const removal = await fetch(`${server.url}${coopPath}/members/${removedMemberId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${coop.token}` },
    });
    assert.equal(removal.status, 204, "a person removed");
    const decidedApplicationId = expectStatus(
      await apiClient(server.url).post<{ application: { id: string } }>("/api/v1/applications", {
        kind: "cooperative",
        name: { zh: "被拒绝的合作社" },
        uscc: demoUscc("93", "330106", 5_353),
        regionCode: "330106",
        contact: { name: "钱主任", phone: "13900139001" },
      }),
      201,
      "an application to refuse",
    ).application.id;
    expectStatus(
      await admin.post(`/api/v1/applications/${decidedApplicationId}/refuse`, { reason: { zh: "材料不全" } }),
      200,
      "the application refused",
    );
    const certificateId = expectStatus(
      await coopApi.post<{ certificate: { id: string } }>(`/api/v1/batches/${demo.batch.batchId}/certificates`, {
        quantity: { value: "1", unit: "kg" },
        basis: ["self_test"],
        phone: "0571-8888 1234",
      }),
      201,
      "a 合格证",
    ).certificate.id;
    // The pages' scripts by the names their HTML gives (hashed at build).
    const scriptOf = async (page: string, prefix: string): Promise<string> => {
      const html = await (await fetch(`${server.url}${page}`, { headers: { accept: "text/html" } })).text();
      const name = new RegExp(`${prefix}([a-z0-9-]+\\.js)`).exec(html)?.[1];
      assert.ok(name !== undefined, `${page} names a script under ${prefix}`);
      return name;
    };
    return {
      adminToken: deployment.env.ADMIN_TOKEN ?? "",
      cooperative: coop,
      logisticsId: demo.organisations.logistics.id,
      regulatorToken: demo.organisations.regulator.token,
      gtin: demo.batch.gtin,
      lot: demo.batch.lot,
      batchId: demo.batch.batchId,
      serial: items[0]?.serial ?? "",
      videoCid: demo.videoCid ?? "",
      later: {
        retailerId: demo.organisations.retailer.id,
        publicOrigin: server.ctx.publicOrigin,
        upload,
        finishedUploadId,
        memberId,
        removedMemberId,
        decidedApplicationId,
        certificateId,
        lotAsset: await scriptOf(`/01/${demo.batch.gtin}/10/${demo.batch.lot}`, "/l/assets/"),
        certificateAsset: await scriptOf(`/c/${certificateId}`, "/c/assets/"),
      },
    };
  }

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("has a hostile target for every route and router middleware the server has", () => {
    const endpoints = endpointsOf(server.app);
    const targets = hostileTargets(fixture);
    const reachedBy = new Map<string, string[]>();
    const unreaching: string[] = [];
    for (const target of targets) {
      const sample = sampleOf(target);
      const reached = sample === null ? [] : dispatch(endpoints, target.method, sample);
      if (reached.length === 0 && !Object.values(NOT_DISPATCHED).some((why) => why.includes(`'${target.name}'`))) {
        unreaching.push(`${target.name} (${target.method} ${sample ?? "a generated path"})`);
      }
      for (const endpoint of reached)
        reachedBy.set(endpoint.key, [...(reachedBy.get(endpoint.key) ?? []), target.name]);
    }
    const keys = endpoints.map((endpoint) => endpoint.key);
    const forgotten = keys.filter((key) => !reachedBy.has(key) && !(key in NOT_DISPATCHED));
    assert.deepEqual(
      forgotten,
      [],
      `routes with no hostile target (add one to hostileTargets): ${forgotten.join("; ")}`,
    );
    assert.deepEqual(unreaching, [], `targets whose valid request reaches no route: ${unreaching.join("; ")}`);
    for (const [key, why] of Object.entries(NOT_DISPATCHED)) {
      assert.equal(keys.filter((k) => k === key).length, 1, `${key} is there once (${why})`);
      const named = /'([^']+)'/.exec(why)?.[1];
      assert.ok(
        named === undefined || targets.some((target) => target.name === named),
        `${key}: target '${named ?? ""}'`,
      );
    }
    // The walk itself: it found the routers (a broken walk would find nothing to miss).
    assert.ok(endpoints.length >= 100, `the router walk found ${String(endpoints.length)} endpoints`);
    assert.ok(keys.includes("PATCH /api/v1/media/uploads/:id"), "the walk sees the upload's PATCH");
  });

  it(`answers ${String(RUNS_PER_ENDPOINT)} generated inputs on every endpoint without a 5xx or a change of state`, async () => {
    const targets = hostileTargets(fixture);
    const ipfsDir = path.join(dataDir, "ipfs");
    const uploadsDir = path.join(dataDir, "uploads");
    const before = await settledStoreDigest(server.ctx.db, ipfsDir);
    const uploadsBefore = await uploadsDigest(uploadsDir);
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
      // Once per endpoint: every table's rows and the pin set, exactly as before; and every
      // upload session's waiting bytes (its offset), which live in files, not rows.
      assert.deepEqual(await storeDigest(server.ctx.db, ipfsDir), before, `${outcome.name} changed the store`);
      assert.deepEqual(await uploadsDigest(uploadsDir), uploadsBefore, `${outcome.name} changed an upload's bytes`);
    }
    console.log(report.join("\n"));
    assert.ok(targets.length >= 100, `every endpoint is attacked (${String(targets.length)})`);
    assert.equal(
      (await uploadsDigest(uploadsDir))[`${fixture.later?.upload.id ?? ""}.part`]?.split(":")[0],
      String(fixture.later?.upload.offset),
      "the upload still holds all but its last byte",
    );
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
    // `refusedTo`: the principals that must be refused, named, where neither rule fits;
    // `statuses`: the refusals expected where a 404 would hide a handler that ran (operator-only writes).
    const writes: {
      method?: "PATCH" | "DELETE";
      path: string;
      body: unknown;
      headers?: Record<string, string>;
      ownerOnly: boolean;
      anyOrganisation?: true;
      refusedTo?: readonly string[];
      statuses?: readonly number[];
    }[] = [
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
    // The writes added since (resumable uploads, people, joining's decisions, GTINs and grants,
    // 合格证): each with a body that would succeed for the right caller, so a refusal that
    // let the write through would show.
    const later = fixture.later;
    assert.ok(later !== undefined, "the later endpoints' records");
    const pending = expectStatus(
      await apiClient(server.url).post<{ application: { id: string } }>("/api/v1/applications", {
        kind: "cooperative",
        name: { zh: "待审的合作社" },
        uscc: demoUscc("93", "330106", 5_454),
        regionCode: "330106",
        contact: { name: "孙主任", phone: "13900139002" },
      }),
      201,
      "a pending application",
    ).application;
    const spare = expectStatus(
      await admin.post<{ credential: { id: string } }>(`/api/v1/organisations/${coopId}/credentials`, {
        label: "not to be revoked",
      }),
      201,
      "a credential nobody may revoke but the operator",
    ).credential;
    const everyone = [
      "no credentials",
      "expired",
      "revoked",
      "wrong role (retailer)",
      "wrong role (regulator)",
      "another cooperative",
      "a person without capabilities",
      "a revoked person's session",
      "the chair of another cooperative",
    ];
    const notOperator = everyone.filter((name) => name !== "wrong role (regulator)");
    const badCredentials = ["no credentials", "expired", "revoked", "a revoked person's session"];
    writes.push(
      {
        // Its last byte, at its offset: accepted, this would finish the upload.
        method: "PATCH",
        path: `/api/v1/media/uploads/${later.upload.id}`,
        body: new Uint8Array([9]),
        headers: { "content-type": "application/offset+octet-stream", "upload-offset": String(later.upload.offset) },
        ownerOnly: true,
        refusedTo: everyone,
      },
      {
        path: "/api/v1/media/uploads",
        body: { contentType: "video/mp4", sizeBytes: 1_000, fileName: "x.mp4" },
        ownerOnly: false,
        refusedTo: [...refusedForAnyOrganisation, "wrong role (regulator)"],
      },
      {
        method: "DELETE",
        path: `${coopPath}/members/${later.memberId}`,
        body: undefined,
        ownerOnly: true,
        refusedTo: everyone,
      },
      {
        method: "DELETE",
        path: `${coopPath}/members/${powerless.member.id}/sessions/${powerless.session.id}`,
        body: undefined,
        ownerOnly: true,
        refusedTo: everyone,
      },
      // Signing oneself out is every person's right: only credentials that are no good are refused.
      { method: "DELETE", path: "/api/v1/me/session", body: undefined, ownerOnly: false, refusedTo: badCredentials },
      {
        path: `/api/v1/applications/${pending.id}/approve`,
        body: {},
        ownerOnly: false,
        refusedTo: notOperator,
        statuses: [401, 403],
      },
      {
        path: `/api/v1/applications/${pending.id}/refuse`,
        body: { reason: { zh: "x" } },
        ownerOnly: false,
        refusedTo: notOperator,
        statuses: [401, 403],
      },
      {
        path: `/api/v1/organisations/${coopId}/gtins`,
        body: { gtin: "06901234567885" },
        ownerOnly: false,
        refusedTo: everyone,
        statuses: [401, 403],
      },
      {
        method: "DELETE",
        path: `/api/v1/organisations/${coopId}/gtins/${demo.batch.gtin}`,
        body: undefined,
        ownerOnly: false,
        refusedTo: everyone,
        statuses: [401, 403],
      },
      {
        path: `/api/v1/organisations/${coopId}/company-prefixes`,
        body: { allocate: true },
        ownerOnly: false,
        refusedTo: everyone,
        statuses: [401, 403],
      },
      {
        method: "DELETE",
        path: `/api/v1/organisations/${coopId}/credentials/${spare.id}`,
        body: undefined,
        ownerOnly: false,
        refusedTo: everyone,
        statuses: [401, 403],
      },
      {
        path: `/api/v1/products/${demo.batch.gtin}/grants`,
        body: { grantee: demo.organisations.logistics.id },
        ownerOnly: true,
        refusedTo: everyone,
      },
      {
        method: "DELETE",
        path: `/api/v1/products/${demo.batch.gtin}/grants/${demo.organisations.processor.id}`,
        body: undefined,
        ownerOnly: true,
        refusedTo: everyone,
      },
      {
        // Not the shop: it received a case of the batch, and a custodian may certify what it holds.
        path: `${batchPath}/certificates`,
        body: { quantity: { value: "1", unit: "kg" }, basis: ["self_test"], phone: "0571-8888 1234" },
        ownerOnly: true,
        refusedTo: everyone.filter((name) => name !== "wrong role (retailer)"),
      },
    );
    const principals: { name: string; token: string | undefined; applies: (ownerOnly: boolean) => boolean }[] = [
      { name: "no credentials", token: undefined, applies: () => true },
      { name: "expired", token: expiring, applies: () => true },
      { name: "revoked", token: revoked.token, applies: () => true },
      { name: "wrong role (retailer)", token: demo.organisations.retailer.token, applies: (ownerOnly) => !ownerOnly },
      { name: "another cooperative", token: other.credential.token, applies: (ownerOnly) => ownerOnly },
      { name: "a person without capabilities", token: powerless.session.token, applies: () => true },
      { name: "a revoked person's session", token: revokedPerson.session.token, applies: () => true },
      { name: "the chair of another cooperative", token: otherChair.token, applies: (ownerOnly) => ownerOnly },
      // Named only by the writes' `refusedTo`.
      { name: "wrong role (regulator)", token: demo.organisations.regulator.token, applies: () => false },
    ];
    for (const write of writes) {
      for (const name of write.refusedTo ?? []) {
        assert.ok(
          principals.some((principal) => principal.name === name),
          `${write.path}: no principal "${name}"`,
        );
      }
    }
    const uploadsDir = path.join(dataDir, "uploads");
    const uploadsBefore = await uploadsDigest(uploadsDir);
    const before = await stateCounts();
    const refusalsBefore = refusalsLogged;
    let tried = 0;
    for (const write of writes) {
      for (const principal of principals) {
        if (
          write.refusedTo !== undefined
            ? !write.refusedTo.includes(principal.name)
            : write.anyOrganisation === true
              ? !refusedForAnyOrganisation.has(principal.name)
              : !principal.applies(write.ownerOnly)
        ) {
          continue;
        }
        const method = write.method ?? "POST";
        const response = await fetch(`${server.url}${write.path}`, {
          method,
          headers: {
            ...(principal.token === undefined ? {} : { authorization: `Bearer ${principal.token}` }),
            ...(write.body === undefined || write.body instanceof Uint8Array
              ? {}
              : { "content-type": "application/json" }),
            ...write.headers,
          },
          body:
            write.body === undefined
              ? null
              : write.body instanceof Uint8Array
                ? Buffer.from(write.body)
                : JSON.stringify(write.body),
        });
        const answer = await response.text();
        assert.ok(
          (write.statuses ?? [401, 403, 404]).includes(response.status),
          `${principal.name} → ${method} ${write.path}: got ${String(response.status)} ${answer}`,
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
    assert.deepEqual(await uploadsDigest(uploadsDir), uploadsBefore, "no refused piece changed an upload");
    const refusals = refusalsLogged - refusalsBefore;
    assert.ok(refusals >= tried, `every refusal was logged (${String(refusals)} of ${String(tried)})`);
  });
});
