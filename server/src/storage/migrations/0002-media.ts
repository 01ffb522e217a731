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

  // Idempotency keys belong to whoever sent the request, the operator's admin token
  // included, which is no organisation: the key's owner is no longer a foreign key. The
  // table only holds replayable answers for a day, so it is recreated rather than copied.
  await db.schema.dropTable("idempotency_keys").execute();
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("organisation_id", "text", (col) => col.notNull())
    .addColumn("key", "text", (col) => col.notNull())
    .addColumn("method", "text", (col) => col.notNull())
    .addColumn("path", "text", (col) => col.notNull())
    .addColumn("request_hash", "text", (col) => col.notNull())
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("completed_at_ms", "bigint")
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["organisation_id", "key"])
    .execute();
  await db.schema.createIndex("idempotency_keys_created").on("idempotency_keys").column("created_at_ms").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("media").execute();
}

export const media: Migration = { up, down };
