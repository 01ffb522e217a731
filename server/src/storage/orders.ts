/** Orders: the order, its lines (units of a lot), the items scanned into it; what orders commit of a lot. */
import type { Db } from "./database.ts";
import { engineOf } from "./database.ts";

/** Units of the batch committed to orders that are not cancelled (open, packing, despatched, received). */
export async function orderedUnitsOfBatch(db: Db, batchId: string): Promise<number> {
  const row = await db
    .selectFrom("order_lines")
    .innerJoin("orders", "orders.id", "order_lines.order_id")
    .select((eb) => eb.fn.sum<number | string | null>("order_lines.quantity").as("units"))
    .where("order_lines.batch_id", "=", batchId.toLowerCase())
    .where("orders.status", "!=", "cancelled")
    .executeTakeFirst();
  return Number(row?.units ?? 0);
}

/**
 * Holds the batch's row until the transaction ends (PostgreSQL), so two orders for its last
 * units are judged one after the other and cannot both be accepted; SQLite has one writer,
 * and its transactions begin IMMEDIATE, so there the transaction itself is the lock.
 */
export async function lockLotBalance(db: Db, batchId: string): Promise<void> {
  if (engineOf(db) !== "postgres") return;
  await db.selectFrom("batches").select("batch_id").where("batch_id", "=", batchId.toLowerCase()).forUpdate().execute();
}
