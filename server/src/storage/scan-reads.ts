/**
 * What a scan reads first, in one query compiled once: of the batch named by a Digital
 * Link's GTIN and lot, only what names it and what changes (status, ledger position, recall,
 * its events' count and newest update, its certificates and inspection requests), and the
 * item with the link's serial and whether it was ever packed. The resolver
 * keeps what it derived from the whole batch (its part of every answer) while that version
 * is unchanged, and reads the whole row again only when it changes.
 */
import { toItem, type Item } from "./batches.ts";
import { compiledOnce } from "./compiled-query.ts";
import type { Db } from "./database.ts";

export interface ScanRecords {
  batchId: string;
  gtin: string;
  lot: string;
  itemsRoot: string;
  /**
   * Changes whenever what the batch's part of an answer shows changes: its row, any of its
   * events, its inspection requests, a certificate issued for it. Read from the database on
   * every scan, so a write by any replica shows at the next scan of every replica.
   */
  version: string;
  /** Whether the item is a leaf of any packing (a case or pallet may hold it). */
  packed: boolean;
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
      .select((eb) => [
        "batches.batch_id",
        "batches.gtin",
        "batches.lot",
        "batches.items_root",
        "batches.organisation_id",
        "batches.plot_id",
        "batches.status",
        "batches.ledger_state",
        "batches.tx_hash",
        "batches.block_number",
        "batches.recalled_at_ms",
        "batches.recall_reason_cid",
        "batches.updated_at_ms",
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
        // Certificates are never changed or deleted once issued: their number says when one was added.
        eb
          .selectFrom("certificate_batches")
          .select((sub) => sub.fn.countAll<number>().as("n"))
          .whereRef("certificate_batches.batch_id", "=", "batches.batch_id")
          .as("certificates_count"),
        eb
          .selectFrom("inspection_requests")
          .select((sub) => sub.fn.countAll<number>().as("n"))
          .whereRef("inspection_requests.batch_id", "=", "batches.batch_id")
          .as("inspection_requests_count"),
        eb
          .selectFrom("inspection_requests")
          .select((sub) => sub.fn.max<number | null>("inspection_requests.updated_at_ms").as("u"))
          .whereRef("inspection_requests.batch_id", "=", "batches.batch_id")
          .as("inspection_requests_updated_at_ms"),
        // Whether the item was ever packed: most items never are, and their scans then skip the
        // container queries altogether (one index probe here instead of a query of its own).
        eb
          .exists(
            eb
              .selectFrom("container_leaves")
              .select("container_leaves.packing_id")
              .whereRef("container_leaves.batch_id", "=", "batches.batch_id")
              .whereRef("container_leaves.serial", "=", "items.serial"),
          )
          .as("item_packed"),
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

/** The batch of `gtin` and `lot` as a scan needs it, and its item `serial` (if it has one); null without a batch. */
export async function getScanRecords(db: Db, gtin: string, lot: string, serial: string): Promise<ScanRecords | null> {
  const [row] = await batchAndItem(db, serial, gtin, lot);
  if (row === undefined) return null;
  return {
    batchId: row.batch_id,
    gtin: row.gtin,
    lot: row.lot,
    itemsRoot: row.items_root,
    version: [
      row.organisation_id,
      row.plot_id,
      row.status,
      row.ledger_state,
      row.tx_hash,
      row.block_number,
      row.recalled_at_ms,
      row.recall_reason_cid,
      row.updated_at_ms,
      row.events_count,
      row.events_updated_at_ms,
      row.certificates_count,
      row.inspection_requests_count,
      row.inspection_requests_updated_at_ms,
    ]
      .map((value) => String(value))
      .join("|"),
    packed: Boolean(row.item_packed),
    item:
      row.item_serial === null || row.item_leaf_index === null
        ? null
        : toItem({
            batch_id: row.batch_id,
            serial: row.item_serial,
            leaf_index: row.item_leaf_index,
            hidden_code_hmac: row.item_hidden_code_hmac,
            claimed_at_ms: row.item_claimed_at_ms,
            claimed_by_client_hash: row.item_claimed_by_client_hash,
          }),
  };
}
