/**
 * What the exports read: stored records exactly as storage returns them, grouped by
 * batch. The caller loads them (`loadExportInput` in services/export-input.ts, for the export
 * routes); the export functions never touch the database, so a regulator's export is a pure
 * function of what was stored.
 */
import type { Batch } from "../storage/batches.ts";
import type { Plot, Product } from "../storage/catalogue.ts";
import type { TraceEvent } from "../storage/events.ts";
import type { Organisation } from "../storage/organisations.ts";

export interface ExportEvent {
  event: TraceEvent;
  /** The organisation that signed the event (`event.actorOrganisationId`). */
  actor: Organisation;
  /**
   * Item serials the event concerns, when the caller knows them. Storage keeps no link
   * from an event to items (events are about batches), so this is empty unless the
   * caller has one; when given, EPCIS lists them as instance-level EPCs.
   */
  serials?: readonly string[];
}

export interface ExportBatch {
  batch: Batch;
  product: Product | null;
  plot: Plot | null;
  cooperative: Organisation;
  /** In hash-chain order, as `listBatchEvents` returns them. */
  events: readonly ExportEvent[];
}

export interface ExportInput {
  batches: readonly ExportBatch[];
}
