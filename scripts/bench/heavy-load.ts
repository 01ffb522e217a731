/**
 * One registration of 1,000,000 items through the API, to the server in its own process
 * (SQLite, embedded IPFS), while /healthz is asked every 20 ms and an item of another
 * batch is resolved every 50 ms (scripts/lib/heavy-load.ts): how long the registration
 * takes, how the server's other answers fare meanwhile, and how much it grows.
 */
import { percentile, runHeavyLoad } from "../lib/heavy-load.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const ITEMS = 1_000_000;

export const heavyLoadSuite: BenchSuite = {
  name: "heavy-load",
  async run(): Promise<BenchRow[]> {
    const result = await runHeavyLoad({ itemCount: ITEMS });
    if (result.registration.status !== 202 || result.storedItemCount !== ITEMS) {
      throw new Error(
        `the 1,000,000-item registration failed: ${String(result.registration.status)} ${JSON.stringify(result.registration.body).slice(0, 300)}`,
      );
    }
    const during = "while 1,000,000 items are registered";
    return [
      {
        metric: "registration of 1,000,000 items through the API, request to 202",
        value: result.registration.ms / 1_000,
        unit: "s",
      },
      { metric: `/healthz p50 ${during}`, value: percentile(result.healthzMs, 0.5), unit: "ms" },
      { metric: `/healthz p99 ${during}`, value: percentile(result.healthzMs, 0.99), unit: "ms" },
      { metric: `/healthz slowest ${during}`, value: Math.max(...result.healthzMs), unit: "ms" },
      {
        metric: `resolve an item of another batch, p99 ${during}`,
        value: percentile(result.resolveMs, 0.99),
        unit: "ms",
      },
      {
        metric: `/healthz and resolve failures ${during}`,
        value: result.healthzFailures + result.resolveFailures,
        unit: "requests",
      },
      {
        metric: "server resident memory before the registration",
        value: result.rssBaselineBytes / 1024 ** 2,
        unit: "MiB",
      },
      { metric: "server resident memory at its peak during it", value: result.rssPeakBytes / 1024 ** 2, unit: "MiB" },
    ];
  },
};
