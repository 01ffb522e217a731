/**
 * 合格证 as signed credentials (issue 14, part 5): one row per certificate (its id is the
 * EIP-712 digest of what its issuer signed, its document kept as the exact text that was
 * hashed), the batches it covers with the quantity it counts against each (mass balance),
 * and the certificates it was issued from, with what it takes of each.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("certificates")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("issuer_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("issuer_address", "text", (col) => col.notNull())
    .addColumn("gtin", "text", (col) => col.notNull())
    .addColumn("quantity_milli", "text", (col) => col.notNull())
    .addColumn("unit", "text", (col) => col.notNull())
    .addColumn("issued_on", "text", (col) => col.notNull())
    .addColumn("document_text", "text", (col) => col.notNull())
    // The signed Keccak-256 of the document text, kept as signed (not recomputed on reading).
    .addColumn("document_hash", "text", (col) => col.notNull())
    .addColumn("signature", "text", (col) => col.notNull())
    .addColumn("typed_data_version", "text", (col) => col.notNull())
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("certificate_batches")
    .addColumn("certificate_id", "text", (col) => col.notNull().references("certificates.id"))
    .addColumn("batch_id", "text", (col) => col.notNull().references("batches.batch_id"))
    // What the certificate counts against this batch's harvest: its quantity when it was issued
    // from the batch itself, zero when it covers the batch through its parents.
    .addColumn("quantity_milli", "text", (col) => col.notNull())
    .addPrimaryKeyConstraint("certificate_batches_pk", ["certificate_id", "batch_id"])
    .execute();
  await db.schema.createIndex("certificate_batches_batch").on("certificate_batches").column("batch_id").execute();

  await db.schema
    .createTable("certificate_parents")
    .addColumn("certificate_id", "text", (col) => col.notNull().references("certificates.id"))
    .addColumn("parent_id", "text", (col) => col.notNull().references("certificates.id"))
    .addColumn("position", "integer", (col) => col.notNull())
    // What the child takes of this parent: a parent gives out at most its own quantity over all its children.
    .addColumn("quantity_milli", "text", (col) => col.notNull())
    .addPrimaryKeyConstraint("certificate_parents_pk", ["certificate_id", "parent_id"])
    .execute();
  await db.schema.createIndex("certificate_parents_parent").on("certificate_parents").column("parent_id").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("certificate_parents").execute();
  await db.schema.dropTable("certificate_batches").execute();
  await db.schema.dropTable("certificates").execute();
}

export const certificates: Migration = { up, down };
