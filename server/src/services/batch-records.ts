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

/** One server's entries: servers in one process (tests) have their own databases with the same batch ids. */
const caches = new WeakMap<ServiceContext, Map<string, Entry>>();

function cacheOf(ctx: ServiceContext): Map<string, Entry> {
  let cache = caches.get(ctx);
  if (cache === undefined) {
    cache = new Map();
    caches.set(ctx, cache);
  }
  return cache;
}

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

/**
 * The batch's records, from memory while they are current. `version` is a stamp the caller
 * read before (the resolver's, which also covers inspection requests); without one, the
 * events' stamp is read here, before and after reading.
 */
export async function batchRecords(
  ctx: ServiceContext,
  batch: { batchId: string; organisationId: string; plotId: string | null; gtin: string },
  version?: string,
): Promise<BatchRecords> {
  const cache = cacheOf(ctx);
  // The two kinds of stamp are kept apart, so the lot card and the resolver do not evict each other.
  const key = `${version === undefined ? "events" : "version"}:${batch.batchId}:${batch.organisationId}:${batch.plotId ?? ""}`;
  const stamp = version ?? `events:${await batchEventsStamp(ctx.db, batch.batchId)}`;
  const cached = cache.get(key);
  if (cached?.stamp === stamp && performance.now() - cached.readAtMs < BATCH_RECORDS_MAX_AGE_MS) {
    return cached.records;
  }
  const readAtMs = performance.now();
  const records = await readRecords(ctx, batch);
  // Kept only if nothing changed while reading: a stale read must not outlive its stamp. A
  // version read before is safe as it is: what was read since is at least as new as it says,
  // and a later change gives the next caller another version.
  if (version !== undefined || stamp === `events:${await batchEventsStamp(ctx.db, batch.batchId)}`) {
    cache.delete(key);
    cache.set(key, { stamp, readAtMs, records });
    if (cache.size > ENTRIES) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
  }
  return records;
}
