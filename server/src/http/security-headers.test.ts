import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";

import express, { type RequestHandler } from "express";

import { frameableCsp, headersComputedOnce, securityHeaders } from "./app.ts";

async function headersOf(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.disable("x-powered-by");
  app.use(middleware);
  app.get("/", (_req, res) => {
    res.end();
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const response = await fetch(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`);
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) {
      if (!["date", "connection", "keep-alive", "content-length", "transfer-encoding"].includes(name)) {
        headers[name] = value;
      }
    }
    return headers;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe("security headers computed once", () => {
  it("are exactly the headers helmet sets on a live response", async () => {
    const sources = ["https://rpc.example.org"];
    const live = await headersOf(securityHeaders(sources));
    const once_ = await headersOf(headersComputedOnce(securityHeaders(sources)));
    assert.deepEqual(once_, live);
    assert.match(live["content-security-policy"] ?? "", /connect-src 'self' https:\/\/rpc\.example\.org/);
    assert.ok(Object.keys(live).length >= 10, "helmet's headers are all there");
  });

  it("tell browsers to upgrade plain requests only where the public origin is HTTPS", async () => {
    const https = await headersOf(securityHeaders([]));
    const plain = await headersOf(securityHeaders([], { overHttps: false }));
    assert.match(https["content-security-policy"] ?? "", /upgrade-insecure-requests/);
    assert.doesNotMatch(plain["content-security-policy"] ?? "", /upgrade-insecure-requests/);
    assert.equal(https["cross-origin-opener-policy"], "same-origin");
    assert.equal(plain["cross-origin-opener-policy"], undefined);
    assert.equal(plain["strict-transport-security"], undefined);
    assert.match(plain["content-security-policy"] ?? "", /script-src 'self'/);
  });

  it("keep every page unframeable; the lot card's embed policy changes frame-ancestors only", async () => {
    const headers = await headersOf(headersComputedOnce(securityHeaders([])));
    const policy = headers["content-security-policy"] ?? "";
    assert.match(policy, /frame-ancestors 'self'/);
    assert.equal(headers["x-frame-options"], "SAMEORIGIN");
    const frameable = frameableCsp(policy);
    assert.match(frameable, /frame-ancestors \*$/);
    assert.doesNotMatch(frameable, /frame-ancestors 'self'/);
    const others = (text: string) =>
      text
        .split(";")
        .filter((directive) => !directive.startsWith("frame-ancestors"))
        .sort();
    assert.deepEqual(others(frameable), others(policy));
  });

  it("refuses a middleware that fails when run once", () => {
    const failing: RequestHandler = (_req, _res, next) => {
      next(new Error("per-request policy"));
    };
    assert.throws(() => headersComputedOnce(failing), /could not be computed/);
  });
});
