/**
 * The consumer's side: the scan page's weight, and the time from opening an item's link to
 * the verdict in Debian's Chromium on a throttled "slow 4G" connection (150 ms round trip,
 * 1.6 Mbit/s down, 750 kbit/s up) and a 4× slower CPU, as a cheap phone on a weak network
 * would see it: the page, the chain reads through /rpc and the documents from /ipfs.
 */
import { launchChromium } from "../lib/chromium.ts";
import { CONSOLES, buildConsoles } from "../tasks/build-consoles.ts";
import { buildWeb } from "../tasks/build-web.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const RUNS = 5;

export const scanPageSuite: BenchSuite = {
  name: "scan-page",
  async run(): Promise<BenchRow[]> {
    const build = await buildWeb();
    const rows: BenchRow[] = [
      { metric: "scan page weight: HTML + CSS + JS, gzip (budget 51,200)", value: build.gzipBytes, unit: "bytes" },
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
      env: { CLONE_SCANS_PER_DAY: "1000", CLONE_SCANS_PER_WEEK: "1000" },
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
        const started = performance.now();
        await page.goto(`${stack.server.url}${new URL(item.uri).pathname}`);
        await page.locator('[data-verdict="verified"]').waitFor({ timeout: 60_000 });
        times.push(performance.now() - started);
        await context.close();
      }
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
      );
      return rows;
    } finally {
      await browser.close();
      await stack.close();
    }
  },
};
