/**
 * The server in this process against a local deployment, as the integration and page
 * tests run it: a fresh data directory, workers off (the test settles the ledger when it
 * chooses), the per-address limit lifted (every request comes from one address), no logs.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { pino } from "pino";

import { expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { loadConfig } from "../../server/src/config.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { freshTestDatabaseUrl } from "./test-database.ts";

export interface TestServer {
  server: RunningServer;
  /** The caller removes it when done. */
  dataDir: string;
  /** The settings it runs with, to start another on the same data or with a change. */
  env: Record<string, string>;
}

/** `chainEnv` is a local deployment's environment; `extra` overrides any setting. */
export async function startTestServer(
  chainEnv: Record<string, string>,
  name: string,
  extra: Record<string, string> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const env = {
    ...chainEnv,
    PORT: "0",
    DATA_DIR: dataDir,
    WORKERS: "off",
    RATE_LIMIT_PER_MINUTE: "100000",
    ...extra,
  };
  const server = await startServer(loadConfig(env), { logger: pino({ level: "silent" }) });
  return { server, dataDir, env };
}

/**
 * The server as the API tests run it: workers on (they anchor through the real ledger
 * writer), a database of its own when `TEST_DATABASE_URL` names a PostgreSQL cluster (the
 * server:postgres step), logs at `TEST_LOG_LEVEL` (silent by default).
 */
export async function startApiTestServer(
  chainEnv: Record<string, string>,
  name: string,
  extra: Record<string, string> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const databaseUrl = await freshTestDatabaseUrl(name.replace(/[^a-z0-9]/g, "_"));
  const env = {
    ...chainEnv,
    PORT: "0",
    DATA_DIR: dataDir,
    RATE_LIMIT_PER_MINUTE: "100000",
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    ...extra,
  };
  const server = await startServer(loadConfig(env), {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  return { server, dataDir, env };
}

/** The resolver path of a batch's item (its first, or the `index`th). */
export async function itemPathOf(server: RunningServer, batchId: string, lot: string, index = 0): Promise<string> {
  const serial = (await listItemSerials(server.ctx.db, batchId))[index] ?? "";
  return `/01/${DEMO_GTIN}/10/${lot}/21/${serial}`;
}

/** Registers a small batch of the demo's product; its id. */
export async function registerTestBatch(
  coop: ApiClient,
  lot: string,
  options: { itemCount: number; certificationIds?: string[] },
): Promise<string> {
  return expectStatus(
    await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
      gtin: DEMO_GTIN,
      lot,
      harvestedAt: "2026-05-02T07:00:00+08:00",
      quantity: { value: "5", unit: "kg" },
      itemCount: options.itemCount,
      ...(options.certificationIds === undefined ? {} : { certificationIds: options.certificationIds }),
    }),
    202,
    `register ${lot}`,
  ).batch.batchId;
}
