/**
 * The field console (issue 15) in Debian's Chromium on a 360×740 phone screen, against the real
 * stack (a Hardhat node in its own process, the server with SQLite and embedded IPFS). A carrier
 * signs in with its token, reads an item's code from a photo of its label (headless Chromium on
 * Linux has no BarcodeDetector, so this is the page's own QR decoder; a live camera cannot be
 * driven here, and the camera loop uses the same reader), types it the second time, receives the batch, then with the phone offline queues
 * a shipment naming no real receiver and one to the shop with a logger's CSV of temperatures;
 * the console is reloaded offline (it opens from the service worker, with its queue); back online
 * the refused shipment is set aside with the server's reason and the good one is sent exactly
 * once. A testing centre records a residue result with the report's photo, which the consumer's
 * item page shows. Screenshots of each page, zh and en, go to test-results/field-*.png.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { ssccFor } from "../../server/src/domain/sscc.ts";
import { qrPng } from "../../server/src/labels/qr.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshotDir = path.join(projectRoot, "test-results");
const PHONE = { width: 360, height: 740 };
const LOT = "FIELD-1";
const CASE = ssccFor(0, DEMO_COMPANY_PREFIX, 201n);

interface EventRow {
  bizStep: string;
  actorOrganisationId: string;
  data: { temperatures?: { celsius: number }[]; tests?: { substance: string }[] };
  payloadCid: string;
  receiver: { organisationId: string | null } | null;
}

describe("the field console on a phone, in Chromium", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let cooperative: Party;
  let carrier: Party;
  let shop: Party;
  let lab: Party;
  let batchId = "";
  let serial = "";
  const problems: string[] = [];

  async function phone(): Promise<{ context: BrowserContext; page: Page }> {
    assert.ok(browser !== undefined);
    const context = await browser.newContext({ viewport: PHONE, locale: "zh-CN", isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => problems.push(error.message));
    return { context, page };
  }

  async function bothLanguages(page: Page, name: string, englishText: RegExp): Promise<void> {
    await page.screenshot({ path: path.join(screenshotDir, `field-${name}-zh.png`), fullPage: true });
    await page.click("[data-action=lang]");
    await page.getByText(englishText).first().waitFor();
    await page.screenshot({ path: path.join(screenshotDir, `field-${name}-en.png`), fullPage: true });
    await page.click("[data-action=lang]");
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${String(server?.url)}/console/field`);
    await page.fill("input[name=token]", token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator("[data-testid=scan-form]").waitFor();
  }

  async function lookUp(page: Page, code: string): Promise<void> {
    // The previous lookup's list is still on screen until the new answer is drawn: wait for a
    // card from this lookup, or the old list would be read.
    const before = await page.evaluate(
      () => document.querySelector<HTMLElement>("[data-testid=lookup]")?.dataset.fetchedAt ?? null,
    );
    await page.fill("input[name=code]", code);
    await page.click("[data-testid=scan-form] button[type=submit]");
    await page.waitForFunction((previous) => {
      const card = document.querySelector<HTMLElement>("[data-testid=lookup]");
      return card !== null && card.dataset.fetchedAt !== previous;
    }, before);
    await page.locator("[data-testid=may-record]").waitFor();
  }

  async function eventsOfBatch(): Promise<EventRow[]> {
    return expectStatus(
      await cooperative.api.get<{ events: EventRow[] }>(`/api/v1/batches/${batchId}/events`),
      200,
      "events",
    ).events;
  }

  before(async () => {
    await buildWeb();
    await buildConsoles();
    mkdirSync(screenshotDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "field-console-e2e"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const url = server.url;
    cooperative = await onboard(url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_701,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
      name: { zh: "龙井合作社", en: "Longjing Cooperative" },
    });
    carrier = await onboard(url, admin, {
      kind: "logistics",
      regionCode: "330106",
      serial: 9_702,
      name: { zh: "杭州冷链物流", en: "Hangzhou Cold Chain" },
    });
    shop = await onboard(url, admin, {
      kind: "retailer",
      regionCode: "310101",
      serial: 9_703,
      name: { zh: "上海茶韵专卖店", en: "Shanghai Tea Shop" },
    });
    lab = await onboard(url, admin, {
      kind: "inspector",
      regionCode: "330106",
      serial: 9_704,
      name: { zh: "杭州农产品检测中心", en: "Hangzhou Testing Centre" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "6", itemCount: 6 });
    await settleLedger(server);
    serial = (await listItemSerials(server.ctx.db, batchId))[0] ?? "";
    // The cooperative hands the batch to the carrier and asks the testing centre to inspect it.
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-16T08:00:00+08:00",
        receiver: carrier.id,
      }),
      202,
      "shipping to the carrier",
    );
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/inspection-requests`, { inspector: lab.id }),
      202,
      "inspection request",
    );
    // A case of another lot, despatched to the carrier in one signed request.
    const caseBatch = await registerDemoBatch(cooperative.api, "FIELD-2", { quantityKg: "2", itemCount: 2 });
    await settleLedger(server);
    expectStatus(
      await cooperative.api.post("/api/v1/containers", {
        sscc: CASE,
        items: [{ gtin: DEMO_GTIN, lot: "FIELD-2", serials: await listItemSerials(server.ctx.db, caseBatch) }],
        occurredAt: "2026-04-16T09:00:00+08:00",
        shipTo: carrier.id,
      }),
      202,
      "pack and despatch the case",
    );
    await settleLedger(server);
    browser = (await launchChromium("the field console test")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a carrier receives, ships offline with a temperature log, reloads offline, and it is sent once; a refused entry does not block", async () => {
    assert.ok(server !== undefined && browser !== undefined, "Chromium and the server are up");
    const { context, page } = await phone();
    await page.goto(`${server.url}/console/field`);
    await page.locator("form.sign-in").waitFor();
    await bothLanguages(page, "signin", /Field console/);
    await signIn(page, carrier.token);
    // The service worker has the console's files before the phone goes offline.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });

    // The item's label photographed: no BarcodeDetector on Linux, so the page loads its QR decoder.
    const itemLink = `${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serial}`;
    const decoderLoads: string[] = [];
    page.on("request", (request) => {
      if (/qr-decoder-[0-9a-f]{10}\.js$/.test(request.url())) decoderLoads.push(request.url());
    });
    await page.setInputFiles("input[name=code-photo]", {
      name: "label.png",
      mimeType: "image/png",
      buffer: await qrPng(itemLink, { sizePx: 400 }),
    });
    await page.locator("[data-testid=may-record]").waitFor();
    assert.equal(await page.inputValue("input[name=code]"), itemLink);
    assert.equal(decoderLoads.length, 1, "the decoder was fetched when the photo needed it");
    assert.deepEqual(
      await page
        .locator("[data-testid=may-record] [data-step]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-step"))),
      ["receiving"],
    );
    await bothLanguages(page, "lookup", /What you may record now/);
    await page.click("[data-step=receiving]");
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-ok").waitFor();
    await settleLedger(server);

    await lookUp(page, `${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serial}`);
    const offered = await page
      .locator("[data-testid=may-record] [data-step]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-step")));
    // The custodian now (the registry also lets a custodian record receiving again, so that stays).
    assert.ok(offered.includes("shipping"), offered.join(","));

    // Offline: a shipment naming nobody real, then the real one with the logger's CSV.
    await context.setOffline(true);
    await page.click("[data-step=shipping]");
    await page.fill("[data-testid=record-form] input[name=receiver]", "no-such-organisation");
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-info").waitFor();
    await page.click("[data-step=shipping]");
    await page.fill("[data-testid=record-form] input[name=receiver]", shop.id);
    const csv = ["time,temperature_c", "2026-04-18 08:00,4.5", "2026-04-18 09:00,5.0", "2026-04-18 10:00,4.8"].join(
      "\n",
    );
    await page.setInputFiles("[data-testid=record-form] input[name=csv]", {
      name: "logger.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(csv),
    });
    await page.waitForFunction(() =>
      document.querySelector<HTMLTextAreaElement>("textarea[name=temperatures]")?.value.includes("4.8"),
    );
    await bothLanguages(page, "ship-form", /Import a temperature logger/);
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-info").waitFor();

    // Reloaded with no network: the page comes from the service worker, the queue from the phone.
    const reloaded = await page.reload();
    assert.equal(reloaded?.fromServiceWorker(), true, "the console page came from the service worker");
    await page.locator("[data-testid=offline]").waitFor();
    // What the worker keeps: the consoles' pages and files, never an API answer.
    const cached = await page.evaluate(async () => {
      const paths: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
      }
      return paths;
    });
    assert.ok(
      cached.includes("/console/field") && cached.some((p) => /^\/web\/console\/field-/.test(p)),
      cached.join(),
    );
    assert.deepEqual(
      cached.filter((p) => !p.startsWith("/console/") && !p.startsWith("/web/")),
      [],
    );
    await page.click("nav.tabs [role=tab]:nth-child(2)");
    await page.locator("[data-testid=queue] li").nth(1).waitFor();
    assert.equal(await page.locator("[data-testid=queue] li").count(), 2);
    await bothLanguages(page, "queue-offline", /Waiting to send/);
    assert.equal(
      (await eventsOfBatch()).filter((e) => e.actorOrganisationId === carrier.id && e.bizStep === "shipping").length,
      0,
    );

    // Back online: the refused one is set aside with the server's reason, the other goes once.
    await context.setOffline(false);
    await page.locator("[data-testid=queue-refused]").waitFor();
    await page.locator("[data-testid=queue] li").waitFor({ state: "detached" });
    assert.match((await page.locator("[data-testid=queue-refused]").textContent()) ?? "", /event\.receiver_invalid/);
    await bothLanguages(page, "queue-refused", /Not accepted/);
    // Another pass (the online event again, a second flush) sends nothing more.
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await settleLedger(server);
    const shipments = (await eventsOfBatch()).filter(
      (e) => e.actorOrganisationId === carrier.id && e.bizStep === "shipping",
    );
    assert.equal(shipments.length, 1, "the shipment was recorded exactly once");
    assert.equal(shipments[0]?.receiver?.organisationId, shop.id);
    assert.deepEqual(shipments[0].data.temperatures?.map((r) => r.celsius) ?? [], [4.5, 5, 4.8]);
    await context.close();
  });

  it("the shop receives what the carrier shipped and records the sale", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone();
    await signIn(page, shop.token);
    const itemLink = `${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serial}`;
    const offered = async (): Promise<(string | null)[]> =>
      page
        .locator("[data-testid=may-record] [data-step]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-step")));
    await lookUp(page, itemLink);
    assert.deepEqual(await offered(), ["receiving"]);
    await page.click("[data-step=receiving]");
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-ok").waitFor();
    await settleLedger(server);
    await lookUp(page, itemLink);
    assert.ok((await offered()).includes("retail_selling"));
    await page.click("[data-step=retail_selling]");
    await bothLanguages(page, "sell-form", /Sell/);
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-ok").waitFor();
    await context.close();
    const steps = (await eventsOfBatch()).filter((e) => e.actorOrganisationId === shop.id).map((e) => e.bizStep);
    assert.deepEqual(steps, ["receiving", "retail_selling"]);
  });

  it("a carrier receives a case by its SSCC", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone();
    await signIn(page, carrier.token);
    await lookUp(page, `(00)${CASE}`);
    assert.equal(await page.locator("[data-testid=lookup]").getAttribute("data-kind"), "container");
    assert.deepEqual(
      await page
        .locator("[data-testid=may-record] [data-step]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-step"))),
      ["receiving"],
    );
    await bothLanguages(page, "case", /Case \/ pallet/);
    await page.click("[data-step=receiving]");
    await page.click("[data-testid=record-form] button[type=submit]");
    await page.locator(".flash-ok").waitFor();
    await context.close();
    await settleLedger(server);
    const { container } = expectStatus(
      await cooperative.api.get<{
        container: { custodianOrganisationId: string | null; pendingReceiverOrganisationId: string | null };
      }>(`/api/v1/containers/${CASE}`),
      200,
      "the case",
    );
    assert.equal(container.custodianOrganisationId, carrier.id);
    assert.equal(container.pendingReceiverOrganisationId, null);
  });

  it("a testing centre records a residue result with the report photo; the consumer's item page shows it", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone();
    await signIn(page, lab.token);
    await lookUp(page, `${server.url}/01/${DEMO_GTIN}/10/${LOT}`);
    await page.click("[data-step=inspecting]");
    await page.fill("input[name=substance]", "毒死蜱 chlorpyrifos");
    await page.fill("input[name=result]", "0.01");
    await page.fill("input[name=limit]", "0.1");
    await page.fill("input[name=standard]", "GB 2763-2021");
    const reportPhoto = await qrPng("检测报告 FIELD-1", { sizePx: 200 });
    await page.setInputFiles("input[name=photo]", { name: "report.png", mimeType: "image/png", buffer: reportPhoto });
    await bothLanguages(page, "inspect-form", /Substance tested/);
    // The language switch redrew the form: what was typed and the photo chosen are still there.
    assert.equal(await page.inputValue("input[name=substance]"), "毒死蜱 chlorpyrifos");
    await page.locator("[data-testid=photo-chosen]", { hasText: "report.png" }).waitFor();
    await page.click("[data-testid=record-form] button[type=submit]");
    await page
      .locator(".flash-ok")
      .waitFor()
      .catch(async (error: unknown) => {
        const stored = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
        throw new Error(`not sent: ${stored}`, { cause: error });
      });
    await context.close();
    await settleLedger(server);
    const inspections = (await eventsOfBatch()).filter((e) => e.bizStep === "inspecting");
    assert.equal(inspections.length, 1);
    // The report photo went up from the phone's store and the signed event names it.
    const payload = (await (await fetch(`${server.url}/ipfs/${String(inspections[0]?.payloadCid)}`)).json()) as {
      attachmentCids: string[];
    };
    assert.equal(payload.attachmentCids.length, 1);
    const stored = await fetch(`${server.url}/ipfs/${String(payload.attachmentCids[0])}`);
    assert.deepEqual(Buffer.from(await stored.arrayBuffer()), reportPhoto);
    const consumer = await browser.newPage({ viewport: PHONE, locale: "zh-CN" });
    await consumer.goto(`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serial}`);
    await consumer.locator("li.test[data-test=passed]", { hasText: "chlorpyrifos" }).waitFor({ timeout: 30_000 });
    await consumer.close();
    assert.deepEqual(problems, []);
  });
});
