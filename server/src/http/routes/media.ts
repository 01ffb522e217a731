/** Media uploads: photos, videos and documents streamed to IPFS. */
import { createHash } from "node:crypto";

import { Router } from "express";

import { AppError } from "../../errors/app-error.ts";
import type { ServiceContext } from "../../services/context.ts";
import { declaredTooLarge, uploadMedia } from "../../services/media.ts";
import { requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";

export function mediaRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/media", requireRole("cooperative", "actor"), async (req, res) => {
    if (declaredTooLarge(ctx, req.get("content-length"))) {
      // Refused before a byte is read; the connection is closed rather than drained, so the
      // client does not push gigabytes to hear no.
      res.setHeader("connection", "close");
      throw new AppError("media.too_large", {}, { detail: `at most ${String(ctx.mediaLimitBytes)} bytes` });
    }
    const contentType = (req.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const rawName = req.get("x-file-name");
    const fileName = rawName === undefined ? null : decodeURIComponent(rawName).slice(0, 200);
    // A streamed body cannot be hashed before it is read; the key's identity is its declared shape.
    const digest = createHash("sha256")
      .update(`${contentType}\n${req.get("content-length") ?? ""}\n${fileName ?? ""}`)
      .digest("hex");
    const abort = new AbortController();
    req.on("close", () => {
      if (!req.complete) abort.abort();
    });
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const media = await uploadMedia(ctx, originOf(req), req, { contentType, fileName, signal: abort.signal });
        return { status: 201, body: { media, url: `/ipfs/${media.cid}` } };
      },
      { bodyDigest: digest, recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  return router;
}
