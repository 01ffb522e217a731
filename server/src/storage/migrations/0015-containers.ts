/**
 * Cases and pallets (issue 14, part 1; docs/aggregation.md): one row per container (its SSCC
 * beside the registry's key, the state hash the server expects after the requests it
 * accepted, and the state the chain reported), one row per signed request of a container
 * (its packing or a later event, with the state after it), the tree of each packing as
 * OpenZeppelin's node array, and each leaf with its node index so an item's containers and
 * proofs are one indexed lookup away.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("containers")
    .addColumn("container_key", "text", (col) => col.primaryKey())
    .addColumn("sscc", "text", (col) => col.notNull().unique())
    // The state hash after the last request accepted and not failed: what the next request signs as `previous`.
    .addColumn("expected_state_hash", "text", (col) => col.notNull())
    .addColumn("chain_state_hash", "text")
    .addColumn("chain_children_root", "text")
    .addColumn("chain_custodian", "text")
    .addColumn("chain_pending_receiver", "text")
    .addColumn("chain_link", "text")
    .addColumn("chain_block_number", "bigint")
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("container_steps")
    // The EIP-712 digest of the signed request: the `link` of the state it produces.
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("container_key", "text", (col) => col.notNull().references("containers.container_key"))
    // Acceptance order within the container: the order the writer sends them in.
    .addColumn("sequence", "integer", (col) => col.notNull())
    // The packing this step belongs to (a packing's own id for the packing itself).
    .addColumn("packing_id", "text", (col) => col.notNull())
    .addColumn("primary_type", "text", (col) => col.notNull())
    .addColumn("action", "text", (col) => col.notNull())
    .addColumn("value_json", "text", (col) => col.notNull())
    .addColumn("signature", "text", (col) => col.notNull())
    .addColumn("typed_data_version", "text", (col) => col.notNull())
    .addColumn("payload_cid", "text", (col) => col.notNull())
    .addColumn("children_root", "text", (col) => col.notNull())
    .addColumn("custodian", "text", (col) => col.notNull())
    .addColumn("pending_receiver", "text", (col) => col.notNull())
    .addColumn("state_hash", "text", (col) => col.notNull())
    .addColumn("actor_organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("counterparty_organisation_id", "text", (col) => col.references("organisations.id"))
    .addColumn("occurred_at_ms", "bigint", (col) => col.notNull())
    .addColumn("ledger_state", "text", (col) => col.notNull())
    .addColumn("failure_reason", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("log_index", "integer")
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .addUniqueConstraint("container_steps_sequence", ["container_key", "sequence"])
    .execute();
  await db.schema.createIndex("container_steps_packing").on("container_steps").column("packing_id").execute();

  await db.schema
    .createTable("container_trees")
    .addColumn("packing_id", "text", (col) => col.primaryKey().references("container_steps.id"))
    // OpenZeppelin StandardMerkleTree's node array (root first), as JSON: proofs are read from it.
    .addColumn("nodes_json", "text", (col) => col.notNull())
    .addColumn("child_count", "integer", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("container_leaves")
    .addColumn("packing_id", "text", (col) => col.notNull().references("container_steps.id"))
    .addColumn("tree_index", "integer", (col) => col.notNull())
    .addColumn("container_key", "text", (col) => col.notNull())
    // An item leaf has batch_id and serial, a child container leaf child_container_key.
    .addColumn("batch_id", "text")
    .addColumn("serial", "text")
    .addColumn("child_container_key", "text")
    .addPrimaryKeyConstraint("container_leaves_pk", ["packing_id", "tree_index"])
    .execute();
  await db.schema.createIndex("container_leaves_item").on("container_leaves").columns(["batch_id", "serial"]).execute();
  await db.schema.createIndex("container_leaves_child").on("container_leaves").column("child_container_key").execute();

  // The next SSCC serial reference under each extension digit + company prefix.
  await db.schema
    .createTable("sscc_allocations")
    .addColumn("prefix", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull())
    .addColumn("next_reference", "text", (col) => col.notNull())
    .addColumn("updated_at_ms", "bigint", (col) => col.notNull())
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("sscc_allocations").execute();
  await db.schema.dropTable("container_leaves").execute();
  await db.schema.dropTable("container_trees").execute();
  await db.schema.dropTable("container_steps").execute();
  await db.schema.dropTable("containers").execute();
}

export const containers: Migration = { up, down };
