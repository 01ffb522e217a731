/**
 * What a scan reads, each in one query compiled once: the batch named by a Digital Link's
 * GTIN and lot with a stamp of its events (which changes whenever one is added or updated),
 * and the item. The resolver keeps what it derived from a batch (its part of every answer)
 * until the batch or the stamp changes.
 */
import { toBatch, toItem, type Batch, type Item } from "./batches.ts";
import type { Db } from "./database.ts";
import { compiledOnce } from "./compiled-query.ts";

export interface BatchForScan {
  batch: Batch;
  /** Number of the batch's events and the newest update among them. */
  eventsStamp: string;
}

const batchWithEventsStamp = compiledOnce(
  (db, gtin: string, lot: string) =>
    db
      .selectFrom("batches")
      .selectAll("batches")
      .select((eb) => [
        eb
          .selectFrom("events")
          .select((sub) => sub.fn.countAll<number>().as("n"))
          .whereRef("events.batch_id", "=", "batches.batch_id")
          .as("events_count"),
        eb
          .selectFrom("events")
          .select((sub) => sub.fn.max<number | null>("events.updated_at_ms").as("u"))
          .whereRef("events.batch_id", "=", "batches.batch_id")
          .as("events_updated_at_ms"),
      ])
      .where("batches.gtin", "=", gtin)
      .where("batches.lot", "=", lot),
  ["\u0000gtin", "\u0000lot"] as const,
);

export async function getBatchForScan(db: Db, gtin: string, lot: string): Promise<BatchForScan | null> {
  const [row] = await batchWithEventsStamp(db, gtin, lot);
  if (row === undefined) return null;
  const { events_count: count, events_updated_at_ms: updated, ...batch } = row;
  return { batch: toBatch(batch), eventsStamp: `${String(count)}:${String(updated)}` };
}

const itemBySerial = compiledOnce(
  (db, batchId: string, serial: string) =>
    db.selectFrom("items").selectAll().where("batch_id", "=", batchId).where("serial", "=", serial),
  ["\u0000batch", "\u0000serial"] as const,
);

export async function getItemForScan(db: Db, batchId: string, serial: string): Promise<Item | null> {
  const [row] = await itemBySerial(db, batchId.toLowerCase(), serial);
  return row === undefined ? null : toItem(row);
}
