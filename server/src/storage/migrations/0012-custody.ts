/**
 * Custody (issue 12): each event keeps the receiver a shipping event names (its signed
 * counterparty, and the organisation that holds that key), and inspection requests, which let
 * an inspector inspect or certify a batch, get a table of their own.
 *
 * Existing rows: events recorded before this have no counterparty (the first registry did not
 * sign one), so their batches stay with their cooperatives until a new shipping names a
 * receiver; nothing is inferred from old payloads.
 *
 * Lists of values are spelled here, not imported, so later code cannot change what ran.
 */
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

function inList(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("events").addColumn("counterparty_address", "text").execute();
  await db.schema.alterTable("events").addColumn("counterparty_organisation_id", "text").execute();

  await db.schema
    .createTable("inspection_requests")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("batch_id", "text", (col) => col.notNull().references("batches.batch_id"))
    .addColumn("inspector_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("inspector_address", "text", (col) => col.notNull())
    .addColumn("requested_by", "text", (col) => col.notNull())
    // Null when restored from the chain for a regulator, which the chain knows only by its role's account.
    .addColumn("requester_organisation_id", "text", (col) => col.references("organisations.id"))
    .addColumn("requester_address", "text", (col) => col.notNull())
    .addColumn("nonce", "text", (col) => col.notNull())
    .addColumn("deadline", "text", (col) => col.notNull())
    // Null when a regulator asked on its own authority: it signs the transaction, not typed data.
    .addColumn("signature", "text")
    .addColumn("typed_data_version", "text")
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint("inspection_requests_requested_by", inList("requested_by", ["cooperative", "regulator"]))
    .addCheckConstraint(
      "inspection_requests_ledger_state",
      inList("ledger_state", ["pending", "submitted", "anchored", "failed"]),
    )
    .execute();
  // One request per inspector and batch, as on chain; a failed one is replaced, not duplicated.
  await db.schema
    .createIndex("inspection_requests_batch_inspector")
    .on("inspection_requests")
    .columns(["batch_id", "inspector_organisation_id"])
    .unique()
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("inspection_requests").execute();
  await db.schema.alterTable("events").dropColumn("counterparty_organisation_id").execute();
  await db.schema.alterTable("events").dropColumn("counterparty_address").execute();
}

export const custody: Migration = { up, down };
