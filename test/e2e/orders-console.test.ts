/**
 * The cooperative console's Orders tab in Debian's Chromium against the real stack (a Hardhat
 * node in its own process, the server with SQLite): take an order on a phone-sized screen,
 * scan an item into it through the scanner's text field (typed, then Enter, as a USB or phone
 * scanner sends it) and see packed / to pack move, and see an oversold lot refused with the
 * server's words.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";

import type { Browser } from "playwright-core";

import { apiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
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
  let serials: string[];

  before(async () => {
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
});
