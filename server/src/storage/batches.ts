/**
 * Batches (traceability lots) and their items. A batch row holds everything its
 * cooperative signed, so the attestation can be rebuilt and re-verified from storage;
 * items hold what never goes on chain: serials, their leaf positions and hidden codes.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";

import { sql, type Selectable } from "kysely";

import { BATCH_STATUSES, LEDGER_STATES, type BatchStatus, type LedgerState } from "../domain/enumerations.ts";
import { fromJson, normaliseAddress, oneOf, stringArray, textToUint, toJson, uintToText } from "./codec.ts";
import { engineOf, type Db } from "./database.ts";
import type { BatchesTable, ItemsTable } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

/** Where a signed record stands on the ledger (batches and events share it). */
export interface LedgerPosition {
  state: LedgerState;
  failureReason: string | null;
  txHash: string | null;
  blockNumber: number | null;
}

export interface SignedFields {
  signerAddress: string;
  signature: string;
  nonce: bigint;
  deadline: bigint;
  typedDataVersion: string;
}

export interface Batch {
  batchId: string;
  gtin: string;
  lot: string;
  organisationId: string;
  plotId: string | null;
  harvestedAtMs: number;
  quantityMilli: bigint;
  unit: string;
  itemCount: number;
  itemsRoot: string;
  metadataCid: string;
  videoCid: string | null;
  photoCids: string[];
  certificateNumber: string | null;
  certificationIds: string[];
  description: { zh: string | null; en: string | null };
  attestation: SignedFields;
  ledger: LedgerPosition;
  status: BatchStatus;
  recall: { reasonCid: string | null; atMs: number } | null;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewBatch = Omit<Batch, "ledger" | "status" | "recall" | "createdAtMs" | "updatedAtMs">;

export function toBatch(row: Selectable<BatchesTable>): Batch {
  return {
    batchId: row.batch_id,
    gtin: row.gtin,
    lot: row.lot,
    organisationId: row.organisation_id,
    plotId: row.plot_id,
    harvestedAtMs: row.harvested_at_ms,
    quantityMilli: textToUint(row.quantity_milli),
    unit: row.unit,
    itemCount: row.item_count,
    itemsRoot: row.items_root,
    metadataCid: row.metadata_cid,
    videoCid: row.video_cid,
    photoCids: fromJson(stringArray, row.photo_cids_json, "batches.photo_cids_json"),
    certificateNumber: row.certificate_number,
    certificationIds: fromJson(stringArray, row.certification_ids_json, "batches.certification_ids_json"),
    description: { zh: row.description_zh, en: row.description_en },
    attestation: {
      signerAddress: row.attester_address,
      signature: row.signature,
      nonce: textToUint(row.nonce),
      deadline: textToUint(row.deadline),
      typedDataVersion: row.typed_data_version,
    },
    ledger: {
      state: oneOf(LEDGER_STATES, row.ledger_state, "batches.ledger_state"),
      failureReason: row.failure_reason,
      txHash: row.tx_hash,
      blockNumber: row.block_number,
    },
    status: oneOf(BATCH_STATUSES, row.status, "batches.status"),
    recall: row.recalled_at_ms === null ? null : { reasonCid: row.recall_reason_cid, atMs: row.recalled_at_ms },
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/** Inserts a batch in ledger state "pending". A second batch with the same id or GTIN + lot is refused (unique). */
export async function insertBatch(db: Db, batch: NewBatch, nowMs = Date.now()): Promise<Batch> {
  const row = await db
    .insertInto("batches")
    .values({
      batch_id: batch.batchId.toLowerCase(),
      gtin: batch.gtin,
      lot: batch.lot,
      organisation_id: batch.organisationId,
      plot_id: batch.plotId,
      harvested_at_ms: batch.harvestedAtMs,
      quantity_milli: uintToText(batch.quantityMilli),
      unit: batch.unit,
      item_count: batch.itemCount,
      items_root: batch.itemsRoot,
      metadata_cid: batch.metadataCid,
      video_cid: batch.videoCid,
      photo_cids_json: toJson(batch.photoCids),
      certificate_number: batch.certificateNumber,
      certification_ids_json: toJson(batch.certificationIds),
      description_zh: batch.description.zh,
      description_en: batch.description.en,
      attester_address: normaliseAddress(batch.attestation.signerAddress),
      signature: batch.attestation.signature,
      nonce: uintToText(batch.attestation.nonce),
      deadline: uintToText(batch.attestation.deadline),
      typed_data_version: batch.attestation.typedDataVersion,
      ledger_state: "pending",
      failure_reason: null,
      tx_hash: null,
      block_number: null,
      status: "active",
      recall_reason_cid: null,
      recalled_at_ms: null,
      created_by: batch.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toBatch(row);
}

export async function getBatch(db: Db, batchId: string): Promise<Batch | null> {
  const row = await db
    .selectFrom("batches")
    .selectAll()
    .where("batch_id", "=", batchId.toLowerCase())
    .executeTakeFirst();
  return row === undefined ? null : toBatch(row);
}

export async function getBatchByLot(db: Db, gtin: string, lot: string): Promise<Batch | null> {
  const row = await db
    .selectFrom("batches")
    .selectAll()
    .where("gtin", "=", gtin)
    .where("lot", "=", lot)
    .executeTakeFirst();
  return row === undefined ? null : toBatch(row);
}

export interface BatchFilter {
  organisationId?: string;
  gtin?: string;
  /** GB/T 2260 prefix of the attesting organisation's region. */
  regionPrefix?: string;
  harvestedFromMs?: number;
  harvestedBeforeMs?: number;
  status?: BatchStatus;
  limit?: number;
  offset?: number;
}

const MAX_PAGE = 1_000;

/** Newest harvest first. */
export async function listBatches(db: Db, filter: BatchFilter = {}): Promise<Batch[]> {
  let query = db.selectFrom("batches").selectAll("batches");
  if (filter.organisationId !== undefined) query = query.where("batches.organisation_id", "=", filter.organisationId);
  if (filter.gtin !== undefined) query = query.where("batches.gtin", "=", filter.gtin);
  if (filter.status !== undefined) query = query.where("batches.status", "=", filter.status);
  if (filter.harvestedFromMs !== undefined)
    query = query.where("batches.harvested_at_ms", ">=", filter.harvestedFromMs);
  if (filter.harvestedBeforeMs !== undefined) {
    query = query.where("batches.harvested_at_ms", "<", filter.harvestedBeforeMs);
  }
  if (filter.regionPrefix !== undefined) {
    if (!/^\d{1,6}$/.test(filter.regionPrefix)) throw new Error(`not a region code prefix: ${filter.regionPrefix}`);
    const prefix = filter.regionPrefix;
    query = query.where("batches.organisation_id", "in", (eb) =>
      eb.selectFrom("organisations").select("id").where("region_code", "like", `${prefix}%`),
    );
  }
  const rows = await query
    .orderBy("batches.harvested_at_ms", "desc")
    .orderBy("batches.batch_id")
    .limit(Math.min(filter.limit ?? 100, MAX_PAGE))
    .offset(filter.offset ?? 0)
    .execute();
  return rows.map(toBatch);
}

export async function setBatchLedger(
  db: Db,
  batchId: string,
  ledger: LedgerPosition,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("batches")
    .set({
      ledger_state: ledger.state,
      failure_reason: ledger.failureReason,
      tx_hash: ledger.txHash,
      block_number: ledger.blockNumber,
      updated_at_ms: nowMs,
    })
    .where("batch_id", "=", batchId.toLowerCase())
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Marks an active batch recalled; returns false when it is unknown or already recalled. */
export async function recallBatch(
  db: Db,
  batchId: string,
  reasonCid: string | null,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("batches")
    .set({ status: "recalled", recall_reason_cid: reasonCid, recalled_at_ms: nowMs, updated_at_ms: nowMs })
    .where("batch_id", "=", batchId.toLowerCase())
    .where("status", "=", "active")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface Item {
  batchId: string;
  serial: string;
  leafIndex: number;
  hiddenCodeHmac: string | null;
  claim: { atMs: number; clientHash: string | null } | null;
}

export type NewItem = Pick<Item, "serial" | "leafIndex" | "hiddenCodeHmac">;

export function toItem(row: Selectable<ItemsTable>): Item {
  return {
    batchId: row.batch_id,
    serial: row.serial,
    leafIndex: row.leaf_index,
    hiddenCodeHmac: row.hidden_code_hmac,
    claim: row.claimed_at_ms === null ? null : { atMs: row.claimed_at_ms, clientHash: row.claimed_by_client_hash },
  };
}

/**
 * Rows per INSERT on SQLite: 4 parameters each stays far below its 32,766 bound
 * parameters, and one statement (node:sqlite runs it synchronously, on the event loop)
 * takes a few milliseconds. PostgreSQL pays a round trip per statement and parses every
 * parameter, so it gets each column as one array parameter and unnests them server-side.
 */
const SQLITE_ITEM_CHUNK = 500;
const POSTGRES_ITEM_CHUNK = 20_000;

/**
 * Inserts a batch's items, all or none (one transaction, so one fsync on SQLite). A serial
 * already in the batch fails the whole insert.
 */
export async function insertItems(db: Db, batchId: string, items: readonly NewItem[]): Promise<void> {
  await insertItemColumns(
    db,
    batchId,
    items.map((item) => item.serial),
    items.map((item) => item.hiddenCodeHmac),
    items.map((item) => item.leafIndex),
  );
}

/**
 * `insertItems` from columns, as registration holds them: serial i is leaf i unless
 * `leafIndexes` says otherwise. A million items are a few hundred statements; the event
 * loop is yielded to between them, so requests that need no database keep being answered
 * (those that do wait for the transaction on SQLite's single connection).
 */
export async function insertItemColumns(
  db: Db,
  batchId: string,
  serials: readonly string[],
  hiddenCodeHmacs: readonly (string | null)[],
  leafIndexes?: readonly number[],
): Promise<void> {
  const id = batchId.toLowerCase();
  const leafAt = (i: number): number => leafIndexes?.[i] ?? i;
  await inTransaction(db, async (trx) => {
    const postgres = engineOf(trx) === "postgres";
    const chunkSize = postgres ? POSTGRES_ITEM_CHUNK : SQLITE_ITEM_CHUNK;
    for (let start = 0; start < serials.length; start += chunkSize) {
      if (start > 0) await yieldToLoop();
      const end = Math.min(serials.length, start + chunkSize);
      if (postgres) {
        const leaves: number[] = [];
        for (let i = start; i < end; i++) leaves.push(leafAt(i));
        await sql`
          insert into items (batch_id, serial, leaf_index, hidden_code_hmac)
          select ${id}, t.serial, t.leaf_index, t.hidden_code_hmac
          from unnest(${serials.slice(start, end)}::text[], ${leaves}::integer[], ${hiddenCodeHmacs.slice(start, end).map((hmac) => hmac ?? null)}::text[])
            as t(serial, leaf_index, hidden_code_hmac)`.execute(trx);
        continue;
      }
      const rows = [];
      for (let i = start; i < end; i++) {
        rows.push({
          batch_id: id,
          serial: serials[i] ?? "",
          leaf_index: leafAt(i),
          hidden_code_hmac: hiddenCodeHmacs[i] ?? null,
        });
      }
      await trx.insertInto("items").values(rows).execute();
    }
  });
}

export async function getItem(db: Db, batchId: string, serial: string): Promise<Item | null> {
  const row = await db
    .selectFrom("items")
    .selectAll()
    .where("batch_id", "=", batchId.toLowerCase())
    .where("serial", "=", serial)
    .executeTakeFirst();
  return row === undefined ? null : toItem(row);
}

export async function countItems(db: Db, batchId: string): Promise<number> {
  const row = await db
    .selectFrom("items")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("batch_id", "=", batchId.toLowerCase())
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Rows per page when reading a batch's serials: one synchronous SQLite query of a few milliseconds. */
const SERIAL_PAGE = 20_000;

/**
 * Serials in leaf order: what rebuilds the Merkle tree and prints the label sheets. Read
 * in pages by leaf index (the primary key's index serves each), yielding between them,
 * so a million-item batch never holds the loop (or SQLite's connection) for long.
 */
export async function listItemSerials(db: Db, batchId: string): Promise<string[]> {
  const id = batchId.toLowerCase();
  const serials: string[] = [];
  for (let after = -1; ;) {
    const rows = await db
      .selectFrom("items")
      .select(["serial", "leaf_index"])
      .where("batch_id", "=", id)
      .where("leaf_index", ">", after)
      .orderBy("leaf_index")
      .limit(SERIAL_PAGE)
      .execute();
    for (const row of rows) serials.push(row.serial);
    const last = rows.at(-1);
    if (last === undefined || rows.length < SERIAL_PAGE) return serials;
    after = last.leaf_index;
    await yieldToLoop();
  }
}

/** One page of a batch's items in leaf order, from `page.offset`: what an API listing pages through. */
export async function listItemsPage(
  db: Db,
  batchId: string,
  page: { offset: number; limit: number },
): Promise<Pick<Item, "serial" | "leafIndex">[]> {
  const rows = await db
    .selectFrom("items")
    .select(["serial", "leaf_index"])
    .where("batch_id", "=", batchId.toLowerCase())
    .orderBy("leaf_index")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
  return rows.map((row) => ({ serial: row.serial, leafIndex: row.leaf_index }));
}

/**
 * The items after leaf `afterLeafIndex`, at most `limit`, in leaf order: a stream's next
 * page. Paging by leaf index (items_batch_leaf) reads only the page; an OFFSET would
 * rescan every earlier row, quadratic over a million-item label sheet.
 */
export async function listItemsAfter(
  db: Db,
  batchId: string,
  afterLeafIndex: number,
  limit: number,
): Promise<Pick<Item, "serial" | "leafIndex" | "hiddenCodeHmac">[]> {
  const rows = await db
    .selectFrom("items")
    .select(["serial", "hidden_code_hmac", "leaf_index"])
    .where("batch_id", "=", batchId.toLowerCase())
    .where("leaf_index", ">", afterLeafIndex)
    .orderBy("leaf_index")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ serial: row.serial, leafIndex: row.leaf_index, hiddenCodeHmac: row.hidden_code_hmac }));
}

/**
 * Marks an item's hidden code as claimed, once: returns true for the call that claimed
 * it, false when it was claimed before (or does not exist). The caller checks the code.
 */
export async function claimItem(
  db: Db,
  batchId: string,
  serial: string,
  clientHash: string | null,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("items")
    .set({ claimed_at_ms: nowMs, claimed_by_client_hash: clientHash })
    .where("batch_id", "=", batchId.toLowerCase())
    .where("serial", "=", serial)
    .where("claimed_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Removes a batch whose attestation the registry refused (ledger state "failed"), with
 * its items, its events and every outbox entry that names them, so its GTIN + lot can be
 * registered again: a refused attestation never took the batch id on chain. Returns the
 * removed batch (for the audit log), or null when the batch is absent or not failed.
 * Call inside the transaction that stores the replacement.
 */
export async function removeFailedBatch(db: Db, batchId: string): Promise<Batch | null> {
  const id = batchId.toLowerCase();
  const row = await db
    .selectFrom("batches")
    .selectAll()
    .where("batch_id", "=", id)
    .where("ledger_state", "=", "failed")
    .executeTakeFirst();
  if (row === undefined) return null;
  const eventIds = (await db.selectFrom("events").select("id").where("batch_id", "=", id).execute()).map((e) => e.id);
  if (eventIds.length > 0) {
    await db.deleteFrom("outbox").where("kind", "=", "event").where("reference_id", "in", eventIds).execute();
    // A partner's eventIDs go with the events, so it can capture them again for the replacement.
    await db.deleteFrom("epcis_event_ids").where("event_id", "in", eventIds).execute();
  }
  await db
    .deleteFrom("outbox")
    .where("kind", "in", ["attestation", "recall", "regulator_recall"])
    .where("reference_id", "=", id)
    .execute();
  await db.deleteFrom("events").where("batch_id", "=", id).execute();
  await db.deleteFrom("items").where("batch_id", "=", id).execute();
  await db.deleteFrom("batches").where("batch_id", "=", id).execute();
  return toBatch(row);
}
