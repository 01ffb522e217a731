/**
 * Items by leaf position. The tree of a batch and its label sheets read the serials in
 * leaf order, a page at a time; with only the (batch, serial) key, every page of a
 * million-item batch sorted all million rows.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("items_batch_leaf").on("items").columns(["batch_id", "leaf_index"]).execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("items_batch_leaf").execute();
}

export const itemsLeafOrder: Migration = { up, down };
