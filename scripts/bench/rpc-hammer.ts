/**
 * One client hammering the read-only JSON-RPC proxy while honest consumers scan items:
 * the server in its own process against a Hardhat node in another; the hammer is
 * autocannon in two more processes from one address (the heaviest batch the proxy allows:
 * 20 calls of full-range `eth_getLogs` and gas-capped `eth_call`, and a refused shape: an
 * `eth_call` with a state override). Honest clients, each from its own loopback address,
 * resolve an item (JSON) and read the chain as the page does (one `/rpc` batch). Figures:
 * honest resolve p99 quiet and hammered, honest page reads served, the hammer's refused
 * share, and registration-to-anchored quiet and hammered; and, as a yardstick, honest
 * resolve p99 while the same client floods a plain 404 path at full speed instead.
 */
import { execFile } from "node:child_process";
import path from "node:path";

import { apiClient } from "../lib/api-client.ts";
import { DEMO_GTIN, DEMO_LOT, waitUntilAnchored } from "../lib/demo-system.ts";
import { rpcLoadBodies, rpcRequest, sendFrom } from "../lib/rpc-load.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { openDatabase } from "../../server/src/storage/database.ts";
import { encodeBatchCall } from "../../server/src/verify/rpc.ts";
import { startProcessBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const PHASE_SECONDS = 12;
const HONEST_CLIENTS = 6;
const HAMMER_CONNECTIONS = 32;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

interface AutocannonResult {
  "2xx": number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requests: { total: number };
}

/** autocannon in its own process from 127.0.0.1: POSTs `body`, or GETs when it is null. */
function hammer(url: string, body: string | null): Promise<AutocannonResult> {
  const bin = path.join(process.cwd(), "node_modules", ".bin", "autocannon");
  const post = body === null ? [] : ["-m", "POST", "-H", "content-type=application/json", "-b", body];
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      ["-j", "-c", String(HAMMER_CONNECTIONS / 2), "-d", String(PHASE_SECONDS), ...post, url],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error !== null) reject(new Error(`autocannon failed on ${url}`, { cause: error }));
        else resolve(JSON.parse(stdout) as AutocannonResult);
      },
    );
  });
}

interface HonestFigures {
  resolveMs: number[];
  resolveFailed: number;
  pageReadsServed: number;
  pageReadsTotal: number;
}

/** Honest clients for `seconds`: resolve an item, then read the chain as the page does. */
async function honestLoad(
  baseUrl: string,
  itemPaths: readonly string[],
  pageBatch: string,
  seconds: number,
): Promise<HonestFigures> {
  const figures: HonestFigures = { resolveMs: [], resolveFailed: 0, pageReadsServed: 0, pageReadsTotal: 0 };
  const until = performance.now() + seconds * 1_000;
  await Promise.all(
    Array.from({ length: HONEST_CLIENTS }, async (_, client) => {
      const from = `127.0.4.${String(client + 1)}`;
      for (let n = client; performance.now() < until; n += HONEST_CLIENTS) {
        const t0 = performance.now();
        const resolved = await sendFrom(`${baseUrl}${itemPaths[n % itemPaths.length] ?? ""}`, from, { method: "GET" });
        figures.resolveMs.push(performance.now() - t0);
        if (resolved.status !== 200) figures.resolveFailed++;
        const read = await sendFrom(`${baseUrl}/rpc`, from, { method: "POST", body: pageBatch });
        figures.pageReadsTotal++;
        if (read.status === 200) {
          const answers = JSON.parse(read.text) as { result?: unknown }[];
          if (answers.every((a) => a.result !== undefined)) figures.pageReadsServed++;
        }
        // A person scanning: a pause between items.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }),
  );
  figures.resolveMs.sort((a, b) => a - b);
  return figures;
}

/** Registers a small batch and measures acceptance (202) to anchored. */
async function anchoringDelayMs(baseUrl: string, token: string, lot: string): Promise<number> {
  const coop = apiClient(baseUrl, token);
  const started = performance.now();
  const response = await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
    gtin: DEMO_GTIN,
    lot,
    harvestedAt: "2026-05-01T08:00:00+08:00",
    quantity: { value: "5", unit: "kg" },
    itemCount: 10,
  });
  if (response.status !== 202) throw new Error(`registration ${lot}: ${String(response.status)}`);
  await waitUntilAnchored(baseUrl, response.body.batch.batchId, 0, 300_000);
  return performance.now() - started;
}

export const rpcHammerSuite: BenchSuite = {
  name: "rpc-hammer",
  async run(): Promise<BenchRow[]> {
    const stack = await startProcessBenchStack({
      name: "rpc-hammer",
      itemCount: 200,
      // The stack lifts the global per-address limit, which would stop the hammer before the proxy's own limits.
      env: { LEDGER_MAX_WAIT_MS: "300" },
    });
    const { dataDir, deployment, demo, server } = stack;
    try {
      const store = await openDatabase({ kind: "sqlite", path: path.join(dataDir, "trace.db") });
      const serials = (await listItemSerials(store.db, demo.batch.batchId)).slice(0, 50);
      await store.close();
      const itemPaths = serials.map((serial) => `/01/${DEMO_GTIN}/10/${DEMO_LOT}/21/${serial}`);
      const registry = deployment.registry;
      const { page: pageBatch, heavy } = rpcLoadBodies(
        registry,
        demo.batch.batchId,
        demo.organisations.cooperative.signerAddress,
      );
      const refused = JSON.stringify(
        rpcRequest(1, "eth_call", [
          { to: registry, data: encodeBatchCall(demo.batch.batchId), gas: "0x1c9c380" },
          "latest",
          { [registry]: { code: "0x5b600056" } },
        ]),
      );

      const token = demo.organisations.cooperative.token;
      const quietAnchoring = anchoringDelayMs(server.url, token, "QUIET-1");
      const quiet = await honestLoad(server.url, itemPaths, pageBatch, PHASE_SECONDS);
      const quietAnchorMs = await quietAnchoring;

      const hammering = Promise.all([hammer(`${server.url}/rpc`, heavy), hammer(`${server.url}/rpc`, refused)]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const loudAnchoring = anchoringDelayMs(server.url, token, "LOUD-1");
      const loud = await honestLoad(server.url, itemPaths, pageBatch, PHASE_SECONDS - 2);
      const loudAnchorMs = await loudAnchoring;
      const [heavyResult, refusedResult] = await hammering;

      // The yardstick: the same client flooding a path every request can reach (a 404) at
      // full speed, so what the flood itself costs is told apart from what /rpc costs.
      const flooding = Promise.all([hammer(`${server.url}/nowhere`, null), hammer(`${server.url}/nowhere`, null)]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const flooded = await honestLoad(server.url, itemPaths, pageBatch, PHASE_SECONDS - 2);
      const floods = await flooding;
      const hammerTotal = heavyResult.requests.total + refusedResult.requests.total;
      // A state-override call is never forwarded: answered 200 with a JSON-RPC error, or 429
      // once the budget is spent, each one is a refusal. A heavy batch is refused by 429 or 503.
      const hammerRefused = heavyResult.non2xx + refusedResult.non2xx + refusedResult["2xx"];
      const refusedShare = (hammerRefused / Math.max(1, hammerTotal)) * 100;

      return [
        {
          metric: "rpc hammer: honest resolve (JSON) p99, quiet",
          value: percentile(quiet.resolveMs, 0.99),
          unit: "ms",
        },
        {
          metric: "rpc hammer: honest resolve (JSON) p99, /rpc hammered by one client",
          value: percentile(loud.resolveMs, 0.99),
          unit: "ms",
        },
        { metric: "rpc hammer: honest resolves failed while hammered", value: loud.resolveFailed, unit: "requests" },
        {
          metric: "rpc hammer: yardstick: honest resolve p99, the same client flooding a 404 path instead",
          value: percentile(flooded.resolveMs, 0.99),
          unit: "ms",
        },
        {
          metric: "rpc hammer: yardstick: flood requests answered (404) in the same time",
          value: floods[0].requests.total + floods[1].requests.total,
          unit: "requests",
        },
        {
          metric: "rpc hammer: honest page chain reads served while hammered",
          value: (loud.pageReadsServed / Math.max(1, loud.pageReadsTotal)) * 100,
          unit: "%",
        },
        { metric: "rpc hammer: hammering client's requests", value: hammerTotal, unit: "requests" },
        {
          metric: "rpc hammer: hammering client's requests refused (429/503/RPC error)",
          value: refusedShare,
          unit: "%",
        },
        {
          metric: "rpc hammer: hammering client's heavy batches forwarded to the node",
          value: heavyResult["2xx"],
          unit: "requests",
        },
        { metric: "rpc hammer: registration to anchored, quiet", value: quietAnchorMs / 1_000, unit: "s" },
        { metric: "rpc hammer: registration to anchored, hammered", value: loudAnchorMs / 1_000, unit: "s" },
      ];
    } finally {
      await stack.close();
    }
  },
};
