/**
 * The scan page tells the truth about safety, against the real server (Hardhat node in its
 * own process, SQLite, embedded IPFS, Debian's Chromium): authentic records that show a
 * cold-chain excursion, a certificate expired before the harvest, or a failed residue test
 * each give a warning (not green) with the reason on the page, in Chinese and English; a
 * genuine buyer's three scans in a day stay verified; a bad GTIN check digit says so.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser } from "playwright-core";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN, seedDemoSystem, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { SCAN_VIEWPORT, open } from "./support/scan-page-assertions.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { itemPathOf, registerTestBatch, startTestServer } from "../support/test-server.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshots = path.join(projectRoot, "test-results", "scan-safety");

describe("the scan page's safety verdict against the real server", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let demo: DemoSystemSummary;
  const paths: Record<string, string> = {};

  const registerBatch = (coop: ApiClient, lot: string, certificationIds: string[] = []): Promise<string> =>
    registerTestBatch(coop, lot, { itemCount: 4, certificationIds });

  async function itemPath(batchId: string, lot: string): Promise<string> {
    assert.ok(server !== undefined);
    return itemPathOf(server, batchId, lot);
  }

  before(async () => {
    const build = await buildWeb();
    assert.ok(build.withinBudget, `the scan page is ${build.gzipBytes} bytes gzip, over budget`);
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    // The clone thresholds are the defaults: a genuine buyer's day must pass them as shipped.
    ({ server, dataDir } = await startTestServer(deployment.env, "scan-safety"));
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 10 });
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const expiredCert = expectStatus(
      await coop.post<{ certification: { id: string } }>(
        `/api/v1/organisations/${demo.organisations.cooperative.id}/certifications`,
        {
          kind: "organic",
          number: "OG-EXPIRED-2026",
          issuer: "中绿华夏有机产品认证中心",
          validFrom: "2023-04-01",
          validTo: "2026-03-31",
          scopeGtins: [DEMO_GTIN],
        },
      ),
      201,
      "expired certification",
    ).certification;
    const excursion = await registerBatch(coop, "EXCURSION-1");
    const expired = await registerBatch(coop, "EXPIRED-1", [expiredCert.id]);
    const failed = await registerBatch(coop, "FAILED-1");
    await settleLedger(server);
    // The product is kept at 0-25 °C (the demo's catalogue, signed into the batch's metadata).
    const hot = Array.from({ length: 8 }, (_, i) => ({
      at: new Date(Date.parse("2026-05-03T08:00:00+08:00") + i * 1_800_000).toISOString(),
      celsius: i >= 2 && i <= 5 ? 33 : 6,
    }));
    // The cooperative ships to the carrier (the carrier has a say once it received the batch).
    expectStatus(
      await coop.post(`/api/v1/batches/${excursion}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-05-03T08:00:00+08:00",
        receiver: demo.organisations.logistics.id,
        data: { temperatures: hot },
      }),
      202,
      "shipping with an excursion",
    );
    // The testing centre inspects because the cooperative asked it.
    expectStatus(
      await coop.post(`/api/v1/batches/${failed}/inspection-requests`, { inspector: demo.organisations.inspector.id }),
      202,
      "inspection request",
    );
    expectStatus(
      await apiClient(server.url, demo.organisations.inspector.token).post(`/api/v1/batches/${failed}/events`, {
        bizStep: "inspecting",
        occurredAt: "2026-05-03T10:00:00+08:00",
        data: {
          tests: [
            {
              substance: "毒死蜱 chlorpyrifos",
              method: "GB 23200.113-2018",
              standard: "GB 2763-2021",
              laboratory: "杭州市农产品质量检测中心",
              resultMgPerKg: 0.52,
              limitMgPerKg: 0.1,
              passed: false,
            },
          ],
        },
      }),
      202,
      "a failed inspection",
    );
    await settleLedger(server);
    paths.excursion = await itemPath(excursion, "EXCURSION-1");
    paths.expired = await itemPath(expired, "EXPIRED-1");
    paths.failed = await itemPath(failed, "FAILED-1");
    paths.genuine = `/01/${DEMO_GTIN}/10/${demo.batch.lot}/21/${(await listItemSerials(server.ctx.db, demo.batch.batchId))[2] ?? ""}`;
    mkdirSync(screenshots, { recursive: true });
    browser = (await launchChromium("the scan page's safety tests")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  });

  const cases = [
    {
      name: "excursion",
      finding: "cold_chain_excursion",
      zh: /冷链温度异常：.*33 °C.*0 °C–25 °C/,
      en: /Cold-chain break: .*33 °C, above this product's 0 °C–25 °C range/,
    },
    {
      name: "expired",
      finding: "certification_expired",
      zh: /证书过期：有机产品认证（编号 OG-EXPIRED-2026）在采收日 2026-05-02 已过期/,
      en: /Expired certificate: the organic certificate No\. OG-EXPIRED-2026 had expired by the harvest date 2026-05-02/,
    },
    {
      name: "failed",
      finding: "test_failed",
      zh: /检测不合格：毒死蜱 chlorpyrifos（检出 0\.52 mg\/kg，限量 0\.1 mg\/kg）/,
      en: /Failed test: 毒死蜱 chlorpyrifos \(found 0\.52 mg\/kg, limit 0\.1 mg\/kg\)/,
    },
  ] as const;

  for (const c of cases) {
    it(`warns with the reason first for the ${c.name} case, in Chinese and English, never green`, async () => {
      assert.ok(browser !== undefined && server !== undefined, "Chromium is installed");
      const opened = await open({ browser, baseUrl: server.url }, `${server.url}${paths[c.name] ?? ""}`);
      try {
        assert.equal(opened.verdict, "warning");
        const banner = opened.page.locator("[data-verdict]");
        assert.equal(await opened.page.locator("h1").innerText(), "有安全问题");
        assert.equal(await banner.locator(`[data-finding="${c.finding}"]`).count(), 1, "the reason is in the banner");
        assert.match(await banner.innerText(), c.zh);
        const color = await banner.evaluate((el) => getComputedStyle(el).backgroundColor);
        assert.notEqual(color, "rgb(10, 107, 43)", "not the verified green");
        await opened.page.screenshot({ path: path.join(screenshots, `${c.name}-zh.png`), fullPage: true });
        await opened.page.locator("button.lang").click();
        assert.equal(await opened.page.locator("h1").innerText(), "Safety warning");
        assert.match(await banner.innerText(), c.en);
        const main = await opened.page.locator("main").innerText();
        assert.match(main, /Xihu District, Hangzhou, Zhejiang/, "regions in English");
        assert.doesNotMatch(main, /\(\d{6}\)/, "no bare region codes");
        await opened.page.screenshot({ path: path.join(screenshots, `${c.name}-en.png`), fullPage: true });
        assert.deepEqual(opened.problems, [], "no script errors or CSP violations");
      } finally {
        await opened.close();
      }
    });
  }

  it("keeps a genuine buyer's three scans in a day verified, and shows the facts", async () => {
    assert.ok(browser !== undefined && server !== undefined, "Chromium is installed");
    for (let scan = 1; scan <= 3; scan++) {
      const opened = await open({ browser, baseUrl: server.url }, `${server.url}${paths.genuine ?? ""}`);
      try {
        assert.equal(opened.verdict, "verified", `scan ${String(scan)}`);
        if (scan === 3) {
          const main = await opened.page.locator("main").innerText();
          assert.match(main, /承诺达标合格证\s*HGZ-330106-2026-000123/);
          assert.match(main, /联苯菊酯 bifenthrin: 合格/);
          assert.match(main, /保存温度（合作社签名）：0 – 25 °C/);
          assert.equal(await opened.page.locator("[data-finding]").count(), 0);
          // Layout shift (the CLS sum the browser reports): the verdict must not push the page about.
          const shift = await opened.page.evaluate(
            () =>
              new Promise<number>((resolve) => {
                let sum = 0;
                new PerformanceObserver((list) => {
                  for (const entry of list.getEntries() as (PerformanceEntry & {
                    value: number;
                    hadRecentInput: boolean;
                  })[]) {
                    if (!entry.hadRecentInput) sum += entry.value;
                  }
                }).observe({ type: "layout-shift", buffered: true });
                setTimeout(() => {
                  resolve(sum);
                }, 200);
              }),
          );
          assert.ok(shift < 0.1, `cumulative layout shift ${String(shift)} stays under 0.1 ("good")`);
          await opened.page.screenshot({ path: path.join(screenshots, "genuine-third-scan.png"), fullPage: true });
        }
      } finally {
        await opened.close();
      }
    }
  });

  it("tells a network failure from a server error (an unreachable chain is the behaviour suite's chainDown case)", async () => {
    assert.ok(browser !== undefined && server !== undefined, "Chromium is installed");
    const url = `${server.url}${paths.genuine ?? ""}`;
    // A page whose answer is not inlined (a cache or proxy dropped it) fetches it as JSON.
    for (const answer of ["network", "server"] as const) {
      const context = await browser.newContext({ viewport: SCAN_VIEWPORT, locale: "zh-CN" });
      try {
        const page = await context.newPage();
        await page.route(url, async (route) => {
          if ((route.request().headers().accept ?? "").includes("application/json")) {
            if (answer === "network") await route.abort("internetdisconnected");
            else await route.fulfill({ status: 503, contentType: "application/problem+json", body: "{}" });
            return;
          }
          const response = await route.fetch();
          const html = (await response.text()).replace(
            /<script type="application\/json" id="resolution">.*?<\/script>/s,
            "",
          );
          await route.fulfill({ response, body: html });
        });
        await page.goto(url);
        await page.locator('[data-verdict="error"]').waitFor({ timeout: 30_000 });
        const text = await page.locator("[data-verdict]").innerText();
        if (answer === "network") {
          assert.match(text, /网络不稳定，请稍后重试/);
          assert.doesNotMatch(text, /HTTP/);
        } else {
          assert.match(text, /HTTP 503/);
        }
      } finally {
        await context.close();
      }
    }
  });

  it("says a bad GTIN check digit is a bad code, not a network error, in both languages", async () => {
    assert.ok(browser !== undefined && server !== undefined, "Chromium is installed");
    const bad = `${DEMO_GTIN.slice(0, 13)}${String((Number(DEMO_GTIN.at(-1)) + 1) % 10)}`;
    const opened = await open({ browser, baseUrl: server.url }, `${server.url}/01/${bad}/10/LOT1/21/SERIAL1`);
    try {
      assert.equal(opened.verdict, "bad_code");
      const banner = opened.page.locator("[data-verdict]");
      assert.match(await banner.innerText(), /商品码有误[\s\S]*校验位错误/);
      assert.equal(await banner.locator('[data-problem="gs1.check_digit"]').count(), 1);
      await opened.page.locator("button.lang").click();
      assert.match(await banner.innerText(), /This code is malformed[\s\S]*check digit is wrong/);
      await opened.page.screenshot({ path: path.join(screenshots, "bad-check-digit-en.png"), fullPage: true });
    } finally {
      await opened.close();
    }
  });
});
