/**
 * The cooperative console's Orders tab in Debian's Chromium against the real stack (a Hardhat
 * node in its own process, the server with SQLite): take an order on a phone-sized screen,
 * scan an item into it through the scanner's text field (typed, then Enter, as a USB or phone
 * scanner sends it) and see packed / to pack move, and see an oversold lot refused with the
 * server's words. Then the last "must show" of issue 14, an order packed, shipped and received:
 * the cooperative scans the order's last item, despatches it to a carrier (a refused receiver
 * first: the server's words, nothing changed), sees the case's SSCC and its packing reach the
 * ledger; the carrier, in the field console on a second phone, receives the case by its SSCC; the
 * seller's card turns "received", and the consumer's page of an item of the order shows its case,
 * the despatch and the receipt, verified in the browser. The Orders tab's pictures (an order
 * open, packed with the despatch form, despatched in its case), zh and en at 360×740, come from
 * console-gallery.test.ts.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";

import type { Browser, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { ERRORS } from "../../server/src/errors/registry.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const LOT = "CONSOLE-ORD";

describe("the cooperative console's orders in Chromium", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir: string | undefined;
  let browser: Browser | undefined;
  let cooperative: Party;
  let carrier: Party;
  let serials: string[];

  /** Console errors other than a failed load (a refused request is an answer, not a fault). */
  function watch(page: Page, problems: string[]): void {
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !/Failed to load resource/.test(message.text())) problems.push(message.text());
    });
  }

  async function signInToOrders(page: Page): Promise<void> {
    assert.ok(server !== undefined);
    await page.goto(`${server.url}/console/cooperative`);
    await page.fill("input[name=token]", cooperative.token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(".tabs").waitFor();
    await page.getByRole("tab", { name: "订单" }).click();
  }

  before(async () => {
    await buildWeb();
    await buildConsoles();
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "orders-console"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_710,
      companyPrefixes: ["6901234"],
    });
    carrier = await onboard(server.url, admin, {
      kind: "logistics",
      regionCode: "330106",
      serial: 9_711,
      name: { zh: "杭州冷链物流", en: "Hangzhou Cold Chain" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    const batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "3", itemCount: 3 });
    await settleLedger(server);
    serials = await listItemSerials(server.ctx.db, batchId);
    browser = (await launchChromium("the orders console test")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("takes an order, scans an item into it, and shows an oversold lot refused", async (t: TestContext) => {
    if (browser === undefined) {
      t.skip("Chromium is not available on this machine");
      return;
    }
    assert.ok(server !== undefined);
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: "zh-CN",
      isMobile: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !/Failed to load resource/.test(message.text())) problems.push(message.text());
    });
    await page.goto(`${server.url}/console/cooperative`);
    await page.fill("input[name=token]", cooperative.token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(".tabs").waitFor();
    await page.getByRole("tab", { name: "订单" }).click();

    const form = page.locator('[data-testid="new-order"]');
    await form.locator("input[name=buyerReference]").fill("shop-customer-17");
    await form.locator("select[name=channel]").selectOption("live_stream");
    await form.locator("input[name=platform]").fill("抖音");
    await form.locator("input[name=gtin]").fill(DEMO_GTIN);
    await form.locator("input[name=lot]").fill(LOT);
    await form.locator("input[name=quantity]").fill("2");
    await form.locator("button[type=submit]").click();
    const card = page.locator("section.order").first();
    await card.waitFor();
    assert.equal(await card.locator('[data-testid="packed"]').textContent(), "0 / 2");
    assert.match((await card.locator(".help").first().textContent()) ?? "", /直播 · 抖音/);

    // The scanner types the item's code and Enter.
    const scan = card.locator('[data-testid="scan-input"]');
    await scan.fill(`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serials[0] ?? ""}`);
    await scan.press("Enter");
    await page.locator('section.order [data-testid="packed"]', { hasText: "1 / 2" }).waitFor();
    assert.equal(await page.locator('section.order [data-testid="to-pack"]').first().textContent(), "1");
    assert.equal(await page.locator('[data-testid="order-status"]').first().textContent(), "装箱中");

    // 3 items registered, 2 ordered: an order of 2 more is refused, in the server's words.
    await form.locator("input[name=buyerReference]").fill("shop-customer-18");
    await form.locator("input[name=gtin]").fill(DEMO_GTIN);
    await form.locator("input[name=lot]").fill(LOT);
    await form.locator("input[name=quantity]").fill("2");
    await form.locator("button[type=submit]").click();
    await page.locator(".flash-error", { hasText: ERRORS["lot.sold_out"].zh }).waitFor();
    assert.equal(await page.locator("section.order").count(), 1, "nothing was stored");

    await context.close();
    assert.deepEqual(problems, [], "the console logged errors");
  });

  it("despatches the order to a carrier, who receives the case in the field console; the item's page shows it", async (t: TestContext) => {
    if (browser === undefined) {
      t.skip("Chromium is not available on this machine");
      return;
    }
    assert.ok(server !== undefined);
    const problems: string[] = [];
    const seller = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", isMobile: true });
    const page = await seller.newPage();
    watch(page, problems);
    await signInToOrders(page);
    const card = page.locator("section.order").first();
    await card.waitFor();
    assert.equal(await card.locator('[data-testid="despatch-form"]').count(), 0, "no despatch before all is packed");

    // The order's second item: the line is full and the despatch is offered.
    const scan = card.locator('[data-testid="scan-input"]');
    await scan.fill(`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serials[1] ?? ""}`);
    await scan.press("Enter");
    await page.locator('section.order [data-testid="packed"]', { hasText: "2 / 2" }).waitFor();
    const despatch = page.locator('[data-testid="despatch-form"]');
    await despatch.waitFor();
    await page.click("[data-action=lang]");
    await page.getByText("Despatch (pack the case and ship it)").waitFor();
    await page.click("[data-action=lang]");
    await page.getByText("发货（装箱并发出）").waitFor();

    // A receiver that is no organisation: refused in the server's words, the order as it was.
    await despatch.locator("input[name=shipTo]").fill("no-such-organisation");
    await despatch.locator("button[type=submit]").click();
    await page.locator(".flash-error", { hasText: ERRORS["event.receiver_invalid"].zh }).waitFor();
    const orderId = (await card.getAttribute("data-order-id")) ?? "";
    const refused = expectStatus(
      await cooperative.api.get<{ order: { status: string; despatch: unknown } }>(`/api/v1/orders/${orderId}`),
      200,
      "the order after a refused despatch",
    ).order;
    assert.equal(refused.status, "packing");
    assert.equal(refused.despatch, null);

    // To the carrier, in a case the server allocates.
    await page.locator('[data-testid="despatch-form"] input[name=shipTo]').fill(carrier.id);
    await page.locator('[data-testid="despatch-form"] button[type=submit]').click();
    const caseSscc = page.locator('section.order [data-testid="case-sscc"]');
    await caseSscc.waitFor();
    const sscc = (await caseSscc.textContent()) ?? "";
    assert.match(sscc, /^\d{18}$/);
    assert.equal(await page.locator('[data-testid="order-status"]').first().textContent(), "已发货");
    assert.equal(await page.locator('[data-testid="despatch-form"]').count(), 0);
    assert.match((await page.locator(".flash-ok").last().textContent()) ?? "", new RegExp(`已发货，箱码 ${sscc}`));
    await page.click("[data-action=lang]");
    await page.getByText("Case SSCC").first().waitFor();
    assert.equal(await page.locator('[data-testid="order-status"]').first().textContent(), "Despatched");
    await page.click("[data-action=lang]");

    // The packing reaches the ledger; the card follows by itself.
    await settleLedger(server);
    await page.locator('[data-testid="case-ledger"][data-state="anchored"]').waitFor();
    assert.equal(await page.locator('[data-testid="case-ledger"]').textContent(), "已上链");

    // The carrier, on a second phone, receives the case by its SSCC.
    const field = await browser.newContext({
      viewport: { width: 360, height: 740 },
      locale: "zh-CN",
      isMobile: true,
      hasTouch: true,
    });
    const phone = await field.newPage();
    watch(phone, problems);
    await phone.goto(`${server.url}/console/field`);
    await phone.fill("input[name=token]", carrier.token);
    await phone.click("form.sign-in button[type=submit]");
    await phone.locator("[data-testid=scan-form]").waitFor();
    await phone.fill("input[name=code]", `(00)${sscc}`);
    await phone.click("[data-testid=scan-form] button[type=submit]");
    await phone.locator("[data-testid=may-record]").waitFor();
    assert.equal(await phone.locator("[data-testid=lookup]").getAttribute("data-kind"), "container");
    await phone.click("[data-step=receiving]");
    await phone.click("[data-testid=record-form] button[type=submit]");
    await phone.locator(".flash-ok").waitFor();
    await field.close();

    // Back at the packing table: the order reads "received".
    await page.locator('[data-testid="order-status"]', { hasText: "已签收" }).waitFor();
    assert.equal(await card.getAttribute("data-status"), "received");
    await seller.close();

    // The consumer scans an item of the order: its case, the despatch and the receipt, verified.
    await settleLedger(server);
    const consumer = await browser.newPage({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
    await consumer.goto(`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serials[1] ?? ""}`);
    await consumer.locator('[data-verdict="verified"]').waitFor({ timeout: 30_000 });
    assert.equal(await consumer.locator('[data-check="containers"]').getAttribute("data-ok"), "true");
    const packing = consumer.locator(`[data-sscc="${sscc}"][data-container-step="packing"]`);
    assert.match(await packing.innerText(), new RegExp(`装箱 SSCC ${sscc}`));
    assert.match(await packing.innerText(), /发往 杭州冷链物流/);
    assert.match(
      await consumer.locator(`[data-sscc="${sscc}"][data-container-step="receiving"]`).innerText(),
      /杭州冷链物流 收货/,
    );
    assert.equal(await consumer.locator(`[data-sscc="${sscc}"] .flag`).count(), 0, "verified and on the chain");
    await consumer.close();
    assert.deepEqual(problems, [], "the consoles logged errors");
  });
});
