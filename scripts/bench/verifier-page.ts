/**
 * The independent verifier beside the scan page, in one run on one stack: each page's bytes
 * on the wire (Chromium's network log: the page and its script) and its time to verdict on
 * slow 4G (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) with a 4× slower CPU, median
 * of 5 items. The scan page reads the chain through the platform's `/rpc` (answers on the
 * server, one round trip batched); the verifier from three endpoints (quorum 2, here three
 * TCP relays to the same node, each its own origin) with a block agreed first and every
 * registry read proven by `eth_getProof`: the price of trusting no single party.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import type { Browser } from "playwright-core";

import { launchChromium } from "../lib/chromium.ts";
import { appearedAt, recordTransfers, watchFor } from "../lib/page-metrics.ts";
import { serveStaticSite } from "../lib/static-site.ts";
import { startTcpProxy } from "../lib/tcp-proxy.ts";
import { buildVerifier } from "../tasks/build-verifier.ts";
import { buildWeb } from "../tasks/build-web.ts";
import { CURRENT_TYPED_DATA_VERSION } from "../../server/src/domain/typed-data.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const RUNS = 5;

interface Visit {
  verdictMs: number;
  pageBytes: number;
  totalBytes: number;
}

/** Opens `url` throttled as a cheap phone on slow 4G; its time to "verified" and what it transferred. */
async function visit(
  browser: Browser,
  url: string,
  ownOrigin: string,
  ownPath: (p: string) => boolean,
): Promise<Visit> {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
  try {
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
    await page.goto(url);
    await page.locator('[data-verdict="verified"]').waitFor({ timeout: 120_000 });
    const verdictMs = await appearedAt(page);
    let pageBytes = 0;
    for (const [requested, bytes] of transfers.byPath()) if (ownPath(requested)) pageBytes += bytes;
    console.error(
      `[verifier-page] ${ownOrigin}: verdict after ${Math.round(verdictMs)} ms; requests: ${transfers
        .timeline()
        .map((r) => `${r.path.slice(0, 20)} ${r.startMs}-${r.endMs} ${r.bytes}`)
        .join("; ")}`,
    );
    return { verdictMs, pageBytes, totalBytes: transfers.bytes() };
  } finally {
    await context.close();
  }
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export const verifierPageSuite: BenchSuite = {
  name: "verifier-page",
  async run(): Promise<BenchRow[]> {
    await buildWeb();
    const stack = await startBenchStack({
      itemCount: 100,
      env: { CLONE_SCANS_PER_DAY: "1000", CLONE_SCANS_PER_WEEK: "1000" },
    });
    const nodePort = Number(new URL(stack.node.rpcUrl).port);
    const relays = await Promise.all([0, 1, 2].map(() => startTcpProxy(nodePort)));
    const outDir = mkdtempSync(path.join(tmpdir(), "bench-verifier-"));
    const browser = await launchChromium("the verifier page bench");
    try {
      if (browser === null) throw new Error("cannot measure the pages without Chromium");
      const build = await buildVerifier(
        {
          chainId: stack.deployment.chainId.toString(),
          registry: stack.deployment.registry,
          typedDataVersion: CURRENT_TYPED_DATA_VERSION,
          deploymentBlock: String(stack.deployment.deployedAtBlock),
          endpoints: relays.map((relay) => `http://127.0.0.1:${String(relay.port)}/`),
          quorum: 2,
        },
        { outDir },
      );
      const site = await serveStaticSite(outDir);
      try {
        const items = (await fetch(
          `${stack.server.url}/api/v1/batches/${stack.demo.batch.batchId}/items?limit=${String(RUNS)}`,
          { headers: { authorization: `Bearer ${stack.demo.organisations.cooperative.token}` } },
        ).then((r) => r.json())) as { items: { uri: string }[] };
        const scan: Visit[] = [];
        const verifier: Visit[] = [];
        for (const item of items.items) {
          const pathname = new URL(item.uri).pathname;
          const link = `${stack.server.url}${pathname}`;
          scan.push(
            await visit(
              browser,
              link,
              "scan page",
              (p) => p === pathname || p.startsWith("/web/") || p === "/favicon.ico",
            ),
          );
          verifier.push(
            await visit(
              browser,
              // By its file name: the endpoints' requests are to "/" too (the log keeps paths only).
              `${site.url}index.html?link=${encodeURIComponent(link)}`,
              "verifier",
              (p) => p === "/index.html" || p === `/${build.release.script}`,
            ),
          );
        }
        return [
          {
            metric: "independent verifier on the wire (Chromium network log): page + script, median",
            value: median(verifier.map((v) => v.pageBytes)),
            unit: "bytes",
          },
          {
            metric: "scan page on the wire, same run: HTML with the answer + script + icon, median",
            value: median(scan.map((v) => v.pageBytes)),
            unit: "bytes",
          },
          {
            metric: "independent verifier, everything until the verdict (page, answer, 3 endpoints, documents), median",
            value: median(verifier.map((v) => v.totalBytes)),
            unit: "bytes",
          },
          {
            metric: "scan page, everything until the verdict, same run, median",
            value: median(scan.map((v) => v.totalBytes)),
            unit: "bytes",
          },
          {
            metric: "independent verifier time to verdict, slow 4G + 4× CPU, 3 endpoints quorum 2, median of 5",
            value: Math.round(median(verifier.map((v) => v.verdictMs))),
            unit: "ms",
          },
          {
            metric: "scan page time to verdict, same run and throttling, median of 5",
            value: Math.round(median(scan.map((v) => v.verdictMs))),
            unit: "ms",
          },
        ];
      } finally {
        await site.close();
      }
    } finally {
      await browser?.close();
      await Promise.all(relays.map((relay) => relay.close()));
      rmSync(outDir, { recursive: true, force: true });
      await stack.close();
    }
  },
};
