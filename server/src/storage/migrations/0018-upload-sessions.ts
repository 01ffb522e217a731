/**
 * Resumable media uploads (issue 15, part 4): one row per upload session. The bytes received
 * so far wait in a file of the data directory named by the session's id; the row says whose
 * it is, what it will be, and until when it is kept (docs/media-uploads.md).
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("upload_sessions")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull())
    .addColumn("content_type", "text", (col) => col.notNull())
    .addColumn("file_name", "text")
    .addColumn("size_bytes", "bigint", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("expires_at_ms", "bigint", (col) => col.notNull())
    // Set once the bytes are in the content store: a retried last request answers with it.
    .addColumn("completed_cid", "text")
    .execute();
  await db.schema.createIndex("upload_sessions_expires").on("upload_sessions").column("expires_at_ms").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("upload_sessions").execute();
}

export const uploadSessions: Migration = { up, down };
