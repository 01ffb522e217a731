/**
 * A product's net content per item (a 250 g tin), so the audit can weigh the items a
 * batch issued against what was harvested. Nullable: products registered before, and
 * products sold loose, declare none. The amount is exact decimal thousandths as text (as
 * batches' quantities are), the unit one of our mass unit names (g, kg, t).
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema.alterTable("products").addColumn("net_content_milli", "text").execute();
  await db.schema.alterTable("products").addColumn("net_content_unit", "text").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("products").dropColumn("net_content_unit").execute();
  await db.schema.alterTable("products").dropColumn("net_content_milli").execute();
}

export const productNetContent: Migration = { up, down };
