/**
 * What a scan reads first, in one query compiled once: the batch named by a Digital Link's
 * GTIN and lot, a stamp of its events (which changes whenever one is added or updated), and
 * the item with the link's serial. The resolver keeps what it derived from a batch (its part
 * of every answer) until the batch or the stamp changes.
 */
import { toBatch, toItem, type Batch, type Item } from "./batches.ts";
import { compiledOnce } from "./compiled-query.ts";
import type { Db } from "./database.ts";

export interface ScanRecords {
  batch: Batch;
  /** Number of the batch's events and the newest update among them. */
  eventsStamp: string;
  /** Null when the batch has no item with this serial. */
  item: Item | null;
}

const batchAndItem = compiledOnce(
  (db, serial: string, gtin: string, lot: string) =>
    db
      .selectFrom("batches")
      .leftJoin("items", (join) =>
        join.onRef("items.batch_id", "=", "batches.batch_id").on("items.serial", "=", serial),
      )
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
        "items.serial as item_serial",
        "items.leaf_index as item_leaf_index",
        "items.hidden_code_hmac as item_hidden_code_hmac",
        "items.claimed_at_ms as item_claimed_at_ms",
        "items.claimed_by_client_hash as item_claimed_by_client_hash",
      ])
      .where("batches.gtin", "=", gtin)
      .where("batches.lot", "=", lot),
  ["\u0000serial", "\u0000gtin", "\u0000lot"] as const,
);

/** The batch of `gtin` and `lot` with its events' stamp and the item `serial` (if it has one); null without a batch. */
export async function getScanRecords(db: Db, gtin: string, lot: string, serial: string): Promise<ScanRecords | null> {
  const [row] = await batchAndItem(db, serial, gtin, lot);
  if (row === undefined) return null;
  const {
    events_count: count,
    events_updated_at_ms: updated,
    item_serial: itemSerial,
    item_leaf_index: leafIndex,
    item_hidden_code_hmac: hiddenCodeHmac,
    item_claimed_at_ms: claimedAtMs,
    item_claimed_by_client_hash: claimedBy,
    ...batch
  } = row;
  return {
    batch: toBatch(batch),
    eventsStamp: `${String(count)}:${String(updated)}`,
    item:
      itemSerial === null || leafIndex === null
        ? null
        : toItem({
            batch_id: batch.batch_id,
            serial: itemSerial,
            leaf_index: leafIndex,
            hidden_code_hmac: hiddenCodeHmac,
            claimed_at_ms: claimedAtMs,
            claimed_by_client_hash: claimedBy,
          }),
  };
}
