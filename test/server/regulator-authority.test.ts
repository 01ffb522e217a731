/**
 * Regulators' authority (issue #12, item 3), through the API against a Hardhat node in its
 * own process: a suspended organisation, regulators included, writes nothing; no regulator
 * suspends or reinstates its own organisation; a regulator acts, searches and audits only
 * inside its region (the GB/T 2260 prefix of its region code; 000000 is national); and a
 * signature prepared before a suspension is refused when submitted after it. Every refusal
 * is checked to leave the store and the chain as they were.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, Wallet } from "ethers";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN, demoUscc, grantGtin } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { submitSignature } from "../../server/src/services/sign-and-submit.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { onboard as onboardParty, type Party } from "../support/onboard.ts";
import type { Problem } from "../support/problems.ts";
import { refusalChecker } from "../support/refusals.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";
import { startTestServer } from "../support/test-server.ts";

describe(`regulators: suspension, self-reinstatement and jurisdiction (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let server: RunningServer;
  let dataDir: string;
  /** The demo's cast, onboarded here without its lifecycle (which these cases do not need). */
  let demo: {
    organisations: Record<"cooperative" | "processor" | "logistics" | "regulator", { id: string; token: string }>;
    batch: { batchId: string };
  };
  let admin: ApiClient;
  /** The demo's West Lake district regulator (330106). */
  let district: ApiClient;
  let national: { id: string; api: ApiClient };
  let province: { id: string; api: ApiClient };
  /** A cooperative in Yunnan (530802) with a batch of its own product. */
  let yunnan: { id: string; api: ApiClient; batchId: string };
  const reason = { reason: { zh: "测试", en: "test" } };

  /** What a refusal must not change: the store's rows that writes touch, and the chain's height. */
  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    return {
      organisations: await db.selectFrom("organisations").select(["id", "status"]).orderBy("id").execute(),
      batches: await db.selectFrom("batches").select(["batch_id", "status"]).orderBy("batch_id").execute(),
      events: (await db.selectFrom("events").select("id").execute()).length,
      outbox: await db.selectFrom("outbox").select(["id", "state"]).orderBy("id").execute(),
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      products: (await db.selectFrom("products").select("gtin").execute()).length,
      plots: (await db.selectFrom("plots").select("id").execute()).length,
      certifications: (await db.selectFrom("certifications").select("id").execute()).length,
      media: (await db.selectFrom("media").select("cid").execute()).length,
      signatureRequests: await db
        .selectFrom("signature_requests")
        .select(["id", "completed_at_ms"])
        .orderBy("id")
        .execute(),
      block: await provider.getBlockNumber(),
    };
  }

  const refusedUnchanged = refusalChecker({ settle: () => settleLedger(server), snapshot });

  const onboard = (
    kind: string,
    regionCode: string,
    serial: number,
    signerAddress?: string,
    companyPrefixes?: string[],
  ): Promise<Party> => onboardParty(server.url, admin, { kind, regionCode, serial, signerAddress, companyPrefixes });

  async function statusOf(id: string): Promise<string> {
    const row = await server.ctx.db
      .selectFrom("organisations")
      .select("status")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    return row.status;
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    // On PostgreSQL too in the test command's second server pass (TEST_DATABASE_URL).
    const databaseUrl = await freshTestDatabaseUrl("regulators");
    ({ server, dataDir } = await startTestServer(
      deployment.env,
      "regulator-authority",
      databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl },
    ));
    // No cached block number: a refusal is checked against the height right after the ledger settled.
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const cast = {
      cooperative: await onboard("cooperative", "330106", 9_010, undefined, [DEMO_COMPANY_PREFIX]),
      processor: await onboard("processor", "330106", 9_011),
      logistics: await onboard("logistics", "330110", 9_012),
      regulator: await onboard("regulator", "330106", 9_013),
    };
    expectStatus(
      await cast.cooperative.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "West Lake product",
    );
    await settleLedger(server);
    const westLake = expectStatus(
      await cast.cooperative.api.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: "LJ2026-01",
        harvestedAt: "2026-04-15T06:00:00+08:00",
        quantity: { value: "2", unit: "kg" },
        itemCount: 2,
      }),
      202,
      "West Lake batch",
    ).batch;
    demo = { organisations: cast, batch: westLake };
    district = apiClient(server.url, demo.organisations.regulator.token);
    national = await onboard("regulator", "000000", 9_001);
    province = await onboard("regulator", "330000", 9_002);
    const coop = await onboard("cooperative", "530802", 9_003, undefined, ["690000"]);
    const body = "0690000099001";
    const gtin = `${body}${String(gtinCheckDigit(body))}`;
    expectStatus(
      await coop.api.post("/api/v1/products", { gtin, name: { zh: "普洱茶" }, category: "tea", unit: "kg" }),
      201,
      "Yunnan product",
    );
    await settleLedger(server);
    const batch = expectStatus(
      await coop.api.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin,
        lot: "PE2026-01",
        harvestedAt: "2026-04-01T08:00:00+08:00",
        quantity: { value: "2", unit: "kg" },
        itemCount: 2,
      }),
      202,
      "Yunnan batch",
    ).batch;
    yunnan = { ...coop, batchId: batch.batchId };
    await settleLedger(server);
  });

  after(async () => {
    provider.destroy();
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("onboards a national regulator with 000000, and nobody else", async () => {
    const view = expectStatus(
      await admin.get<{ organisation: { regionCode: string; regionName: { zh: string } } }>(
        `/api/v1/organisations/${national.id}`,
      ),
      200,
      "national regulator",
    ).organisation;
    assert.equal(view.regionCode, "000000");
    assert.equal(view.regionName.zh, "全国");
    const refused = await admin.post<Problem>("/api/v1/organisations", {
      kind: "cooperative",
      name: { zh: "全国社" },
      uscc: demoUscc("93", "110000", 9_099),
      regionCode: "000000",
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, "region.province");
  });

  it("keeps a regulator inside its region: suspend, reinstate and recall outside it are refused", async () => {
    const yunnanPath = `/api/v1/organisations/${yunnan.id}`;
    await refusedUnchanged(
      "a district regulator suspends a cooperative in Yunnan",
      () => district.post(`${yunnanPath}/suspend`, reason),
      403,
      "organisation.outside_jurisdiction",
    );
    await refusedUnchanged(
      "a provincial regulator (Zhejiang) suspends a cooperative in Yunnan",
      () => province.api.post(`${yunnanPath}/suspend`, reason),
      403,
      "organisation.outside_jurisdiction",
    );
    await refusedUnchanged(
      "a district regulator recalls a Yunnan batch",
      () => district.post(`/api/v1/batches/${yunnan.batchId}/regulator-recall`, reason),
      403,
      "organisation.outside_jurisdiction",
    );
    await refusedUnchanged(
      "a district regulator suspends a carrier in the next district (330110)",
      () => district.post(`/api/v1/organisations/${demo.organisations.logistics.id}/suspend`, reason),
      403,
      "organisation.outside_jurisdiction",
    );

    // The national regulator may; the district one may not undo it.
    expectStatus(await national.api.post(`${yunnanPath}/suspend`, reason), 202, "national suspends");
    assert.equal(await statusOf(yunnan.id), "suspended");
    await refusedUnchanged(
      "a district regulator reinstates a cooperative in Yunnan",
      () => district.post(`${yunnanPath}/reinstate`, reason),
      403,
      "organisation.outside_jurisdiction",
    );
    expectStatus(await national.api.post(`${yunnanPath}/reinstate`, reason), 202, "national reinstates");
    // The province covers the neighbouring district's carrier.
    const logistics = `/api/v1/organisations/${demo.organisations.logistics.id}`;
    expectStatus(await province.api.post(`${logistics}/suspend`, reason), 202, "province suspends in 330110");
    expectStatus(await province.api.post(`${logistics}/reinstate`, reason), 202, "province reinstates in 330110");
    await settleLedger(server);
    assert.equal(await statusOf(yunnan.id), "active");
  });

  it("lets no regulator suspend or reinstate itself, and a suspended regulator do nothing that writes", async () => {
    const self = `/api/v1/organisations/${demo.organisations.regulator.id}`;
    await refusedUnchanged(
      "a regulator suspends its own organisation",
      () => district.post(`${self}/suspend`, reason),
      403,
      "organisation.own_status",
    );
    await refusedUnchanged(
      "the national regulator suspends itself",
      () => national.api.post(`/api/v1/organisations/${national.id}/suspend`, reason),
      403,
      "organisation.own_status",
    );
    expectStatus(await national.api.post(`${self}/suspend`, reason), 202, "national suspends the district regulator");
    await refusedUnchanged(
      "a suspended regulator reinstates itself",
      () => district.post(`${self}/reinstate`, reason),
      403,
      "organisation.suspended",
    );
    await refusedUnchanged(
      "a suspended regulator suspends a cooperative of its district",
      () => district.post(`/api/v1/organisations/${demo.organisations.cooperative.id}/suspend`, reason),
      403,
      "organisation.suspended",
    );
    await refusedUnchanged(
      "a suspended regulator recalls a batch of its district",
      () => district.post(`/api/v1/batches/${demo.batch.batchId}/regulator-recall`, reason),
      403,
      "organisation.suspended",
    );
    await refusedUnchanged(
      "a suspended regulator reinstates another",
      () => district.post(`/api/v1/organisations/${demo.organisations.processor.id}/reinstate`, reason),
      403,
      "organisation.suspended",
    );
    expectStatus(await national.api.post(`${self}/reinstate`, reason), 202, "national reinstates it");
    await settleLedger(server);
    assert.equal(await statusOf(demo.organisations.regulator.id), "active");
  });

  it("refuses every write route to a suspended cooperative's credential, and accepts them again once reinstated", async () => {
    const coopId = demo.organisations.cooperative.id;
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    expectStatus(await district.post(`/api/v1/organisations/${coopId}/suspend`, reason), 202, "suspend");
    const batch = `/api/v1/batches/${demo.batch.batchId}`;
    const writes: [string, () => Promise<ApiResponse>][] = [
      [
        "register a product",
        () =>
          coop.post("/api/v1/products", {
            gtin: "06901234567908",
            name: { zh: "新品" },
            category: "tea",
            unit: "kg",
          }),
      ],
      [
        "register a plot",
        () => coop.post(`/api/v1/organisations/${coopId}/plots`, { name: "新茶园", areaHa: 1, regionCode: "330106" }),
      ],
      [
        "register a certification",
        () =>
          coop.post(`/api/v1/organisations/${coopId}/certifications`, {
            kind: "green_food",
            number: "LB-00-0000000000",
            issuer: "中国绿色食品发展中心",
            validFrom: "2026-01-01",
            validTo: "2028-01-01",
            scopeGtins: [DEMO_GTIN],
          }),
      ],
      ["upload media", () => coop.upload("/api/v1/media", new TextEncoder().encode("video"), "video/mp4")],
      ["open a resumable upload", () => coop.post("/api/v1/media/uploads", { contentType: "video/mp4", sizeBytes: 5 })],
      [
        "register a batch",
        () =>
          coop.post("/api/v1/batches", {
            gtin: DEMO_GTIN,
            lot: "SUSPENDED-1",
            harvestedAt: "2026-04-20T07:00:00+08:00",
            quantity: { value: "1", unit: "kg" },
            itemCount: 1,
          }),
      ],
      [
        "record an event",
        () => coop.post(`${batch}/events`, { bizStep: "harvesting", occurredAt: "2026-04-16T07:00:00+08:00" }),
      ],
      ["recall its batch", () => coop.post(`${batch}/recall`, reason)],
      ["ask for a label link", () => coop.post(`${batch}/label-links`, {})],
      [
        "submit a signature",
        () => coop.post("/api/v1/signature-requests/sigreq_none", { signature: `0x${"11".repeat(65)}` }),
      ],
    ];
    for (const [what, send] of writes) {
      await refusedUnchanged(`a suspended cooperative may not ${what}`, send, 403, "organisation.suspended");
    }
    // Reads still answer: a suspended organisation may see its records.
    expectStatus(await coop.get("/api/v1/me"), 200, "me while suspended");
    expectStatus(await district.post(`/api/v1/organisations/${coopId}/reinstate`, reason), 202, "reinstate");
    expectStatus(
      await coop.post(`/api/v1/organisations/${coopId}/plots`, { name: "复牌茶园", areaHa: 1, regionCode: "330106" }),
      201,
      "writes again",
    );
    await settleLedger(server);
  });

  it("refuses a signature prepared before a suspension and submitted after it, queuing nothing", async () => {
    const wallet = Wallet.createRandom();
    const own = await onboard("cooperative", "330106", 9_004, wallet.address);
    // It packs the West Lake cooperative's product, which grants it the GTIN.
    await grantGtin(server.url, demo.organisations.cooperative.token, DEMO_GTIN, own.id);
    await settleLedger(server);
    const prepared = expectStatus(
      await own.api.post<{ signatureRequest: SignatureRequest }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: "OWN-2026-01",
        harvestedAt: "2026-04-20T07:00:00+08:00",
        quantity: { value: "1", unit: "kg" },
        itemCount: 2,
      }),
      201,
      "prepare",
    ).signatureRequest;
    const { domain, types, message } = prepared.typedData;
    const signature = await wallet.signTypedData(domain, types, message);
    expectStatus(await district.post(`/api/v1/organisations/${own.id}/suspend`, reason), 202, "suspend");
    await refusedUnchanged(
      "a prepared signature submitted after a suspension",
      () => own.api.post(prepared.submitUrl, { signature }),
      403,
      "organisation.suspended",
    );
    // The use case checks it too, not only the gate in front of every write route.
    await settleLedger(server);
    const before = await snapshot();
    await assert.rejects(
      submitSignature(
        server.ctx,
        { principal: { organisationId: own.id, credentialId: null, roles: ["cooperative"] }, requestId: "test" },
        prepared.id,
        signature,
      ),
      (error: Error & { code?: string }) => error.code === "organisation.suspended",
    );
    assert.deepEqual(await snapshot(), before, "the service's refusal changed nothing");
    // Reinstated, the same signature is accepted: the lot was never taken.
    expectStatus(await district.post(`/api/v1/organisations/${own.id}/reinstate`, reason), 202, "reinstate");
    await settleLedger(server);
    expectStatus(await own.api.post(prepared.submitUrl, { signature }), 202, "submitted once reinstated");
    await settleLedger(server);
  });

  it("scopes a regulator's batch search, audits and exports to its region; a direct request outside it is 403", async () => {
    const lots = async (api: ApiClient, query = ""): Promise<string[]> =>
      expectStatus(
        await api.get<{ batches: { batchId: string }[] }>(`/api/v1/batches${query}`),
        200,
        "search",
      ).batches.map((b) => b.batchId);
    assert.ok((await lots(district)).includes(demo.batch.batchId));
    assert.ok(!(await lots(district)).includes(yunnan.batchId), "the district does not see Yunnan");
    assert.deepEqual(await lots(district, "?region=53"), [], "asking for Yunnan finds nothing");
    assert.ok((await lots(district, "?region=33")).includes(demo.batch.batchId), "a wider prefix is narrowed");
    assert.ok((await lots(national.api)).includes(yunnan.batchId), "the national regulator sees Yunnan");
    assert.ok((await lots(national.api)).includes(demo.batch.batchId));
    assert.deepEqual(await lots(province.api, "?region=53"), []);

    const scope = expectStatus(
      await district.get<{ batches: { batch: { batchId: string } }[] }>("/api/v1/audits?region=53"),
      200,
      "scope audit outside",
    );
    assert.deepEqual(scope.batches, [], "the audit of a search outside the region covers nothing");
    for (const path of [
      `/api/v1/audits/batches/${yunnan.batchId}`,
      `/api/v1/batches/${yunnan.batchId}/scan-facts`,
      `/api/v1/batches/${yunnan.batchId}/items`,
      `/api/v1/exports/epcis?batchId=${yunnan.batchId}`,
      `/api/v1/audits?batchId=${yunnan.batchId}`,
    ]) {
      const answer = await district.get<Problem>(path);
      assert.equal(answer.status, 403, path);
      assert.equal(answer.body.code, "organisation.outside_jurisdiction", path);
    }
    expectStatus(await national.api.get(`/api/v1/batches/${yunnan.batchId}/items`), 200, "national reads items");
    const csv = await fetch(`${server.url}/api/v1/exports/kde.csv?region=5`, {
      headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
    });
    assert.equal(csv.status, 200);
    assert.ok(!(await csv.text()).includes("PE2026-01"), "the export of a search outside the region lists nothing");
  });
});
