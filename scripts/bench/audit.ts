/**
 * Regulators' waiting time: the independent audit of one batch with 10,000 items and 50
 * events (chain reads, every signature, every CID re-hashed, the item root rebuilt), and of
 * a cooperative with 100 batches, through the API on a local stack.
 */
import { apiClient, expectStatus } from "../lib/api-client.ts";
import { DEMO_GTIN, waitUntilAnchored } from "../lib/demo-system.ts";
import { startBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

export const auditSuite: BenchSuite = {
  name: "audit",
  async run(): Promise<BenchRow[]> {
    const stack = await startBenchStack({ itemCount: 10_000 });
    try {
      const { demo, server } = stack;
      const retailer = apiClient(server.url, demo.organisations.retailer.token);
      // 50 events in all: the demo's lifecycle, then the shop's sales (it holds the batch by then).
      for (let i = 0; i < 50 - demo.eventIds.length; i++) {
        expectStatus(
          await retailer.post(`/api/v1/batches/${demo.batch.batchId}/events`, {
            bizStep: "retail_selling",
            occurredAt: new Date(Date.parse("2026-04-21T09:00:00+08:00") + i * 600_000).toISOString(),
          }),
          202,
          "event",
        );
      }
      await waitUntilAnchored(server.url, demo.batch.batchId, 50, 300_000);
      const regulator = apiClient(server.url, demo.organisations.regulator.token);
      let started = performance.now();
      const one = expectStatus(
        await regulator.get<{ findings: unknown[] }>(`/api/v1/audits/batches/${demo.batch.batchId}`),
        200,
        "audit",
      );
      const oneMs = performance.now() - started;
      if (one.findings.length !== 0) throw new Error(`the clean batch has findings: ${JSON.stringify(one.findings)}`);

      const coop = apiClient(server.url, demo.organisations.cooperative.token);
      const ids: string[] = [];
      for (let i = 0; i < 99; i++) {
        ids.push(
          expectStatus(
            await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
              gtin: DEMO_GTIN,
              lot: `BA${String(i).padStart(4, "0")}`,
              harvestedAt: "2026-05-01T08:00:00+08:00",
              quantity: { value: "5", unit: "kg" },
              itemCount: 100,
            }),
            202,
            "register",
          ).batch.batchId,
        );
      }
      for (const id of ids) await waitUntilAnchored(server.url, id, 0, 300_000);
      started = performance.now();
      const all = expectStatus(
        await regulator.get<{ batches: unknown[] }>(
          `/api/v1/audits?organisationId=${demo.organisations.cooperative.id}`,
        ),
        200,
        "scope audit",
      );
      const allMs = performance.now() - started;
      if (all.batches.length !== 100) throw new Error(`expected 100 batches, audited ${String(all.batches.length)}`);
      return [
        {
          metric: "audit of one batch: 10,000 items, 50 events, every CID re-hashed",
          value: Math.round(oneMs),
          unit: "ms",
        },
        { metric: "audit of a cooperative with 100 batches", value: Math.round(allMs), unit: "ms" },
      ];
    } finally {
      await stack.close();
    }
  },
};
