/**
 * The first schema. A migration is frozen once released: it spells out its own value
 * lists instead of importing the current ones, so a later change to the code cannot
 * change what an old migration did. See schema.ts for why each column has its type.
 *
 * Closed sets that are state machines or fixed by regulation carry CHECK constraints;
 * sets that grow with the protocol (business steps, outbox kinds, roles) are checked by
 * the repositories, because SQLite cannot alter a constraint without rebuilding a table.
 */
import { sql, type ColumnDataType, type CreateTableBuilder, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

import { engineOf } from "../database.ts";

type Table = CreateTableBuilder<string, string>;

function inList(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}

const LEDGER_STATES = ["pending", "submitted", "anchored", "failed"];

async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = engineOf(db) === "postgres";
  const float: ColumnDataType = postgres ? "double precision" : "real";
  /** A sequential primary key: identity on PostgreSQL, an AUTOINCREMENT rowid on SQLite (never reused). */
  const sequentialId = (table: Table): Table =>
    postgres
      ? table.addColumn("id", "bigint", (col) => col.generatedAlwaysAsIdentity().primaryKey())
      : table.addColumn("id", "integer", (col) => col.primaryKey().autoIncrement());

  await db.schema
    .createTable("organisations")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("kind", "text", (col) => col.notNull())
    .addColumn("name_zh", "text", (col) => col.notNull())
    .addColumn("name_en", "text")
    .addColumn("uscc", "text", (col) => col.notNull().unique())
    .addColumn("region_code", "text", (col) => col.notNull())
    .addColumn("signer_address", "text", (col) => col.notNull().unique())
    .addColumn("key_custody", "text", (col) => col.notNull())
    .addColumn("keystore_json", "text")
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("metadata_cid", "text")
    .addColumn("ledger_state", "text")
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint(
      "organisations_kind",
      inList("kind", ["cooperative", "processor", "logistics", "retailer", "inspector", "regulator"]),
    )
    .addCheckConstraint("organisations_status", inList("status", ["active", "suspended"]))
    .addCheckConstraint(
      "organisations_key_custody",
      sql`(key_custody = 'server' and keystore_json is not null) or (key_custody = 'own' and keystore_json is null)`,
    )
    .addCheckConstraint(
      "organisations_ledger_state",
      sql`ledger_state is null or ${inList("ledger_state", LEDGER_STATES)}`,
    )
    .execute();
  await db.schema.createIndex("organisations_region").on("organisations").column("region_code").execute();

  await db.schema
    .createTable("credentials")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("token_hash", "text", (col) => col.notNull().unique())
    .addColumn("roles_json", "text", (col) => col.notNull())
    .addColumn("label", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("expires_at_ms", "bigint")
    .addColumn("revoked_at_ms", "bigint")
    .addColumn("last_used_at_ms", "bigint")
    .execute();
  await db.schema.createIndex("credentials_organisation").on("credentials").column("organisation_id").execute();

  await db.schema
    .createTable("products")
    .addColumn("gtin", "text", (col) => col.primaryKey())
    .addColumn("name_zh", "text", (col) => col.notNull())
    .addColumn("name_en", "text")
    .addColumn("category", "text", (col) => col.notNull())
    .addColumn("unit", "text", (col) => col.notNull())
    .addColumn("cold_chain_min_c", float)
    .addColumn("cold_chain_max_c", float)
    .addColumn("max_yield_per_ha", float)
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("plots")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("area", float, (col) => col.notNull())
    .addColumn("area_unit", "text", (col) => col.notNull())
    .addColumn("region_code", "text", (col) => col.notNull())
    .addColumn("latitude", float)
    .addColumn("longitude", float)
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();
  await db.schema.createIndex("plots_organisation").on("plots").column("organisation_id").execute();

  await db.schema
    .createTable("certifications")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("kind", "text", (col) => col.notNull())
    .addColumn("number", "text", (col) => col.notNull())
    .addColumn("issuer", "text", (col) => col.notNull())
    .addColumn("valid_from_ms", "bigint", (col) => col.notNull())
    .addColumn("valid_to_ms", "bigint", (col) => col.notNull())
    .addColumn("scope_gtins_json", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint(
      "certifications_kind",
      inList("kind", ["pollution_free", "green_food", "organic", "geographical_indication"]),
    )
    .addUniqueConstraint("certifications_number", ["kind", "number"])
    .execute();
  await db.schema.createIndex("certifications_organisation").on("certifications").column("organisation_id").execute();

  await db.schema
    .createTable("batches")
    .addColumn("batch_id", "text", (col) => col.primaryKey())
    .addColumn("gtin", "text", (col) => col.notNull().references("products.gtin"))
    .addColumn("lot", "text", (col) => col.notNull())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("plot_id", "text", (col) => col.references("plots.id"))
    .addColumn("harvested_at_ms", "bigint", (col) => col.notNull())
    .addColumn("quantity_milli", "text", (col) => col.notNull())
    .addColumn("unit", "text", (col) => col.notNull())
    .addColumn("item_count", "integer", (col) => col.notNull())
    .addColumn("items_root", "text", (col) => col.notNull())
    .addColumn("metadata_cid", "text", (col) => col.notNull())
    .addColumn("video_cid", "text")
    .addColumn("photo_cids_json", "text", (col) => col.notNull())
    .addColumn("certificate_number", "text")
    .addColumn("certification_ids_json", "text", (col) => col.notNull())
    .addColumn("description_zh", "text")
    .addColumn("description_en", "text")
    .addColumn("attester_address", "text", (col) => col.notNull())
    .addColumn("signature", "text", (col) => col.notNull())
    .addColumn("nonce", "text", (col) => col.notNull())
    .addColumn("deadline", "text", (col) => col.notNull())
    .addColumn("typed_data_version", "text", (col) => col.notNull())
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("recall_reason_cid", "text")
    .addColumn("recalled_at_ms", "bigint")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addUniqueConstraint("batches_gtin_lot", ["gtin", "lot"])
    .addCheckConstraint("batches_ledger_state", inList("ledger_state", LEDGER_STATES))
    .addCheckConstraint("batches_status", inList("status", ["active", "recalled"]))
    .execute();
  await db.schema
    .createIndex("batches_organisation")
    .on("batches")
    .columns(["organisation_id", "harvested_at_ms"])
    .execute();
  await db.schema.createIndex("batches_harvested").on("batches").column("harvested_at_ms").execute();

  await db.schema
    .createTable("items")
    .addColumn("batch_id", "text", (col) => col.notNull().references("batches.batch_id"))
    .addColumn("serial", "text", (col) => col.notNull())
    .addColumn("leaf_index", "integer", (col) => col.notNull())
    .addColumn("hidden_code_hmac", "text")
    .addColumn("claimed_at_ms", "bigint")
    .addColumn("claimed_by_client_hash", "text")
    .addPrimaryKeyConstraint("items_pk", ["batch_id", "serial"])
    .execute();
  await db.schema.createIndex("items_serial").on("items").column("serial").execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("batch_id", "text", (col) => col.notNull().references("batches.batch_id"))
    .addColumn("biz_step", "text", (col) => col.notNull())
    .addColumn("actor_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("actor_address", "text", (col) => col.notNull())
    .addColumn("occurred_at_ms", "bigint", (col) => col.notNull())
    .addColumn("payload_cid", "text", (col) => col.notNull())
    .addColumn("data_json", "text", (col) => col.notNull())
    .addColumn("signature", "text", (col) => col.notNull())
    .addColumn("nonce", "text", (col) => col.notNull())
    .addColumn("deadline", "text", (col) => col.notNull())
    .addColumn("digest", "text", (col) => col.notNull().unique())
    .addColumn("typed_data_version", "text", (col) => col.notNull())
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("log_index", "integer")
    .addColumn("event_head", "text")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint("events_ledger_state", inList("ledger_state", LEDGER_STATES))
    .execute();
  await db.schema.createIndex("events_batch").on("events").columns(["batch_id", "occurred_at_ms"]).execute();
  await db.schema
    .createIndex("events_actor")
    .on("events")
    .columns(["actor_organisation_id", "occurred_at_ms"])
    .execute();

  await db.schema
    .createTable("ledger_transactions")
    .addColumn("tx_hash", "text", (col) => col.primaryKey())
    .addColumn("raw_tx", "text", (col) => col.notNull())
    .addColumn("sender", "text", (col) => col.notNull())
    .addColumn("account_nonce", "bigint", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await sequentialId(db.schema.createTable("outbox"))
    .addColumn("kind", "text", (col) => col.notNull())
    .addColumn("reference_id", "text", (col) => col.notNull())
    .addColumn("payload_json", "text", (col) => col.notNull())
    .addColumn("state", "text", (col) => col.notNull())
    .addColumn("attempts", "integer", (col) => col.notNull())
    .addColumn("next_attempt_at_ms", "bigint", (col) => col.notNull())
    .addColumn("tx_hash", "text", (col) => col.references("ledger_transactions.tx_hash"))
    .addColumn("block_number", "bigint")
    .addColumn("last_error", "text")
    .addColumn("claimed_by", "text")
    .addColumn("claimed_until_ms", "bigint")
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addUniqueConstraint("outbox_reference", ["kind", "reference_id"])
    .addCheckConstraint("outbox_state", inList("state", LEDGER_STATES))
    .execute();
  await db.schema.createIndex("outbox_due").on("outbox").columns(["state", "kind", "next_attempt_at_ms"]).execute();
  await db.schema.createIndex("outbox_tx").on("outbox").column("tx_hash").execute();

  await db.schema
    .createTable("signer_nonces")
    .addColumn("signer_address", "text", (col) => col.primaryKey())
    .addColumn("next_nonce", "text", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("idempotency_keys")
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
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

  await db.schema
    .createTable("indexer_cursors")
    .addColumn("chain_id", "text", (col) => col.notNull())
    .addColumn("contract_address", "text", (col) => col.notNull())
    .addColumn("last_block", "bigint", (col) => col.notNull())
    .addColumn("recent_blocks_json", "text", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addPrimaryKeyConstraint("indexer_cursors_pk", ["chain_id", "contract_address"])
    .execute();

  await db.schema
    .createTable("chain_logs")
    .addColumn("chain_id", "text", (col) => col.notNull())
    .addColumn("contract_address", "text", (col) => col.notNull())
    .addColumn("block_number", "bigint", (col) => col.notNull())
    .addColumn("block_hash", "text", (col) => col.notNull())
    .addColumn("log_index", "integer", (col) => col.notNull())
    .addColumn("tx_hash", "text", (col) => col.notNull())
    .addColumn("event_name", "text", (col) => col.notNull())
    .addColumn("batch_id", "text")
    .addColumn("args_json", "text", (col) => col.notNull())
    .addPrimaryKeyConstraint("chain_logs_pk", ["block_hash", "log_index"])
    .execute();
  await db.schema
    .createIndex("chain_logs_block")
    .on("chain_logs")
    .columns(["chain_id", "contract_address", "block_number"])
    .execute();
  await db.schema.createIndex("chain_logs_batch").on("chain_logs").columns(["batch_id", "block_number"]).execute();

  // Scans and claim attempts name the item without a foreign key: unknown codes are
  // scanned too, and recording them is the point (clone and probing detection).
  await sequentialId(db.schema.createTable("scans"))
    .addColumn("batch_id", "text", (col) => col.notNull())
    .addColumn("serial", "text", (col) => col.notNull())
    .addColumn("scanned_at_ms", "bigint", (col) => col.notNull())
    .addColumn("coarse_place", "text")
    .addColumn("client_hash", "text", (col) => col.notNull())
    .addColumn("verdict", "text", (col) => col.notNull())
    .execute();
  await db.schema.createIndex("scans_item").on("scans").columns(["batch_id", "serial", "scanned_at_ms"]).execute();
  await db.schema.createIndex("scans_at").on("scans").column("scanned_at_ms").execute();

  await sequentialId(db.schema.createTable("claim_attempts"))
    .addColumn("batch_id", "text", (col) => col.notNull())
    .addColumn("serial", "text", (col) => col.notNull())
    .addColumn("client_hash", "text", (col) => col.notNull())
    .addColumn("attempted_at_ms", "bigint", (col) => col.notNull())
    .addColumn("outcome", "text", (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex("claim_attempts_item")
    .on("claim_attempts")
    .columns(["batch_id", "serial", "attempted_at_ms"])
    .execute();
  await db.schema
    .createIndex("claim_attempts_client")
    .on("claim_attempts")
    .columns(["client_hash", "attempted_at_ms"])
    .execute();

  await sequentialId(db.schema.createTable("audit_log"))
    .addColumn("organisation_id", "text", (col) => col.references("organisations.id"))
    .addColumn("credential_id", "text", (col) => col.references("credentials.id"))
    .addColumn("action", "text", (col) => col.notNull())
    .addColumn("target", "text", (col) => col.notNull())
    .addColumn("at_ms", "bigint", (col) => col.notNull())
    .addColumn("details_json", "text", (col) => col.notNull())
    .addColumn("request_id", "text")
    .execute();
  await db.schema.createIndex("audit_log_organisation").on("audit_log").columns(["organisation_id", "at_ms"]).execute();
  await db.schema.createIndex("audit_log_target").on("audit_log").columns(["target", "at_ms"]).execute();

  await db.schema
    .createTable("leases")
    .addColumn("name", "text", (col) => col.primaryKey())
    .addColumn("holder", "text", (col) => col.notNull())
    .addColumn("expires_at_ms", "bigint", (col) => col.notNull())
    .execute();
}

export const initial: Migration = { up };
