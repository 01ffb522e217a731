/**
 * One large registration against the server in its own process, as production runs it,
 * while the server is watched from outside: `/healthz` asked every 20 ms, an item of
 * another batch resolved every 50 ms, resident memory read from /proc. Shared by the
 * load test (test/faults/heavy-load.test.ts, correctness with generous bounds) and the
 * bench (scripts/bench/heavy-load.ts, the figures).
 *
 * No chain is needed: a registration is accepted, signed and stored before anything is
 * anchored, and that is the part that once froze the server.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { apiClient, type ApiClient } from "./api-client.ts";
import { freePort } from "./chain-node.ts";
import { DEMO_COMPANY_PREFIX, onboardCooperative } from "./demo-system.ts";
import { offlineServerEnv } from "./local-stack.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";

const GTIN = "06901234567892";

export interface HeavyLoadResult {
  itemCount: number;
  /** Status of the large registration and its duration, request to answer. */
  registration: { status: number; ms: number; body: unknown };
  /** Latencies (ms) of the probes sent while the registration ran; failures are counted apart. */
  healthzMs: number[];
  healthzFailures: number;
  resolveMs: number[];
  resolveFailures: number;
  /** The server's resident memory before the registration and at its peak during it. */
  rssBaselineBytes: number;
  rssPeakBytes: number;
  /** The items the server then holds for the large batch (from its API). */
  storedItemCount: number | null;
}

function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"));
  return match === null ? 0 : Number(match[1]) * 1024;
}

async function expect<T>(response: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> {
  const answer = await response;
  if (answer.status !== status) {
    throw new Error(`${what}: ${String(answer.status)} ${JSON.stringify(answer.body).slice(0, 500)}`);
  }
  return answer.body;
}

function registration(lot: string, itemCount: number): Record<string, unknown> {
  return {
    gtin: GTIN,
    lot,
    harvestedAt: "2026-04-15T06:30:00+08:00",
    quantity: { value: "250000", unit: "kg" },
    itemCount,
    hiddenCodes: true,
  };
}

/** Repeats `probe` every `intervalMs` until `stop` says so, timing each answer. */
async function probeLoop(
  probe: () => Promise<boolean>,
  intervalMs: number,
  stop: () => boolean,
): Promise<{ ms: number[]; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  while (!stop()) {
    const started = performance.now();
    try {
      if (await probe()) ms.push(performance.now() - started);
      else failures += 1;
    } catch {
      failures += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return { ms, failures };
}

export interface HeavyLoadServer {
  baseUrl: string;
  dataDir: string;
  cooperative: ApiClient;
  cooperativeToken: string;
}

export async function runHeavyLoad(options: {
  itemCount: number;
  env?: Record<string, string>;
  /** More checks against the same server once the load is over, before it stops. */
  afterwards?: (server: HeavyLoadServer) => Promise<void>;
}): Promise<HeavyLoadResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "heavy-load-"));
  const env: Record<string, string> = {
    ...offlineServerEnv(dataDir),
    PORT: String(await freePort()),
    LOG_LEVEL: "warn",
    RATE_LIMIT_PER_MINUTE: "10000000",
    ...options.env,
  };
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess(env);
    const baseUrl = server.url;
    const pid = server.process.pid ?? 0;
    const cooperative = await onboardCooperative(baseUrl, env.ADMIN_TOKEN ?? "", {
      name: { zh: "大批次测试合作社" },
      serial: 7311,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
    });
    const coop: ApiClient = apiClient(baseUrl, cooperative.token);
    await expect(
      coop.post("/api/v1/products", {
        gtin: GTIN,
        name: { zh: "西湖龙井", en: "West Lake Longjing" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "register product",
    );
    // Another batch whose item is resolved throughout, and whose tree is built (and cached) first.
    const other = (
      await expect(
        coop.post<{ batch: { batchId: string } }>("/api/v1/batches", registration("SMALL-1", 100)),
        202,
        "register small batch",
      )
    ).batch;
    const items = await expect(
      coop.get<{ items: { serial: string }[] }>(`/api/v1/batches/${other.batchId}/items?limit=1`),
      200,
      "list items",
    );
    const serial = items.items[0]?.serial ?? "";
    const resolveUrl = new URL(`/01/${GTIN}/10/SMALL-1/21/${serial}`, baseUrl);
    const resolveOnce = async (): Promise<boolean> => {
      const response = await fetch(resolveUrl, { headers: { accept: "application/json" } });
      await response.arrayBuffer();
      return response.status === 200;
    };
    if (!(await resolveOnce())) throw new Error("the small batch's item does not resolve");
    const healthzUrl = new URL("/healthz", baseUrl);
    const healthOnce = async (): Promise<boolean> => {
      const response = await fetch(healthzUrl);
      await response.arrayBuffer();
      return response.status === 200;
    };

    const rssBaselineBytes = residentBytes(pid);
    let rssPeakBytes = rssBaselineBytes;
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, residentBytes(pid));
    }, 50);
    let done = false;
    const healthz = probeLoop(healthOnce, 20, () => done);
    const resolve = probeLoop(resolveOnce, 50, () => done);
    const started = performance.now();
    let answer: { status: number; body: unknown };
    try {
      answer = await coop.post("/api/v1/batches", registration("LARGE-1", options.itemCount));
    } catch (error) {
      const exit = server.process.exitCode ?? server.process.signalCode;
      throw new Error(
        `the registration got no answer (server exit: ${String(exit)}):\n${server.output().slice(-3_000)}`,
        {
          cause: error,
        },
      );
    } finally {
      done = true;
      clearInterval(sampler);
    }
    const ms = performance.now() - started;
    const [health, resolved] = await Promise.all([healthz, resolve]);
    let storedItemCount: number | null = null;
    const large = (answer.body as { batch?: { batchId?: string } }).batch?.batchId;
    if (answer.status === 202 && large !== undefined) {
      const page = await coop.get<{ itemCount: number; items: unknown[] }>(`/api/v1/batches/${large}/items?limit=1`);
      storedItemCount = page.status === 200 ? page.body.itemCount : null;
    }
    await options.afterwards?.({ baseUrl, dataDir, cooperative: coop, cooperativeToken: cooperative.token });
    return {
      itemCount: options.itemCount,
      registration: { status: answer.status, ms, body: answer.body },
      healthzMs: health.ms,
      healthzFailures: health.failures,
      resolveMs: resolved.ms,
      resolveFailures: resolved.failures,
      rssBaselineBytes,
      rssPeakBytes,
      storedItemCount,
    };
  } finally {
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}
