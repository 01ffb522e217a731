/** What we know of uploaded media beyond their bytes. */
import type { Db } from "./database.ts";

export interface MediaRecord {
  cid: string;
  contentType: string;
  sizeBytes: number;
  fileName: string | null;
  uploadedBy: string;
  createdAtMs: number;
}

/** Records an upload; the same CID uploaded again keeps its first record (the bytes are the same). */
export async function recordMedia(db: Db, media: Omit<MediaRecord, "createdAtMs">, nowMs = Date.now()): Promise<void> {
  await db
    .insertInto("media")
    .values({
      cid: media.cid,
      content_type: media.contentType,
      size_bytes: media.sizeBytes,
      file_name: media.fileName,
      uploaded_by: media.uploadedBy,
      created_at_ms: nowMs,
    })
    .onConflict((oc) => oc.column("cid").doNothing())
    .execute();
}

export async function getMedia(db: Db, cid: string): Promise<MediaRecord | null> {
  const row = await db.selectFrom("media").selectAll().where("cid", "=", cid).executeTakeFirst();
  if (row === undefined) return null;
  return {
    cid: row.cid,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    fileName: row.file_name,
    uploadedBy: row.uploaded_by,
    createdAtMs: row.created_at_ms,
  };
}
