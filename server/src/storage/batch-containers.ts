/**
 * The cases and pallets that hold (or held) a batch's items, for the exports: the containers
 * whose packings list one of its items, then the pallets whose packings list such a case.
 * Failed packings are left out: the chain never held them.
 */
import type { Db } from "./database.ts";

/** Pallets hold cases; nothing deeper is built. */
const MAX_NESTING = 3;

/** Container keys, cases first (in the order first packed), then the pallets holding them. */
export async function containerKeysOfBatch(db: Db, batchId: string): Promise<string[]> {
  const cases = await db
    .selectFrom("container_leaves")
    .innerJoin("container_steps", "container_steps.id", "container_leaves.packing_id")
    .select("container_leaves.container_key")
    .where("container_leaves.batch_id", "=", batchId.toLowerCase())
    .where("container_steps.ledger_state", "!=", "failed")
    .groupBy("container_leaves.container_key")
    .orderBy((eb) => eb.fn.min("container_steps.created_at_ms"))
    .execute();
  const keys = cases.map((row) => row.container_key);
  let level = keys;
  for (let depth = 0; depth < MAX_NESTING && level.length > 0; depth++) {
    const parents = await db
      .selectFrom("container_leaves")
      .innerJoin("container_steps", "container_steps.id", "container_leaves.packing_id")
      .select("container_leaves.container_key")
      .where("container_leaves.child_container_key", "in", level)
      .where("container_steps.ledger_state", "!=", "failed")
      .groupBy("container_leaves.container_key")
      .orderBy((eb) => eb.fn.min("container_steps.created_at_ms"))
      .execute();
    level = parents.map((row) => row.container_key).filter((key) => !keys.includes(key));
    keys.push(...level);
  }
  return keys;
}
