/**
 * Media uploads (planting videos, photos, documents), streamed straight from the request
 * into the content store: a 2 GB video passes through in 256 KiB chunks and is never held
 * whole in memory. The CID is returned only once every block is durably stored and pinned.
 */
import { isContentError } from "../ipfs/content-store.ts";
import { AppError } from "../errors/app-error.ts";
import { recordMedia, type MediaRecord } from "../storage/media.ts";
import { inTransaction } from "../storage/transaction.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { ServiceContext } from "./context.ts";

// Voice notes (issue 15, part 5) are whatever the phone's recorder gives: webm or ogg (Opus),
// mp4 (AAC, Safari) or mpeg.
const ACCEPTED_TYPES =
  /^(video\/(mp4|webm|quicktime)|audio\/(webm|ogg|mp4|mpeg)|image\/(jpeg|png|webp)|application\/pdf|application\/json|text\/csv)$/;

/** The organisations that upload media: everyone who records something of a batch. */
export const MEDIA_UPLOADERS = ["cooperative", "processor", "logistics", "retailer", "inspector"] as const;

export function isAcceptedMediaType(type: string): boolean {
  return ACCEPTED_TYPES.test(type);
}

/** True for a full disk or quota, from the file system or either database engine. */
export function isDiskFull(error: unknown): boolean {
  for (let e: unknown = error; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const { code, errcode, message } = e as { code?: unknown; errcode?: unknown; message?: unknown };
    if (code === "ENOSPC" || code === "EDQUOT") return true;
    // blockstore-fs keeps only the message of the file system's error.
    if (typeof message === "string" && /\bENOSPC\b|\bEDQUOT\b/.test(message)) return true;
    // SQLITE_FULL; PostgreSQL's disk_full is 53100.
    if ((code === "ERR_SQLITE_ERROR" && errcode === 13) || code === "53100") return true;
  }
  return false;
}

/** Whether a request's declared Content-Length alone is over the media limit. */
export function declaredTooLarge(
  ctx: Pick<ServiceContext, "mediaLimitBytes">,
  contentLength: string | undefined,
): boolean {
  if (contentLength === undefined || !/^\d+$/.test(contentLength)) return false;
  return Number(contentLength) > ctx.mediaLimitBytes;
}

export async function uploadMedia(
  ctx: ServiceContext,
  origin: WriteOrigin,
  source: AsyncIterable<Uint8Array>,
  meta: { contentType: string; fileName: string | null; signal?: AbortSignal },
): Promise<MediaRecord> {
  const organisation = await activeOrganisation(ctx, origin.principal.organisationId, MEDIA_UPLOADERS);
  if (!isAcceptedMediaType(meta.contentType)) throw new AppError("request.unsupported_media_type");
  let added;
  try {
    added = await ctx.content.add(source, { maxBytes: ctx.mediaLimitBytes, signal: meta.signal });
  } catch (error) {
    if (isDiskFull(error)) throw new AppError("storage.full", {}, { cause: error });
    // Stopped as soon as the streamed bytes passed the limit; the media is not recorded and
    // the blocks written so far are collected with other unpinned leftovers.
    if (isContentError(error, "too_large")) {
      throw new AppError("media.too_large", {}, { detail: `at most ${String(ctx.mediaLimitBytes)} bytes` });
    }
    throw error;
  }
  if (added.sizeBytes === 0) throw new AppError("media.empty");
  const nowMs = ctx.now();
  const record: MediaRecord = {
    cid: added.cid.toV1().toString(),
    contentType: meta.contentType,
    sizeBytes: added.sizeBytes,
    fileName: meta.fileName,
    uploadedBy: organisation.id,
    createdAtMs: nowMs,
  };
  await inTransaction(ctx.db, async (trx) => {
    await recordMedia(trx, record, nowMs);
    await recordWrite(trx, origin, "media.upload", record.cid, { sizeBytes: record.sizeBytes }, nowMs);
  });
  return record;
}
