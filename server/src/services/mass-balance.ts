/**
 * Mass balance of a lot (issue 14, parts 3 and 4): how many of its trade units were
 * registered, how many orders have taken, and so how many are still for sale. A unit is one
 * item of the lot (one printed code): an order line's quantity counts items, never a weight,
 * so a scanned code fills exactly one unit and the balance needs no unit conversion. Every
 * order that is not cancelled counts (open, packing, despatched, received): a cancelled order
 * gives its units back. Orders are refused before they would take more than was registered
 * (services/orders.ts judges and stores in one transaction with the lot held), so `ordered`
 * never exceeds `registered` through the API; `remaining` is still floored at 0.
 */
import type { Batch } from "../storage/batches.ts";
import type { Db } from "../storage/database.ts";
import { orderedUnitsOfBatch } from "../storage/orders.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";

export interface LotBalance {
  batchId: string;
  /** Trade units registered for the lot (its items). */
  registered: number;
  /** Units committed to orders (open, packed, shipped, received; not cancelled). */
  ordered: number;
  /** registered - ordered, never below 0. */
  remaining: number;
  /** remaining === 0 */
  soldOut: boolean;
}

/** The balance of a batch already read, on `db` (a transaction holding the lot, when judging an order). */
export async function balanceOfBatch(db: Db, batch: Pick<Batch, "batchId" | "itemCount">): Promise<LotBalance> {
  const registered = batch.itemCount;
  const ordered = await orderedUnitsOfBatch(db, batch.batchId);
  const remaining = Math.max(0, registered - ordered);
  return { batchId: batch.batchId, registered, ordered, remaining, soldOut: remaining === 0 };
}

/** The lot's balance; an unknown batch id is `batch.not_found`. */
export async function lotBalance(ctx: ServiceContext, batchId: string): Promise<LotBalance> {
  const batch = await requireBatch(ctx, batchId);
  return balanceOfBatch(ctx.db, batch);
}
