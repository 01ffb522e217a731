/**
 * Uploads at the speed of a rural uplink, to the server in its own process: one that
 * trickles for longer than the idle timeout (and than Node's default five-minute request
 * budget would allow, scaled down) but never stops is stored whole; one that stops sending
 * (a phone out of coverage) is cut at the idle timeout and leaves no record.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";

import { onboardCooperative } from "../../scripts/lib/demo-system.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";
import { startOfflineServerProcess, type OfflineServerProcess } from "../support/offline-server.ts";
import { trickleUpload } from "../support/slow-upload.ts";

const IDLE_TIMEOUT_SECONDS = 2;
const PIECE = Buffer.alloc(64 * 1024, 0x5a);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function mediaRows(dataDir: string): number {
  const db = new DatabaseSync(path.join(dataDir, "trace.db"), { readOnly: true });
  try {
    return (db.prepare("select count(*) as n from media").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("uploads at the speed of a weak uplink", () => {
  let running: OfflineServerProcess;
  let dataDir: string;
  let server: ServerProcess;
  let token: string;

  before(async () => {
    // Onboarded under the default idle timeout, then restarted with the short one: the server
    // closes a socket silent that long even while it is still computing the answer, and the
    // first onboarding (a custodial key's scrypt) took 1.1 to 1.8 s at a load of 13, so the
    // hook failed on "other side closed" in 3 of 8 runs. The uploads are what the timeout is for.
    running = await startOfflineServerProcess("slow-upload", {});
    dataDir = running.dataDir;
    token = (
      await onboardCooperative(running.server.url, running.env.ADMIN_TOKEN ?? "", {
        name: { zh: "山区茶叶合作社" },
        serial: 6161,
      })
    ).token;
    await running.server.kill();
    server = await startServerProcess({ ...running.env, IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS) });
  });

  after(async () => {
    await server.kill();
    await running.stop();
  });

  it("stores an upload that takes twice the idle timeout but never pauses that long", async () => {
    const started = Date.now();
    const sent = await trickleUpload(server.url, token, { piece: PIECE, pieces: 8, gapMs: 500 });
    assert.ok(Date.now() - started > IDLE_TIMEOUT_SECONDS * 1_000 * 1.5, "the upload outlasted the idle timeout");
    assert.ok(typeof sent === "object", "the server did not hang up on a slow but steady upload");
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    const { media } = sent.body as { media: { cid: string; sizeBytes: number } };
    assert.equal(media.sizeBytes, 8 * PIECE.length);
    const stored = Buffer.from(await (await fetch(new URL(`/ipfs/${media.cid}`, server.url))).arrayBuffer());
    assert.equal(createHash("sha256").update(stored).digest("hex"), sent.sha256);
  });

  it("hangs up on an upload that stops sending, and keeps no record of it", async () => {
    const rowsBefore = mediaRows(dataDir);
    const started = Date.now();
    const outcome = await trickleUpload(server.url, token, {
      piece: PIECE,
      pieces: 16,
      gapMs: 100,
      stall: { after: 4, waitMs: IDLE_TIMEOUT_SECONDS * 1_000 + 10_000 },
    });
    const waited = Date.now() - started;
    assert.equal(outcome, "closed");
    assert.ok(waited >= IDLE_TIMEOUT_SECONDS * 1_000, `closed after ${String(waited)} ms, not before the idle timeout`);
    assert.ok(waited < IDLE_TIMEOUT_SECONDS * 1_000 + 10_000, `closed after ${String(waited)} ms`);
    await sleep(500);
    assert.equal(mediaRows(dataDir), rowsBefore);
    assert.equal((await fetch(new URL("/healthz", server.url))).status, 200);
  });
});
