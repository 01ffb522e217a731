/**
 * Orders (issue 14, part 3): a seller's order with its lines (GTIN, lot, quantity in items),
 * the items scanned into it at packing, and the case it was despatched in. No personal data
 * of the buyer is stored: only a salted hash of the buyer reference the seller gave, with a
 * salt of its own per order, so the same buyer's orders cannot be linked by their hashes.
 * Mass balance reads `order_lines` by batch: what orders not cancelled commit of a lot.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("orders")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("seller_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    // The order's public reference (the EPCIS `po` transaction id): random, says nothing of the buyer.
    .addColumn("reference", "text", (col) => col.notNull().unique())
    .addColumn("seller_order_number", "text")
    .addColumn("buyer_reference_hash", "text", (col) => col.notNull())
    .addColumn("buyer_reference_salt", "text", (col) => col.notNull())
    .addColumn("channel", "text", (col) => col.notNull())
    .addColumn("live_stream_json", "text")
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("despatch_sscc", "text")
    .addColumn("despatch_id", "text")
    .addColumn("despatched_at_ms", "bigint")
    .addColumn("cancelled_at_ms", "bigint")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex("orders_seller_created")
    .on("orders")
    .columns(["seller_organisation_id", "created_at_ms", "id"])
    .execute();

  await db.schema
    .createTable("order_lines")
    .addColumn("order_id", "text", (col) => col.notNull().references("orders.id"))
    .addColumn("position", "integer", (col) => col.notNull())
    .addColumn("batch_id", "text", (col) => col.notNull().references("batches.batch_id"))
    .addColumn("gtin", "text", (col) => col.notNull())
    .addColumn("lot", "text", (col) => col.notNull())
    // Trade units (the lot's items), never a weight: one scanned code fills one unit.
    .addColumn("quantity", "integer", (col) => col.notNull())
    .addPrimaryKeyConstraint("order_lines_pk", ["order_id", "position"])
    .execute();
  await db.schema.createIndex("order_lines_batch").on("order_lines").column("batch_id").execute();

  await db.schema
    .createTable("order_items")
    // One order per item: the key refuses an item scanned into a second order.
    .addColumn("batch_id", "text", (col) => col.notNull())
    .addColumn("serial", "text", (col) => col.notNull())
    .addColumn("order_id", "text", (col) => col.notNull().references("orders.id"))
    .addColumn("position", "integer", (col) => col.notNull())
    // The case the item came in when a case's SSCC was scanned; null for an item scanned alone.
    .addColumn("case_sscc", "text")
    .addColumn("scanned_at_ms", "bigint", (col) => col.notNull())
    .addPrimaryKeyConstraint("order_items_pk", ["batch_id", "serial"])
    .addForeignKeyConstraint("order_items_item", ["batch_id", "serial"], "items", ["batch_id", "serial"])
    .execute();
  await db.schema.createIndex("order_items_order").on("order_items").columns(["order_id", "position"]).execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("order_items").execute();
  await db.schema.dropTable("order_lines").execute();
  await db.schema.dropTable("orders").execute();
}

export const orders: Migration = { up, down };
