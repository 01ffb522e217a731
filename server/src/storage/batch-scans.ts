/**
 * Scans counted over a whole batch, for the regulator's audit (services/audit/run.ts):
 * the per-item counts of scans.ts, grouped by serial, and the scans of codes that were
 * never issued. Apart from scans.ts because that module serves the scan page's hot path.
 */
import type { Db } from "./database.ts";

/** Resolved scans of each of a batch's items since `sinceMs`; items not scanned are absent. */
export async function countResolvedScansBySerial(
  db: Db,
  batchId: string,
  sinceMs: number,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("scans")
    .select((eb) => ["serial", eb.fn.countAll<number | string>().as("n")])
    .where("batch_id", "=", batchId.toLowerCase())
    .where("verdict", "=", "resolved")
    .where("scanned_at_ms", ">=", sinceMs)
    .groupBy("serial")
    .execute();
  return new Map(rows.map((row) => [row.serial, Number(row.n)]));
}

/** Scans of the batch's codes that named no item it issued. */
export async function countUnknownScans(db: Db, batchId: string): Promise<number> {
  const row = await db
    .selectFrom("scans")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("batch_id", "=", batchId.toLowerCase())
    .where("verdict", "=", "unknown")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
