/**
 * EPCIS 2.0 capture (issue 14, part 6): one row per capture job, with the outcome of each of
 * its events once judged, and the eventIDs partners gave the events we recorded for them
 * (so a partner cannot record the same event twice, and reads its own eventID back).
 *
 * Events also get an index on their record time, the order `GET /epcis/events` pages in.
 * Lists of values are spelled here, not imported, so later code cannot change what ran.
 */
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("epcis_captures")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("state", "text", (col) => col.notNull())
    .addColumn("event_count", "integer", (col) => col.notNull())
    .addColumn("document_digest", "text", (col) => col.notNull())
    // Null while running: the per-event outcomes, as JSON.
    .addColumn("outcomes_json", "text")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("finished_at_ms", "bigint")
    .addCheckConstraint(
      "epcis_captures_state",
      sql`${sql.ref("state")} in (${sql.join(["running", "success", "failed"].map((value) => sql.lit(value)))})`,
    )
    .execute();
  await db.schema
    .createIndex("epcis_captures_organisation")
    .on("epcis_captures")
    .columns(["organisation_id", "created_at_ms"])
    .execute();

  await db.schema
    .createTable("epcis_event_ids")
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("epcis_event_id", "text", (col) => col.notNull())
    .addColumn("event_id", "text", (col) => col.notNull().references("events.id"))
    .addColumn("capture_id", "text", (col) => col.notNull().references("epcis_captures.id"))
    .addPrimaryKeyConstraint("epcis_event_ids_pk", ["organisation_id", "epcis_event_id"])
    .execute();
  await db.schema.createIndex("epcis_event_ids_event").on("epcis_event_ids").column("event_id").unique().execute();

  await db.schema.createIndex("events_recorded").on("events").columns(["created_at_ms", "id"]).execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("events_recorded").execute();
  await db.schema.dropTable("epcis_event_ids").execute();
  await db.schema.dropTable("epcis_captures").execute();
}

export const epcisCaptures: Migration = { up, down };
