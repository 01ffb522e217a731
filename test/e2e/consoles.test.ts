/**
 * The two consoles in Debian's Chromium against the real stack: a Hardhat node in its own
 * process, the server with SQLite and embedded IPFS, demo organisations onboarded through
 * the API. The cooperative's main flow on a phone-sized screen (sign in, register a batch
 * with a video upload and its progress bar, watch it reach the ledger, download the label
 * sheet, record an event, work offline, recall, see a refusal explained) and the
 * regulator's at a desk (search and sort, audit with findings, exports, suspend and
 * reinstate, recall). The ledger writer is driven by the test (`workOnce`), so "pending"
 * is seen before "anchored" every time. The picture of a batch whose registration the ledger
 * refused goes to test-results/console-cooperative-failed.png; every other console page is shot
 * at 360×740 in both languages by console-gallery.test.ts.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";

import { Wallet, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import {
  DEMO_GTIN,
  grantGtin,
  onboardCooperative,
  seedDemoSystem,
  type DemoSystemSummary,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { explainLedgerFailure } from "../../server/src/domain/ledger-failures.ts";
import { loadEpcisValidator } from "../support/epcis-schema.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { startTestServer } from "../support/test-server.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { getOrganisation } from "../../server/src/storage/organisations.ts";
import { packDirectly, testSscc } from "../support/direct-containers.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshotDir = path.join(projectRoot, "test-results");
const PHONE = { width: 390, height: 844 };
const DESK = { width: 1366, height: 900 };

interface BatchAnswer {
  batch: {
    batchId: string;
    lot: string;
    status: string;
    videoCid: string | null;
    ledger: { state: string; failureReason: string | null };
  };
}

describe("the consoles in Chromium against the real server", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir: string;
  let browser: Browser | undefined;
  let demo: DemoSystemSummary;
  let coopApi: ApiClient;
  let regulatorApi: ApiClient;
  let adminToken: string;
  let deployment: LocalDeployment;

  async function settle(): Promise<void> {
    assert.ok(server !== undefined);
    await settleLedger(server);
  }

  async function batchByLot(lot: string): Promise<BatchAnswer["batch"]> {
    const list = expectStatus(
      await coopApi.get<{ batches: BatchAnswer["batch"][] }>("/api/v1/batches?limit=500"),
      200,
      "list batches",
    );
    const found = list.batches.find((b) => b.lot === lot);
    assert.ok(found !== undefined, `batch ${lot} is listed`);
    return found;
  }

  async function eventCount(batchId: string): Promise<number> {
    return expectStatus(await coopApi.get<{ events: unknown[] }>(`/api/v1/batches/${batchId}/events`), 200, "events")
      .events.length;
  }

  async function openConsole(
    name: "cooperative" | "regulator",
    token: string,
  ): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    assert.ok(browser !== undefined && server !== undefined);
    const context = await browser.newContext({
      viewport: name === "cooperative" ? PHONE : DESK,
      locale: "zh-CN",
      acceptDownloads: true,
      ...(name === "cooperative" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      // A CSP violation or an uncaught error in the page is a failure of the console itself.
      if (message.type() === "error" && !/Failed to load resource/.test(message.text())) problems.push(message.text());
    });
    await page.goto(`${server.url}/console/${name}`);
    await page.fill("input[name=token]", token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(".tabs").waitFor();
    return { context, page, problems };
  }

  /** Closes a console's browser context; an error the page logged fails the test. */
  async function closeConsole(opened: { context: BrowserContext; problems: string[] }): Promise<void> {
    await opened.context.close();
    assert.deepEqual(opened.problems, [], "the console logged errors");
  }

  async function saved(download: Download): Promise<Buffer> {
    const file = await download.path();
    return readFileSync(file);
  }

  function requireBrowser(t: TestContext): boolean {
    if (browser !== undefined) return true;
    t.skip("Chromium is not available on this machine (see the warning above)");
    return false;
  }

  before(async () => {
    const web = await buildWeb();
    assert.ok(web.withinBudget);
    await buildConsoles();
    mkdirSync(screenshotDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "consoles"));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    demo = await seedDemoSystem(server.url, adminToken, { itemCount: 20 });
    await settle();
    coopApi = apiClient(server.url, demo.organisations.cooperative.token);
    regulatorApi = apiClient(server.url, demo.organisations.regulator.token);
    browser = (await launchChromium("the consoles' browser tests")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves both consoles under the server's CSP with no inline script or style", async () => {
    assert.ok(server !== undefined);
    for (const name of ["cooperative", "regulator"]) {
      const response: Response = await fetch(`${server.url}/console/${name}`);
      assert.equal(response.status, 200);
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/);
      const html = await response.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, "no inline script");
      assert.doesNotMatch(html, /<style|style="/, "no inline style");
      for (const asset of html.matchAll(/(?:src|href)="(\/web\/console\/[^"]+)"/g)) {
        assert.equal((await fetch(`${server.url}${asset[1] ?? ""}`)).status, 200, `${asset[1] ?? ""} is served`);
      }
    }
  });

  it("cooperative: sign in, register a batch with a video, follow it to the ledger, labels, events", async (t) => {
    if (!requireBrowser(t)) return;
    assert.ok(server !== undefined);
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const { context, page } = opened;
    await page.locator(".brand", { hasText: "西湖龙井茶叶专业合作社" }).waitFor();

    // A wrong token is refused with the server's own words; so is a regulator's token here.
    assert.ok(browser !== undefined);
    const strangerContext = await browser.newContext();
    const stranger = await strangerContext.newPage();
    for (const [token, code] of [
      ["not-a-real-token-0000", /auth\./],
      [demo.organisations.regulator.token, /console\.wrong_role/],
    ] as const) {
      await stranger.goto(`${server.url}/console/cooperative`);
      await stranger.fill("input[name=token]", token);
      await stranger.click("form.sign-in button[type=submit]");
      await stranger.locator(".sign-in .flash-error").waitFor();
      assert.match((await stranger.locator(".sign-in .flash-error").textContent()) ?? "", code);
    }
    await strangerContext.close();

    // Register: the video uploads (throttled to 400 KB/s so the bar has something to show).
    await page.click(".tabs button:nth-child(2)");
    await page.fill("input[name=gtin]", DEMO_GTIN);
    await page.locator("[data-testid=product-hint]", { hasText: "西湖龙井" }).waitFor();
    await page.fill("input[name=lot]", "CONSOLE-1");
    await page.fill("input[name=quantity]", "12.5");
    await page.fill("input[name=itemCount]", "8");
    await page.fill("input[name=complianceCertificateNumber]", "HGZ-330106-2026-000999");
    await page.fill("textarea[name=descriptionZh]", "控制台登记的批次");
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { uploadPercents: number[] }).uploadPercents = seen;
      new MutationObserver(() => {
        const bar = document.querySelector("[data-testid=upload]");
        const percent = Number(bar?.getAttribute("data-percent") ?? "NaN");
        if (Number.isFinite(percent) && seen.at(-1) !== percent) seen.push(percent);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 400_000,
    });
    const video = randomBytes(1_500_000);
    await page.setInputFiles("input[name=video]", { name: "planting.mp4", mimeType: "video/mp4", buffer: video });
    await page.locator("[data-testid=upload][data-percent='100']", { hasText: "planting.mp4" }).waitFor({
      timeout: 60_000,
    });
    await page.locator("[data-testid=upload]", { hasText: "已上传" }).waitFor();
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const percents = await page.evaluate(() => (window as unknown as { uploadPercents: number[] }).uploadPercents);
    assert.equal(percents.at(-1), 100, `the bar ends full: ${percents.join(",")}`);
    assert.ok(
      percents.some((p) => p > 0 && p < 100),
      `the bar moved through intermediate values: ${percents.join(",")}`,
    );

    await page.click("[data-testid=register-form] button[type=submit]");
    const card = page.locator("[data-lot='CONSOLE-1']");
    const cardState = card.locator(".states [data-testid=ledger-state]");
    await cardState.waitFor();
    assert.match((await cardState.textContent()) ?? "", /待上链|上链中/);
    const registered = await batchByLot("CONSOLE-1");
    assert.equal(registered.ledger.state, "pending");
    assert.ok(registered.videoCid !== null, "the batch refers to the uploaded video");
    const stored = Buffer.from(await (await fetch(`${server.url}/ipfs/${registered.videoCid}`)).arrayBuffer());
    assert.equal(
      createHash("sha256").update(stored).digest("hex"),
      createHash("sha256").update(video).digest("hex"),
      "IPFS returns the bytes the phone sent",
    );

    // The page polls; the writer anchors; the card says so without a reload.
    await settle();
    await card.locator(".states [data-testid=ledger-state]", { hasText: "已上链" }).waitFor({ timeout: 20_000 });
    assert.equal((await batchByLot("CONSOLE-1")).ledger.state, "anchored");

    // The label sheet: a signed link, followed on this origin, downloads a PDF.
    const [download] = await Promise.all([page.waitForEvent("download"), card.locator("[data-action=labels]").click()]);
    const pdf = await saved(download);
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    assert.match(download.suggestedFilename(), /^labels-06901234567892-CONSOLE-1\.pdf$/);

    // Record a packing event.
    await card.locator("[data-action=events]").click();
    const form = card.locator("[data-testid=event-form]");
    await form.waitFor();
    await form.locator("label[data-step=packing]").click();
    await form.locator("input[name=place]").fill("合作社包装间");
    const before = await eventCount(registered.batchId);
    await form.locator("button[type=submit]").click();
    await card.locator("li[data-step=packing]").waitFor();
    assert.equal(await eventCount(registered.batchId), before + 1);
    await settle();
    await card.locator("li[data-step=packing] [data-testid=ledger-state]", { hasText: "已上链" }).waitFor({
      timeout: 20_000,
    });

    // A step that needs data is refused with the server's message, and nothing is stored.
    await form.locator("label[data-step=transforming]").click();
    await form.locator("input[name=sourceGtin]").fill("123");
    await form.locator("input[name=sourceLot]").fill("FRESH-1");
    await form.evaluate((element) => {
      (element as HTMLFormElement).noValidate = true; // what a client without HTML validation would send
    });
    await form.locator("button[type=submit]").click();
    await form.locator(".flash-error").waitFor();
    assert.equal(await eventCount(registered.batchId), before + 1, "a refused event changes nothing");

    await closeConsole(opened);
  });

  it("cooperative: offline writes wait on the phone and go out once, when it is back online", async (t) => {
    if (!requireBrowser(t)) return;
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const { context, page } = opened;
    const batch = await batchByLot("CONSOLE-1");
    const card = page.locator("[data-lot='CONSOLE-1']");
    await card.locator("[data-action=events]").click();
    const form = card.locator("[data-testid=event-form]");
    await form.waitFor();
    const before = await eventCount(batch.batchId);

    await context.setOffline(true);
    await page.locator("[data-testid=offline]").waitFor();
    await form.locator("label[data-step=shipping]").click();
    await form.locator("input[name=receiver]").fill(demo.organisations.logistics.id);
    await form.locator("input[name=place]").fill("杭州冷库");
    await form.locator("button[type=submit]").click();
    await page.locator("[data-testid=queue]", { hasText: "1" }).waitFor();
    assert.equal(await eventCount(batch.batchId), before, "nothing reached the server while offline");

    // Back online but the server still unreachable (a dead spot, a proxy): the write keeps
    // waiting, and survives a reload in the phone's storage.
    const eventsRoute = `**/api/v1/batches/${batch.batchId}/events`;
    await page.route(eventsRoute, (route) =>
      route.request().method() === "POST" ? route.abort("internetdisconnected") : route.continue(),
    );
    await context.setOffline(false);
    await page.locator("[data-testid=offline]").waitFor({ state: "detached" });
    await page.reload();
    await page.locator("[data-testid=queue]", { hasText: "1" }).waitFor();
    assert.equal(await eventCount(batch.batchId), before);

    // Reachable again: the next `online` sends it, once.
    await page.unroute(eventsRoute);
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.locator("[data-testid=queue]").waitFor({ state: "detached", timeout: 20_000 });
    await page.locator(".flash-ok").waitFor();
    assert.equal(await eventCount(batch.batchId), before + 1, "the queued event was sent");
    await page.reload();
    await page.locator(".tabs").waitFor();
    assert.equal(await page.locator("[data-testid=queue]").count(), 0);
    assert.equal(await eventCount(batch.batchId), before + 1, "and only once");
    await settle();
    // The aborted attempts were logged by Chromium as failed loads, which is what they were.
    await closeConsole({ context, problems: opened.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED/.test(p)) });
  });

  it("cooperative: no queued write holds back the others; a refusal is set aside with the server's reason", async (t) => {
    if (!requireBrowser(t)) return;
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const { context, page } = opened;
    const batch = await batchByLot("CONSOLE-1");
    const card = page.locator("[data-lot='CONSOLE-1']");
    await card.locator("[data-action=events]").click();
    const form = card.locator("[data-testid=event-form]");
    await form.waitFor();
    const before = await eventCount(batch.batchId);

    // Three writes wait offline, in this order: one the network will fail for a while, one
    // the server refuses (a source GTIN that is none), and a good one behind both.
    await context.setOffline(true);
    await page.locator("[data-testid=offline]").waitFor();
    const queueShows = (n: number) => page.locator("[data-testid=queue] h2", { hasText: `(${String(n)})` }).waitFor();
    await form.locator("label[data-step=shipping]").click();
    await form.locator("input[name=receiver]").fill(demo.organisations.logistics.id);
    await form.locator("input[name=place]").fill("一号冷库");
    await form.locator("button[type=submit]").click();
    await queueShows(1);
    await form.locator("label[data-step=transforming]").click();
    await form.locator("input[name=sourceGtin]").fill("123");
    await form.locator("input[name=sourceLot]").fill("FRESH-2");
    await form.evaluate((element) => {
      (element as HTMLFormElement).noValidate = true;
    });
    await form.locator("button[type=submit]").click();
    await queueShows(2);
    await form.locator("label[data-step=shipping]").click();
    await form.locator("input[name=receiver]").fill(demo.organisations.logistics.id);
    await form.locator("input[name=place]").fill("三号冷库");
    await form.locator("button[type=submit]").click();
    await queueShows(3);
    assert.equal(await eventCount(batch.batchId), before, "nothing reached the server while offline");

    // Back online, the first write's requests die on the way (a dead spot for that one request).
    const eventsRoute = `**/api/v1/batches/${batch.batchId}/events`;
    await page.route(eventsRoute, (route) =>
      route.request().method() === "POST" && (route.request().postData() ?? "").includes("一号冷库")
        ? route.abort("connectionreset")
        : route.continue(),
    );
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    const refused = page.locator("[data-testid=queue-refused]");
    await refused.waitFor({ timeout: 20_000 });
    // The refusal did not hold back the write behind it, and the failing head did not either.
    await queueShows(1);
    assert.equal(await eventCount(batch.batchId), before + 1, "the good write behind the others went out");
    const refusal = (await refused.textContent()) ?? "";
    assert.match(refusal, /\[(?!console\.)[a-z_]+\.[a-z_]+\]/, `the server's code is shown: ${refusal}`);
    // The failing one says it will be tried again, and when.
    assert.match((await page.locator("[data-testid=queue] li").textContent()) ?? "", /重试/);

    // The dead spot clears: the queue tries again by itself (no reload, no online event) and sends it once.
    await page.unroute(eventsRoute);
    await page.locator("[data-testid=queue]").waitFor({ state: "detached", timeout: 20_000 });
    assert.equal(await eventCount(batch.batchId), before + 2, "the retried write went out");

    // Sent again, the refused write is refused again (nothing about it changed); dismissed, it is gone.
    await Promise.all([
      page.waitForResponse(
        (response) =>
          response.url().endsWith(`/api/v1/batches/${batch.batchId}/events`) &&
          response.request().method() === "POST" &&
          response.status() === 400,
      ),
      refused.locator("[data-action=send-again]").click(),
    ]);
    await refused.waitFor();
    assert.equal(await page.locator("[data-testid=queue]").count(), 0, "refused again, it does not wait in line");
    await refused.locator("[data-action=dismiss]").click();
    await refused.waitFor({ state: "detached" });
    await page.reload();
    await page.locator(".tabs").waitFor();
    assert.equal(await refused.count(), 0);
    assert.equal(await page.locator("[data-testid=queue]").count(), 0);
    assert.equal(await eventCount(batch.batchId), before + 2, "each good write once, the refused one never");
    await settle();
    // The cut requests were logged by Chromium as failed loads, which is what they were.
    await closeConsole({
      context,
      problems: opened.problems.filter((p) => !/ERR_CONNECTION_RESET|ERR_INTERNET_DISCONNECTED/.test(p)),
    });
  });

  it("cooperative: recall needs a reason and shows on the card", async (t) => {
    if (!requireBrowser(t)) return;
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const page = opened.page;
    const card = page.locator("[data-lot='CONSOLE-1']");
    await card.locator("[data-action=recall]").click();
    const dialog = page.locator("dialog.modal");
    await dialog.waitFor();
    // Cancelling changes nothing.
    await dialog.locator("button[value=cancel]").click();
    assert.equal((await batchByLot("CONSOLE-1")).status, "active");
    await card.locator("[data-action=recall]").click();
    await dialog.locator("textarea[name=reason-zh]").fill("抽检农残超标，主动召回");
    await dialog.locator("textarea[name=reason-en]").fill("Residue over the limit at a spot check");
    await dialog.locator("button[value=ok]").click();
    await page.locator(".flash-ok").waitFor();
    await settle();
    await page.reload();
    await page.locator("[data-lot='CONSOLE-1'] .badge-danger", { hasText: "已召回" }).waitFor({ timeout: 20_000 });
    assert.equal((await batchByLot("CONSOLE-1")).status, "recalled");
    assert.equal(await page.locator("[data-lot='CONSOLE-1'] [data-action=recall]").count(), 0);
    await closeConsole(opened);
  });

  it("regulator: search and sort, audit with findings, exports, suspend and reinstate, recall", async (t) => {
    if (!requireBrowser(t)) return;
    assert.ok(server !== undefined);
    // A batch with an anomaly to find: 50 t of tea from the demo's 0.83 ha plot.
    const plots = expectStatus(await coopApi.get<{ plots: { id: string }[] }>("/api/v1/me"), 200, "me").plots;
    expectStatus(
      await coopApi.post("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: "AUDIT-2",
        plotId: plots[0]?.id,
        harvestedAt: "2026-05-02T07:00:00+08:00",
        quantity: { value: "50000", unit: "kg" },
        itemCount: 4,
      }),
      202,
      "register a batch for the regulator",
    );
    await settle();
    // And a forged aggregation: one of its items in two live cases, signed by the cooperative's key
    // straight on the contract (the chain sees roots, not items, so it accepts both).
    const forgedBatch = await batchByLot("AUDIT-2");
    const uris = expectStatus(
      await coopApi.get<{ items: { uri: string }[] }>(`/api/v1/batches/${forgedBatch.batchId}/items`),
      200,
      "items",
    ).items.map((item) => item.uri);
    const cooperative = await getOrganisation(server.ctx.db, demo.organisations.cooperative.id);
    assert.ok(cooperative?.custody.kind === "server");
    await packDirectly(
      {
        rpcUrl: node?.rpcUrl ?? "",
        registry: deployment.registry,
        relayerKey: deployment.env.RELAYER_PRIVATE_KEY ?? "",
        content: server.ctx.content,
      },
      await server.ctx.keyRing.unlock(cooperative.custody.keystoreJson),
      cooperative.signerAddress,
      [
        { sscc: testSscc(11), items: uris.slice(0, 2) },
        { sscc: testSscc(12), items: uris.slice(1, 3) },
      ],
    );
    const opened = await openConsole("regulator", demo.organisations.regulator.token);
    const page = opened.page;

    // Search the West Lake district's cooperatives' batches; sort by lot both ways.
    await page.fill("input[name=region]", "330106");
    await page.click("[data-testid=filters] button[type=submit]");
    await page.locator("[data-testid=result-count]", { hasText: "3" }).waitFor();
    await page.click("th button[data-sort=lot]");
    const firstLot = async (): Promise<string> =>
      (await page.locator("[data-testid=batches] tbody tr").first().getAttribute("data-lot")) ?? "";
    assert.equal(await firstLot(), "AUDIT-2");
    await page.click("th button[data-sort=lot]");
    assert.equal(await firstLot(), demo.batch.lot);
    await page.fill("input[name=region]", "310101");
    await page.click("[data-testid=filters] button[type=submit]");
    await page.locator("[data-testid=result-count]", { hasText: "0" }).waitFor();
    await page.fill("input[name=region]", "330106");
    await page.click("[data-testid=filters] button[type=submit]");
    await page.locator("[data-testid=result-count]", { hasText: "3" }).waitFor();

    // The audit of the overharvested batch: its findings are the API's, grouped by severity.
    const overharvested = await batchByLot("AUDIT-2");
    await page.locator(`tr[data-batch-id='${overharvested.batchId}'] [data-action=audit]`).click();
    await page.locator("[data-testid=audit-report] .batch-report").waitFor({ timeout: 60_000 });
    const report = expectStatus(
      await regulatorApi.get<{ findings: { code: string; severity: string }[]; checked: string[] }>(
        `/api/v1/audits/batches/${overharvested.batchId}`,
      ),
      200,
      "audit",
    );
    const shownCodes = await page
      .locator("[data-testid=audit-report] .finding")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-code") ?? ""));
    assert.deepEqual([...shownCodes].sort(), report.findings.map((f) => f.code).sort());
    assert.ok(report.checked.includes("integrity"));
    assert.ok(shownCodes.includes("mass_balance.plot_exceeded"), `found: ${shownCodes.join(", ")}`);
    assert.ok(shownCodes.includes("container.item_in_two_live"), `found: ${shownCodes.join(", ")}`);
    // Four items registered, four places in the two live cases (one item in both).
    await page
      .locator("[data-testid=audit-report] [data-testid=packing]", {
        hasText: "装箱：登记 4 件，现在箱中 4 件（累计装箱 3 件），共 2 个箱或托盘",
      })
      .waitFor();
    const massFinding = report.findings.find((f) => f.code === "mass_balance.plot_exceeded");
    await page
      .locator(`[data-severity=${massFinding?.severity ?? "none"}] [data-code='mass_balance.plot_exceeded']`)
      .waitFor();
    const [htmlDownload] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("[data-action=report-html]").click(),
    ]);
    const html = (await saved(htmlDownload)).toString("utf8");
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /AUDIT-2/);
    assert.match(html, /mass_balance\.plot_exceeded/);

    // The audit of the whole search: every batch in scope, re-verified.
    await page.click(".tabs button:nth-child(1)");
    await page.locator("[data-testid=batches]").waitFor();
    await page.locator("button", { hasText: "审计查询范围内全部批次" }).click();
    await page.locator("[data-testid=across-batches]").waitFor({ timeout: 120_000 });
    assert.equal(await page.locator("[data-testid=audit-report] .batch-report").count(), 3);

    // Exports for the same scope and for one batch.
    await page.click(".tabs button:nth-child(1)");
    const exportOf = async (label: string): Promise<Buffer> => {
      const [file] = await Promise.all([
        page.waitForEvent("download"),
        page.locator("button", { hasText: label }).click(),
      ]);
      return saved(file);
    };
    const csv = (await exportOf("导出关键数据 CSV")).toString("utf8");
    assert.ok(csv.includes("CONSOLE-1") && csv.includes("AUDIT-2") && csv.includes(demo.batch.lot));
    const xlsx = await exportOf("导出关键数据 Excel");
    assert.equal(xlsx.subarray(0, 2).toString("latin1"), "PK");
    const [epcisFile] = await Promise.all([
      page.waitForEvent("download"),
      page.locator(`tr[data-lot='${demo.batch.lot}'] [data-action=epcis]`).click(),
    ]);
    const epcis: unknown = JSON.parse((await saved(epcisFile)).toString("utf8"));
    const validation = loadEpcisValidator()(epcis);
    assert.ok(validation.valid, JSON.stringify(validation.errors.slice(0, 3)));

    // Suspend the cooperative: in force at once, the cooperative's console says so and its writes are refused.
    await page.click(".tabs button:nth-child(2)");
    const coopRow = page.locator(`tr[data-organisation-id='${demo.organisations.cooperative.id}']`);
    await coopRow.locator("[data-action=suspend]").click();
    const dialog = page.locator("dialog.modal");
    await dialog.locator("textarea[name=reason-zh]").fill("产地证明材料不实，暂停登记");
    await dialog.locator("button[value=ok]").click();
    await coopRow.locator("[data-testid=organisation-status]", { hasText: "已暂停" }).waitFor();
    const org = expectStatus(
      await regulatorApi.get<{ organisation: { status: string } }>(
        `/api/v1/organisations/${demo.organisations.cooperative.id}`,
      ),
      200,
      "organisation",
    );
    assert.equal(org.organisation.status, "suspended");

    const coop = await openConsole("cooperative", demo.organisations.cooperative.token);
    await coop.page.locator(".banner-danger").waitFor();
    await coop.page.click(".tabs button:nth-child(2)");
    await coop.page.fill("input[name=gtin]", DEMO_GTIN);
    await coop.page.fill("input[name=lot]", "SUSPENDED-1");
    await coop.page.fill("input[name=quantity]", "3");
    await coop.page.click("[data-testid=register-form] button[type=submit]");
    await coop.page
      .locator("[data-testid=register-form] .flash-error", { hasText: "organisation.suspended" })
      .waitFor();
    await closeConsole(coop);

    await coopRow.locator("[data-action=reinstate]").click();
    await dialog.locator("textarea[name=reason-zh]").fill("材料已补正");
    await dialog.locator("button[value=ok]").click();
    await coopRow.locator("[data-testid=organisation-status]", { hasText: "正常" }).waitFor();
    await settle();

    // A regulator's recall of another cooperative's batch.
    await page.click(".tabs button:nth-child(1)");
    await page.click("[data-testid=filters] button[type=submit]");
    const auditRow = page.locator("tr[data-lot='AUDIT-2']");
    await auditRow.locator("[data-action=recall]").click();
    await dialog.locator("textarea[name=reason-zh]").fill("监督抽检不合格");
    await dialog.locator("button[value=ok]").click();
    await page.locator(".flash-ok", { hasText: "召回已提交" }).waitFor();
    // In force once anchored: the writer sends it under the regulator's key, the indexer records it.
    await settle();
    await page.click("[data-testid=filters] button[type=submit]");
    await auditRow.locator("[data-testid=batch-status]", { hasText: "已召回" }).waitFor();
    assert.equal((await batchByLot("AUDIT-2")).status, "recalled");
    await closeConsole(opened);
  });

  it("cooperative: keeps its products, plots and certificates from the phone, and registers against them", async (t) => {
    if (!requireBrowser(t)) return;
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const page = opened.page;
    await page.click(".tabs button:nth-child(3)");

    // A GTIN with a wrong check digit is stopped on the phone, with the server's own check.
    const body = "0690123456790";
    const gtin = `${body}${String(gtinCheckDigit(body))}`;
    const wrong = `${body}${String((gtinCheckDigit(body) + 1) % 10)}`;
    for (const title of ["登记商品", "登记地块", "登记认证"]) await page.locator("summary", { hasText: title }).click();
    const product = page.locator("[data-testid=product-form]");
    await product.locator("input[name=productGtin]").fill(wrong);
    await product.locator("input[name=productNameZh]").fill("梅家坞龙井 雨前一级");
    await product.locator("button[type=submit]").click();
    assert.equal(
      await product.locator("input[name=productGtin]").evaluate((input) => (input as HTMLInputElement).validity.valid),
      false,
    );
    assert.equal((await coopApi.get(`/api/v1/products/${wrong}`)).status, 404);

    await product.locator("input[name=productGtin]").fill(gtin);
    await product.locator("input[name=productNameEn]").fill("Meijiawu Longjing, pre-Guyu grade one");
    await product.locator("select[name=productCategory]").selectOption("tea");
    await product.locator("input[name=netContentValue]").fill("250");
    await product.locator("select[name=netContentUnit]").selectOption("g");
    await product.locator("input[name=coldMin]").fill("0");
    await product.locator("input[name=coldMax]").fill("25");
    await product.locator("button[type=submit]").click();
    await page.locator(".flash-ok").waitFor();
    // A saved record rebuilds the view: the forms fold away again, empty.
    for (const title of ["登记地块", "登记认证"]) await page.locator("summary", { hasText: title }).click();
    const stored = expectStatus(
      await coopApi.get<{
        product: { nameZh: string; category: string; coldChain: { minC: number } | null; netContent: unknown };
      }>(`/api/v1/products/${gtin}`),
      200,
      "product",
    ).product;
    assert.equal(stored.nameZh, "梅家坞龙井 雨前一级");
    assert.equal(stored.category, "tea");
    assert.equal(stored.coldChain?.minC, 0);
    assert.deepEqual(stored.netContent, { value: "250", unit: "g" });

    const plot = page.locator("[data-testid=plot-form]");
    await plot.locator("input[name=plotName]").fill("梅家坞 3 号茶园");
    await plot.locator("input[name=plotArea]").fill("1.2");
    assert.equal(await plot.locator("input[name=plotRegion]").inputValue(), "330106", "the cooperative's region");
    await plot.locator("button[type=submit]").click();
    await page.locator("[data-testid=plot-list]", { hasText: "梅家坞 3 号茶园" }).waitFor();
    await page.locator("summary", { hasText: "登记认证" }).click();

    const certificate = page.locator("[data-testid=certification-form]");
    await certificate.locator("select[name=certKind]").selectOption("organic");
    await certificate.locator("input[name=certNumber]").fill("ORG-330106-2026-0042");
    await certificate.locator("input[name=certIssuer]").fill("中绿华夏有机产品认证中心");
    await certificate.locator("input[name=certValidFrom]").fill("2026-01-01");
    await certificate.locator("input[name=certValidTo]").fill("2027-12-31");
    await certificate.locator("input[name=certScope]").fill(gtin);
    await certificate.locator("button[type=submit]").click();
    await page.locator("[data-testid=certification-list]", { hasText: "ORG-330106-2026-0042" }).waitFor();

    const me = expectStatus(
      await coopApi.get<{ plots: { id: string; name: string }[]; certifications: { id: string; number: string }[] }>(
        "/api/v1/me",
      ),
      200,
      "me",
    );
    const newPlot = me.plots.find((p) => p.name === "梅家坞 3 号茶园");
    const newCertificate = me.certifications.find((c) => c.number === "ORG-330106-2026-0042");
    assert.ok(newPlot !== undefined && newCertificate !== undefined);

    // The register form offers them at once.
    await page.click(".tabs button:nth-child(2)");
    await page.fill("input[name=gtin]", gtin);
    await page.locator("[data-testid=product-hint]", { hasText: "梅家坞龙井" }).waitFor();
    await page.locator("select[name=plotId]").selectOption(newPlot.id);
    await page.fill("input[name=lot]", "RECORDS-1");
    await page.fill("input[name=quantity]", "80");
    await page.fill("input[name=itemCount]", "5");
    await page.locator(`input[name='cert:${newCertificate.id}']`).check();
    await page.click("[data-testid=register-form] button[type=submit]");
    await page.locator("[data-lot='RECORDS-1']", { hasText: "梅家坞龙井" }).waitFor();
    const registered = expectStatus(
      await coopApi.get<{ batches: { lot: string; gtin: string; plotId: string | null }[] }>(
        `/api/v1/batches?gtin=${gtin}`,
      ),
      200,
      "batches of the new product",
    ).batches;
    assert.deepEqual(
      registered.map((b) => [b.lot, b.plotId]),
      [["RECORDS-1", newPlot.id]],
    );
    await settle();
    await closeConsole(opened);
  });

  it("cooperative with its own wallet: the console has the wallet sign (queued writes too), and without one says so", async (t) => {
    if (!requireBrowser(t)) return;
    assert.ok(browser !== undefined && server !== undefined);
    const wallet = Wallet.createRandom();
    const onboarded = await onboardCooperative(server.url, adminToken, {
      name: { zh: "龙坞茶叶合作社", en: "Longwu Tea Cooperative" },
      serial: 7_001,
      signerAddress: wallet.address,
    });
    // It packs the demo cooperative's tea, whose owner grants it the GTIN.
    await grantGtin(server.url, demo.organisations.cooperative.token, DEMO_GTIN, onboarded.id);
    await settle();
    const ownApi = apiClient(server.url, onboarded.token);
    const ownLots = async (): Promise<string[]> =>
      expectStatus(await ownApi.get<{ batches: { lot: string }[] }>("/api/v1/batches"), 200, "own batches").batches.map(
        (b) => b.lot,
      );
    const register = async (page: Page, lot: string): Promise<void> => {
      await page.click(".tabs button:nth-child(2)");
      await page.fill("input[name=gtin]", DEMO_GTIN);
      await page.fill("input[name=lot]", lot);
      await page.fill("input[name=quantity]", "6");
      await page.click("[data-testid=register-form] button[type=submit]");
    };

    // No wallet in this browser: a clear refusal, and no batch.
    const bare = await openConsole("cooperative", onboarded.token);
    await register(bare.page, "OWN-0");
    await bare.page
      .locator("[data-testid=register-form] .flash-error", { hasText: "console.wallet_missing" })
      .waitFor();
    assert.deepEqual(await ownLots(), []);
    await closeConsole(bare);

    // A wallet (EIP-1193) whose key is the organisation's: stands in for MetaMask, signing with ethers in the test.
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const asked: { method: string; primaryType?: string; account?: string }[] = [];
    await context.exposeFunction("testWalletRequest", async (method: string, params: unknown[]) => {
      if (method === "eth_requestAccounts") {
        asked.push({ method });
        return [wallet.address];
      }
      if (method === "eth_signTypedData_v4") {
        const typed = JSON.parse(String(params[1])) as {
          domain: TypedDataDomain;
          types: Record<string, TypedDataField[]>;
          primaryType: string;
          message: Record<string, unknown>;
        };
        asked.push({ method, primaryType: typed.primaryType, account: String(params[0]) });
        const { EIP712Domain: _domainType, ...types } = typed.types;
        return wallet.signTypedData(typed.domain, types, typed.message);
      }
      throw new Error(`the test wallet does not do ${method}`);
    });
    await context.addInitScript(() => {
      const bridge = (window as unknown as { testWalletRequest: (m: string, p: unknown[]) => Promise<unknown> })
        .testWalletRequest;
      (window as unknown as { ethereum: unknown }).ethereum = {
        request: ({ method, params }: { method: string; params?: unknown[] }) => bridge(method, params ?? []),
      };
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/console/cooperative`);
    await page.fill("input[name=token]", onboarded.token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(".tabs").waitFor();
    await register(page, "OWN-1");
    await page.locator("[data-lot='OWN-1']").waitFor();
    assert.deepEqual(
      asked.map((a) => a.method),
      ["eth_requestAccounts", "eth_signTypedData_v4"],
    );
    const signing = asked[1];
    assert.ok(signing?.account !== undefined);
    assert.equal(signing.primaryType, "BatchAttestation");
    assert.equal(signing.account.toLowerCase(), wallet.address.toLowerCase());
    assert.deepEqual(await ownLots(), ["OWN-1"]);
    await settle();
    await page
      .locator("[data-lot='OWN-1'] .states [data-testid=ledger-state]", { hasText: "已上链" })
      .waitFor({ timeout: 20_000 });

    // A step recorded offline waits on the phone. Sent later without a wallet, it is answered
    // with a signature request: set aside with that reason, never taken as recorded.
    const ownBatch = expectStatus(
      await ownApi.get<{ batches: { lot: string; batchId: string }[] }>("/api/v1/batches"),
      200,
      "own batches",
    ).batches.find((b) => b.lot === "OWN-1");
    assert.ok(ownBatch !== undefined);
    const shipOffline = async (opened: { context: BrowserContext; page: Page }, place: string): Promise<void> => {
      const card = opened.page.locator("[data-lot='OWN-1']");
      await card.locator("[data-action=events]").click();
      const form = card.locator("[data-testid=event-form]");
      await form.waitFor();
      await opened.context.setOffline(true);
      await opened.page.locator("[data-testid=offline]").waitFor();
      await form.locator("label[data-step=shipping]").click();
      await form.locator("input[name=receiver]").fill(demo.organisations.logistics.id);
      await form.locator("input[name=place]").fill(place);
      await form.locator("button[type=submit]").click();
      await opened.page.locator("[data-testid=queue]", { hasText: "1" }).waitFor();
      await opened.context.setOffline(false);
      await opened.page.evaluate(() => window.dispatchEvent(new Event("online")));
    };
    const noWallet = await openConsole("cooperative", onboarded.token);
    await shipOffline(noWallet, "龙坞一号仓");
    const setAside = noWallet.page.locator("[data-testid=queue-refused]");
    await setAside.waitFor({ timeout: 20_000 });
    assert.match((await setAside.textContent()) ?? "", /console\.wallet_missing/);
    assert.equal(await noWallet.page.locator("[data-testid=queue]").count(), 0);
    assert.equal(await eventCount(ownBatch.batchId), 0, "a write its wallet never signed is not recorded");
    await closeConsole(noWallet);

    // With the wallet, the queue has it sign as the write goes out, and only then is it done, once.
    await shipOffline({ context, page }, "龙坞二号仓");
    await page.locator("[data-testid=queue]").waitFor({ state: "detached", timeout: 20_000 });
    assert.equal(await eventCount(ownBatch.batchId), 1, "the queued step was signed and recorded");
    assert.deepEqual(
      asked.filter((a) => a.method === "eth_signTypedData_v4").map((a) => a.primaryType),
      ["BatchAttestation", "TraceEvent"],
    );
    assert.equal(await page.locator("[data-testid=queue-refused]").count(), 0);
    await settle();
    await context.close();
  });

  // Last: it moves the chain's clock past every signature's deadline.
  it("cooperative: a batch the ledger refuses is shown failed, with the reason in plain words", async (t) => {
    if (!requireBrowser(t)) return;
    assert.ok(node !== undefined && server !== undefined);
    const opened = await openConsole("cooperative", demo.organisations.cooperative.token);
    const page = opened.page;
    await page.click(".tabs button:nth-child(2)");
    await page.fill("input[name=gtin]", DEMO_GTIN);
    await page.fill("input[name=lot]", "LATE-1");
    await page.fill("input[name=quantity]", "2");
    await page.click("[data-testid=register-form] button[type=submit]");
    await page.locator("[data-lot='LATE-1']").waitFor();

    // The signature waited too long: the chain is now past its deadline.
    const ttl = server.ctx.signatureTtlSeconds;
    for (const [method, params] of [
      ["evm_increaseTime", [ttl + 3_600]],
      ["evm_mine", []],
    ] as const) {
      await fetch(node.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
    }
    await settle();
    const failed = await batchByLot("LATE-1");
    assert.equal(failed.ledger.state, "failed");
    assert.match(failed.ledger.failureReason ?? "", /^RegistrySignatureExpired/);
    const card = page.locator("[data-lot='LATE-1']");
    await card.locator(".states [data-testid=ledger-state]", { hasText: "上链失败" }).waitFor({ timeout: 20_000 });
    const explained = explainLedgerFailure(failed.ledger.failureReason);
    assert.equal(await card.locator("[data-testid=failure-reason]").textContent(), explained?.zh);
    await page.screenshot({ path: path.join(screenshotDir, "console-cooperative-failed.png"), fullPage: true });

    // In English too.
    await page.locator("header button", { hasText: "English" }).click();
    await card.locator("[data-testid=failure-reason]", { hasText: explained?.en ?? "" }).waitFor();
    await closeConsole(opened);
  });
});
