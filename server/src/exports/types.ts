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

/** One signed request of a case or pallet, as the exports write it. */
export interface ExportContainerStep {
  /** The EIP-712 digest of the signed request (stable: the seed of its EPCIS eventIDs). */
  digest: string;
  action: "packing" | "unpacking" | "shipping" | "receiving";
  occurredAtMs: number;
  actor: Organisation;
  /** The receiver a shipping (or a packing that ships at once) names. */
  counterparty: Organisation | null;
  payloadCid: string;
  ledger: { state: string; txHash: string | null };
  /**
   * The EPCIS events of its payload document, as signed (an AggregationEvent with `parentID`
   * and `childEPCs`, a shipping ObjectEvent, their `bizTransactionList`); empty when the
   * document could not be read, and the export then writes what the record alone says.
   */
  events: readonly Record<string, unknown>[];
}

/** A case or pallet holding (or that held) some of a batch's items. */
export interface ExportContainer {
  /** 18 digits. */
  sscc: string;
  containerKey: string;
  /** In the order they were signed; failed ones left out. */
  steps: readonly ExportContainerStep[];
}

export interface ExportBatch {
  batch: Batch;
  product: Product | null;
  plot: Plot | null;
  cooperative: Organisation;
  /** In hash-chain order, as `listBatchEvents` returns them. */
  events: readonly ExportEvent[];
  /** The cases holding its items, then the pallets holding those cases (absent: none loaded). */
  containers?: readonly ExportContainer[];
}

export interface ExportInput {
  batches: readonly ExportBatch[];
}
