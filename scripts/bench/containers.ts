/**
 * Cases through the API (issue 14, part 1): the answer time of `POST /api/v1/containers` for
 * a 24-item case packed and despatched in one signed request (items checked, tree built,
 * EPCIS document checked against GS1's schema and stored, request signed, step, tree and
 * outbox entry written), p50 and p99 over 40 cases; and one 10,000-item case, the largest a
 * packing takes. The server runs in this process on SQLite, as the demo runs it.
 */
import { apiClient, expectStatus } from "../lib/api-client.ts";
import { waitUntilAnchored } from "../lib/demo-system.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const CASES = 40;
const CASE_ITEMS = 24;
const LARGE_CASE = 10_000;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

export const containersSuite: BenchSuite = {
  name: "containers",
  async run(): Promise<BenchRow[]> {
    const stack = await startBenchStack({ itemCount: 100 });
    try {
      const seller = apiClient(stack.server.url, stack.demo.organisations.cooperative.token);
      const receiver = stack.demo.organisations.retailer.id;
      const { gtin } = stack.demo.batch;
      const lot = "BENCH-CASES";
      const itemCount = CASES * CASE_ITEMS + LARGE_CASE;
      const batchId = expectStatus(
        await seller.post<{ batch: { batchId: string } }>("/api/v1/batches", {
          gtin,
          lot,
          harvestedAt: "2026-04-15T06:00:00+08:00",
          quantity: { value: "3000", unit: "kg" },
          itemCount,
        }),
        202,
        "bench batch",
      ).batch.batchId;
      await waitUntilAnchored(stack.server.url, batchId, 0, 300_000);
      const uris: string[] = [];
      for (let offset = 0; offset < itemCount; offset += 5_000) {
        const page = expectStatus(
          await seller.get<{ items: { uri: string }[] }>(
            `/api/v1/batches/${batchId}/items?limit=5000&offset=${String(offset)}`,
          ),
          200,
          "item links",
        ).items;
        uris.push(...page.map((item) => item.uri));
      }
      const ssccs = expectStatus(
        await seller.post<{ ssccs: string[] }>("/api/v1/containers/sscc", { count: 100 }),
        201,
        "SSCCs",
      ).ssccs;
      const latencies: number[] = [];
      for (let i = 0; i < CASES; i++) {
        const started = performance.now();
        expectStatus(
          await seller.post("/api/v1/containers", {
            sscc: ssccs[i],
            items: uris.slice(i * CASE_ITEMS, (i + 1) * CASE_ITEMS),
            occurredAt: "2026-04-20T09:00:00+08:00",
            shipTo: receiver,
          }),
          202,
          "case",
        );
        latencies.push(performance.now() - started);
      }
      const started = performance.now();
      expectStatus(
        await seller.post("/api/v1/containers", {
          sscc: ssccs[CASES],
          items: [
            {
              gtin,
              lot,
              serials: uris.slice(CASES * CASE_ITEMS).map((uri) => uri.split("/21/")[1]?.split("?")[0] ?? ""),
            },
          ],
          occurredAt: "2026-04-20T09:00:00+08:00",
        }),
        202,
        "large case",
      );
      const largeMs = performance.now() - started;
      return [
        {
          metric: `container pack (${String(CASE_ITEMS)} items, despatched in the same request) through the API, p50`,
          value: Number(percentile(latencies, 50).toFixed(1)),
          unit: "ms",
        },
        {
          metric: `container pack (${String(CASE_ITEMS)} items, despatched) through the API, p99 of ${String(CASES)}`,
          value: Number(percentile(latencies, 99).toFixed(1)),
          unit: "ms",
        },
        {
          metric: `container pack of ${LARGE_CASE.toLocaleString("en")} items (one serial list) through the API`,
          value: Math.round(largeMs),
          unit: "ms",
        },
      ];
    } finally {
      await stack.close();
    }
  },
};
