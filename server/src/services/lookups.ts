/**
 * What the API reads back as it was stored: a product, an upload, a batch or an event by
 * its id, a batch search, a batch's events. Routes reach the repositories only through
 * services; these are the reads that need no rule of their own.
 */
import { AppError } from "../errors/app-error.ts";
import { getBatch, listBatches, type Batch, type BatchFilter } from "../storage/batches.ts";
import { getProduct, type Product } from "../storage/catalogue.ts";
import { getEvent, listBatchEvents, type TraceEvent } from "../storage/events.ts";
import { getMedia, type MediaRecord } from "../storage/media.ts";
import type { ServiceContext } from "./context.ts";

export function findProduct(ctx: ServiceContext, gtin: string): Promise<Product | null> {
  return getProduct(ctx.db, gtin);
}

export async function requireProduct(ctx: ServiceContext, gtin: string): Promise<Product> {
  const product = await findProduct(ctx, gtin);
  if (product === null) throw new AppError("product.not_found");
  return product;
}

export function findMedia(ctx: ServiceContext, cid: string): Promise<MediaRecord | null> {
  return getMedia(ctx.db, cid);
}

export function findBatch(ctx: ServiceContext, batchId: string): Promise<Batch | null> {
  return getBatch(ctx.db, batchId);
}

export function searchBatches(ctx: ServiceContext, filter: BatchFilter): Promise<Batch[]> {
  return listBatches(ctx.db, filter);
}

export function findEvent(ctx: ServiceContext, id: string): Promise<TraceEvent | null> {
  return getEvent(ctx.db, id);
}

/** A batch's events in hash-chain order: anchored ones by their chain position, then those not yet on chain. */
export function eventsOfBatch(ctx: ServiceContext, batchId: string): Promise<TraceEvent[]> {
  return listBatchEvents(ctx.db, batchId);
}
