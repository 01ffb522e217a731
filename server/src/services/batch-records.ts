/**
 * What every scan of a batch reads the same: its events, their actors, the cooperative, the
 * plot and the product. Kept in memory per batch and read again when the batch's events
 * change (their number or newest update, one indexed query per scan instead of one per
 * record) and at least every few seconds, so a renamed organisation or plot shows soon.
 */
import { getPlot, getProduct } from "../storage/catalogue.ts";
import { batchEventsStamp, listBatchEvents, type TraceEvent } from "../storage/events.ts";
import { listInspectionRequests, type InspectionRequest } from "../storage/inspection-requests.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import type { ServiceContext } from "./context.ts";

export interface BatchRecords {
  events: TraceEvent[];
  /** Organisations the events and inspection requests name (actors, receivers, inspectors, requesters), by id. */
  actors: Map<string, Organisation | null>;
  inspectionRequests: InspectionRequest[];
  cooperative: Organisation | null;
  plot: Awaited<ReturnType<typeof getPlot>>;
  product: Awaited<ReturnType<typeof getProduct>>;
}

/** How long names (organisations, plots, products) may be served from memory. */
export const BATCH_RECORDS_MAX_AGE_MS = 2_000;
const ENTRIES = 256;

interface Entry {
  stamp: string;
  readAtMs: number;
  records: BatchRecords;
}

const cache = new Map<string, Entry>();

async function readRecords(
  ctx: ServiceContext,
  batch: { batchId: string; organisationId: string; plotId: string | null; gtin: string },
): Promise<BatchRecords> {
  const events = await listBatchEvents(ctx.db, batch.batchId);
  const inspectionRequests = await listInspectionRequests(ctx.db, batch.batchId);
  const actors = new Map<string, Organisation | null>();
  const named = [
    ...events.flatMap((event) => [event.actorOrganisationId, event.counterparty?.organisationId ?? null]),
    ...inspectionRequests.flatMap((request) => [request.inspectorOrganisationId, request.requesterOrganisationId]),
  ];
  for (const id of named) {
    if (id !== null && !actors.has(id)) actors.set(id, await getOrganisation(ctx.db, id));
  }
  return {
    events,
    actors,
    inspectionRequests,
    cooperative: await getOrganisation(ctx.db, batch.organisationId),
    plot: batch.plotId === null ? null : await getPlot(ctx.db, batch.plotId),
    product: await getProduct(ctx.db, batch.gtin),
  };
}

export async function batchRecords(
  ctx: ServiceContext,
  batch: { batchId: string; organisationId: string; plotId: string | null; gtin: string },
): Promise<BatchRecords> {
  const key = `${batch.batchId}:${batch.organisationId}:${batch.plotId ?? ""}`;
  const stamp = await batchEventsStamp(ctx.db, batch.batchId);
  const cached = cache.get(key);
  if (cached?.stamp === stamp && performance.now() - cached.readAtMs < BATCH_RECORDS_MAX_AGE_MS) {
    return cached.records;
  }
  const readAtMs = performance.now();
  const records = await readRecords(ctx, batch);
  // Kept only if nothing changed while reading: a stale read must not outlive its stamp.
  if (stamp === (await batchEventsStamp(ctx.db, batch.batchId))) {
    cache.delete(key);
    cache.set(key, { stamp, readAtMs, records });
    if (cache.size > ENTRIES) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
  }
  return records;
}
