/**
 * The consumer's side: the scan page's weight, and the time from opening an item's link to
 * the verdict in Debian's Chromium on a throttled "slow 4G" connection (150 ms round trip,
 * 1.6 Mbit/s down, 750 kbit/s up) and a 4× slower CPU, as a cheap phone on a weak network
 * would see it: the page, the chain reads through /rpc and the documents from /ipfs.
 * Also what Chromium's network log says was transferred (not a gzip estimate), the layout
 * shift after the verdict and the smallest tap target on a 360 × 740 screen.
 */
import { launchChromium } from "../lib/chromium.ts";
import {
  appearedAt,
  layoutShiftSince,
  observeLayoutShifts,
  pageNow,
  recordTransfers,
  tapTargets,
  watchFor,
} from "../lib/page-metrics.ts";
import { CONSOLES, buildConsoles } from "../tasks/build-consoles.ts";
import { SCAN_PAGE_BUDGET_BROTLI_BYTES, SCAN_PAGE_BUDGET_GZIP_BYTES, buildWeb } from "../tasks/build-web.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const RUNS = 5;

export const scanPageSuite: BenchSuite = {
  name: "scan-page",
  async run(): Promise<BenchRow[]> {
    const build = await buildWeb();
    const rows: BenchRow[] = [
      {
        metric: `scan page weight: HTML + CSS + JS, gzip (budget ${SCAN_PAGE_BUDGET_GZIP_BYTES.toLocaleString("en")})`,
        value: build.gzipBytes,
        unit: "bytes",
      },
      {
        metric: `scan page weight: HTML + CSS + JS, brotli (budget ${SCAN_PAGE_BUDGET_BROTLI_BYTES.toLocaleString("en")})`,
        value: build.brotliBytes,
        unit: "bytes",
      },
      {
        metric: "scan page weight: HTML + CSS + JS, uncompressed",
        value: build.files.reduce((sum, f) => sum + f.bytes, 0),
        unit: "bytes",
      },
    ];
    // The consoles are not on the consumer's path, but a cooperative opens theirs on the same kind of phone.
    const consoles = await buildConsoles();
    for (const name of CONSOLES) {
      const own = consoles.files.filter((f) => f.name.startsWith(name) || f.name.startsWith("console-"));
      rows.push({
        metric: `${name} console weight: HTML + CSS + JS, gzip`,
        value: own.reduce((sum, f) => sum + f.gzipBytes, 0),
        unit: "bytes",
      });
    }
    const stack = await startBenchStack({
      itemCount: 1_000,
      // An HTTPS public origin, as in production: the page then carries the HTTPS-only headers
      // (HSTS, COOP, upgrade-insecure-requests) the bytes on the wire must include.
      env: { CLONE_SCANS_PER_DAY: "1000", CLONE_SCANS_PER_WEEK: "1000", PUBLIC_ORIGIN: "https://scan.example.cn" },
    });
    const browser = await launchChromium("the scan page bench");
    if (browser === null) throw new Error("cannot measure the page without Chromium");
    try {
      const items = (await fetch(
        `${stack.server.url}/api/v1/batches/${stack.demo.batch.batchId}/items?limit=${String(RUNS)}`,
        {
          headers: { authorization: `Bearer ${stack.demo.organisations.cooperative.token}` },
        },
      ).then((r) => r.json())) as { items: { uri: string }[] };
      const times: number[] = [];
      const wallTimes: number[] = [];
      const pageBytes: number[] = [];
      const verdictBytes: number[] = [];
      let shift = 0;
      let smallestTarget = Number.POSITIVE_INFINITY;
      const missing = new Set<string>();
      for (const item of items.items) {
        const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send("Network.enable");
        await cdp.send("Network.emulateNetworkConditions", {
          offline: false,
          latency: 150,
          downloadThroughput: (1.6 * 1024 * 1024) / 8,
          uploadThroughput: (750 * 1024) / 8,
        });
        await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
        const transfers = recordTransfers(cdp);
        await observeLayoutShifts(page);
        await watchFor(page, '[data-verdict="verified"]');
        const pathname = new URL(item.uri).pathname;
        const started = performance.now();
        await page.goto(`${stack.server.url}${pathname}`);
        await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
        wallTimes.push(performance.now() - started);
        // On the page's own clock, from navigation start: the driver's polling is not the phone's time.
        times.push(await appearedAt(page));
        verdictBytes.push(transfers.bytes());
        // Where the time went (on stderr: the table stays the table).
        console.error(
          `[scan-page] verdict after ${Math.round(times.at(-1) ?? 0)} ms; requests (start-end ms, bytes): ${transfers
            .timeline()
            .map((r) => `${r.path.replace(/^\/01\/.*/, "page").slice(0, 24)} ${r.startMs}-${r.endMs} ${r.bytes}`)
            .join("; ")}`,
        );
        const verdictAt = await pageNow(page);
        // What loads after the verdict (the video's metadata) must not move what is shown.
        await page.waitForTimeout(2_000);
        shift = Math.max(shift, await layoutShiftSince(page, verdictAt));
        for (const target of await tapTargets(page)) {
          smallestTarget = Math.min(smallestTarget, target.width, target.height);
        }
        // The page itself: the HTML with the answer inside, its script, its icon.
        let own = 0;
        for (const [requested, bytes] of transfers.byPath()) {
          if (requested === pathname || requested.startsWith("/web/") || requested === "/favicon.ico") own += bytes;
        }
        pageBytes.push(own);
        for (const path of transfers.notFound()) missing.add(path);
        await context.close();
      }
      if (missing.size > 0) throw new Error(`the page requested missing files: ${[...missing].join(", ")}`);
      const median = (values: number[]): number =>
        [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
      times.sort((a, b) => a - b);
      rows.push(
        {
          metric: "time to verdict, slow 4G + 4× CPU throttle, median of 5 (Chromium)",
          value: Math.round(times[Math.floor(times.length / 2)] ?? Number.NaN),
          unit: "ms",
        },
        {
          metric: "time to verdict, slow 4G + 4× CPU throttle, slowest of 5",
          value: Math.round(times.at(-1) ?? Number.NaN),
          unit: "ms",
        },
        {
          metric: "time to verdict as the driver saw it (navigation to its poll finding the verdict), median",
          value: Math.round(median(wallTimes)),
          unit: "ms",
        },
        {
          metric: "scan page on the wire (Chromium network log): HTML with the answer + script + icon, median",
          value: median(pageBytes),
          unit: "bytes",
        },
        {
          metric: "everything on the wire until the verdict (page, chain reads, documents), median",
          value: median(verdictBytes),
          unit: "bytes",
        },
        { metric: "layout shift after the verdict, worst of 5 (360 × 740)", value: shift, unit: "CLS" },
        { metric: "smallest tap target side (360 × 740)", value: Math.round(smallestTarget), unit: "px" },
      );
      return rows;
    } finally {
      await browser.close();
      await stack.close();
    }
  },
};
