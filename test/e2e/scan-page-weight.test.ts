/**
 * The scan page's delivery against the real server (Hardhat node in its own process,
 * SQLite, embedded IPFS, Debian's Chromium at 360 × 740): the page and its script arrive
 * compressed, nothing it asks for is missing (it carries its icon), nothing moves once the verdict
 * is shown, every tap target is at least 48 px, and the signed documents the resolver
 * inlines are checked against their CIDs exactly as fetched ones are. Timings are the
 * bench's business (scripts/bench/scan-page.ts); what is asserted here is deterministic.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";

import type { Browser } from "playwright-core";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { seedDemoSystem, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import {
  layoutShiftSince,
  observeLayoutShifts,
  pageNow,
  recordTransfers,
  tapTargets,
} from "../../scripts/lib/page-metrics.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { verifyResolution } from "../../server/src/verify/index.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { itemPathOf, startTestServer } from "../support/test-server.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
/**
 * What this test's page (its HTML with the answer inside, its script, their headers) took on
 * the wire when it was last made lighter (34,094 B), plus 300: a change that adds more says so
 * here. The 35 KB target, on the bench's HTTPS origin and 1,000-item batch, is the bench's row.
 */
const PAGE_BYTES_BUDGET = 34_400;
/** The script of what is shown only when asked (scanner-web/src/on-demand.ts). */
const ON_DEMAND_SCRIPT = /^\/web\/on-demand-[0-9a-f]{10}\.js$/;

describe("the scan page on the wire and on a phone's screen", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let dataDir = "";
  let demo: DemoSystemSummary;
  let itemPath = "";

  before(async () => {
    const build = await buildWeb();
    assert.ok(build.withinBudget, `the scan page is ${build.gzipBytes} B gzip, ${build.brotliBytes} B brotli`);
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "scan-weight"));
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", {
      itemCount: 10,
      video: {
        bytes: readFileSync(path.join(projectRoot, "scripts", "demo-assets", "planting.mp4")),
        contentType: "video/mp4",
      },
    });
    await settleLedger(server);
    itemPath = await itemPathOf(server, demo.batch.batchId, demo.batch.lot);
    browser = (await launchChromium("the scan page weight tests")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  });

  async function resolution(): Promise<ItemResolution> {
    assert.ok(server !== undefined);
    const response = await fetch(`${server.url}${itemPath}`, { headers: { accept: "application/json" } });
    assert.equal(response.status, 200);
    return (await response.json()) as ItemResolution;
  }

  /** verifyResolution in Node against the real server, counting what it fetched from the gateway. */
  async function verifyCounting(answer: ItemResolution): Promise<{ verdict: string; gateway: number; detail: string }> {
    assert.ok(server !== undefined);
    let gateway = 0;
    const report = await verifyResolution(answer, {
      baseUrl: `${server.url}${itemPath}`,
      fetch: (input, init) => {
        if (new URL(input).pathname.startsWith("/ipfs/")) gateway += 1;
        return fetch(input, init);
      },
    });
    const detail = report.checks
      .filter((c) => c.ok !== true)
      .map((c) => `${c.id}: ${c.detail}`)
      .join("; ");
    return { verdict: report.verdict, gateway, detail };
  }

  it("inlines the signed documents, so a verifier fetches none of them", async () => {
    const answer = await resolution();
    const cids = [answer.batch.metadataCid, ...answer.events.map((e) => e.payloadCid)];
    assert.deepEqual(Object.keys(answer.documents ?? {}).sort(), [...new Set(cids)].sort());
    const { verdict, gateway, detail } = await verifyCounting(answer);
    assert.equal(verdict, "verified", detail);
    assert.equal(gateway, 0);
  });

  it("refuses an inlined document whose bytes are not the signed CID's, and fetches what is not inlined", async () => {
    const answer = await resolution();
    const metadataCid = answer.batch.metadataCid;
    const documents = { ...(answer.documents ?? {}) };
    const original = documents[metadataCid] ?? "";
    documents[metadataCid] = original.replace(/"itemCount":\d+/, '"itemCount":999999');
    assert.notEqual(documents[metadataCid], original);
    const tampered = await verifyCounting({ ...answer, documents });
    assert.equal(tampered.verdict, "not_verified");
    assert.match(tampered.detail, /metadata_cid: .*inlined bytes do not match the CID/);
    assert.equal(tampered.gateway, 0, "a mismatch is refused, not replaced by a fetch");

    const withoutDocuments = await verifyCounting({ ...answer, documents: undefined });
    assert.equal(withoutDocuments.verdict, "verified", withoutDocuments.detail);
    assert.equal(withoutDocuments.gateway, new Set([metadataCid, ...answer.events.map((e) => e.payloadCid)]).size);
  });

  it("sends the page and its script compressed, with a favicon and nothing missing", async (t: TestContext) => {
    if (browser === undefined || server === undefined) {
      t.skip("Chromium is not available on this machine (see the warning above)");
      return;
    }
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      const encodings = new Map<string, string>();
      cdp.on("Network.responseReceived", (event) => {
        const headers = event.response.headers as Record<string, string>;
        const encoding = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-encoding")?.[1];
        encodings.set(new URL(event.response.url).pathname, encoding ?? "identity");
      });
      const transfers = recordTransfers(cdp);
      await page.goto(`${server.url}${itemPath}`);
      await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
      // What the page asks for after the verdict (the video's metadata) is let finish.
      await page.waitForLoadState("networkidle");
      assert.deepEqual(transfers.notFound(), [], "every request found its file");
      // gzip, not brotli: the page's shared pieces are compressed once and deflate pieces
      // concatenate (http/gzip-pieces.ts); Chromium decoding it is what this checks.
      assert.equal(encodings.get(itemPath), "gzip", "the page with the answer inside");
      const script = [...encodings].find(([p]) => /^\/web\/scan-[0-9a-f]{10}\.js$/.test(p));
      assert.ok(script !== undefined, "the hashed script was loaded");
      assert.equal(script[1], "br");
      // The icon is in the page (no request of its own), so the browser asks for no /favicon.ico.
      const icon = await page.locator('link[rel="icon"]').getAttribute("href");
      assert.match(icon ?? "", /^data:image\/svg\+xml,/);
      assert.ok(!transfers.byPath().has("/favicon.ico"), "no /favicon.ico request");
      let own = 0;
      for (const [requested, bytes] of transfers.byPath()) {
        if (requested === itemPath || requested.startsWith("/web/")) own += bytes;
      }
      assert.ok(own <= PAGE_BYTES_BUDGET, `the page took ${own} bytes on the wire, over ${PAGE_BYTES_BUDGET}`);
      // The figure against the 35 KB target, for whoever changes the page (the bench prints it too).
      const parts = [...transfers.byPath()]
        .filter(([requested]) => requested === itemPath || requested.startsWith("/web/"))
        .map(([requested, bytes]) => `${requested === itemPath ? "page" : requested} ${bytes}`);
      t.diagnostic(`the scan page took ${own} bytes on the wire (${parts.join(", ")})`);
      assert.equal(
        [...transfers.byPath().keys()].filter(
          (p) => p.startsWith("/ipfs/") && !p.startsWith(`/ipfs/${demo.videoCid ?? "-"}`),
        ).length,
        0,
        "no document was fetched from the gateway",
      );
      assert.deepEqual(
        [...transfers.byPath().keys()].filter((p) => ON_DEMAND_SCRIPT.test(p)),
        [],
        "nothing shown only when asked is loaded with the page",
      );
    } finally {
      await context.close();
    }
  });

  it("names the checks when 'how we checked' is opened, in the language shown, and keeps it open", async (t: TestContext) => {
    if (browser === undefined || server === undefined) {
      t.skip("Chromium is not available on this machine (see the warning above)");
      return;
    }
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      page.on("request", (request) => requested.push(new URL(request.url()).pathname));
      await page.goto(`${server.url}${itemPath}`);
      await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
      const line = page.locator('[data-check="attestation_signature"]');
      // Closed, each line carries its outcome and mark; its name waits for the list to open.
      assert.equal(await line.getAttribute("data-ok"), "true");
      assert.equal(await line.textContent(), "✓");
      assert.equal(requested.filter((p) => ON_DEMAND_SCRIPT.test(p)).length, 0);
      await page.locator(".checks summary").click();
      await page.waitForFunction(
        () => (document.querySelector('[data-check="attestation_signature"]')?.textContent ?? "").length > 1,
      );
      assert.equal(await line.textContent(), "✓合作社的数字签名有效 (通过)");
      assert.equal(requested.filter((p) => ON_DEMAND_SCRIPT.test(p)).length, 1);
      // A redraw in the other language keeps the list open and names every line at once.
      await page.locator("button.lang").click();
      assert.equal(await page.locator("details.checks").getAttribute("open"), "");
      assert.equal(await line.textContent(), "✓The cooperative's digital signature is valid (passed)");
      const unnamed = await page
        .locator("[data-check]")
        .evaluateAll((nodes) => nodes.filter((n) => n.childElementCount < 3).map((n) => n.getAttribute("data-check")));
      assert.deepEqual(unnamed, []);
      assert.equal(requested.filter((p) => ON_DEMAND_SCRIPT.test(p)).length, 1, "loaded once");
    } finally {
      await context.close();
    }
  });

  it("moves nothing after the verdict, and every tap target is at least 48 px (360 × 740)", async (t: TestContext) => {
    if (browser === undefined || server === undefined) {
      t.skip("Chromium is not available on this machine (see the warning above)");
      return;
    }
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
    try {
      const page = await context.newPage();
      await observeLayoutShifts(page);
      await page.goto(`${server.url}${itemPath}`);
      await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
      const verdictAt = await pageNow(page);
      // The video's metadata arrives after the verdict; its box must already be the right size.
      await page.waitForFunction(() => (document.querySelector("video")?.readyState ?? 0) >= 1, undefined, {
        timeout: 30_000,
      });
      await page.waitForLoadState("networkidle");
      assert.equal(await layoutShiftSince(page, verdictAt), 0);
      const targets = await tapTargets(page);
      assert.ok(targets.length >= 3, `tap targets found: ${targets.map((x) => x.what).join(", ")}`);
      const small = targets.filter((target) => target.width < 48 || target.height < 48);
      assert.deepEqual(
        small.map((s) => `${s.what} ${Math.round(s.width)}×${Math.round(s.height)}`),
        [],
        "tap targets under 48 px",
      );
    } finally {
      await context.close();
    }
  });
});
