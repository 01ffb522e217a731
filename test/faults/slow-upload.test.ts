/**
 * Uploads at the speed of a rural uplink, to the server in its own process: one that
 * trickles for longer than the idle timeout (and than Node's default five-minute request
 * budget would allow, scaled down) but never stops is stored whole; one that stops sending
 * (a phone out of coverage) is cut at the idle timeout and leaves no record.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";

import { freePort } from "../../scripts/lib/chain-node.ts";
import { onboardCooperative } from "../../scripts/lib/demo-system.ts";
import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";

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

/**
 * Sends `pieces` pieces of 64 KiB, waiting `gapMs` between them; with `stallAfter`, stops
 * sending (without closing) after that many. Resolves with the answer, or "closed" when the
 * server hangs up first.
 */
async function trickle(
  baseUrl: string,
  token: string,
  pieces: number,
  gapMs: number,
  stallAfter?: number,
): Promise<{ status: number; body: unknown; sha256: string } | "closed" | "still open"> {
  const request = httpRequest(new URL("/api/v1/media", baseUrl), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "video/mp4",
      "content-length": String(pieces * PIECE.length),
    },
  });
  const answer = new Promise<IncomingMessage | "closed">((resolve) => {
    request.once("response", resolve);
    request.once("error", () => {
      resolve("closed");
    });
    request.once("close", () => {
      resolve("closed");
    });
  });
  const digest = createHash("sha256");
  for (let i = 0; i < pieces; i++) {
    if (stallAfter !== undefined && i === stallAfter) {
      // Wait for the server to hang up, but not for ever: a server that never does fails the test.
      const outcome = await Promise.race([answer, sleep(IDLE_TIMEOUT_SECONDS * 1_000 + 10_000).then(() => "open")]);
      request.destroy();
      return outcome === "closed" ? "closed" : "still open";
    }
    digest.update(PIECE);
    if (!request.write(PIECE)) await once(request, "drain");
    await sleep(gapMs);
  }
  request.end();
  const response = await answer;
  if (response === "closed") return response;
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  return {
    status: response.statusCode ?? 0,
    body: JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown,
    sha256: digest.digest("hex"),
  };
}

describe("uploads at the speed of a weak uplink", () => {
  let dataDir: string;
  let server: ServerProcess;
  let token: string;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "slow-upload-"));
    const env: Record<string, string> = {
      ...offlineServerEnv(dataDir),
      PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
    };
    server = await startServerProcess(env);
    token = (
      await onboardCooperative(server.url, env.ADMIN_TOKEN ?? "", { name: { zh: "山区茶叶合作社" }, serial: 6161 })
    ).token;
  });

  after(async () => {
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stores an upload that takes twice the idle timeout but never pauses that long", async () => {
    const started = Date.now();
    const sent = await trickle(server.url, token, 8, 500);
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
    const outcome = await trickle(server.url, token, 16, 100, 4);
    const waited = Date.now() - started;
    assert.equal(outcome, "closed");
    assert.ok(waited >= IDLE_TIMEOUT_SECONDS * 1_000, `closed after ${String(waited)} ms, not before the idle timeout`);
    assert.ok(waited < IDLE_TIMEOUT_SECONDS * 1_000 + 10_000, `closed after ${String(waited)} ms`);
    await sleep(500);
    assert.equal(mediaRows(dataDir), rowsBefore);
    assert.equal((await fetch(new URL("/healthz", server.url))).status, 200);
  });
});
