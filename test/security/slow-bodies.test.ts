/**
 * Slow senders against the server in its own process: anonymous requests trickling their
 * bodies (or headers) a byte at a time are answered 408 and cut soon after the short body
 * budget, all at once, while a media upload trickling for longer than that budget, but
 * never silent for the idle timeout, is still stored whole.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";

import { onboardCooperative } from "../../scripts/lib/demo-system.ts";
import type { ServerProcess } from "../../scripts/lib/server-process.ts";
import { startOfflineServerProcess, type OfflineServerProcess } from "../support/offline-server.ts";
import { trickleUpload } from "../support/slow-upload.ts";

const BODY_TIMEOUT_SECONDS = 2;
const IDLE_TIMEOUT_SECONDS = 3;
const SLOW_SENDERS = 60;
const PIECE = Buffer.alloc(64 * 1024, 0x33);

interface Cut {
  status: number | null;
  code: string | null;
  /** When the server answered, and when the connection closed, in ms from the start. */
  answeredMs: number | null;
  closedMs: number;
}

/** A request that promises `declared` bytes and sends one every `gapMs` until the server hangs up. */
function trickleBody(baseUrl: string, pathname: string, from: string, declared: number, gapMs: number): Promise<Cut> {
  const url = new URL(pathname, baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    let answeredMs: number | null = null;
    let status: number | null = null;
    let code: string | null = null;
    let closed = false;
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      localAddress: from,
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(declared) },
    });
    request.on("response", (response: IncomingMessage) => {
      answeredMs = performance.now() - started;
      status = response.statusCode ?? null;
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () => {
        try {
          code = (JSON.parse(Buffer.concat(parts).toString("utf8")) as { code?: string }).code ?? null;
        } catch {
          code = null;
        }
      });
    });
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // Give the body's last bytes a moment to be read.
      setTimeout(() => {
        resolve({ status, code, answeredMs, closedMs: performance.now() - started });
      }, 50);
    };
    request.on("error", finish);
    request.on("close", finish);
    request.write("[");
    let sent = 1;
    const timer = setInterval(() => {
      if (sent >= declared - 1 || request.destroyed) return;
      request.write(" ");
      sent++;
    }, gapMs);
  });
}

/** Sends request headers a byte every `gapMs`; resolves with ms until the server closed the socket. */
function trickleHeaders(baseUrl: string, gapMs: number): Promise<number> {
  const url = new URL(baseUrl);
  const started = performance.now();
  const head = Buffer.from(`POST /rpc HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: ${"a".repeat(200)}`);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < head.length && !socket.destroyed) socket.write(head.subarray(sent, ++sent));
    }, gapMs);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve(performance.now() - started);
    });
  });
}

describe("slow senders", () => {
  let running: OfflineServerProcess;
  let server: ServerProcess;
  let token: string;

  before(async () => {
    running = await startOfflineServerProcess("slow-bodies", {
      RATE_LIMIT_PER_MINUTE: "100000",
      BODY_TIMEOUT_SECONDS: String(BODY_TIMEOUT_SECONDS),
      HEADERS_TIMEOUT_SECONDS: String(BODY_TIMEOUT_SECONDS),
      IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
    });
    server = running.server;
    token = (
      await onboardCooperative(server.url, running.env.ADMIN_TOKEN ?? "", {
        name: { zh: "慢速网络合作社" },
        serial: 6262,
      })
    ).token;
  });

  after(async () => {
    await running.stop();
  });

  it("cuts many trickling anonymous bodies at the short budget while a slow upload is stored", async () => {
    const routes = ["/rpc", "/api/v1/claims/06901234567892/LOT1/S1", "/api/v1/organisations", "/nowhere"];
    const upload = trickleUpload(server.url, token, { piece: PIECE, pieces: 8, gapMs: 700 });
    const cuts = await Promise.all(
      Array.from({ length: SLOW_SENDERS }, (_, i) =>
        trickleBody(server.url, routes[i % routes.length] ?? "/rpc", `127.0.2.${String(1 + i)}`, 10_000, 500),
      ),
    );
    const budgetMs = BODY_TIMEOUT_SECONDS * 1_000;
    for (const [i, cut] of cuts.entries()) {
      const what = `${routes[i % routes.length] ?? ""}: ${JSON.stringify(cut)}`;
      assert.equal(cut.status, 408, what);
      assert.equal(cut.code, "request.timeout", what);
      assert.ok(cut.answeredMs !== null && cut.answeredMs >= budgetMs - 100, `not before the budget: ${what}`);
      // Generous: a cut an order of magnitude late (the old 6-hour budget) fails this.
      assert.ok(cut.closedMs < budgetMs + 4_000, `closed soon after the budget: ${what}`);
    }
    const stored = await upload;
    assert.ok(typeof stored === "object", "the slow upload was not cut");
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.ok(stored.ms > budgetMs * 2, "the upload took longer than the short budget");
    const { media } = stored.body as { media: { cid: string; sizeBytes: number } };
    assert.equal(media.sizeBytes, 8 * PIECE.length);
    const bytes = Buffer.from(await (await fetch(new URL(`/ipfs/${media.cid}`, server.url))).arrayBuffer());
    assert.equal(createHash("sha256").update(bytes).digest("hex"), stored.sha256);
    assert.equal((await fetch(new URL("/healthz", server.url))).status, 200);
  });

  it("cuts trickling headers at the headers budget", async () => {
    const closedAfter = await Promise.all(Array.from({ length: 10 }, () => trickleHeaders(server.url, 300)));
    for (const ms of closedAfter) {
      assert.ok(ms >= BODY_TIMEOUT_SECONDS * 1_000 - 100, `closed after ${String(Math.round(ms))} ms`);
      assert.ok(ms < BODY_TIMEOUT_SECONDS * 1_000 + 4_000, `closed after ${String(Math.round(ms))} ms`);
    }
  });
});
