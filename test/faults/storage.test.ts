/**
 * Storage faults: the IPFS store unreachable (a Kubo RPC URL that refuses connections) and
 * a full disk under the data directory (a small tmpfs). Writes are refused with a clear
 * problem, nothing is stored that points at content we do not hold, nothing half-written
 * is ever served, and nothing half-written stays: temporary files go at once, the refused
 * upload's unpinned blocks at the first start a day later.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { freePort } from "../../scripts/lib/chain-node.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN, demoUscc, onboardCooperative } from "../../scripts/lib/demo-system.ts";
import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { IMPORT_PARAMETERS } from "../../server/src/ipfs/content-store.ts";
import { importFile } from "../../server/src/ipfs/unixfs-file.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

/** A server that needs no chain: these tests never anchor anything. */
function offlineEnv(dataDir: string): Record<string, string> {
  return { ...offlineServerEnv(dataDir), MEDIA_LIMIT_BYTES: String(1024 ** 3) };
}

const start = (env: Record<string, string>): Promise<RunningServer> =>
  startServer(loadConfig(env), { logger: pino({ level: "silent" }) });

/** Onboards a cooperative and registers its product; returns the cooperative's token. */
async function prepare(server: RunningServer, adminToken: string): Promise<string> {
  const { token } = await onboardCooperative(server.url, adminToken, {
    name: { zh: "故障测试合作社" },
    serial: 4242,
    companyPrefixes: [DEMO_COMPANY_PREFIX],
  });
  expectStatus(
    await apiClient(server.url, token).post("/api/v1/products", {
      gtin: DEMO_GTIN,
      name: { zh: "龙井" },
      category: "tea",
      unit: "kg",
    }),
    201,
    "product",
  );
  return token;
}

async function counts(server: RunningServer): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of ["organisations", "batches", "items", "media", "outbox"] as const) {
    const row = await server.ctx.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    result[table] = Number(row.n);
  }
  return result;
}

const batch = {
  gtin: DEMO_GTIN,
  lot: "FAULT-1",
  harvestedAt: "2026-05-01T08:00:00+08:00",
  quantity: { value: "1", unit: "kg" },
  itemCount: 5,
};

/** The CID a file would get, computed without storing it. */
async function cidOf(bytes: Uint8Array): Promise<string> {
  const sink = { put: () => Promise.resolve() };
  return (await importFile([bytes], sink, IMPORT_PARAMETERS)).toString();
}

function* chunks(total: number): Generator<Uint8Array> {
  for (let sent = 0; sent < total; sent += 1024 * 1024) yield randomBytes(Math.min(1024 * 1024, total - sent));
}

describe("the IPFS store unreachable", () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: RunningServer;
  let coop: ApiClient;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "ipfs-down-"));
    env = offlineEnv(dataDir);
    // Onboard while IPFS works (the embedded store), then switch to a Kubo that refuses connections.
    const healthy = await start(env);
    const token = await prepare(healthy, env.ADMIN_TOKEN ?? "");
    await healthy.close();
    server = await start({ ...env, IPFS_KUBO_RPC_URL: `http://127.0.0.1:${await freePort()}` });
    coop = apiClient(server.url, token);
  });

  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses uploads, batches and onboarding with ipfs.unavailable (503) and stores nothing", async () => {
    const before = await counts(server);
    const upload = await coop.upload<{ code: string }>("/api/v1/media", randomBytes(50_000), "image/jpeg");
    assert.equal(upload.status, 503);
    assert.equal(upload.body.code, "ipfs.unavailable");
    const registration = await coop.post<{ code: string }>("/api/v1/batches", batch);
    assert.equal(registration.status, 503);
    assert.equal(registration.body.code, "ipfs.unavailable");
    const onboarding = await apiClient(server.url, env.ADMIN_TOKEN).post<{ code: string }>("/api/v1/organisations", {
      kind: "retailer",
      name: { zh: "故障测试商店" },
      uscc: demoUscc("92", "330106", 4343),
      regionCode: "330106",
    });
    assert.equal(onboarding.status, 503);
    assert.deepEqual(await counts(server), before);
  });
});

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe("a full disk under the data directory", () => {
  let mountPoint: string;
  let dataDir: string;
  let env: Record<string, string>;
  let server: RunningServer;
  let token: string;
  let coop: ApiClient;

  before(async () => {
    mountPoint = mkdtempSync(path.join(tmpdir(), "full-disk-"));
    // A 24 MiB file system of its own: filling it cannot hurt the machine.
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint]);
    dataDir = path.join(mountPoint, "data");
    mkdirSync(dataDir);
    env = offlineEnv(dataDir);
    server = await start(env);
    token = await prepare(server, env.ADMIN_TOKEN ?? "");
    coop = apiClient(server.url, token);
  });

  after(async () => {
    await server.close();
    // Lazy: the last writes of the refused upload may still be closing.
    execFileSync("umount", ["-l", mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("refuses the write that does not fit with storage.full (507), and never serves a partial file", async () => {
    const video = Buffer.concat([...chunks(40 * 1024 * 1024)]);
    const before = await counts(server);
    const upload = await coop.upload<{ code: string; message: { zh: string } }>("/api/v1/media", video, "video/mp4");
    assert.equal(upload.status, 507);
    assert.equal(upload.body.code, "storage.full");
    assert.match(upload.body.message.zh, /存储空间已满/);
    assert.deepEqual(await counts(server), before, "no media record for what was not stored");
    const served = await fetch(`${server.url}/ipfs/${await cidOf(video)}`);
    assert.equal(served.status, 404, "the file's root never reached the store");
    // Other writes are refused the same clear way while the disk stays full, and reads go on.
    const registration = await coop.post<{ code: string }>("/api/v1/batches", batch);
    assert.ok(
      registration.status === 507 || registration.status === 202,
      `a batch either fits or is refused clearly (got ${registration.status})`,
    );
    if (registration.status === 507) assert.equal(registration.body.code, "storage.full");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it("refuses a resumable upload's piece that does not fit, keeping the session where it was", async () => {
    const opened = await coop.post<{ upload: { id: string } }>("/api/v1/media/uploads", {
      contentType: "video/mp4",
      sizeBytes: 8 * 1024 * 1024,
    });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const url = `${server.url}/api/v1/media/uploads/${opened.body.upload.id}`;
    const piece = await fetch(url, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/offset+octet-stream",
        "upload-offset": "0",
      },
      body: new Blob([new Uint8Array(randomBytes(8 * 1024 * 1024))]),
    });
    assert.equal(piece.status, 507);
    assert.equal(((await piece.json()) as { code: string }).code, "storage.full");
    const status = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await status.json()) as { upload: { offset: number } }).upload.offset, 0, "the piece was cut back");
  });

  it("leaves no temporary file behind, and the next start frees what the refused upload wrote", async () => {
    assert.deepEqual(
      filesUnder(dataDir).filter((file) => file.endsWith(".tmp")),
      [],
      "the writes the full disk interrupted removed their temporary files",
    );
    // The refused upload's blocks (unpinned) still fill the disk: a small upload is refused too.
    const photo = randomBytes(4 * 1024 * 1024);
    assert.equal((await coop.upload("/api/v1/media", photo, "image/jpeg")).status, 507);
    const free = (): number => {
      const fs = statfsSync(mountPoint);
      return fs.bavail * fs.bsize;
    };
    const freeBefore = free();
    // A day later the server restarts: unpinned blocks older than the grace period go.
    await server.close();
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
    for (const file of filesUnder(path.join(dataDir, "ipfs", "blocks"))) utimesSync(file, dayAgo, dayAgo);
    server = await start(env);
    coop = apiClient(server.url, token);
    assert.ok(free() - freeBefore > 16 * 1024 * 1024, `freed ${((free() - freeBefore) / 1024 / 1024).toFixed(1)} MiB`);
    const upload = await coop.upload<{ media: { cid: string } }>("/api/v1/media", photo, "image/jpeg");
    assert.equal(upload.status, 201);
    assert.equal(upload.body.media.cid, await cidOf(photo));
  });
});
