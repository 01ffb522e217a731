/** Resumable upload sessions: who owns each, what it will be, until when it is kept. */
import type { Db } from "./database.ts";

export interface UploadSession {
  id: string;
  organisationId: string;
  contentType: string;
  fileName: string | null;
  sizeBytes: number;
  createdAtMs: number;
  expiresAtMs: number;
  completedCid: string | null;
}

export async function insertUploadSession(db: Db, session: UploadSession): Promise<void> {
  await db
    .insertInto("upload_sessions")
    .values({
      id: session.id,
      organisation_id: session.organisationId,
      content_type: session.contentType,
      file_name: session.fileName,
      size_bytes: session.sizeBytes,
      created_at_ms: session.createdAtMs,
      expires_at_ms: session.expiresAtMs,
      completed_cid: session.completedCid,
    })
    .execute();
}

export async function getUploadSession(db: Db, id: string): Promise<UploadSession | null> {
  const row = await db.selectFrom("upload_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) return null;
  return {
    id: row.id,
    organisationId: row.organisation_id,
    contentType: row.content_type,
    fileName: row.file_name,
    sizeBytes: row.size_bytes,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    completedCid: row.completed_cid,
  };
}

export async function completeUploadSession(db: Db, id: string, cid: string): Promise<void> {
  await db.updateTable("upload_sessions").set({ completed_cid: cid }).where("id", "=", id).execute();
}

/** Ids of the sessions whose time ran out before `nowMs`, oldest first. */
export async function expiredUploadSessions(db: Db, nowMs: number, limit = 500): Promise<string[]> {
  const rows = await db
    .selectFrom("upload_sessions")
    .select("id")
    .where("expires_at_ms", "<", nowMs)
    .orderBy("expires_at_ms")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function deleteUploadSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom("upload_sessions").where("id", "=", id).execute();
}
