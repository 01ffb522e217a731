/**
 * Media uploads: photos, videos, voice notes and documents streamed to IPFS, in one request
 * (`POST /api/v1/media`, for integrations) or resumably, in pieces that survive a dropped
 * connection (`/api/v1/media/uploads`, for phones; docs/media-uploads.md).
 */
import { createHash } from "node:crypto";

import express, { Router, type Response } from "express";

import { AppError } from "../../errors/app-error.ts";
import type { ServiceContext } from "../../services/context.ts";
import { declaredTooLarge, uploadMedia } from "../../services/media.ts";
import {
  appendToUploadSession,
  startUploadSession,
  uploadSessionRequest,
  uploadSessionStatus,
  type UploadSessionView,
} from "../../services/upload-sessions.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";

const UPLOADS = "/api/v1/media/uploads";
/** The content type a piece is sent with (as in tus 1.0): raw bytes, never parsed. */
const PIECE_TYPE = "application/offset+octet-stream";

function uploadAnswer(res: Response, upload: UploadSessionView): { upload: UploadSessionView; url: string | null } {
  res.setHeader("upload-offset", String(upload.offset));
  res.setHeader("upload-length", String(upload.sizeBytes));
  res.setHeader("cache-control", "no-store");
  return { upload, url: upload.media === null ? null : `/ipfs/${upload.media.cid}` };
}

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

  // The routes under /api/v1/media parse their own bodies: this one is a few fields of JSON.
  router.post(UPLOADS, requireRole("cooperative", "actor"), express.json({ limit: 2_048 }), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const upload = await startUploadSession(ctx, originOf(req), uploadSessionRequest.parse(req.body));
        res.setHeader("location", `${UPLOADS}/${upload.id}`);
        return { status: 201, body: uploadAnswer(res, upload) };
      },
      {
        validate: () => uploadSessionRequest.parse(req.body),
        recover: (written) => recoverWrite(ctx, req, res, written),
      },
    );
  });

  // GET answers HEAD too (Express), with the offset in the headers.
  router.get(`${UPLOADS}/:id`, requireRole("cooperative", "actor"), async (req, res) => {
    const upload = await uploadSessionStatus(ctx, principalOf(req), String(req.params.id));
    res.json(uploadAnswer(res, upload));
  });

  router.patch(`${UPLOADS}/:id`, requireRole("cooperative", "actor"), async (req, res) => {
    const contentType = (req.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (contentType !== PIECE_TYPE) {
      throw new AppError("request.unsupported_media_type", {}, { detail: `send the piece as ${PIECE_TYPE}` });
    }
    const offsetHeader = req.get("upload-offset") ?? "";
    if (!/^\d{1,15}$/.test(offsetHeader)) {
      throw new AppError("request.invalid", {}, { detail: "Upload-Offset: the byte the piece starts at" });
    }
    const declared = req.get("content-length") ?? "";
    let upload: UploadSessionView;
    try {
      upload = await appendToUploadSession(ctx, originOf(req), String(req.params.id), Number(offsetHeader), req, {
        declaredBytes: /^\d+$/.test(declared) ? Number(declared) : null,
      });
    } catch (error) {
      // Refused with the piece unread: close rather than drain it, as the one-shot upload does.
      if (!req.complete) res.setHeader("connection", "close");
      throw error;
    }
    res.status(upload.media === null ? 200 : 201).json(uploadAnswer(res, upload));
  });

  return router;
}
