/** Orders: the order, its lines (units of a lot), the items scanned into it; what orders commit of a lot. */
import type { Selectable } from "kysely";

import {
  ORDER_CHANNELS,
  ORDER_STORED_STATUSES,
  type OrderChannel,
  type OrderStoredStatus,
} from "../domain/enumerations.ts";
import { oneOf } from "./codec.ts";
import type { Db } from "./database.ts";
import { engineOf } from "./database.ts";
import type { OrdersTable } from "./schema.ts";

export interface OrderLine {
  position: number;
  batchId: string;
  gtin: string;
  lot: string;
  /** Trade units (items). */
  quantity: number;
}

export interface StoredOrder {
  id: string;
  sellerOrganisationId: string;
  reference: string;
  sellerOrderNumber: string | null;
  buyerReferenceHash: string;
  buyerReferenceSalt: string;
  channel: OrderChannel;
  liveStreamJson: string | null;
  status: OrderStoredStatus;
  despatch: { sscc: string; despatchId: string; atMs: number } | null;
  cancelledAtMs: number | null;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
  lines: OrderLine[];
}

export type NewOrder = Omit<StoredOrder, "status" | "despatch" | "cancelledAtMs" | "updatedAtMs">;

export interface OrderItem {
  batchId: string;
  serial: string;
  position: number;
  caseSscc: string | null;
}

/** SQLite binds at most 32,766 values per statement; IN lists are cut well below it. */
const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < list.length; start += CHUNK) out.push(list.slice(start, start + CHUNK));
  return out;
}

function toOrder(row: Selectable<OrdersTable>, lines: OrderLine[]): StoredOrder {
  return {
    id: row.id,
    sellerOrganisationId: row.seller_organisation_id,
    reference: row.reference,
    sellerOrderNumber: row.seller_order_number,
    buyerReferenceHash: row.buyer_reference_hash,
    buyerReferenceSalt: row.buyer_reference_salt,
    channel: oneOf(ORDER_CHANNELS, row.channel, "orders.channel"),
    liveStreamJson: row.live_stream_json,
    status: oneOf(ORDER_STORED_STATUSES, row.status, "orders.status"),
    despatch:
      row.despatch_sscc === null || row.despatch_id === null || row.despatched_at_ms === null
        ? null
        : { sscc: row.despatch_sscc, despatchId: row.despatch_id, atMs: row.despatched_at_ms },
    cancelledAtMs: row.cancelled_at_ms,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
    lines,
  };
}

export async function insertOrder(db: Db, order: NewOrder): Promise<void> {
  await db
    .insertInto("orders")
    .values({
      id: order.id,
      seller_organisation_id: order.sellerOrganisationId,
      reference: order.reference,
      seller_order_number: order.sellerOrderNumber,
      buyer_reference_hash: order.buyerReferenceHash,
      buyer_reference_salt: order.buyerReferenceSalt,
      channel: order.channel,
      live_stream_json: order.liveStreamJson,
      status: "open",
      despatch_sscc: null,
      despatch_id: null,
      despatched_at_ms: null,
      cancelled_at_ms: null,
      created_by: order.createdBy,
      created_at_ms: order.createdAtMs,
      updated_at_ms: order.createdAtMs,
    })
    .execute();
  await db
    .insertInto("order_lines")
    .values(
      order.lines.map((line) => ({
        order_id: order.id,
        position: line.position,
        batch_id: line.batchId.toLowerCase(),
        gtin: line.gtin,
        lot: line.lot,
        quantity: line.quantity,
      })),
    )
    .execute();
}

async function linesOf(db: Db, orderIds: readonly string[]): Promise<Map<string, OrderLine[]>> {
  const byOrder = new Map<string, OrderLine[]>(orderIds.map((id) => [id, []]));
  if (orderIds.length === 0) return byOrder;
  const rows = await db
    .selectFrom("order_lines")
    .selectAll()
    .where("order_id", "in", [...orderIds])
    .orderBy("order_id")
    .orderBy("position")
    .execute();
  for (const row of rows) {
    byOrder.get(row.order_id)?.push({
      position: row.position,
      batchId: row.batch_id,
      gtin: row.gtin,
      lot: row.lot,
      quantity: row.quantity,
    });
  }
  return byOrder;
}

/** The order if `sellerOrganisationId` sells it; null otherwise (a stranger learns nothing). */
export async function getOrderOfSeller(db: Db, id: string, sellerOrganisationId: string): Promise<StoredOrder | null> {
  const row = await db
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", id)
    .where("seller_organisation_id", "=", sellerOrganisationId)
    .executeTakeFirst();
  if (row === undefined) return null;
  return toOrder(row, (await linesOf(db, [row.id])).get(row.id) ?? []);
}

/** Whether any seller has an order with this id. */
export async function orderExists(db: Db, id: string): Promise<boolean> {
  return (await db.selectFrom("orders").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
}

/** The seller's orders, newest first. */
export async function listOrdersOfSeller(
  db: Db,
  sellerOrganisationId: string,
  page: { limit: number; offset: number },
): Promise<StoredOrder[]> {
  const rows = await db
    .selectFrom("orders")
    .selectAll()
    .where("seller_organisation_id", "=", sellerOrganisationId)
    .orderBy("created_at_ms", "desc")
    .orderBy("id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const lines = await linesOf(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toOrder(row, lines.get(row.id) ?? []));
}

/** Holds the order's row until the transaction ends (PostgreSQL), so two scans into one order are judged in turn. */
export async function lockOrder(db: Db, id: string): Promise<void> {
  if (engineOf(db) !== "postgres") return;
  await db.selectFrom("orders").select("id").where("id", "=", id).forUpdate().execute();
}

/** Items packed into each of the orders' lines: order id → line position → count. */
export async function packedCounts(db: Db, orderIds: readonly string[]): Promise<Map<string, Map<number, number>>> {
  const counts = new Map<string, Map<number, number>>(orderIds.map((id) => [id, new Map()]));
  for (const part of chunks(orderIds)) {
    const rows = await db
      .selectFrom("order_items")
      .select(["order_id", "position", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("order_id", "in", part)
      .groupBy(["order_id", "position"])
      .execute();
    for (const row of rows) counts.get(row.order_id)?.set(row.position, Number(row.n));
  }
  return counts;
}

export async function listOrderItems(db: Db, orderId: string): Promise<OrderItem[]> {
  const rows = await db
    .selectFrom("order_items")
    .select(["batch_id", "serial", "position", "case_sscc"])
    .where("order_id", "=", orderId)
    .orderBy("position")
    .orderBy("scanned_at_ms")
    .orderBy("serial")
    .execute();
  return rows.map((row) => ({
    batchId: row.batch_id,
    serial: row.serial,
    position: row.position,
    caseSscc: row.case_sscc,
  }));
}

/** Which of the batch's `serials` are issued items of it. */
export async function existingSerials(db: Db, batchId: string, serials: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(serials)) {
    const rows = await db
      .selectFrom("items")
      .select("serial")
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "in", part)
      .execute();
    for (const row of rows) found.add(row.serial);
  }
  return found;
}

/** The order each of the batch's `serials` is already in, when it is in one. */
export async function ordersOfSerials(
  db: Db,
  batchId: string,
  serials: readonly string[],
): Promise<Map<string, string>> {
  const orders = new Map<string, string>();
  for (const part of chunks(serials)) {
    const rows = await db
      .selectFrom("order_items")
      .select(["serial", "order_id"])
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "in", part)
      .execute();
    for (const row of rows) orders.set(row.serial, row.order_id);
  }
  return orders;
}

export async function insertOrderItems(
  db: Db,
  orderId: string,
  items: readonly OrderItem[],
  nowMs: number,
): Promise<void> {
  for (const part of chunks(items)) {
    await db
      .insertInto("order_items")
      .values(
        part.map((item) => ({
          batch_id: item.batchId.toLowerCase(),
          serial: item.serial,
          order_id: orderId,
          position: item.position,
          case_sscc: item.caseSscc,
          scanned_at_ms: nowMs,
        })),
      )
      .execute();
  }
}

/** The items a packing holds (its item leaves; child containers left out). */
export async function itemsOfPacking(db: Db, packingId: string): Promise<{ batchId: string; serial: string }[]> {
  const rows = await db
    .selectFrom("container_leaves")
    .select(["batch_id", "serial"])
    .where("packing_id", "=", packingId)
    .where("batch_id", "is not", null)
    .orderBy("tree_index")
    .execute();
  const items: { batchId: string; serial: string }[] = [];
  for (const row of rows)
    if (row.batch_id !== null && row.serial !== null) items.push({ batchId: row.batch_id, serial: row.serial });
  return items;
}

/** Moves the order to `status` (and records its despatch or cancellation). */
export async function setOrderStatus(
  db: Db,
  id: string,
  status: OrderStoredStatus,
  nowMs: number,
  despatch?: { sscc: string; despatchId: string },
): Promise<void> {
  await db
    .updateTable("orders")
    .set({
      status,
      updated_at_ms: nowMs,
      ...(status === "cancelled" ? { cancelled_at_ms: nowMs } : {}),
      ...(despatch === undefined
        ? {}
        : { despatch_sscc: despatch.sscc, despatch_id: despatch.despatchId, despatched_at_ms: nowMs }),
    })
    .where("id", "=", id)
    .execute();
}

/** Takes every item out of the order (a cancelled order holds none, so they can be sold again). */
export async function releaseOrderItems(db: Db, orderId: string): Promise<void> {
  await db.deleteFrom("order_items").where("order_id", "=", orderId).execute();
}

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
