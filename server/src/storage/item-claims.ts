/**
 * When consumers claimed a batch's items (entered the hidden code: the item was bought), for
 * the audit's "shipped after it was sold" rule: the one per-item sale the platform records.
 */
import type { Db } from "./database.ts";

/** Claim times in ms of the batch's claimed items, by serial. */
export async function listItemClaims(db: Db, batchId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("items")
    .select(["serial", "claimed_at_ms"])
    .where("batch_id", "=", batchId.toLowerCase())
    .where("claimed_at_ms", "is not", null)
    .execute();
  const claims = new Map<string, number>();
  for (const row of rows) if (row.claimed_at_ms !== null) claims.set(row.serial, row.claimed_at_ms);
  return claims;
}
