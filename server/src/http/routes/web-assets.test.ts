import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

import { Router } from "express";
import { pino } from "pino";

import { writeWithSiblings } from "../../../../scripts/tasks/build-web.ts";
import { joinText, objectClosing, objectOpening, sharedText } from "../../services/answer-text.ts";
import { createApp } from "../app.ts";
import { admitStyle, inlineStyleSource, sendScanPage, webAssetsRouter } from "./web-assets.ts";

const STYLE = "body{margin:0}";
const SHELL = `<!doctype html><html><head><style>${STYLE}</style><script type="module" src="/web/scan-0123456789.js"></script></head><body><div id="app"></div></body></html>`;
const SCRIPT = `console.log(${JSON.stringify("x".repeat(2_000))});`;
/** An answer as the resolver gives it: a shared piece (a batch's part), then the item's own. */
const SHARED = sharedText(objectOpening({ type: "test", text: "</script><b>", batch: "甲".repeat(3_000) }));
const ANSWER = [
  SHARED,
  objectClosing({ serial: "0001", proof: Array.from({ length: 20 }, (_, i) => `0x${String(i)}`) }),
];

describe("web assets", () => {
  let dir = "";
  let base = "";
  let close: () => Promise<void> = () => Promise.resolve();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "web-assets-"));
    mkdirSync(path.join(dir, "console"));
    writeFileSync(path.join(dir, "scan.html"), SHELL);
    writeWithSiblings(dir, "scan-0123456789.js", new TextEncoder().encode(SCRIPT));
    writeWithSiblings(dir, "favicon.svg", new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"));
    writeWithSiblings(path.join(dir, "console"), "cooperative.html", new TextEncoder().encode("<p>console</p>"));
    writeWithSiblings(path.join(dir, "console"), "sw.js", new TextEncoder().encode(SCRIPT));
    const page = Router();
    page.get("/item", (req, res) => {
      sendScanPage(req, res, 200, ANSWER, dir);
    });
    const app = createApp({
      logger: pino({ level: "silent" }),
      bodyLimitBytes: 1_024,
      rateLimitPerMinute: 1_000_000,
      routers: [page, webAssetsRouter({ dir })],
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    };
  });

  after(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the brotli or gzip sibling by Accept-Encoding, with its length, cached for a year", async () => {
    for (const [accept, encoding, decode] of [
      ["gzip, deflate, br", "br", brotliDecompressSync],
      ["gzip", "gzip", gunzipSync],
    ] as const) {
      // fetch() would decode the body itself: a plain request shows the bytes as sent.
      const response = await rawGet(`${base}/web/scan-0123456789.js`, { "accept-encoding": accept });
      assert.equal(response.status, 200);
      assert.equal(response.headers["content-encoding"], encoding);
      assert.equal(Number(response.headers["content-length"]), response.body.byteLength);
      assert.ok(response.body.byteLength < SCRIPT.length / 4, "compressed");
      assert.equal(decode(response.body).toString("utf8"), SCRIPT);
      assert.match(String(response.headers.vary), /Accept-Encoding/);
      assert.equal(response.headers["cache-control"], "public, max-age=31536000, immutable");
      assert.match(String(response.headers["content-type"]), /^text\/javascript/);
    }
    const plain = await rawGet(`${base}/web/scan-0123456789.js`, { "accept-encoding": "identity" });
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString("utf8"), SCRIPT);
  });

  it("answers a revalidation with 304 and refuses what is not a servable asset", async () => {
    const first = await fetch(`${base}/web/scan-0123456789.js`);
    const etag = first.headers.get("etag") ?? "";
    assert.notEqual(etag, "");
    // Not fetch(): a conditional fetch() adds `Cache-Control: no-cache`, which forbids a 304.
    const again = await rawGet(`${base}/web/scan-0123456789.js`, { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.byteLength, 0);
    for (const missing of ["/web/scan.html", "/web/scan-0123456789.js.br", "/web/../scan.html", "/web/nothing.js"]) {
      const response = await fetch(`${base}${missing}`);
      assert.equal(response.status, 404, missing);
      assert.match(response.headers.get("content-type") ?? "", /problem\+json/);
    }
  });

  it("serves a favicon at /favicon.ico and the consoles' pages revalidated", async () => {
    const icon = await fetch(`${base}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get("content-type"), "image/svg+xml");
    const console = await fetch(`${base}/console/cooperative`);
    assert.equal(console.status, 200);
    assert.equal(console.headers.get("cache-control"), "no-cache");
    assert.equal(await console.text(), "<p>console</p>");
  });

  it("serves the consoles' service worker at /console/, revalidated, as a script", async () => {
    const worker = await fetch(`${base}/console/sw.js`, { headers: { "accept-encoding": "br" } });
    assert.equal(worker.status, 200);
    assert.equal(worker.headers.get("content-type"), "text/javascript; charset=utf-8");
    // A new build must reach phones at once: the browser checks the worker on every visit.
    assert.equal(worker.headers.get("cache-control"), "no-cache");
    assert.equal(await worker.text(), SCRIPT);
    assert.equal((await fetch(`${base}/console/other.js`)).status, 404);
  });

  it("sends an item's page compressed, never stored, its inline style admitted by hash alone", async () => {
    const response = await rawGet(`${base}/item`, { "accept-encoding": "br, gzip" });
    assert.equal(response.status, 200);
    // gzip when the client takes it as gladly as brotli: the shared pieces are compressed once.
    assert.equal(response.headers["content-encoding"], "gzip");
    assert.equal(response.headers["cache-control"], "no-store");
    assert.equal(Number(response.headers["content-length"]), response.body.byteLength);
    // gunzip checks the stream, its CRC-32 and its length.
    const html = gunzipSync(response.body).toString("utf8");
    assert.ok(html.includes('<script type="application/json" id="resolution">'));
    assert.ok(!html.includes("</script><b>"), "the answer cannot close its script element");
    const json = /<script type="application\/json" id="resolution">([^<]*)<\/script>/.exec(html)?.[1];
    assert.deepEqual(JSON.parse(json ?? ""), JSON.parse(joinText(ANSWER)));
    assert.ok(response.body.byteLength < Buffer.byteLength(html) / 4, "compressed");
    const csp = String(response.headers["content-security-policy"]);
    const source = inlineStyleSource(html);
    assert.ok(source !== null);
    assert.match(csp, new RegExp(`style-src 'self' ${source.replace(/[+/=]/g, "\\$&")}`));
    assert.match(csp, /script-src 'self'(;|$)/, "no script allowance");
    assert.doesNotMatch(csp, /unsafe-inline/);
    const again = await rawGet(`${base}/item`, { "accept-encoding": "gzip" });
    assert.equal(gunzipSync(again.body).toString("utf8"), html);
    const br = await rawGet(`${base}/item`, { "accept-encoding": "br" });
    assert.equal(br.headers["content-encoding"], "br");
    assert.equal(brotliDecompressSync(br.body).toString("utf8"), html);
    const plain = await rawGet(`${base}/item`, { "accept-encoding": "identity" });
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString("utf8"), html);
  });

  it("adds the style hash to a policy with or without a style-src", () => {
    assert.equal(
      admitStyle("default-src 'self';style-src 'self';img-src 'self'", "'sha256-A'"),
      "default-src 'self';style-src 'self' 'sha256-A';img-src 'self'",
    );
    assert.equal(admitStyle("default-src 'self'", "'sha256-A'"), "default-src 'self';style-src 'self' 'sha256-A'");
  });
});

/** A GET whose body comes back as sent (no transparent decompression). */
async function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
