/**
 * The live-stream lot card: its page's weight, the time from opening the lot's link to the
 * verdict in Chromium on "slow 4G" (150 ms, 1.6 Mbit/s) with a 4× slower CPU on a 360 × 740
 * screen, the bytes on the wire until then, and the lot card resolve latency under 16
 * connections (autocannon in its own process): the page a viewer's phone opens, and the
 * overlay PNG a streaming tool polls (first rendering and cached).
 */
import { execFile } from "node:child_process";
import path from "node:path";

import { launchChromium } from "../lib/chromium.ts";
import { appearedAt, recordTransfers, watchFor } from "../lib/page-metrics.ts";
import { buildLotPage } from "../tasks/build-lot-page.ts";
import { buildWeb } from "../tasks/build-web.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const RUNS = 5;
const LOAD_SECONDS = 10;

interface LoadResult {
  latency: { p50: number; p99: number };
  requests: { average: number };
  non2xx: number;
  errors: number;
}

function autocannon(url: string, headers: Record<string, string>, seconds: number): Promise<LoadResult> {
  const bin = path.join(process.cwd(), "node_modules", ".bin", "autocannon");
  const args = [
    "-j",
    "-c",
    "16",
    "-d",
    String(seconds),
    ...Object.entries(headers).flatMap(([n, v]) => ["-H", `${n}=${v}`]),
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) reject(new Error(`autocannon failed on ${url}`, { cause: error }));
      else resolve(JSON.parse(stdout) as LoadResult);
    });
  });
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export const lotCardSuite: BenchSuite = {
  name: "lot-card",
  async run(): Promise<BenchRow[]> {
    // The unknown-lot answer is the scan page's; the card's own files are built here.
    await buildWeb();
    const build = await buildLotPage();
    const rows: BenchRow[] = [
      { metric: "lot card page: script + stylesheet, brotli", value: build.brotliBytes, unit: "bytes" },
    ];
    const stack = await startBenchStack({ itemCount: 1_000, env: { PUBLIC_ORIGIN: "https://scan.example.cn" } });
    const lotPath = `/01/${stack.demo.batch.gtin}/10/${encodeURIComponent(stack.demo.batch.lot)}`;
    const browser = await launchChromium("the lot card bench");
    if (browser === null) throw new Error("cannot measure the page without Chromium");
    try {
      const times: number[] = [];
      const pageBytes: number[] = [];
      const verdictBytes: number[] = [];
      for (let run = 0; run < RUNS; run++) {
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
        await watchFor(page, '[data-verdict="verified"]');
        await page.goto(`${stack.server.url}${lotPath}`);
        await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
        times.push(await appearedAt(page));
        // Where the time went (on stderr: the table stays the table).
        console.error(
          `[lot-card] verdict after ${String(Math.round(times.at(-1) ?? 0))} ms; requests (start-end ms, bytes): ${transfers
            .timeline()
            .map(
              (r) =>
                `${r.path.replace(/^\/01\/.*/, "page").slice(0, 28)} ${String(r.startMs)}-${String(r.endMs)} ${String(r.bytes)}`,
            )
            .join("; ")}`,
        );
        verdictBytes.push(transfers.bytes());
        let own = 0;
        for (const [requested, bytes] of transfers.byPath()) {
          if (requested === lotPath || requested.startsWith("/l/assets/")) own += bytes;
        }
        pageBytes.push(own);
        await context.close();
      }
      rows.push(
        {
          metric: "lot card: time to verdict, slow 4G + 4× CPU throttle, median of 5 (Chromium)",
          value: Math.round(median(times)),
          unit: "ms",
        },
        {
          metric: "lot card: time to verdict, slowest of 5",
          value: Math.round(Math.max(...times)),
          unit: "ms",
        },
        { metric: "lot card on the wire: page + script + stylesheet, median", value: median(pageBytes), unit: "bytes" },
        {
          metric: "lot card: everything on the wire until the verdict (page, chain reads), median",
          value: median(verdictBytes),
          unit: "bytes",
        },
      );
    } finally {
      await browser.close();
    }
    try {
      const url = `${stack.server.url}${lotPath}`;
      const htmlHeaders = { accept: "text/html", "accept-encoding": "gzip, deflate, br" };
      await autocannon(url, htmlHeaders, 3);
      const html = await autocannon(url, htmlHeaders, LOAD_SECONDS);
      const json = await autocannon(url, { accept: "application/json" }, LOAD_SECONDS);
      const started = performance.now();
      const first = await fetch(`${url}/card.png?size=1000`);
      await first.arrayBuffer();
      const firstMs = performance.now() - started;
      // Rendered once during the warm-up: what is measured is the cache a polling overlay hits.
      await autocannon(`${url}/card.png`, {}, 3);
      const png = await autocannon(`${url}/card.png`, {}, LOAD_SECONDS);
      for (const [what, result] of [
        ["page", html],
        ["JSON", json],
        ["PNG", png],
      ] as const) {
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`lot card ${what}: ${String(result.non2xx)} non-2xx answers`);
      }
      rows.push(
        {
          metric: "lot card resolve, HTML page: latency p50 (autocannon, 16 connections)",
          value: html.latency.p50,
          unit: "ms",
        },
        { metric: "lot card resolve, HTML page: latency p99 (16 connections)", value: html.latency.p99, unit: "ms" },
        {
          metric: "lot card resolve, HTML page: requests per second",
          value: Math.round(html.requests.average),
          unit: "req/s",
        },
        { metric: "lot card resolve, JSON: latency p99 (16 connections)", value: json.latency.p99, unit: "ms" },
        { metric: "overlay PNG, first rendering (1000 px)", value: Math.round(firstMs), unit: "ms" },
        { metric: "overlay PNG, cached: latency p99 (16 connections)", value: png.latency.p99, unit: "ms" },
      );
      return rows;
    } finally {
      await stack.close();
    }
  },
};
