/**
 * The scan page against the real server: Hardhat node in its own process, the server
 * with SQLite and embedded IPFS, data entered through the API, and Debian's Chromium
 * verifying in the page. The dishonest cases are made the way a compromised platform
 * would make them, by changing the server's database behind the chain's back: an altered
 * event time, a swapped metadata CID, a serial slipped into a batch. The page must catch
 * each; the same behaviour suite as the stand-in harness runs (support/scan-page-assertions.ts).
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { chromium, type Browser } from "playwright-core";
import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN, seedDemoSystem, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { loadConfig } from "../../server/src/config.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { itemPathOf, registerTestBatch, startTestServer } from "../support/test-server.ts";
import { open, scanPageBehaviour, type OptionalCase, type ScanPageTarget } from "./support/scan-page-assertions.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const CASES: ReadonlySet<OptionalCase> = new Set([
  "notInBatch",
  "alteredEvent",
  "swappedMetadata",
  "suspicious",
  "pending",
  "chainDown",
  "hiddenCode",
]);

describe("the scan page against the real server", () => {
  let node: ChainNode | undefined;
  let deployment: LocalDeployment;
  let server: RunningServer | undefined;
  let deadRpcServer: RunningServer | undefined;
  let dataDir: string;
  let browser: Browser | undefined;
  let target: ScanPageTarget | undefined;
  let demo: DemoSystemSummary;

  async function settle(): Promise<void> {
    assert.ok(server !== undefined);
    await settleLedger(server);
  }

  const registerBatch = (coop: ApiClient, lot: string): Promise<string> =>
    registerTestBatch(coop, lot, { itemCount: 6 });

  async function itemPath(batchId: string, lot: string, index = 0): Promise<string> {
    assert.ok(server !== undefined);
    return itemPathOf(server, batchId, lot, index);
  }

  before(async () => {
    const build = await buildWeb();
    assert.ok(build.withinBudget, `the scan page is ${build.gzipBytes} bytes gzip, over budget`);
    node = await startChainNode({ projectRoot });
    deployment = await deployLocalRegistry(node.rpcUrl);
    const started = await startTestServer(deployment.env, "scan-real", {
      // Every scenario opens the genuine item once; ten scans a day is what flags a copy here.
      CLONE_SCANS_PER_DAY: "10",
    });
    ({ server, dataDir } = started);
    const env = started.env;
    const video = readFileSync(path.join(projectRoot, "scripts", "demo-assets", "planting.mp4"));
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", {
      itemCount: 30,
      video: { bytes: video, contentType: "video/mp4" },
    });
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const recalled = await registerBatch(coop, "RECALLED-1");
    const altered = await registerBatch(coop, "ALTERED-1");
    const swapped = await registerBatch(coop, "SWAPPED-1");
    const slipped = await registerBatch(coop, "SLIPPED-1");
    await settle();
    expectStatus(
      await coop.post(`/api/v1/batches/${altered}/events`, {
        bizStep: "packing",
        occurredAt: "2026-05-03T09:00:00+08:00",
      }),
      202,
      "event to alter",
    );
    expectStatus(
      await coop.post(`/api/v1/batches/${recalled}/recall`, {
        reason: { zh: "农残复检超标", en: "Residue retest failed" },
      }),
      202,
      "recall",
    );
    await settle();

    // What a compromised platform might do to its own database.
    const db = server.ctx.db;
    await db
      .updateTable("events")
      .set({ occurred_at_ms: Date.parse("2026-05-01T09:00:00+08:00") })
      .where("batch_id", "=", altered)
      .execute();
    const genuineMetadata = await db
      .selectFrom("batches")
      .select("metadata_cid")
      .where("batch_id", "=", demo.batch.batchId)
      .executeTakeFirstOrThrow();
    await db
      .updateTable("batches")
      .set({ metadata_cid: genuineMetadata.metadata_cid })
      .where("batch_id", "=", swapped)
      .execute();
    await db
      .insertInto("items")
      .values({ batch_id: slipped, serial: "SLIPPEDIN0001", leaf_index: 6, hidden_code_hmac: null })
      .execute();

    // Left unanchored: the writer is not run again.
    const pending = await registerBatch(coop, "PENDING-1");

    const genuinePath = await itemPath(demo.batch.batchId, demo.batch.lot, 0);
    const suspiciousPath = await itemPath(demo.batch.batchId, demo.batch.lot, 1);
    for (let i = 0; i < 10; i++) await fetch(`${server.url}${suspiciousPath}`, { headers: { accept: "text/html" } });

    // The same store behind a server whose public JSON-RPC endpoint does not answer.
    deadRpcServer = await startServer(loadConfig({ ...env, PUBLIC_RPC_URL: `http://127.0.0.1:${await freePort()}/` }), {
      logger: pino({ level: "silent" }),
    });

    browser = (await launchChromium("the scan page's browser tests")) ?? undefined;
    if (browser === undefined) return;
    const genuineSerial = genuinePath.split("/").at(-1) ?? "";
    target = {
      browser,
      baseUrl: server.url,
      urls: {
        genuine: `${server.url}${genuinePath}`,
        recalled: `${server.url}${await itemPath(recalled, "RECALLED-1")}`,
        unknown: `${server.url}/01/${DEMO_GTIN}/10/${demo.batch.lot}/21/NEVERISSUED01`,
        notInBatch: `${server.url}/01/${DEMO_GTIN}/10/SLIPPED-1/21/SLIPPEDIN0001`,
        alteredEvent: `${server.url}${await itemPath(altered, "ALTERED-1")}`,
        swappedMetadata: `${server.url}${await itemPath(swapped, "SWAPPED-1")}`,
        suspicious: `${server.url}${suspiciousPath}`,
        pending: `${server.url}${await itemPath(pending, "PENDING-1")}`,
        chainDown: `${deadRpcServer.url}${genuinePath}`,
      },
      videoCid: demo.videoCid ?? "",
      hiddenCode: deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, demo.batch.batchId, genuineSerial),
      screenshotDir: path.join(projectRoot, "test-results", "real-server"),
    };
  });

  after(async () => {
    await browser?.close();
    await deadRpcServer?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  scanPageBehaviour(() => target, CASES);

  it("verifies over plain HTTP on a LAN name too (no Web Crypto there): the page loads its own SHA-256 then, and only then", async (t) => {
    if (target === undefined || server === undefined) {
      t.skip("Chromium is not available here");
      return;
    }
    const scripts = async (opened: { page: import("playwright-core").Page }): Promise<string[]> =>
      opened.page.evaluate(() => performance.getEntriesByType("resource").map((entry) => new URL(entry.name).pathname));
    const usesFallback = (paths: string[]): boolean => paths.some((p) => /^\/web\/sha256-[0-9a-f]{10}\.js$/.test(p));

    const secure = await open(target, target.urls.genuine);
    try {
      assert.equal(await secure.page.evaluate(() => isSecureContext), true);
      assert.equal(secure.verdict, "verified");
      assert.equal(usesFallback(await scripts(secure)), false, "a secure page hashes with Web Crypto");
    } finally {
      await secure.close();
    }

    // A name that is not localhost makes the origin insecure, as a phone on the Wi-Fi sees the
    // demo; the name still resolves to loopback, so nothing leaves this machine.
    const lanBrowser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP lan.test 127.0.0.1"],
    });
    try {
      const lanOrigin = `http://lan.test:${new URL(server.url).port}`;
      const lanUrl = lanOrigin + new URL(target.urls.genuine).pathname;
      const lan = await open({ browser: lanBrowser, baseUrl: lanOrigin }, lanUrl);
      try {
        assert.equal(await lan.page.evaluate(() => isSecureContext), false);
        assert.equal(
          await lan.page.evaluate(() => (globalThis.crypto as { subtle?: unknown }).subtle === undefined),
          true,
        );
        assert.equal(lan.verdict, "verified", "documents checked with the page's own SHA-256");
        assert.equal(usesFallback(await scripts(lan)), true);
        assert.deepEqual(lan.problems, []);
      } finally {
        await lan.close();
      }
    } finally {
      await lanBrowser.close();
    }
  });
});
