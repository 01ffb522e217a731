/**
 * Orders (issue 14, part 3). A seller (a cooperative, processor or retailer, by its own
 * credential) takes an order of lines, each a number of trade units (items) of one lot it
 * holds; the mass balance refuses any line that would take more of a lot than was registered,
 * judged and stored in one transaction with the lot held, so parallel orders cannot oversell.
 * At packing the seller scans items (their Digital Link URIs) or a case (its SSCC) into the
 * order; the despatch packs what was scanned into a case and ships it in one signed request
 * naming the order (EPCIS `bizTransactionList`: `po` and `desadv`). Cancelling before the
 * despatch gives the order's units back. The buyer is known only by a salted hash of the
 * reference the seller gave: the platform keeps no personal data of buyers.
 *
 * Only the seller sees its orders: any other caller is told `order.not_found`, never 403, so
 * order ids cannot be probed.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";

import { z } from "zod";

import { ORDER_CHANNELS, type OrderChannel } from "../domain/enumerations.ts";
import { ZERO_ADDRESS } from "../domain/container-state.ts";
import { normalizeGtin, parseDigitalLink, validateLot } from "../domain/gs1.ts";
import { normalizeSscc } from "../domain/sscc.ts";
import { AppError } from "../errors/app-error.ts";
import { getBatchByLot, type Batch } from "../storage/batches.ts";
import { getContainerBySscc, itemsInLiveContainers } from "../storage/containers.ts";
import type { Db } from "../storage/database.ts";
import {
  existingSerials,
  getOrderOfSeller,
  insertOrder,
  insertOrderItems,
  itemsOfPacking,
  listOrderItems,
  listOrdersOfSeller,
  lockLotBalance,
  lockOrder,
  orderExists,
  ordersOfSerials,
  packedCounts,
  releaseOrderItems,
  setOrderStatus,
  type OrderItem,
  type OrderLine,
  type StoredOrder,
} from "../storage/orders.ts";
import type { Organisation } from "../storage/organisations.ts";
import { inTransaction } from "../storage/transaction.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { Principal, ServiceContext } from "./context.ts";
import { packContainer } from "./containers.ts";
import { custodyOfBatch } from "./custody.ts";
import { balanceOfBatch } from "./mass-balance.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** Organisations that sell or pack: they take orders. Carriers, inspectors and regulators do not. */
export const SELLER_KINDS = ["cooperative", "processor", "retailer"] as const;

/** Lines per order and codes per scan request: a parcel or a wholesale case, not a warehouse. */
export const MAX_LINES = 50;
export const MAX_CODES_PER_SCAN = 1_000;
/** The most units one line may order (a batch holds at most this many items by default). */
const MAX_LINE_QUANTITY = 1_000_000;

const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Hex characters of the buyer reference's salted hash shown back: enough to tell a seller's buyers apart. */
const BUYER_REFERENCE_SHOWN = 16;

const liveStream = z
  .object({
    /** Where the stream ran: 抖音, 快手, 淘宝直播, WeChat Channels… */
    platform: z.string().trim().min(1).max(50),
    title: z.string().trim().min(1).max(200).optional(),
    startedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export const orderRequest = z
  .object({
    /**
     * The seller's own reference for its buyer (a customer number, a platform's buyer id):
     * stored only as a salted hash. Never a name, phone number or address.
     */
    buyerReference: z.string().trim().min(1).max(200),
    sellerOrderNumber: z.string().trim().min(1).max(64).optional(),
    channel: z.enum(ORDER_CHANNELS),
    liveStream: liveStream.optional(),
    lines: z
      .array(
        z
          .object({
            gtin: z.string().max(14),
            lot: z.string().max(20),
            quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_LINES),
  })
  .strict()
  .refine((order) => (order.channel === "live_stream") === (order.liveStream !== undefined), {
    message: "liveStream is given exactly when the channel is live_stream",
    path: ["liveStream"],
  });
export type OrderRequest = z.infer<typeof orderRequest>;

export const scanRequest = z
  .object({
    /** What the scanner read: items' GS1 Digital Link URIs (or paths), or a case's SSCC. */
    codes: z.array(z.string().trim().min(1).max(4096)).min(1).max(MAX_CODES_PER_SCAN),
  })
  .strict();
export type ScanRequest = z.infer<typeof scanRequest>;

export const orderListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export type OrderStatus = StoredOrder["status"] | "received";

export interface OrderLineView {
  gtin: string;
  lot: string;
  batchId: string;
  quantity: number;
  packed: number;
  toPack: number;
}

export interface OrderView {
  id: string;
  reference: string;
  sellerOrderNumber: string | null;
  /** The first hex digits of the salted hash of the buyer reference: never the reference itself. */
  buyerReference: string;
  channel: OrderChannel;
  liveStream: z.infer<typeof liveStream> | null;
  status: OrderStatus;
  lines: OrderLineView[];
  despatch: { sscc: string; despatchId: string; at: string } | null;
  createdAt: string;
  updatedAt: string;
  url: string;
}

export interface OrderDetail extends OrderView {
  items: { gtin: string; lot: string; serial: string; caseSscc: string | null }[];
}

function buyerReferenceHash(reference: string, salt: string): string {
  return createHmac("sha256", Buffer.from(salt, "hex")).update(reference, "utf8").digest("hex");
}

/** Crockford's base32 without I, L, O, U: read aloud and typed without confusion. */
const REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A public order reference: `PO-` and 12 characters (60 random bits). */
function newReference(): string {
  const bytes = randomBytes(12);
  let text = "";
  for (const byte of bytes) text += REFERENCE_ALPHABET[byte & 31] ?? "0";
  return `PO-${text}`;
}

async function requireSeller(ctx: ServiceContext, principal: Principal): Promise<Organisation> {
  return activeOrganisation(ctx, principal.organisationId, SELLER_KINDS);
}

/**
 * The order when the caller sells it; `order.not_found` for anyone else, an unknown id or a
 * malformed one. Another organisation's order is logged as a refusal (a probe leaves a trace)
 * but answered exactly as an unknown id.
 */
async function requireOwnOrder(ctx: ServiceContext, db: Db, principal: Principal, id: string): Promise<StoredOrder> {
  if (principal.organisationId === null || !ORDER_ID.test(id)) throw new AppError("order.not_found");
  const order = await getOrderOfSeller(db, id, principal.organisationId);
  if (order !== null) return order;
  if (await orderExists(db, id)) {
    ctx.logger.warn({ orderId: id, organisationId: principal.organisationId }, "refused another seller's order");
  }
  throw new AppError("order.not_found");
}

async function holdsLot(db: Db, organisationId: string, batch: Batch): Promise<boolean> {
  if (batch.organisationId === organisationId) return true;
  return (await custodyOfBatch(db, batch.batchId)).custodian === organisationId;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function liveStreamOf(json: string | null): OrderView["liveStream"] {
  return json === null ? null : liveStream.parse(JSON.parse(json));
}

/**
 * The order's status: as stored, except that a despatched order is `received` once the case
 * it left in was received (the container's latest accepted step, not yet waiting for the chain).
 */
async function statusOf(db: Db, order: StoredOrder): Promise<OrderStatus> {
  if (order.status !== "despatched" || order.despatch === null) return order.status;
  const container = await getContainerBySscc(db, order.despatch.sscc);
  const last = container?.steps.filter((step) => step.ledgerState !== "failed").at(-1);
  return last?.action === "receiving" ? "received" : "despatched";
}

function viewOf(order: StoredOrder, packed: Map<number, number>, status: OrderStatus): OrderView {
  return {
    id: order.id,
    reference: order.reference,
    sellerOrderNumber: order.sellerOrderNumber,
    buyerReference: order.buyerReferenceHash.slice(0, BUYER_REFERENCE_SHOWN),
    channel: order.channel,
    liveStream: liveStreamOf(order.liveStreamJson),
    status,
    lines: order.lines.map((line) => {
      const count = packed.get(line.position) ?? 0;
      return {
        gtin: line.gtin,
        lot: line.lot,
        batchId: line.batchId,
        quantity: line.quantity,
        packed: count,
        toPack: Math.max(0, line.quantity - count),
      };
    }),
    despatch:
      order.despatch === null
        ? null
        : { sscc: order.despatch.sscc, despatchId: order.despatch.despatchId, at: isoOf(order.despatch.atMs) },
    createdAt: isoOf(order.createdAtMs),
    updatedAt: isoOf(order.updatedAtMs),
    url: `/api/v1/orders/${order.id}`,
  };
}

async function detailOf(ctx: ServiceContext, order: StoredOrder): Promise<OrderDetail> {
  const packed = (await packedCounts(ctx.db, [order.id])).get(order.id) ?? new Map<number, number>();
  const lineAt = new Map(order.lines.map((line) => [line.position, line]));
  const items = await listOrderItems(ctx.db, order.id);
  return {
    ...viewOf(order, packed, await statusOf(ctx.db, order)),
    items: items.map((item) => ({
      gtin: lineAt.get(item.position)?.gtin ?? "",
      lot: lineAt.get(item.position)?.lot ?? "",
      serial: item.serial,
      caseSscc: item.caseSscc,
    })),
  };
}

/** `GET /api/v1/orders/:id`: the order with what was packed and what is still to pack per line. */
export async function getOrder(ctx: ServiceContext, principal: Principal, id: string): Promise<OrderDetail> {
  return detailOf(ctx, await requireOwnOrder(ctx, ctx.db, principal, id));
}

/** The order's lines with what was packed, without its items. */
export async function orderView(ctx: ServiceContext, principal: Principal, id: string): Promise<OrderView> {
  const order = await requireOwnOrder(ctx, ctx.db, principal, id);
  const packed = (await packedCounts(ctx.db, [order.id])).get(order.id) ?? new Map<number, number>();
  return viewOf(order, packed, await statusOf(ctx.db, order));
}

/** `GET /api/v1/orders`: the caller's own orders, newest first. */
export async function listOrders(
  ctx: ServiceContext,
  principal: Principal,
  page: { limit: number; offset: number },
): Promise<OrderView[]> {
  if (principal.organisationId === null) return [];
  const orders = await listOrdersOfSeller(ctx.db, principal.organisationId, page);
  const packed = await packedCounts(
    ctx.db,
    orders.map((order) => order.id),
  );
  const views: OrderView[] = [];
  for (const order of orders) {
    views.push(viewOf(order, packed.get(order.id) ?? new Map<number, number>(), await statusOf(ctx.db, order)));
  }
  return views;
}

interface PreparedLine extends OrderLine {
  batch: Batch;
}

async function prepareLines(ctx: ServiceContext, seller: Organisation, input: OrderRequest): Promise<PreparedLine[]> {
  const seen = new Set<string>();
  const lines: PreparedLine[] = [];
  for (const [position, line] of input.lines.entries()) {
    const gtin = normalizeGtin(line.gtin);
    const lot = validateLot(line.lot);
    const key = `${gtin}/${lot}`;
    if (seen.has(key)) {
      throw new AppError("request.invalid", {}, { detail: `lines[${String(position)}]: lot ${key} is given twice` });
    }
    seen.add(key);
    const batch = await getBatchByLot(ctx.db, gtin, lot);
    if (batch === null) throw new AppError("batch.not_found", { gtin, lot });
    if (batch.ledger.state !== "anchored" || batch.status === "recalled") {
      throw new AppError("order.lot_not_anchored", {
        gtin,
        lot,
        ledgerState: batch.ledger.state,
        status: batch.status,
      });
    }
    if (!(await holdsLot(ctx.db, seller.id, batch))) throw new AppError("order.lot_not_held", { gtin, lot });
    lines.push({ position, batchId: batch.batchId, gtin, lot, quantity: line.quantity, batch });
  }
  return lines;
}

/** `POST /api/v1/orders`: takes an order, or refuses it with nothing stored. */
export async function createOrder(ctx: ServiceContext, origin: WriteOrigin, input: OrderRequest): Promise<OrderDetail> {
  const seller = await requireSeller(ctx, origin.principal);
  const lines = await prepareLines(ctx, seller, input);
  const salt = randomBytes(16).toString("hex");
  const id = randomUUID();
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    // Locked in one order (by batch id) so two orders naming the same lots cannot deadlock.
    for (const batchId of lines.map((line) => line.batchId).sort()) await lockLotBalance(trx, batchId);
    for (const line of lines) {
      const balance = await balanceOfBatch(trx, line.batch);
      if (line.quantity > balance.remaining) {
        throw new AppError("lot.sold_out", {
          gtin: line.gtin,
          lot: line.lot,
          requested: line.quantity,
          remaining: balance.remaining,
        });
      }
    }
    await insertOrder(trx, {
      id,
      sellerOrganisationId: seller.id,
      reference: newReference(),
      sellerOrderNumber: input.sellerOrderNumber ?? null,
      buyerReferenceHash: buyerReferenceHash(input.buyerReference, salt),
      buyerReferenceSalt: salt,
      channel: input.channel,
      liveStreamJson: input.liveStream === undefined ? null : JSON.stringify(input.liveStream),
      createdBy: origin.principal.credentialId ?? "admin",
      createdAtMs: nowMs,
      lines: lines.map(({ batch: _batch, ...line }) => line),
    });
    await recordWrite(
      trx,
      origin,
      "order.create",
      id,
      { lines: lines.map((line) => ({ batchId: line.batchId, quantity: line.quantity })) },
      nowMs,
    );
  });
  return getOrder(ctx, origin.principal, id);
}

/** The order as the write that created or changed it left it (an idempotent retry's answer). */
export async function storedOrder(ctx: ServiceContext, principal: Principal, id: string): Promise<OrderDetail> {
  return getOrder(ctx, principal, id);
}

/** What a scanner read: an item's Digital Link or a case's SSCC. */
type ScannedCode =
  | { kind: "item"; code: string; gtin: string; lot: string; serial: string }
  | { kind: "case"; code: string; sscc: string };

/** An SSCC as a scanner reads it: 18 digits, with its AI (`00…`, `(00)…`), or as a Digital Link `/00/…`. */
const SSCC_LIKE = /^(?:\(00\)|00)?[0-9]{18}$|^https?:\/\/[^/]+\/00\/[0-9]{18}$/;

function parseCode(code: string, index: number): ScannedCode {
  if (SSCC_LIKE.test(code)) return { kind: "case", code, sscc: normalizeSscc(code) };
  const link = parseDigitalLink(code);
  if (link.lot === undefined || link.serial === undefined) {
    throw new AppError(
      "request.invalid",
      {},
      { detail: `codes[${String(index)}]: neither an item's code (/01/…/10/…/21/…) nor a case's SSCC` },
    );
  }
  return { kind: "item", code, gtin: link.gtin, lot: link.lot, serial: link.serial };
}

export interface ScanOutcome {
  /** The order's lines with what is packed and still to pack (its items are not repeated on every scan). */
  order: OrderView;
  /** Items added by this request. */
  added: number;
  /** Items scanned again that the order already held (a scanner's double read). */
  alreadyInOrder: number;
}

/** An item to put into the order, with the code it was scanned as (an item's, or its case's). */
interface Candidate {
  code: string;
  line: OrderLine;
  serial: string;
  caseSscc: string | null;
}

/**
 * The items of a scanned case: it must be packed (a live packing of items, no cases inside),
 * held by the seller and not in transit; each item must be of one of the order's lines.
 */
async function itemsOfScannedCase(
  db: Db,
  seller: Organisation,
  lineOfBatch: ReadonlyMap<string, OrderLine>,
  scanned: { code: string; sscc: string },
): Promise<Candidate[]> {
  const container = await getContainerBySscc(db, scanned.sscc);
  const packing = container?.livePacking ?? null;
  const state = container?.expectedState;
  if (
    packing === null ||
    state === undefined ||
    packing.childContainers.length > 0 ||
    state.custodian.toLowerCase() !== seller.signerAddress.toLowerCase() ||
    state.pendingReceiver !== ZERO_ADDRESS
  ) {
    throw new AppError("order.case_invalid", { code: scanned.code });
  }
  const items = await itemsOfPacking(db, packing.packingId);
  return items.map((item) => {
    const line = lineOfBatch.get(item.batchId);
    if (line === undefined) throw new AppError("order.item_not_ordered", { code: scanned.code, serial: item.serial });
    return { code: scanned.code, line, serial: item.serial, caseSscc: scanned.sscc };
  });
}

/**
 * `POST /api/v1/orders/:id/items`: scans items or cases into the order, all or nothing: an
 * item not of the order's lines, over its line's quantity, in another order, unknown, of a
 * recalled lot or packed in a case (scan the case), or a case the seller does not hold,
 * refuses the whole request, naming the code.
 */
export async function scanIntoOrder(
  ctx: ServiceContext,
  origin: WriteOrigin,
  orderId: string,
  input: ScanRequest,
): Promise<ScanOutcome> {
  const seller = await requireSeller(ctx, origin.principal);
  const scanned = input.codes.map(parseCode);
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    // Read under the lock: a scan, despatch or cancel that won the race is seen.
    await lockOrder(trx, orderId);
    const current = await requireOwnOrder(ctx, trx, origin.principal, orderId);
    if (current.status !== "open" && current.status !== "packing") throw new AppError("order.not_open");
    const lineOfLot = new Map(current.lines.map((line) => [`${line.gtin}/${line.lot}`, line]));
    const lineOfBatch = new Map(current.lines.map((line) => [line.batchId, line]));
    const byBatch = new Map<string, { line: OrderLine; items: Candidate[] }>();
    const seen = new Set<string>();
    const add = (candidate: Candidate): void => {
      const key = `${candidate.line.batchId}/${candidate.serial}`;
      if (seen.has(key)) return;
      seen.add(key);
      const group = byBatch.get(candidate.line.batchId) ?? { line: candidate.line, items: [] };
      group.items.push(candidate);
      byBatch.set(candidate.line.batchId, group);
    };
    for (const code of scanned) {
      if (code.kind === "case") {
        for (const candidate of await itemsOfScannedCase(trx, seller, lineOfBatch, code)) add(candidate);
        continue;
      }
      const line = lineOfLot.get(`${code.gtin}/${code.lot}`);
      if (line === undefined) throw new AppError("order.item_not_ordered", { code: code.code });
      add({ code: code.code, line, serial: code.serial, caseSscc: null });
    }
    const packed = (await packedCounts(trx, [current.id])).get(current.id) ?? new Map<number, number>();
    const fresh: OrderItem[] = [];
    let alreadyInOrder = 0;
    for (const [batchId, { line, items }] of byBatch) {
      const batch = await getBatchByLot(trx, line.gtin, line.lot);
      if (batch?.status === "recalled") throw new AppError("batch.recalled", { gtin: line.gtin, lot: line.lot });
      const serials = items.map((item) => item.serial);
      const issued = await existingSerials(trx, batchId, serials);
      const holders = await ordersOfSerials(trx, batchId, serials);
      // An item inside a live case travels with its case: the case is scanned, not the item.
      const inCases = new Map(
        (await itemsInLiveContainers(trx, batchId, serials)).map((found) => [found.serial, found.sscc]),
      );
      let count = packed.get(line.position) ?? 0;
      for (const item of items) {
        if (!issued.has(item.serial)) throw new AppError("item.not_found", { code: item.code });
        const holder = holders.get(item.serial);
        if (holder === current.id) {
          alreadyInOrder += 1;
          continue;
        }
        if (holder !== undefined) throw new AppError("order.item_in_other_order", { code: item.code });
        const inCase = inCases.get(item.serial);
        if (item.caseSscc === null && inCase !== undefined) {
          throw new AppError("order.item_in_case", { code: item.code, sscc: inCase });
        }
        count += 1;
        if (count > line.quantity) {
          throw new AppError("order.line_full", {
            code: item.code,
            gtin: line.gtin,
            lot: line.lot,
            quantity: line.quantity,
          });
        }
        fresh.push({ batchId, serial: item.serial, position: line.position, caseSscc: item.caseSscc });
      }
    }
    if (fresh.length > 0) {
      await insertOrderItems(trx, current.id, fresh, nowMs);
      await setOrderStatus(trx, current.id, "packing", nowMs);
      await recordWrite(trx, origin, "order.scan", current.id, { added: fresh.length }, nowMs);
    }
    // The answer is built from what the transaction read and wrote: a scanner's next code waits for no further read.
    for (const item of fresh) packed.set(item.position, (packed.get(item.position) ?? 0) + 1);
    const after: StoredOrder = fresh.length > 0 ? { ...current, status: "packing", updatedAtMs: nowMs } : current;
    return { order: viewOf(after, packed, after.status), added: fresh.length, alreadyInOrder };
  });
}

export const despatchRequest = z
  .object({
    /** The case (or pallet) the order leaves in: a new SSCC of the seller's. */
    sscc: z.string().trim().min(1).max(100),
    /** The organisation that receives it (its id): the buyer's carrier, shop or platform warehouse. */
    shipTo: z.string().trim().min(1).max(100),
    occurredAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type DespatchRequest = z.infer<typeof despatchRequest>;

/** The EPCIS `bizTransactionList` ids of an order and its despatch: URIs, as EPCIS 2.0 requires, naming no buyer. */
export function purchaseOrderUri(order: Pick<StoredOrder, "id">): string {
  return `urn:uuid:${order.id}`;
}
export function despatchAdviceUri(despatchId: string): string {
  return `urn:uuid:${despatchId}`;
}

/**
 * `POST /api/v1/orders/:id/despatch`: packs what was scanned into the order (its loose items,
 * and its cases as child containers) into the case `sscc` and ships it to `shipTo` in one
 * signed packing (services/containers.ts), whose payload document names the order (`po`) and
 * this despatch (`desadv`). Every line must be packed in full. The packing and the order's new
 * status are stored in one transaction: a refused packing leaves the order as it was.
 */
export async function despatchOrder(
  ctx: ServiceContext,
  origin: WriteOrigin,
  orderId: string,
  input: DespatchRequest,
): Promise<OrderDetail> {
  await requireSeller(ctx, origin.principal);
  const despatchId = randomUUID();
  await inTransaction(ctx.db, async (trx) => {
    await lockOrder(trx, orderId);
    const current = await requireOwnOrder(ctx, trx, origin.principal, orderId);
    if (current.status !== "open" && current.status !== "packing") throw new AppError("order.not_open");
    const packed = (await packedCounts(trx, [current.id])).get(current.id) ?? new Map<number, number>();
    const short = current.lines.filter((line) => (packed.get(line.position) ?? 0) < line.quantity);
    if (short.length > 0) {
      throw new AppError("order.not_fully_packed", {
        lines: short.map((line) => ({
          gtin: line.gtin,
          lot: line.lot,
          toPack: line.quantity - (packed.get(line.position) ?? 0),
        })),
      });
    }
    const items = await listOrderItems(trx, current.id);
    const lineAt = new Map(current.lines.map((line) => [line.position, line]));
    const loose = new Map<number, string[]>();
    const cases = new Set<string>();
    for (const item of items) {
      if (item.caseSscc !== null) {
        cases.add(item.caseSscc);
        continue;
      }
      const serials = loose.get(item.position) ?? [];
      serials.push(item.serial);
      loose.set(item.position, serials);
    }
    const sscc = normalizeSscc(input.sscc);
    // The packing is written in this transaction (the service composes with it): all or nothing.
    const packing = await packContainer(
      { ...ctx, db: trx },
      { principal: origin.principal, requestId: origin.requestId },
      {
        sscc,
        items: [...loose].map(([position, serials]) => ({
          gtin: lineAt.get(position)?.gtin ?? "",
          lot: lineAt.get(position)?.lot ?? "",
          serials,
        })),
        containers: [...cases],
        occurredAt: input.occurredAt,
        shipTo: input.shipTo,
        bizTransactions: [
          { type: "po", id: purchaseOrderUri(current) },
          { type: "desadv", id: despatchAdviceUri(despatchId) },
        ],
      },
    );
    // A wallet's signature would come later, in another request, while the order would already
    // read despatched: refused after every check, its signature request rolled back with the rest.
    if ("awaitingSignature" in packing) throw new AppError("order.despatch_own_wallet");
    const nowMs = ctx.now();
    await setOrderStatus(trx, current.id, "despatched", nowMs, { sscc, despatchId });
    await recordWrite(trx, origin, "order.despatch", current.id, { sscc, despatchId, shipTo: input.shipTo }, nowMs);
  });
  return getOrder(ctx, origin.principal, orderId);
}

/** `POST /api/v1/orders/:id/cancel`: before its despatch only; gives its units and items back. */
export async function cancelOrder(ctx: ServiceContext, origin: WriteOrigin, orderId: string): Promise<OrderDetail> {
  await requireSeller(ctx, origin.principal);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    await lockOrder(trx, orderId);
    const current = await requireOwnOrder(ctx, trx, origin.principal, orderId);
    if (current.status !== "open" && current.status !== "packing") throw new AppError("order.not_open");
    await releaseOrderItems(trx, current.id);
    await setOrderStatus(trx, current.id, "cancelled", nowMs);
    await recordWrite(trx, origin, "order.cancel", current.id, {}, nowMs);
  });
  return getOrder(ctx, origin.principal, orderId);
}
