/**
 * Order packing throughput (issue 14, part 3): items scanned into orders per second through
 * the API (`POST /api/v1/orders/{id}/items`), each scan judged against the order's lines, the
 * other orders, the lot's recall and live cases, and stored with its audit entry. Measured
 * as a handheld scanner sends them (one code per request) at one packing station and at 8
 * stations in parallel, and as a pasted list (100 codes per request); with the p99 of a
 * single scan's answer. The server runs in this process on SQLite, as the demo runs it.
 */
import { apiClient, expectStatus, type ApiClient } from "../lib/api-client.ts";
import { waitUntilAnchored } from "../lib/demo-system.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const SINGLE_ITEMS = 300;
const STATIONS = 8;
const PER_STATION = 100;
const LIST_ORDERS = 10;
const LIST_SIZE = 100;
const ITEM_COUNT = SINGLE_ITEMS + STATIONS * PER_STATION + LIST_ORDERS * LIST_SIZE;

async function newOrder(api: ApiClient, gtin: string, lot: string, quantity: number): Promise<string> {
  const body = expectStatus(
    await api.post<{ order: { id: string } }>("/api/v1/orders", {
      buyerReference: `bench-${String(Math.random())}`,
      channel: "platform",
      lines: [{ gtin, lot, quantity }],
    }),
    201,
    "bench order",
  );
  return body.order.id;
}

/** Scans `codes` one per request, in order; the time of each answer. */
async function scanOneByOne(api: ApiClient, orderId: string, codes: readonly string[]): Promise<number[]> {
  const times: number[] = [];
  for (const code of codes) {
    const started = performance.now();
    expectStatus(await api.post(`/api/v1/orders/${orderId}/items`, { codes: [code] }), 200, "scan");
    times.push(performance.now() - started);
  }
  return times;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

export const ordersSuite: BenchSuite = {
  name: "orders",
  async run(): Promise<BenchRow[]> {
    const stack = await startBenchStack({ itemCount: 100 });
    try {
      const seller = apiClient(stack.server.url, stack.demo.organisations.cooperative.token);
      const { gtin } = stack.demo.batch;
      const lot = "BENCH-ORDERS";
      const batchId = expectStatus(
        await seller.post<{ batch: { batchId: string } }>("/api/v1/batches", {
          gtin,
          lot,
          harvestedAt: "2026-04-15T06:00:00+08:00",
          quantity: { value: "300", unit: "kg" },
          itemCount: ITEM_COUNT,
        }),
        202,
        "bench batch",
      ).batch.batchId;
      await waitUntilAnchored(stack.server.url, batchId, 0, 300_000);
      const uris = expectStatus(
        await seller.get<{ items: { uri: string }[] }>(`/api/v1/batches/${batchId}/items?limit=${String(ITEM_COUNT)}`),
        200,
        "item links",
      ).items.map((item) => item.uri);
      let next = 0;
      const take = (n: number): string[] => uris.slice(next, (next += n));

      // One station, one code per request.
      const single = await newOrder(seller, gtin, lot, SINGLE_ITEMS);
      const singleCodes = take(SINGLE_ITEMS);
      let started = performance.now();
      const latencies = await scanOneByOne(seller, single, singleCodes);
      const singleSeconds = (performance.now() - started) / 1000;

      // 8 stations in parallel, each its own order.
      const stations = await Promise.all(
        Array.from({ length: STATIONS }, async () => ({
          id: await newOrder(seller, gtin, lot, PER_STATION),
          codes: take(PER_STATION),
        })),
      );
      started = performance.now();
      const parallel = await Promise.all(stations.map((station) => scanOneByOne(seller, station.id, station.codes)));
      const parallelSeconds = (performance.now() - started) / 1000;

      // Pasted lists of 100 codes.
      const lists: { id: string; codes: string[] }[] = [];
      for (let i = 0; i < LIST_ORDERS; i++) {
        lists.push({ id: await newOrder(seller, gtin, lot, LIST_SIZE), codes: take(LIST_SIZE) });
      }
      started = performance.now();
      for (const list of lists) {
        expectStatus(await seller.post(`/api/v1/orders/${list.id}/items`, { codes: list.codes }), 200, "list scan");
      }
      const listSeconds = (performance.now() - started) / 1000;

      return [
        {
          metric:
            "order packing throughput: items scanned per second through the API, one code per request, one station",
          value: Math.round(SINGLE_ITEMS / singleSeconds),
          unit: "items/s",
        },
        {
          metric: `order packing throughput: one code per request, ${String(STATIONS)} stations in parallel`,
          value: Math.round((STATIONS * PER_STATION) / parallelSeconds),
          unit: "items/s",
        },
        {
          metric: `order packing throughput: ${String(LIST_SIZE)} codes per request`,
          value: Math.round((LIST_ORDERS * LIST_SIZE) / listSeconds),
          unit: "items/s",
        },
        {
          metric: "order packing: one scan's answer, p99 (one station)",
          value: Number(percentile(latencies, 99).toFixed(1)),
          unit: "ms",
        },
        {
          metric: `order packing: one scan's answer, p99 (${String(STATIONS)} stations)`,
          value: Number(percentile(parallel.flat(), 99).toFixed(1)),
          unit: "ms",
        },
      ];
    } finally {
      await stack.close();
    }
  },
};
