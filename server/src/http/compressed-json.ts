/**
 * A JSON answer compressed when the client takes it and it is large enough to gain: the scan
 * page's batched chain reads through /rpc are some 15 KB of hex that a phone on a slow
 * network downloads before its verdict (brotli makes them about a third of that).
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import type { Request, Response } from "express";

import { negotiate } from "./routes/web-assets.ts";

/** Below this, compressing saves less than the time it takes. */
const MIN_COMPRESSED_BYTES = 1_024;

export function sendJsonCompressed(req: Request, res: Response, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  res.append("Vary", "Accept-Encoding");
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  const encoding = body.byteLength < MIN_COMPRESSED_BYTES ? "identity" : negotiate(req, ["br", "gzip", "identity"]);
  const sent =
    encoding === "br"
      ? brotliCompressSync(body, {
          params: {
            // Quality 5: most of the gain of the highest qualities for a fraction of their time.
            [constants.BROTLI_PARAM_QUALITY]: 5,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          },
        })
      : encoding === "gzip"
        ? gzipSync(body, { level: 6 })
        : body;
  if (encoding !== "identity") res.setHeader("Content-Encoding", encoding);
  res.setHeader("Content-Length", String(sent.byteLength));
  res.end(sent);
}
