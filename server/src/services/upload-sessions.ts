/**
 * Resumable media uploads (docs/media-uploads.md). A phone on a rural link that drops sends a
 * 300 MB video in pieces: it opens a session saying what the file is and how long, then sends
 * bytes from the offset the server reports, again after every drop, until the last byte is in.
 * The bytes wait in a file of the data directory; the finished file goes through `uploadMedia`,
 * the one-shot upload's own path, so the CID and the media record are those a one-shot upload
 * of the same bytes gets. A session belongs to one organisation and lives 24 hours.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rm, stat, truncate } from "node:fs/promises";
import path from "node:path";

import { z } from "zod";

import { AppError } from "../errors/app-error.ts";
import type { MediaRecord } from "../storage/media.ts";
import { getMedia } from "../storage/media.ts";
import { inTransaction } from "../storage/transaction.ts";
import {
  completeUploadSession,
  deleteUploadSession,
  expiredUploadSessions,
  getUploadSession,
  insertUploadSession,
  type UploadSession,
} from "../storage/upload-sessions.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { Principal, ServiceContext } from "./context.ts";
import { isAcceptedMediaType, isDiskFull, MEDIA_UPLOADERS, uploadMedia } from "./media.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** How long a session and its bytes are kept after it was opened. */
export const UPLOAD_SESSION_TTL_MS = 24 * 3_600_000;

export interface UploadSessionView {
  id: string;
  contentType: string;
  fileName: string | null;
  sizeBytes: number;
  /** Bytes the server holds: the next piece starts here. */
  offset: number;
  expiresAt: string;
  /** Present once the file is in the content store. */
  media: MediaRecord | null;
}

/** Sessions with a request writing to them in this process: a second writer would interleave bytes. */
const writing = new Set<string>();

function fileOf(ctx: Pick<ServiceContext, "uploadsDir">, id: string): string {
  return path.join(ctx.uploadsDir, `${id}.part`);
}

async function sizeOnDisk(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return 0;
    throw error;
  }
}

async function viewOf(ctx: ServiceContext, session: UploadSession): Promise<UploadSessionView> {
  const media = session.completedCid === null ? null : await getMedia(ctx.db, session.completedCid);
  return {
    id: session.id,
    contentType: session.contentType,
    fileName: session.fileName,
    sizeBytes: session.sizeBytes,
    offset: media === null ? await sizeOnDisk(fileOf(ctx, session.id)) : session.sizeBytes,
    expiresAt: new Date(session.expiresAtMs).toISOString(),
    media,
  };
}

/** The session if it is the asker's and still alive; any other case is the same 404, so ids leak nothing. */
async function ownSession(ctx: ServiceContext, principal: Principal, id: string): Promise<UploadSession> {
  const session = /^upl_[0-9a-f-]{36}$/.test(id) ? await getUploadSession(ctx.db, id) : null;
  if (session === null || session.organisationId !== principal.organisationId || session.expiresAtMs <= ctx.now()) {
    throw new AppError("upload.not_found");
  }
  return session;
}

export async function startUploadSession(
  ctx: ServiceContext,
  origin: WriteOrigin,
  input: { contentType: string; sizeBytes: number; fileName: string | null },
): Promise<UploadSessionView> {
  const organisation = await activeOrganisation(ctx, origin.principal.organisationId, MEDIA_UPLOADERS);
  if (!isAcceptedMediaType(input.contentType)) throw new AppError("request.unsupported_media_type");
  if (input.sizeBytes === 0) throw new AppError("media.empty");
  if (input.sizeBytes > ctx.mediaLimitBytes) {
    throw new AppError("media.too_large", {}, { detail: `at most ${String(ctx.mediaLimitBytes)} bytes` });
  }
  const nowMs = ctx.now();
  const session: UploadSession = {
    id: `upl_${randomUUID()}`,
    organisationId: organisation.id,
    contentType: input.contentType,
    fileName: input.fileName,
    sizeBytes: input.sizeBytes,
    createdAtMs: nowMs,
    expiresAtMs: nowMs + (ctx.uploadSessionTtlMs ?? UPLOAD_SESSION_TTL_MS),
    completedCid: null,
  };
  try {
    await mkdir(ctx.uploadsDir, { recursive: true });
    await (await open(fileOf(ctx, session.id), "wx")).close();
  } catch (error) {
    if (isDiskFull(error)) throw new AppError("storage.full", {}, { cause: error });
    throw error;
  }
  await inTransaction(ctx.db, async (trx) => {
    await insertUploadSession(trx, session);
    await recordWrite(trx, origin, "media.upload_session", session.id, { sizeBytes: session.sizeBytes }, nowMs);
  });
  return viewOf(ctx, session);
}

export async function uploadSessionStatus(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<UploadSessionView> {
  return viewOf(ctx, await ownSession(ctx, principal, id));
}

/**
 * Appends the bytes of `source` at `offset`, which must be where the server's copy ends. A
 * dropped connection keeps every byte that arrived (the next request continues after them); a
 * refusal (past the declared size, a full disk) cuts the file back to where it was. When the
 * last byte is in, the file is stored as media, as a one-shot upload would be.
 */
export async function appendToUploadSession(
  ctx: ServiceContext,
  origin: WriteOrigin,
  id: string,
  offset: number,
  source: AsyncIterable<Uint8Array>,
  options: { declaredBytes?: number | null } = {},
): Promise<UploadSessionView> {
  const session = await ownSession(ctx, origin.principal, id);
  if (writing.has(id)) throw new AppError("upload.busy");
  writing.add(id);
  try {
    if (session.completedCid !== null) return await viewOf(ctx, session);
    const file = fileOf(ctx, id);
    const held = await sizeOnDisk(file);
    if (offset !== held) throw new AppError("upload.offset_mismatch", { offset: held });
    const tooLarge = (): AppError =>
      new AppError("media.too_large", {}, { detail: `the session was opened for ${String(session.sizeBytes)} bytes` });
    if (options.declaredBytes != null && held + options.declaredBytes > session.sizeBytes) throw tooLarge();
    let received = 0;
    const handle = await open(file, "a");
    let refusal: Error | null = null;
    try {
      const pieces = source[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await pieces.next();
        } catch {
          // The connection dropped: what arrived is kept, and the client continues after it.
          ctx.logger.info({ uploadId: id, received }, "upload piece cut off; kept what arrived");
          break;
        }
        if (next.done === true) break;
        const chunk = next.value;
        if (held + received + chunk.byteLength > session.sizeBytes) {
          refusal = tooLarge();
          break;
        }
        await handle.write(chunk);
        received += chunk.byteLength;
      }
    } catch (error) {
      refusal = isDiskFull(error)
        ? new AppError("storage.full", {}, { cause: error })
        : error instanceof Error
          ? error
          : new Error(String(error));
    } finally {
      await handle.close();
    }
    if (refusal !== null) {
      // A refusal changes nothing: the file is cut back to where this piece began.
      await truncate(file, held);
      throw refusal;
    }
    if (held + received < session.sizeBytes) return await viewOf(ctx, session);
    return await finish(ctx, origin, session);
  } finally {
    writing.delete(id);
  }
}

async function finish(ctx: ServiceContext, origin: WriteOrigin, session: UploadSession): Promise<UploadSessionView> {
  const file = fileOf(ctx, session.id);
  const media = await uploadMedia(ctx, origin, createReadStream(file, { highWaterMark: 256 * 1024 }), {
    contentType: session.contentType,
    fileName: session.fileName,
  });
  await completeUploadSession(ctx.db, session.id, media.cid);
  await rm(file, { force: true });
  return viewOf(ctx, { ...session, completedCid: media.cid });
}

/** Removes sessions (and their bytes) whose day is over. Returns how many. */
export async function sweepExpiredUploadSessions(ctx: ServiceContext, nowMs = ctx.now()): Promise<number> {
  const ids = await expiredUploadSessions(ctx.db, nowMs);
  for (const id of ids) {
    if (writing.has(id)) continue;
    await rm(fileOf(ctx, id), { force: true });
    await deleteUploadSession(ctx.db, id);
  }
  return ids.length;
}

/** The body that opens a session: what the file is and how long it will be. */
export const uploadSessionRequest = z
  .object({
    contentType: z.string().min(1).max(100).toLowerCase(),
    sizeBytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    fileName: z.string().max(200).nullable().default(null),
  })
  .strict();
