/**
 * GTIN entitlement (issue 12): GS1 company prefixes and single GTINs bound to the
 * organisation entitled to them, and the grants GTIN owners give to others (a contract
 * packer). Each row keeps its place on the ledger; a release or a withdrawal is a second
 * ledger write on the same row, so the row says when it stopped counting and whether the
 * chain knows yet. At most one binding of a prefix, of a GTIN and one grant of a GTIN to an
 * organisation are in force at a time (partial unique indexes); released rows stay, so a
 * prefix allocated from the platform's is never handed out twice.
 *
 * Existing deployments: every product is bound, as a single-GTIN binding, to its first
 * registrant: `products.created_by` when it names an organisation, else the organisation of
 * the earliest batch of that GTIN (one the ledger accepted, if there is one). Products with
 * neither stay unbound (`npm run cli -- unbound-products` lists them). The rows are created
 * here as pending; the server queues the ledger writes for pending bindings that have none
 * when it starts (services/entitlement-reconcile.ts), so the chain learns them in order.
 *
 * Lists of values are spelled here, not imported, so later code cannot change what ran.
 */
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

const LEDGER_STATES = ["pending", "submitted", "anchored", "failed"] as const;

function inList(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}

function nullOrIn(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} is null or ${inList(column, values)}`;
}

/** The columns of 0010's tables this migration reads. */
interface Before {
  products: { gtin: string; created_by: string; created_at_ms: number };
  organisations: { id: string; kind: string };
  batches: { gtin: string; organisation_id: string; ledger_state: string; created_at_ms: number };
  gtin_bindings: {
    id: string;
    gtin: string;
    organisation_id: string;
    origin: string;
    ledger_state: string;
    failure_reason: string | null;
    tx_hash: string | null;
    block_number: number | null;
    released_at_ms: number | null;
    release_ledger_state: string | null;
    release_failure_reason: string | null;
    created_by: string;
    created_at_ms: number;
    updated_at_ms: number;
  };
}

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("company_prefix_bindings")
    .addColumn("id", "text", (col) => col.primaryKey())
    // Zero-padded: its length is the prefix's number of digits ("0614141" has 7).
    .addColumn("prefix", "text", (col) => col.notNull())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("origin", "text", (col) => col.notNull())
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("released_at_ms", "bigint")
    .addColumn("release_ledger_state", "text")
    .addColumn("release_failure_reason", "text")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint("company_prefix_bindings_origin", inList("origin", ["own", "platform"]))
    .addCheckConstraint("company_prefix_bindings_ledger_state", inList("ledger_state", LEDGER_STATES))
    .addCheckConstraint("company_prefix_bindings_release_ledger_state", nullOrIn("release_ledger_state", LEDGER_STATES))
    .execute();
  await db.schema
    .createIndex("company_prefix_bindings_in_force")
    .on("company_prefix_bindings")
    .column("prefix")
    .unique()
    .where(sql.ref("released_at_ms"), "is", null)
    .execute();
  await db.schema
    .createIndex("company_prefix_bindings_organisation")
    .on("company_prefix_bindings")
    .column("organisation_id")
    .execute();

  await db.schema
    .createTable("gtin_bindings")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("gtin", "text", (col) => col.notNull())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("origin", "text", (col) => col.notNull())
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("released_at_ms", "bigint")
    .addColumn("release_ledger_state", "text")
    .addColumn("release_failure_reason", "text")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint("gtin_bindings_origin", inList("origin", ["operator", "migration"]))
    .addCheckConstraint("gtin_bindings_ledger_state", inList("ledger_state", LEDGER_STATES))
    .addCheckConstraint("gtin_bindings_release_ledger_state", nullOrIn("release_ledger_state", LEDGER_STATES))
    .execute();
  await db.schema
    .createIndex("gtin_bindings_in_force")
    .on("gtin_bindings")
    .column("gtin")
    .unique()
    .where(sql.ref("released_at_ms"), "is", null)
    .execute();
  await db.schema.createIndex("gtin_bindings_organisation").on("gtin_bindings").column("organisation_id").execute();

  await db.schema
    .createTable("gtin_grants")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("gtin", "text", (col) => col.notNull())
    .addColumn("owner_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("grantee_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("withdrawn_at_ms", "bigint")
    .addColumn("withdraw_ledger_state", "text")
    .addColumn("withdraw_failure_reason", "text")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addCheckConstraint("gtin_grants_ledger_state", inList("ledger_state", LEDGER_STATES))
    .addCheckConstraint("gtin_grants_withdraw_ledger_state", nullOrIn("withdraw_ledger_state", LEDGER_STATES))
    .execute();
  await db.schema
    .createIndex("gtin_grants_in_force")
    .on("gtin_grants")
    .columns(["gtin", "grantee_organisation_id"])
    .unique()
    .where(sql.ref("withdrawn_at_ms"), "is", null)
    .execute();

  await bindExistingProducts(db);
}

/** Each existing product bound to its first registrant (see the file's comment). */
async function bindExistingProducts(db: Kysely<Before>): Promise<void> {
  const products = await db
    .selectFrom("products")
    .leftJoin("organisations", "organisations.id", "products.created_by")
    .select(["products.gtin", "products.created_at_ms", "organisations.id as creator"])
    .orderBy("products.gtin")
    .execute();
  for (const product of products) {
    let owner = product.creator;
    if (owner === null) {
      const earliest = await db
        .selectFrom("batches")
        .select("organisation_id")
        .where("gtin", "=", product.gtin)
        // A batch the ledger refused is a weaker claim than one it accepted or may still accept.
        .orderBy(sql`case when ${sql.ref("ledger_state")} = 'failed' then 1 else 0 end`)
        .orderBy("created_at_ms")
        .limit(1)
        .executeTakeFirst();
      owner = earliest?.organisation_id ?? null;
    }
    if (owner === null) continue;
    await db
      .insertInto("gtin_bindings")
      .values({
        id: `gtb_migrated_${product.gtin}`,
        gtin: product.gtin,
        organisation_id: owner,
        origin: "migration",
        ledger_state: "pending",
        failure_reason: null,
        tx_hash: null,
        block_number: null,
        released_at_ms: null,
        release_ledger_state: null,
        release_failure_reason: null,
        created_by: "migration-0011",
        created_at_ms: product.created_at_ms,
        updated_at_ms: product.created_at_ms,
      })
      .execute();
  }
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("gtin_grants").execute();
  await db.schema.dropTable("gtin_bindings").execute();
  await db.schema.dropTable("company_prefix_bindings").execute();
}

export const gtinEntitlement: Migration = { up, down };
