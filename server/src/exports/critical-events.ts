/**
 * The critical tracking events of an export, shared by the EPCIS document and the KDE
 * spreadsheet so both always list the same events with the same step, place, quantity
 * and time: every stored event, plus the two facts a batch record holds by itself (its
 * attestation, standing in for a harvest no one recorded as an event, and its recall).
 */
import { eventData, type EventData } from "../domain/documents.ts";
import { STEP_MAPPING } from "../domain/epcis-mapping.ts";
import { buildDigitalLink } from "../domain/gs1.ts";
import type { BizStep } from "../domain/typed-data.ts";
import { UNITS, formatQuantityMilli, quantityMilli, unitCode, unitFromCode } from "../domain/units.ts";
import type { LedgerPosition } from "../storage/batches.ts";
import type { Organisation } from "../storage/organisations.ts";
import type { ExportBatch, ExportEvent, ExportInput } from "./types.ts";
import { AppError } from "../errors/app-error.ts";

// The step table is shared with the capture direction (domain/epcis-mapping.ts), which reads it backwards.
export { STEP_MAPPING, type StepMapping } from "../domain/epcis-mapping.ts";

/** The business step as a spreadsheet shows it: the CBV term, or ours where CBV has none. */
export function cbvStepName(step: BizStep): string {
  return STEP_MAPPING[step].cbvStep ?? step;
}

/** Steps done on the cooperative's plot: their place is the plot's region. */
const FARM_STEPS: ReadonlySet<BizStep> = new Set(["planting", "input_application", "harvesting"]);

export interface CriticalEvent {
  /** Stable name of the event, the seed of its EPCIS eventID: the EIP-712 digest, or a batch fact. */
  key: string;
  source: "event" | "batch_attestation" | "batch_recall";
  entry: ExportBatch;
  step: BizStep;
  occurredAtMs: number;
  actor: Organisation;
  data: EventData;
  serials: readonly string[];
  /** The EIP-712 digest of a stored event; null for batch facts. */
  digest: string | null;
  /** The event's payload document, the batch's metadata, or the recall's reason. */
  payloadCid: string | null;
  /** Null when the record does not say (a recall's own transaction is not stored on the batch). */
  ledger: LedgerPosition | null;
  eventHead: string | null;
}

function parseData(raw: Record<string, unknown>, eventId: string): EventData {
  const parsed = eventData.safeParse(raw);
  if (!parsed.success) {
    throw new AppError(
      "export.event_data_invalid",
      { eventId, issues: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) },
      { detail: `stored data of event ${eventId} does not parse` },
    );
  }
  return parsed.data;
}

/** One stored event of a batch as a critical event (the EPCIS query reads events one by one, not whole batches). */
export function storedCriticalEvent(entry: ExportBatch, { event, actor, serials }: ExportEvent): CriticalEvent {
  return {
    key: event.digest.toLowerCase(),
    source: "event",
    entry,
    step: event.bizStep,
    occurredAtMs: event.occurredAtMs,
    actor,
    data: parseData(event.data, event.id),
    serials: serials ?? [],
    digest: event.digest.toLowerCase(),
    payloadCid: event.payloadCid,
    ledger: event.ledger,
    eventHead: event.chain?.eventHead ?? null,
  };
}

/** A batch's events, then its attestation (when no harvest was recorded) and its recall (when no recall event was). */
function* batchCriticalEvents(entry: ExportBatch): Generator<CriticalEvent> {
  const { batch } = entry;
  const steps = new Set(entry.events.map(({ event }) => event.bizStep));
  if (!steps.has("harvesting")) {
    yield {
      key: `batch:${batch.batchId}:attestation`,
      source: "batch_attestation",
      entry,
      step: "harvesting",
      occurredAtMs: batch.harvestedAtMs,
      actor: entry.cooperative,
      data: {},
      serials: [],
      digest: null,
      payloadCid: batch.metadataCid,
      ledger: batch.ledger,
      eventHead: null,
    };
  }
  for (const exported of entry.events) yield storedCriticalEvent(entry, exported);
  if (batch.recall !== null && !steps.has("recalling")) {
    // The batch record does not say who recalled it (its cooperative or a regulator), so
    // the cooperative whose batch it is stands as the actor.
    yield {
      key: `batch:${batch.batchId}:recall`,
      source: "batch_recall",
      entry,
      step: "recalling",
      occurredAtMs: batch.recall.atMs,
      actor: entry.cooperative,
      data: {},
      serials: [],
      digest: null,
      payloadCid: batch.recall.reasonCid,
      ledger: null,
      eventHead: null,
    };
  }
}

/** Every critical tracking event of the export, batch by batch, each batch's in chain order. */
export function* criticalEvents(input: ExportInput): Generator<CriticalEvent> {
  for (const entry of input.batches) yield* batchCriticalEvents(entry);
}

// ----------------------------------------------------------------- shared values

const GS1_RESOLVER_HOST = "id.gs1.org";

/** The lot as a class-level EPC: the canonical GS1 Digital Link `https://id.gs1.org/01/{gtin}/10/{lot}`. */
export function lotClassUri(gtin: string, lot: string): string {
  return buildDigitalLink({ host: GS1_RESOLVER_HOST, gtin, lot });
}

/** An item as an instance-level EPC: `https://id.gs1.org/01/{gtin}/21/{serial}` (a GTIN + serial is unique without the lot). */
export function itemUri(gtin: string, serial: string): string {
  return buildDigitalLink({ host: GS1_RESOLVER_HOST, gtin, serial });
}

/** The GS1 element string a spreadsheet shows as the traceability lot code: `(01)…(10)…`. */
export function traceabilityLotCode(gtin: string, lot: string): string {
  return `(01)${gtin}(10)${lot}`;
}

/** A UN/CEFACT Rec 20 code for a unit we store by name ("kg") or by code ("KGM"); null if neither. */
export function uomOf(unit: string): string | null {
  if (Object.hasOwn(UNITS, unit)) return unitCode(unit);
  try {
    unitFromCode(unit);
    return unit;
  } catch {
    return null;
  }
}

export interface ExportQuantity {
  /** Exact decimal text ("1250.5"). */
  text: string;
  value: number;
  /** Rec 20 code, or the unit as stored when it is not one we know. */
  unit: string;
  uom: string | null;
}

/** The quantity an event names, or the batch's own. */
export function quantityOf(event: CriticalEvent): ExportQuantity {
  const stated = event.data.quantity;
  if (stated !== undefined) {
    const text = formatQuantityMilli(quantityMilli(stated.value, { allowZero: true }));
    const uom = uomOf(stated.unit);
    return { text, value: Number(text), unit: uom ?? stated.unit, uom };
  }
  const { batch } = event.entry;
  const text = formatQuantityMilli(batch.quantityMilli);
  const uom = uomOf(batch.unit);
  return { text, value: Number(text), unit: uom ?? batch.unit, uom };
}

export interface ExportLocation {
  regionCode: string;
  /** A name people recognise (a warehouse, a shop, the plot), when the record has one. */
  name: string | null;
}

/** Where the event happened: what the event says, else the plot for farm steps, else the actor's registered region. */
export function locationOf(event: CriticalEvent): ExportLocation {
  const stated = event.data.location;
  if (stated !== undefined) return { regionCode: stated.regionCode, name: stated.name ?? null };
  const { plot } = event.entry;
  if (FARM_STEPS.has(event.step) && plot !== null) return { regionCode: plot.regionCode, name: plot.name };
  return { regionCode: event.actor.regionCode, name: null };
}

/** Whether every residue test passed (true when there were none). */
export function testsPassed(data: EventData): boolean {
  return (data.tests ?? []).every((test) => test.passed);
}
