/**
 * Media uploaded by organisations: what we know of each CID that we do not learn from
 * the bytes (the declared content type, who uploaded it, its size), so the gateway serves
 * a video as `video/mp4` without sniffing and the audit knows which CIDs we must pin.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("media")
    .addColumn("cid", "text", (col) => col.primaryKey())
    .addColumn("content_type", "text", (col) => col.notNull())
    .addColumn("size_bytes", "bigint", (col) => col.notNull())
    .addColumn("file_name", "text")
    .addColumn("uploaded_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("media").execute();
}

export const media: Migration = { up, down };
