/**
 * One row per subject a hidden-code guessing limit counts (an item, a client): a claim
 * attempt takes the row's lock before it counts the attempts of the last hour and records
 * its own, so simultaneous guesses are judged one at a time against the limit on either
 * engine (PostgreSQL locks the row; SQLite serialises writers).
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("claim_guards")
    .addColumn("subject", "text", (col) => col.primaryKey())
    .addColumn("touched_at_ms", "bigint", (col) => col.notNull())
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("claim_guards").execute();
}

export const claimGuards: Migration = { up, down };
