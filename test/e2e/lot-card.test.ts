/**
 * The live-stream lot card in Chromium on a 360 × 740 phone, against a real server and a
 * Hardhat node: the card verifies in the browser and shows the origin, what is left and the
 * 合格证, in Chinese and on the switch in English; its overlay PNG loads as an image; the
 * compact card loads in another site's iframe while the full page refuses to be framed; once
 * orders take the whole lot, the card says sold out and a further order is refused; a recall on
 * the chain turns it red.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildLotPage } from "../../scripts/tasks/build-lot-page.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startApiTestServer } from "../support/test-server.ts";

const LOT = "STREAM-1";
const ITEMS = 4;
const PHONE = { width: 360, height: 740 };
const SCREENSHOTS = path.resolve(import.meta.dirname, "../../test-results");

describe("the live-stream lot card in Chromium", () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser | null = null;
  let cooperative: Party;
  let certificateId = "";
  let batchId = "";
  const lotUrl = (): string => `${server.url}/01/${DEMO_GTIN}/10/${LOT}`;

  async function openCard(page: Page, url: string): Promise<string> {
    await page.goto(url);
    await page.waitForSelector('main:not([data-verdict="checking"])', { timeout: 15_000 });
    return (await page.getAttribute("main", "data-verdict")) ?? "";
  }

  const order = (quantity: number, reference: string) =>
    cooperative.api.post<{ code?: string }>("/api/v1/orders", {
      buyerReference: reference,
      channel: "live_stream",
      liveStream: { platform: "抖音", title: "明前龙井专场" },
      lines: [{ gtin: DEMO_GTIN, lot: LOT, quantity }],
    });

  before(async () => {
    await buildLotPage();
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    // The card's links and QR name the public origin: the one the browser opens.
    const port = await freePort();
    ({ server, dataDir } = await startApiTestServer(deployment.env, "lot-card-page", {
      WORKERS: "off",
      PORT: String(port),
      PUBLIC_ORIGIN: `http://127.0.0.1:${String(port)}`,
    }));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_610,
      name: { zh: "龙井直播合作社", en: "Longjing Live Cooperative" },
      companyPrefixes: ["6901234"],
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "4", itemCount: ITEMS });
    await settleLedger(server);
    certificateId = expectStatus(
      await cooperative.api.post<{ certificate: { id: string } }>(`/api/v1/batches/${batchId}/certificates`, {
        quantity: { value: "4", unit: "kg" },
        basis: ["self_test"],
        phone: "0571-8888 1234",
      }),
      201,
      "certificate",
    ).certificate.id;
    expectStatus(await order(1, "viewer-1"), 201, "first order");
    browser = await launchChromium("the lot card test");
  });

  // What was started is stopped even when `before` failed half-way, or the run hangs.
  after(async () => {
    await browser?.close();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("verifies the lot on a phone and shows origin, what is left and the 合格证, in zh and en", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    const page = await browser.newPage({ viewport: PHONE });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    assert.equal(await openCard(page, lotUrl()), "verified");
    assert.match((await page.textContent('[data-field="verdict"]')) ?? "", /已验证/);
    assert.match((await page.textContent("h1")) ?? "", /西湖龙井/);
    assert.equal(await page.textContent('[data-field="remaining"]'), `剩余 3 / ${String(ITEMS)} 件`);
    assert.equal(await page.textContent('[data-field="cooperative"]'), "龙井直播合作社");
    assert.match((await page.textContent('[data-field="origin"]')) ?? "", /西湖区/);
    // Harvested at 06:00 China time on 15 April (the 14th in UTC).
    assert.equal(await page.textContent('[data-field="harvest"]'), "2026-04-15");
    assert.match((await page.textContent('[data-field="certificate"]')) ?? "", /^4 千克 · \d{4}-\d{2}-\d{2}$/);
    assert.equal(await page.getAttribute('[data-field="certificate"] a', "href"), `${server.url}/c/${certificateId}`);
    // Each check of the batch passed, listed under "how we checked".
    const checks = await page.$$eval(".checks li[data-check]", (items) =>
      items.map((item) => item.getAttribute("data-ok")),
    );
    assert.deepEqual(checks, Array<string>(8).fill("true"));
    // The QR a viewer scans off the screen: big on the phone, and nothing wider than the screen.
    const qr = await page.locator('[data-field="qr"] svg').boundingBox();
    assert.ok(qr !== null && qr.width >= 250, `QR ${JSON.stringify(qr)}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `the page is ${String(width)} px wide`);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "lot-card-phone.png"), fullPage: true });
    await page.click("#lang");
    assert.match((await page.textContent('[data-field="verdict"]')) ?? "", /^Verified/);
    assert.equal(await page.textContent('[data-field="remaining"]'), `3 of ${String(ITEMS)} left`);
    assert.match((await page.textContent('[data-field="origin"]')) ?? "", /Xihu District/);
    await page.evaluate(() => {
      localStorage.clear();
    });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("serves the overlay as a square PNG the page loads as an image", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    const page = await browser.newPage({ viewport: PHONE });
    await openCard(page, lotUrl());
    const sizes = await page.evaluate(
      async (paths) => {
        const load = (src: string) =>
          new Promise<[number, number]>((resolve, reject) => {
            const image = new Image();
            image.onload = () => {
              resolve([image.naturalWidth, image.naturalHeight]);
            };
            image.onerror = () => {
              reject(new Error(`${src} did not load`));
            };
            image.src = src;
          });
        return Promise.all(paths.map(load));
      },
      [`${new URL(lotUrl()).pathname}/card.png`, `${new URL(lotUrl()).pathname}?format=png&size=360`],
    );
    assert.deepEqual(sizes, [
      [1080, 1080],
      [360, 360],
    ]);
    await page.close();
  });

  it("lets another site frame the compact card, and only it", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    const oembed = (await (
      await fetch(`${server.url}/oembed?url=${encodeURIComponent(lotUrl())}&format=json`)
    ).json()) as { html: string };
    // Another site (another port is another origin) embeds the card as oEmbed says, and tries the full page.
    const site = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><body>${oembed.html}<iframe id="full" src="${lotUrl()}"></iframe></body>`);
    });
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    const page = await browser.newPage({ viewport: PHONE });
    try {
      await page.goto(`http://127.0.0.1:${String((site.address() as AddressInfo).port)}/`);
      const embedFrame = page.frames().find((frame) => frame.url().endsWith("?embed=1"));
      assert.ok(embedFrame !== undefined, "the embed frame");
      await embedFrame.waitForSelector('main:not([data-verdict="checking"])', { timeout: 15_000 });
      assert.equal(await embedFrame.getAttribute("main", "data-verdict"), "verified");
      assert.equal(await embedFrame.textContent('[data-field="remaining"]'), `剩余 3 / ${String(ITEMS)} 件`);
      // The full page refuses other sites' frames: its document never loads there.
      const fullFrame = page.frames().find((frame) => frame.url() === lotUrl());
      const fullLoaded = await fullFrame?.evaluate(() => document.querySelector("main") !== null).catch(() => false);
      assert.notEqual(fullLoaded, true);
    } finally {
      site.close();
    }
    await page.close();
  });

  it("says sold out once orders take the whole lot, and refuses the next order", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    expectStatus(await order(ITEMS - 1, "viewer-2"), 201, "the rest of the lot");
    const refused = await order(1, "viewer-3");
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, "lot.sold_out");
    const page = await browser.newPage({ viewport: PHONE });
    assert.equal(await openCard(page, lotUrl()), "verified");
    assert.equal(await page.textContent('[data-field="sold-out"]'), "已售罄");
    assert.equal(await page.locator('[data-field="remaining"]').count(), 0);
    await page.close();
  });
  it("turns the card red once the lot is recalled on the chain", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/recall`, {
        reason: { zh: "农残复检超标", en: "Residue retest failed" },
      }),
      202,
      "recall",
    );
    await settleLedger(server);
    const page = await browser.newPage({ viewport: PHONE });
    assert.equal(await openCard(page, lotUrl()), "recalled");
    await page.screenshot({ path: path.join(SCREENSHOTS, "lot-card-recalled.png") });
    assert.match((await page.textContent('[data-field="verdict"]')) ?? "", /已召回/);
    assert.equal(await page.getAttribute("body", "class"), "page recalled");
    const band = await page.$eval(".verdict", (element) => getComputedStyle(element).backgroundColor);
    assert.equal(band, "rgb(179, 38, 30)");
    await page.close();
  });
});
