/**
 * The independent audit, against a real chain and the server's IPFS store: a clean batch
 * has no findings, and each planted anomaly — a tampered IPFS object, a plot outside the
 * cooperative's region, an expired certificate, a harvest no plot could give, more items
 * issued than the harvest could fill, a cooperative's year beyond all its land, a shipment
 * before the harvest, a cold-chain breach, a cloned code — is found, and found alone.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import {
  DEMO_GTIN,
  grantGtin,
  onboardCooperative,
  seedDemoSystem,
  waitUntilAnchored,
  type DemoSystemSummary,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { AuditSourceError, remoteAudit } from "../../scripts/lib/remote-audit.ts";
import { loadConfig } from "../../server/src/config.ts";
import { parseCid } from "../../server/src/ipfs/content-store.ts";
import type { BatchAuditReport, ScopeAuditReport } from "../../server/src/services/audit/report.ts";
import { readAll } from "../../server/src/services/documents.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { getEvent } from "../../server/src/storage/events.ts";
import { getOrganisation } from "../../server/src/storage/organisations.ts";
import { packDirectly, testSscc } from "../support/direct-containers.ts";
import { formatSchemaErrors, loadEpcisValidator } from "../support/epcis-schema.ts";
import type { EpcisDocument } from "../../server/src/exports/epcis.ts";

describe("the independent audit", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let coop: ApiClient;
  let regulator: ApiClient;
  let lotNumber = 0;

  async function batch(
    options: {
      plotId?: string;
      certificationIds?: string[];
      kg?: string;
      harvestedAt?: string;
      gtin?: string;
      itemCount?: number;
    } = {},
  ): Promise<{ batchId: string; lot: string }> {
    const lot = `AUD-${String(lotNumber++).padStart(3, "0")}`;
    const batchId = expectStatus(
      await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: options.gtin ?? DEMO_GTIN,
        lot,
        harvestedAt: options.harvestedAt ?? "2026-04-20T06:00:00+08:00",
        quantity: { value: options.kg ?? "20", unit: "kg" },
        itemCount: options.itemCount ?? 5,
        ...(options.plotId === undefined ? {} : { plotId: options.plotId }),
        ...(options.certificationIds === undefined ? {} : { certificationIds: options.certificationIds }),
      }),
      202,
      `register ${lot}`,
    ).batch.batchId;
    return { batchId, lot };
  }

  async function event(token: string, batchId: string, body: Record<string, unknown>): Promise<string> {
    return expectStatus(
      await apiClient(server.url, token).post<{ event: { id: string } }>(`/api/v1/batches/${batchId}/events`, body),
      202,
      `event ${String(body.bizStep)}`,
    ).event.id;
  }

  async function audit(batchId: string): Promise<BatchAuditReport> {
    return expectStatus(await regulator.get<BatchAuditReport>(`/api/v1/audits/batches/${batchId}`), 200, "audit");
  }

  async function plot(name: string, regionCode: string, areaHa: number): Promise<string> {
    return expectStatus(
      await coop.post<{ plot: { id: string } }>(`/api/v1/organisations/${demo.organisations.cooperative.id}/plots`, {
        name,
        areaHa,
        regionCode,
      }),
      201,
      "plot",
    ).plot.id;
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    dataDir = mkdtempSync(path.join(tmpdir(), "audit-"));
    server = await startServer(
      loadConfig({ ...deployment.env, PORT: "0", DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: "100000" }),
      { logger: pino({ level: "silent" }) },
    );
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", {
      itemCount: 20,
      video: { bytes: readFileSync(path.join("scripts", "demo-assets", "planting.mp4")), contentType: "video/mp4" },
    });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
    coop = apiClient(server.url, demo.organisations.cooperative.token);
    regulator = apiClient(server.url, demo.organisations.regulator.token);
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("finds nothing wrong with the clean demo batch, and says what it checked", async () => {
    const report = await audit(demo.batch.batchId);
    assert.deepEqual(report.findings, []);
    assert.deepEqual(report.checked, [
      "integrity",
      "authority",
      "origin",
      "certification",
      "mass_balance",
      "timeline",
      "cold_chain",
      "clones",
      "containers",
    ]);
    // Who was entitled, from the registry's logs: the cooperative owns the GTIN by its company
    // prefix, the batch went cooperative → processor → carrier → shop, the testing centre inspected
    // because the cooperative asked it, and every event's actor had a say.
    const authority = report.authority;
    assert.ok(authority !== null && authority !== undefined);
    assert.equal(authority.entitlement?.basis, "prefix_owner");
    assert.equal(authority.entitlement.owner, authority.entitlement.attester);
    assert.equal(authority.handovers.length, 3);
    assert.equal(authority.handovers[0]?.from, authority.entitlement.attester);
    assert.deepEqual(
      authority.events.filter((e) => e.basis === null),
      [],
    );
    assert.equal(authority.events.find((e) => e.bizStep === "inspecting")?.basis, "requested_inspector");
    const html = await fetch(`${server.url}/api/v1/audits/batches/${demo.batch.batchId}?format=html`, {
      headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
    });
    // One language per report: Chinese by default, English on request (they used to be mixed).
    const zh = await html.text();
    assert.match(zh, /无异常/);
    assert.match(zh, /由商品条码所有者登记/);
    assert.equal(zh.match(/<li>交接：/g)?.length, 3);
    assert.doesNotMatch(zh, /No findings/);
    const en = await fetch(`${server.url}/api/v1/audits/batches/${demo.batch.batchId}?format=html&lang=en`, {
      headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
    });
    const enText = await en.text();
    assert.match(enText, /No findings/);
    assert.match(enText, /Registered by the GTIN&#39;s owner \(company prefix \d{6,12}\)/);
  });

  it("agrees when the regulator runs it from outside, through a JSON-RPC endpoint and a gateway of their choosing", async () => {
    const report = await remoteAudit(demo.batch.batchId, {
      rpcUrl: node.rpcUrl,
      registry: deployment.registry,
      fromBlock: deployment.deployedAtBlock,
      gateway: server.url,
      server: server.url,
      token: demo.organisations.regulator.token,
    });
    assert.deepEqual(report.findings, []);
    assert.equal(report.sources.rpc, node.rpcUrl);
    const wrongRegistry = await remoteAudit(demo.batch.batchId, {
      rpcUrl: node.rpcUrl,
      registry: "0x000000000000000000000000000000000000dEaD",
      fromBlock: 0,
      gateway: server.url,
      server: server.url,
      token: demo.organisations.regulator.token,
    }).catch((error: unknown) => error);
    assert.ok(wrongRegistry instanceof AuditSourceError, "a registry that holds nothing cannot vouch for the batch");
    assert.match(wrongRegistry.message, /no contract at 0x000000000000000000000000000000000000dEaD on chain 31337/);
  });

  it("finds a tampered IPFS object, and only that", async () => {
    const { batchId } = await batch();
    // The cooperative's own event: a processor has a say only once the batch was handed to it.
    const eventId = await event(demo.organisations.cooperative.token, batchId, {
      bizStep: "packing",
      occurredAt: "2026-04-21T09:00:00+08:00",
      data: { note: { zh: "小包装", en: "small packs" } },
    });
    await waitUntilAnchored(server.url, batchId, 1);
    const payloadCid = (await getEvent(server.ctx.db, eventId))?.payloadCid ?? "";
    const bytes = await readAll(server.ctx.content.cat(parseCid(payloadCid)));
    // Alter the stored block in place: same length, one byte changed, as disk damage or a bad actor would.
    const blockFile = findFileWithContent(path.join(dataDir, "ipfs", "blocks"), bytes);
    const altered = Buffer.from(bytes);
    altered[10] = (altered[10] ?? 0) ^ 0x01;
    writeFileSync(blockFile, altered);
    assert.deepEqual(
      (await audit(batchId)).findings.map((f) => [f.code, f.evidence.cid]),
      [["integrity.cid_tampered", payloadCid]],
    );
  });

  it("finds a plot outside the cooperative's region, and only that", async () => {
    const plotId = await plot("广州试验田", "440106", 0.5);
    const { batchId } = await batch({ plotId });
    await waitUntilAnchored(server.url, batchId, 0);
    assert.deepEqual(codes(await audit(batchId)), ["origin.region_mismatch"]);
  });

  it("finds a certificate that had expired on the harvest date, and only that", async () => {
    const certificationId = expectStatus(
      await coop.post<{ certification: { id: string } }>(
        `/api/v1/organisations/${demo.organisations.cooperative.id}/certifications`,
        {
          kind: "organic",
          number: "OG-2020-0001",
          issuer: "中绿华夏有机食品认证中心",
          validFrom: "2020-01-01",
          validTo: "2021-12-31",
          scopeGtins: [DEMO_GTIN],
        },
      ),
      201,
      "certification",
    ).certification.id;
    const { batchId } = await batch({ certificationIds: [certificationId] });
    await waitUntilAnchored(server.url, batchId, 0);
    assert.deepEqual(codes(await audit(batchId)), ["certification.expired"]);
  });

  it("finds a harvest larger than the plot can give, and only that", async () => {
    const plotId = await plot("小茶园", "330106", 0.01);
    const { batchId } = await batch({ plotId, kg: "500" });
    await waitUntilAnchored(server.url, batchId, 0);
    const report = await audit(batchId);
    assert.deepEqual(codes(report), ["mass_balance.plot_exceeded"]);
    assert.equal(report.findings[0]?.evidence.maxKg, 60);
  });

  it("finds more items issued than the harvest could fill, and only that; an honest count passes", async () => {
    const gtin = "06901234568011";
    const tin = { value: "250", unit: "g" };
    expectStatus(
      await coop.post("/api/v1/products", {
        gtin,
        name: { zh: "西湖龙井 250 克罐装", en: "West Lake Longjing, 250 g tin" },
        category: "tea",
        unit: "kg",
        netContent: { value: "250.0", unit: "g" },
      }),
      201,
      "product with a net content",
    );
    const stored = expectStatus(
      await coop.get<{ product: { netContent: unknown } }>(`/api/v1/products/${gtin}`),
      200,
      "product",
    ).product;
    assert.deepEqual(stored.netContent, tin, "normalised and returned");
    const honest = await batch({ gtin, kg: "10", itemCount: 40 });
    const { batchId } = await batch({ gtin, kg: "10", itemCount: 100 });
    await waitUntilAnchored(server.url, honest.batchId, 0);
    await waitUntilAnchored(server.url, batchId, 0);
    assert.deepEqual((await audit(honest.batchId)).findings, [], "40 tins of 250 g hold the 10 kg harvested");
    const report = await audit(batchId);
    assert.deepEqual(codes(report), ["mass_balance.items_exceeded"]);
    const [found] = report.findings;
    assert.equal(found?.severity, "critical");
    assert.deepEqual(found.evidence, { itemCount: 100, netContent: tin, issuedKg: 25, harvestedKg: 10 });
    const remote = await remoteAudit(batchId, {
      rpcUrl: node.rpcUrl,
      registry: deployment.registry,
      fromBlock: deployment.deployedAtBlock,
      gateway: server.url,
      server: server.url,
      token: demo.organisations.regulator.token,
    });
    assert.deepEqual(remote.findings, report.findings, "the regulator's own audit reads the product from the API");
  });

  it("refuses a net content that is not a mass or not a quantity, and stores nothing", async () => {
    const gtin = "06901234568028";
    const cases: { netContent: unknown; code: string }[] = [
      { netContent: { value: "1", unit: "litre" }, code: "product.net_content_unit" },
      { netContent: { value: "250", unit: "oz" }, code: "product.net_content_unit" },
      { netContent: { value: "250g", unit: "g" }, code: "units.quantity_format" },
      { netContent: { value: "0", unit: "g" }, code: "units.quantity_zero" },
      { netContent: { value: 250, unit: "g" }, code: "request.invalid" },
    ];
    for (const { netContent, code } of cases) {
      const refused = await coop.post<{ code: string }>("/api/v1/products", {
        gtin,
        name: { zh: "龙井" },
        category: "tea",
        unit: "kg",
        netContent,
      });
      assert.equal(refused.status, 400, JSON.stringify(netContent));
      assert.match(refused.headers.get("content-type") ?? "", /^application\/problem\+json/);
      assert.equal(refused.body.code, code, JSON.stringify(netContent));
    }
    assert.equal((await coop.get(`/api/v1/products/${gtin}`)).status, 404, "nothing was stored");
  });

  it("finds a cooperative whose plot-less harvests exceed all its land can give in a year, and only that", async () => {
    const onboarded = await onboardCooperative(server.url, deployment.env.ADMIN_TOKEN ?? "", {
      name: { zh: "龙坞茶叶专业合作社", en: "Longwu Tea Cooperative" },
      serial: 2001,
    });
    const organisationId = onboarded.id;
    await grantGtin(server.url, demo.organisations.cooperative.token, DEMO_GTIN, organisationId);
    const longwu = apiClient(server.url, onboarded.token);
    // 0.001 ha of tea: 0.001 × 6,000 kg/ha × 4 flushes = 24 kg a year. No batch names the plot.
    const plotId = expectStatus(
      await longwu.post<{ plot: { id: string } }>(`/api/v1/organisations/${organisationId}/plots`, {
        name: "龙坞 1 号茶园",
        areaHa: 0.001,
        regionCode: "330106",
      }),
      201,
      "plot",
    ).plot.id;
    const harvest = async (lot: string, harvestedAt: string): Promise<string> => {
      const batchId = expectStatus(
        await longwu.post<{ batch: { batchId: string } }>("/api/v1/batches", {
          gtin: DEMO_GTIN,
          lot,
          harvestedAt,
          quantity: { value: "20", unit: "kg" },
          itemCount: 5,
        }),
        202,
        lot,
      ).batch.batchId;
      await waitUntilAnchored(server.url, batchId, 0);
      return batchId;
    };
    const scopeAudit = async (): Promise<ScopeAuditReport> =>
      expectStatus(
        await regulator.get<ScopeAuditReport>(`/api/v1/audits?organisationId=${organisationId}`),
        200,
        "scope audit",
      );

    const first = await harvest("LW-2026-1", "2026-05-01T06:00:00+08:00");
    // The year before (China time), so it counts against 2025's capacity, not 2026's.
    await harvest("LW-2025-1", "2025-12-31T23:00:00+08:00");
    const honest = await scopeAudit();
    assert.deepEqual(honest.findings, [], "20 kg a year from land that gives 24");
    assert.deepEqual(
      honest.batches.map((b) => b.findings),
      [[], []],
    );

    const second = await harvest("LW-2026-2", "2026-05-08T06:00:00+08:00");
    const report = await scopeAudit();
    assert.deepEqual(
      report.batches.flatMap((b) => codes(b)),
      [],
      "no batch alone is wrong",
    );
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.severity]),
      [["mass_balance.cooperative_total_exceeded", "critical"]],
    );
    const evidence = report.findings[0]?.evidence ?? {};
    assert.equal(evidence.cooperative, organisationId);
    assert.equal(evidence.year, "2026");
    assert.equal(evidence.harvestedKg, 40);
    assert.equal(evidence.maxKg, 24);
    assert.equal(evidence.batchesWithoutPlot, 2);
    assert.deepEqual(evidence.plots, [{ id: plotId, areaHa: 0.001 }]);
    assert.deepEqual([...(evidence.batches as string[])].sort(), [first, second].sort());
  });

  it("finds a shipment before the harvest, and only that", async () => {
    const { batchId } = await batch();
    await event(demo.organisations.cooperative.token, batchId, {
      bizStep: "shipping",
      occurredAt: "2026-04-19T06:00:00+08:00",
      receiver: demo.organisations.logistics.id,
    });
    await waitUntilAnchored(server.url, batchId, 1);
    assert.deepEqual(codes(await audit(batchId)), ["timeline.order"]);
  });

  it("finds a cold-chain breach, and only that", async () => {
    const { batchId } = await batch();
    const start = Date.parse("2026-04-21T06:00:00+08:00");
    await event(demo.organisations.cooperative.token, batchId, {
      bizStep: "shipping",
      occurredAt: "2026-04-21T06:00:00+08:00",
      receiver: demo.organisations.logistics.id,
      data: {
        temperatures: Array.from({ length: 13 }, (_, i) => ({
          at: new Date(start + i * 600_000).toISOString(),
          celsius: i >= 3 && i <= 8 ? 31.5 : 12,
        })),
      },
    });
    await waitUntilAnchored(server.url, batchId, 1);
    const report = await audit(batchId);
    assert.deepEqual(codes(report), ["cold_chain.excursion"]);
    assert.equal(report.findings[0]?.evidence.kind, "too_warm");
  });

  it("finds a cloned code, and only that", async () => {
    const { batchId, lot } = await batch();
    await waitUntilAnchored(server.url, batchId, 0);
    const items = (await coop.get<{ items: { uri: string }[] }>(`/api/v1/batches/${batchId}/items?limit=1`)).body.items;
    const itemPath = new URL(items[0]?.uri ?? "").pathname;
    // Six page views in a day: CLONE_SCANS_PER_DAY's default (a genuine buyer's three do not count).
    for (let i = 0; i < 6; i++) await fetch(`${server.url}${itemPath}`, { headers: { accept: "text/html" } });
    assert.ok(itemPath.includes(lot));
    assert.deepEqual(codes(await audit(batchId)), ["clone.scans"]);
  });

  it("finds an item forged into two live cases and a case whose document does not give its root; an honest case passes", async () => {
    const { batchId } = await batch({ itemCount: 6 });
    await waitUntilAnchored(server.url, batchId, 0);
    const uris = (await coop.get<{ items: { uri: string }[] }>(`/api/v1/batches/${batchId}/items`)).body.items.map(
      (item) => item.uri,
    );
    assert.equal(uris.length, 6);
    const organisation = await getOrganisation(server.ctx.db, demo.organisations.cooperative.id);
    assert.ok(organisation?.custody.kind === "server");
    // The cooperative's own key, signing on the contract itself: the server never sees these packings.
    const cooperativeKey = await server.ctx.keyRing.unlock(organisation.custody.keystoreJson);
    const stack = {
      rpcUrl: node.rpcUrl,
      registry: deployment.registry,
      relayerKey: deployment.env.RELAYER_PRIVATE_KEY ?? "",
      content: server.ctx.content,
    };
    const honest = await packDirectly(stack, cooperativeKey, organisation.signerAddress, [
      { sscc: testSscc(1), items: uris.slice(0, 2) },
    ]);
    const clean = await audit(batchId);
    assert.deepEqual(clean.findings, []);
    assert.ok(clean.checked.includes("containers"));
    assert.equal(clean.packing?.registered, 6);
    assert.equal(clean.packing.packedLive, 2);
    assert.deepEqual(
      clean.packing.containers.map((c) => [c.sscc, c.live]),
      [[honest[0]?.sscc, true]],
    );

    // uris[1] is already in the honest case: a second live case listing it is a forged aggregation,
    // and a third case signs a root its document's items do not give.
    await packDirectly(stack, cooperativeKey, organisation.signerAddress, [
      { sscc: testSscc(2), items: uris.slice(1, 4) },
      { sscc: testSscc(3), items: uris.slice(4, 6), rootOf: uris.slice(3, 5) },
    ]);
    const report = await audit(batchId);
    // Seven units packed of six registered: the item counted in both cases is the over-packing.
    const expected = ["container.item_in_two_live", "container.root_mismatch", "lot.packed_over_registered"];
    assert.deepEqual(codes(report).sort(), expected);
    const twice = report.findings.find((f) => f.code === "container.item_in_two_live");
    assert.equal(twice?.evidence.item, uris[1]);
    assert.deepEqual((twice?.evidence.containers as { sscc: string }[]).map((c) => c.sscc).sort(), [
      testSscc(1),
      testSscc(2),
    ]);
    const mismatch = report.findings.find((f) => f.code === "container.root_mismatch");
    assert.equal(mismatch?.evidence.sscc, testSscc(3));
    assert.equal(mismatch.evidence.reason, "root");
    assert.equal(report.packing?.packedLive, 7);

    // The regulator's own audit from outside (the CLI's path) finds the same.
    const remote = await remoteAudit(batchId, {
      rpcUrl: node.rpcUrl,
      registry: deployment.registry,
      fromBlock: deployment.deployedAtBlock,
      gateway: server.url,
      server: server.url,
      token: demo.organisations.regulator.token,
    });
    assert.deepEqual(codes(remote).sort(), expected);
    const html = await fetch(`${server.url}/api/v1/audits/batches/${batchId}?format=html`, {
      headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
    });
    const page = await html.text();
    assert.match(page, /同一件商品同时出现在两个箱或托盘中/);
    assert.match(page, /装箱：登记 6 件，现在箱中 7 件（累计装箱 6 件），共 3 个箱或托盘/);
  });

  it("finds nothing wrong with a case packed and despatched through the API, and exports it", async () => {
    const { batchId, lot } = await batch({ itemCount: 4 });
    await waitUntilAnchored(server.url, batchId, 0);
    const uris = (await coop.get<{ items: { uri: string }[] }>(`/api/v1/batches/${batchId}/items`)).body.items.map(
      (item) => item.uri,
    );
    const sscc = testSscc(21);
    expectStatus(
      await coop.post("/api/v1/containers", {
        sscc,
        items: uris.slice(0, 3),
        occurredAt: "2026-04-22T09:00:00+08:00",
        shipTo: demo.organisations.retailer.id,
        bizTransactions: [
          { type: "po", id: "urn:example:po:AUD-1" },
          { type: "desadv", id: "urn:example:desadv:AUD-1" },
        ],
      }),
      202,
      "pack and despatch a case",
    );
    const anchored = async (): Promise<boolean> => {
      const view = await coop.get<{ container: { steps: { ledgerState: string }[] } }>(`/api/v1/containers/${sscc}`);
      return view.body.container.steps.every((step) => step.ledgerState === "anchored");
    };
    for (let i = 0; i < 240 && !(await anchored()); i++) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(await anchored(), "the case is anchored");

    const report = await audit(batchId);
    assert.deepEqual(report.findings, []);
    assert.equal(report.packing?.packedLive, 3);
    assert.deepEqual(
      report.packing.containers.map((c) => c.sscc),
      [sscc],
    );
    assert.deepEqual(
      report.packing.bizTransactions.map((b) => b.type),
      ["po", "desadv"],
    );

    const exported = expectStatus(
      await regulator.get<EpcisDocument>(`/api/v1/exports/epcis?batchId=${batchId}`),
      200,
      "EPCIS export",
    );
    const validation = loadEpcisValidator()(exported);
    assert.equal(validation.valid, true, formatSchemaErrors(validation.errors));
    const aggregation = exported.epcisBody.eventList.find((event) => event.type === "AggregationEvent");
    assert.equal(aggregation?.parentID, `https://id.gs1.org/00/${sscc}`);
    assert.equal((aggregation.childEPCs as string[]).length, 3);
    const despatch = exported.epcisBody.eventList.find(
      (event) => event["oioc:record"] === "container" && event.bizStep === "shipping",
    );
    assert.deepEqual(
      (despatch?.bizTransactionList as { bizTransaction: string }[]).map((entry) => entry.bizTransaction),
      ["urn:example:po:AUD-1", "urn:example:desadv:AUD-1"],
    );
    const csv = await fetch(`${server.url}/api/v1/exports/kde.csv?batchId=${batchId}`, {
      headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
    });
    const rows = (await csv.text()).split("\r\n").filter((line) => line.includes(`(00)${sscc}`));
    assert.equal(rows.length, 1, "one shipping row for the case (not yet received)");
    assert.match(rows[0] ?? "", new RegExp(`${lot},.*,3,H87,.*desadv urn:example:desadv:AUD-1`));
  });

  it("finds a case shipped after a consumer claimed an item in it", async () => {
    const { batchId, lot } = await batch({ itemCount: 3 });
    await waitUntilAnchored(server.url, batchId, 0);
    const items = (await coop.get<{ items: { uri: string; serial: string }[] }>(`/api/v1/batches/${batchId}/items`))
      .body.items;
    const sscc = testSscc(31);
    expectStatus(
      await coop.post("/api/v1/containers", {
        sscc,
        items: items.map((item) => item.uri),
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      }),
      202,
      "pack a case",
    );
    // A consumer bought one of its items (entered its hidden code); the case leaves afterwards.
    const sold = items[1]?.serial ?? "";
    const code = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, batchId, sold);
    expectStatus(
      await apiClient(server.url).post(`/api/v1/claims/${DEMO_GTIN}/${lot}/${sold}`, { code }),
      200,
      "claim",
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expectStatus(
      await coop.post(`/api/v1/containers/${sscc}/events`, {
        action: "shipping",
        occurredAt: new Date().toISOString(),
        receiver: demo.organisations.retailer.id,
      }),
      202,
      "ship the case",
    );
    const anchored = async (): Promise<boolean> => {
      const view = await coop.get<{ container: { steps: { ledgerState: string }[] } }>(`/api/v1/containers/${sscc}`);
      return view.body.container.steps.every((step) => step.ledgerState === "anchored");
    };
    for (let i = 0; i < 240 && !(await anchored()); i++) await new Promise((resolve) => setTimeout(resolve, 250));
    const report = await audit(batchId);
    assert.deepEqual(codes(report), ["container.shipped_after_sold"]);
    assert.equal(report.findings[0]?.evidence.sscc, sscc);
    assert.equal(report.findings[0].evidence.item, items[1]?.uri.replace(/^https?:\/\/[^/]+/, "https://id.gs1.org"));
  });

  it("audits a cooperative's batches together, and refuses non-regulators", async () => {
    const report = expectStatus(
      await regulator.get<ScopeAuditReport>(`/api/v1/audits?organisationId=${demo.organisations.cooperative.id}`),
      200,
      "scope audit",
    );
    assert.ok(report.batches.length >= 8);
    assert.ok(report.batches.some((b) => b.batchId === demo.batch.batchId && b.findings.length === 0));
    assert.deepEqual(
      report.findings.filter((f) => f.code === "mass_balance.cooperative_total_exceeded"),
      [],
      "the demo cooperative's year fits its land (250 kg of tea from 0.83 ha, and the test batches)",
    );
    const refused = await coop.get<{ code: string }>(`/api/v1/audits/batches/${demo.batch.batchId}`);
    assert.equal(refused.status, 403);
  });

  it("prints the zh report entirely in Chinese with China time, the en report in English", async () => {
    // The cooperative's whole season: findings with times in their evidence (a shipment
    // before the harvest, a cold-chain breach) and every batch's section.
    const scope = `/api/v1/audits?organisationId=${demo.organisations.cooperative.id}&format=html`;
    const get = async (lang: string): Promise<string> => {
      const response = await fetch(`${server.url}${scope}${lang}`, {
        headers: { authorization: `Bearer ${demo.organisations.regulator.token}` },
      });
      assert.equal(response.status, 200);
      return response.text();
    };
    const zh = await get("");
    assert.match(zh, /<html lang="zh-CN">/);
    assert.match(zh, /timeline\.order/);
    assert.match(zh, /cold_chain\.excursion/);
    assert.match(zh, /生成时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2} 北京时间/);
    assert.deepEqual(strayEnglish(zh), [], "no English sentence outside codes, CIDs, addresses and GTINs");
    assert.deepEqual(utcTimes(zh), [], "no UTC time anywhere, evidence included");
    assert.match(zh, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} 北京时间/, "evidence times in China time");

    const en = await get("&lang=en");
    assert.match(en, /<html lang="en">/);
    assert.match(en, /Generated: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(\d{2}:\d{2} China time\)/);
    assert.ok(!/[\u4e00-\u9fff]/.test(en.replace(/<(code|pre)>[\s\S]*?<\/\1>/g, "")), "no Chinese in the en report");
  });
});

/**
 * Runs of three or more ASCII words in a page's text, outside `<code>` and `<pre>` (codes,
 * evidence), URLs, 0x hashes and addresses, CIDs and digits: an English phrase in a page
 * that should be Chinese.
 */
function strayEnglish(html: string): string[] {
  const text = html
    .replace(/<head>[\s\S]*?<\/head>/, " ")
    .replace(/<(code|pre)>[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#\d+;/g, " ")
    .replace(/\bhttps?:\/\/\S+/g, " ")
    .replace(/\b0x[0-9a-fA-F]+\b/g, " ")
    .replace(/\bb[a-z2-7]{40,}\b/g, " ");
  return [...text.matchAll(/[A-Za-z]+(?:[\s,.;:'’()-]+[A-Za-z]+){2,}/g)].map((match) => match[0]);
}

/** ISO times in UTC (`…T06:30:00Z`, `….000Z`) or the word UTC. */
function utcTimes(html: string): string[] {
  return [...html.matchAll(/\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b|\bUTC\b|\bGMT\b/g)].map((match) => match[0]);
}

function codes(report: BatchAuditReport): string[] {
  return report.findings.map((f) => f.code);
}

function findFileWithContent(dir: string, content: Uint8Array): string {
  for (const name of readdirSync(dir, { recursive: true })) {
    const file = path.join(dir, String(name));
    if (!statSync(file).isFile() || statSync(file).size !== content.byteLength) continue;
    if (Buffer.from(readFileSync(file)).equals(Buffer.from(content))) return file;
  }
  throw new Error("no block file holds that content");
}
