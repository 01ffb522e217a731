/**
 * Each item's own path on the scan page, in Chromium against a real server and Hardhat node:
 * two items of one batch are packed into two cases, despatched to two shops and received;
 * each item's page shows its own case and shop (not the other's), verified in the browser
 * (signatures, the state chain to the registry's `containerState`, the item's proof, the
 * documents), with the batch's 合格证. Then a compromised server packs an item already in a
 * live case into a second case (it deletes the item's row of the first case from its own
 * database, so its check lets the packing through, and puts it back; the chain never sees
 * the leaves): the page names the item as being in two live cases.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import { ssccFor } from "../../server/src/domain/sscc.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { verifyResolution } from "../../server/src/verify/index.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";

/** Phone screenshots of the pages, for a person to look at (not compared). */
const screenshots = path.resolve(import.meta.dirname, "../../test-results/item-paths");

const CASE_A = ssccFor(0, DEMO_COMPANY_PREFIX, 101n);
const CASE_B = ssccFor(0, DEMO_COMPANY_PREFIX, 102n);
const CASE_FORGED = ssccFor(0, DEMO_COMPANY_PREFIX, 103n);
const CASE_C = ssccFor(0, DEMO_COMPANY_PREFIX, 104n);
const PALLET = ssccFor(3, DEMO_COMPANY_PREFIX, 105n);

describe("each item's own path on the scan page", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | null = null;
  let dataDir = "";
  let batchId = "";
  let lot = "";
  let serials: string[] = [];
  let shanghai: Party;
  let shenzhen: Party;
  let cooperative: Party;

  const itemPath = (serial: string): string => `/01/${DEMO_GTIN}/10/${lot}/21/${serial}`;

  async function open(serial: string, verdict: string): Promise<Page> {
    if (browser === null || server === undefined) throw new Error("not started");
    const page = await browser.newPage({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
    await page.goto(`${server.url}${itemPath(serial)}`);
    await page.waitForSelector(`[data-verdict="${verdict}"]`, { timeout: 30_000 }).catch(async (error: unknown) => {
      const checks = await page
        .locator("[data-check]")
        .evaluateAll((els) =>
          els.map(
            (el) =>
              `${el.getAttribute("data-check") ?? ""}=${el.getAttribute("data-ok") ?? ""} ${el.getAttribute("title") ?? ""}`,
          ),
        );
      const shown = await page.locator("[data-verdict]").getAttribute("data-verdict");
      throw new Error(`expected ${verdict}, the page says ${String(shown)}: ${checks.join("; ")}`, { cause: error });
    });
    return page;
  }

  before(async () => {
    await buildWeb();
    mkdirSync(screenshots, { recursive: true });
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "item-paths"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const url = server.url;
    cooperative = await onboard(url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_601,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
      name: { zh: "龙井合作社", en: "Longjing Cooperative" },
    });
    shanghai = await onboard(url, admin, {
      kind: "retailer",
      regionCode: "310101",
      serial: 9_602,
      name: { zh: "上海茶韵专卖店", en: "Shanghai Tea Shop" },
    });
    shenzhen = await onboard(url, admin, {
      kind: "retailer",
      regionCode: "440305",
      serial: 9_603,
      name: { zh: "深圳网店", en: "Shenzhen Online Shop" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    lot = "PATHS-1";
    batchId = await registerDemoBatch(cooperative.api, lot, { quantityKg: "8", itemCount: 8 });
    await settleLedger(server);
    serials = await listItemSerials(server.ctx.db, batchId);
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/certificates`, {
        basis: ["self_test"],
        phone: "0571-8888 1234",
        quantity: { value: "6", unit: "kg" },
      }),
      201,
      "certificate",
    );
    // Three items to Shanghai, three to Shenzhen, each case despatched in one signed request.
    const packedAt = "2026-04-20T09:00:00+08:00";
    for (const [sscc, items, shop] of [
      [CASE_A, serials.slice(0, 3), shanghai],
      [CASE_B, serials.slice(3, 6), shenzhen],
    ] as const) {
      expectStatus(
        await cooperative.api.post("/api/v1/containers", {
          sscc,
          items: [{ gtin: DEMO_GTIN, lot, serials: items }],
          occurredAt: packedAt,
          shipTo: shop.id,
        }),
        202,
        `pack ${sscc}`,
      );
    }
    await settleLedger(server);
    for (const [sscc, shop, at] of [
      [CASE_A, shanghai, "2026-04-21T10:00:00+08:00"],
      [CASE_B, shenzhen, "2026-04-22T10:00:00+08:00"],
    ] as const) {
      expectStatus(
        await shop.api.post(`/api/v1/containers/${sscc}/events`, { action: "receiving", occurredAt: at }),
        202,
        `receive ${sscc}`,
      );
    }
    await settleLedger(server);
    browser = await launchChromium("the item paths test");
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  });

  it("resolves each item with its own case, its steps signed and anchored", async () => {
    assert.ok(server !== undefined);
    const answer = (await fetch(`${server.url}${itemPath(serials[0] ?? "")}`, {
      headers: { accept: "application/json" },
    }).then((r) => r.json())) as ItemResolution;
    assert.deepEqual(
      answer.containers?.map((c) => [c.sscc, c.leaf.type, c.live, c.steps.map((s) => [s.action, s.ledgerState])]),
      [
        [
          CASE_A,
          "item",
          true,
          [
            ["packing", "anchored"],
            ["receiving", "anchored"],
          ],
        ],
      ],
    );
    const packing = answer.containers.at(0)?.steps.at(0);
    assert.equal(packing?.counterparty?.organisationId, shanghai.id, "despatched to Shanghai");
    assert.equal(answer.certificates?.length, 1);
    assert.deepEqual(answer.scans.signals, []);
    // The CLI's path (Node, the containers module loaded as it is): the same verdict as the page's.
    const report = await verifyResolution(answer, { baseUrl: server.url });
    assert.equal(report.verdict, "verified", JSON.stringify(report.checks.filter((c) => c.ok !== true)));
    assert.deepEqual(
      report.containers.map((c) => c.steps.map((s) => [s.action, s.valid, s.onChain])),
      [
        [
          ["packing", true, true],
          ["receiving", true, true],
        ],
      ],
    );
  });

  it("shows each item's own case and shop, verified in the browser, with the batch's 合格证", async () => {
    assert.ok(browser !== null, "Chromium is needed for this test");
    for (const [serial, own, other, shop] of [
      [serials[0] ?? "", CASE_A, CASE_B, "上海茶韵专卖店"],
      [serials[4] ?? "", CASE_B, CASE_A, "深圳网店"],
    ] as const) {
      const page = await open(serial, "verified");
      assert.equal(await page.locator('[data-check="containers"]').getAttribute("data-ok"), "true");
      assert.equal(await page.locator(`[data-sscc="${own}"]`).count(), 2, "packed and received");
      assert.equal(await page.locator(`[data-sscc="${other}"]`).count(), 0, "nothing of the other case");
      const packing = page.locator(`[data-sscc="${own}"][data-container-step="packing"]`);
      assert.match(await packing.innerText(), new RegExp(`装箱 SSCC ${own}`));
      assert.match(await packing.innerText(), new RegExp(`发往 ${shop}`));
      assert.match(
        await page.locator(`[data-sscc="${own}"][data-container-step="receiving"]`).innerText(),
        new RegExp(`${shop} 收货`),
      );
      // Verified and on the chain: no flag on either line.
      assert.equal(await page.locator(`[data-sscc="${own}"] .flag`).count(), 0);
      assert.equal(await page.locator("[data-certificate]").count(), 1);
      assert.match((await page.locator("[data-certificate] a").getAttribute("href")) ?? "", /^\/c\/0x[0-9a-f]{64}$/);
      await page.screenshot({ path: path.join(screenshots, `item-path-${own}-zh.png`), fullPage: true });
      await page.locator("button.lang").click();
      assert.match(await packing.innerText(), new RegExp(`Packed into case ${own}`));
      await page.close();
    }
  });

  it("flags an item a compromised server packed into a second live case", async () => {
    assert.ok(server !== undefined);
    const db = server.ctx.db;
    const serial = serials[1] ?? "";
    // The server hides the item's place in case A from its own check, packs it again (signed
    // with the cooperative's custodial key, anchored: the chain sees roots, not leaves), and
    // puts the row back.
    const hidden = await db
      .selectFrom("container_leaves")
      .selectAll()
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "=", serial)
      .execute();
    assert.equal(hidden.length, 1);
    await db
      .deleteFrom("container_leaves")
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "=", serial)
      .execute();
    expectStatus(
      await cooperative.api.post("/api/v1/containers", {
        sscc: CASE_FORGED,
        items: [{ gtin: DEMO_GTIN, lot, serial }],
        occurredAt: "2026-04-23T09:00:00+08:00",
      }),
      202,
      "the second packing",
    );
    await db.insertInto("container_leaves").values(hidden).execute();
    await settleLedger(server);

    assert.ok(browser !== null, "Chromium is needed for this test");
    const page = await open(serial, "suspicious");
    assert.equal(
      await page.locator('[data-check="containers"]').getAttribute("data-ok"),
      "true",
      "both genuine on chain",
    );
    const finding = page.locator('[data-finding="in_two_live_containers"]');
    assert.equal(await finding.count(), 1);
    assert.match(await finding.innerText(), new RegExp(`${CASE_A}、${CASE_FORGED}`));
    await page.screenshot({ path: path.join(screenshots, "item-path-two-cases-zh.png"), fullPage: true });
    await page.close();
    // The other items of case A are not affected.
    const neighbour = await open(serials[2] ?? "", "verified");
    assert.equal(await neighbour.locator("[data-finding]").count(), 0);
    await neighbour.close();
  });

  it("follows an item through its case into a pallet despatched to a shop", async () => {
    assert.ok(server !== undefined);
    expectStatus(
      await cooperative.api.post("/api/v1/containers", {
        sscc: CASE_C,
        items: [{ gtin: DEMO_GTIN, lot, serials: serials.slice(6, 8) }],
        occurredAt: "2026-04-24T09:00:00+08:00",
      }),
      202,
      "pack the case",
    );
    expectStatus(
      await cooperative.api.post("/api/v1/containers", {
        sscc: PALLET,
        containers: [CASE_C],
        occurredAt: "2026-04-24T10:00:00+08:00",
        shipTo: shanghai.id,
      }),
      202,
      "pack the pallet",
    );
    await settleLedger(server);
    const answer = (await fetch(`${server.url}${itemPath(serials[6] ?? "")}`, {
      headers: { accept: "application/json" },
    }).then((r) => r.json())) as ItemResolution;
    assert.deepEqual(
      answer.containers?.map((c) => [c.sscc, c.leaf]),
      [
        [CASE_C, { type: "item" }],
        [PALLET, { type: "container", sscc: CASE_C }],
      ],
    );
    const report = await verifyResolution(answer, { baseUrl: server.url });
    assert.equal(report.verdict, "verified", JSON.stringify(report.checks.filter((c) => c.ok !== true)));
    assert.deepEqual(
      report.containers.map((c) => [c.kind, c.live, c.steps.map((s) => [s.action, s.valid, s.onChain])]),
      [
        ["case", true, [["packing", true, true]]],
        ["pallet", true, [["packing", true, true]]],
      ],
    );
  });
});
