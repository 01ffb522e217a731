/**
 * Signature requests: what an organisation holding its own key must sign before the
 * server accepts its write (the EIP-712 value, and the record to store once signed).
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("signature_requests")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("kind", "text", (col) => col.notNull())
    .addColumn("signer_address", "text", (col) => col.notNull())
    .addColumn("value_json", "text", (col) => col.notNull())
    .addColumn("record_json", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("expires_at_ms", "bigint", (col) => col.notNull())
    .addColumn("completed_at_ms", "bigint")
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("signature_requests").execute();
}

export const signatureRequests: Migration = { up, down };
