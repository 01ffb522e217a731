/**
 * Scans by item and time with the client's hash in the index: the clone signals count an
 * item's scans and their distinct clients on every page view, and a copied code is scanned
 * thousands of times; with the hash in the index the count reads the index alone, never the
 * table. It replaces the index it extends.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("scans_item_client")
    .on("scans")
    .columns(["batch_id", "serial", "scanned_at_ms", "client_hash"])
    .execute();
  await db.schema.dropIndex("scans_item").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("scans_item").on("scans").columns(["batch_id", "serial", "scanned_at_ms"]).execute();
  await db.schema.dropIndex("scans_item_client").execute();
}

export const scansCoveringIndex: Migration = { up, down };
