/**
 * Cases and pallets in the exports: each signed request of a container that holds a batch's
 * items becomes the EPCIS 2.0 events its payload document holds (the AggregationEvent of a
 * packing with `parentID` and `childEPCs`, the ObjectEvent of a shipping or receiving, with
 * the `bizTransactionList` naming the order and the despatch advice), as signed; and the
 * shipping and receiving KDE rows of the spreadsheet, one per lot in the container. When a
 * document cannot be read, the record alone gives the event (parent, step, parties).
 */
import { CHINA_OFFSET, chinaIsoTime } from "../domain/china-time.ts";
import { parseDigitalLink } from "../domain/gs1.ts";
import type { ExportContainer, ExportContainerStep, ExportInput } from "./types.ts";

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ContainerEpcisEvent {
  type: "AggregationEvent" | "ObjectEvent";
  eventID: string;
  eventTime: string;
  eventTimeZoneOffset: string;
  [key: string]: JsonValue;
}

/** The members of a payload event the export carries over (the standard's, as signed). */
const CARRIED = [
  "action",
  "parentID",
  "childEPCs",
  "childQuantityList",
  "epcList",
  "quantityList",
  "bizStep",
  "disposition",
  "readPoint",
  "bizLocation",
  "bizTransactionList",
  "sourceList",
  "destinationList",
] as const;

const SSCC_URI_BASE = "https://id.gs1.org/00/";

function ssccUri(sscc: string): string {
  return `${SSCC_URI_BASE}${sscc}`;
}

function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function organisationUri(origin: string, id: string): string {
  return `${origin}/organisations/${encodeURIComponent(id)}`;
}

/** What the record alone says of a step, when its document cannot be read. */
function recordedEvents(
  container: ExportContainer,
  step: ExportContainerStep,
  origin: string,
): Record<string, unknown>[] {
  const self = organisationUri(origin, step.actor.id);
  const other = step.counterparty === null ? null : organisationUri(origin, step.counterparty.id);
  const shipping = (): Record<string, unknown> => ({
    type: "ObjectEvent",
    epcList: [ssccUri(container.sscc)],
    action: "OBSERVE",
    bizStep: "shipping",
    disposition: "in_transit",
    ...(other === null
      ? {}
      : {
          sourceList: [{ type: "owning_party", source: self }],
          destinationList: [{ type: "owning_party", destination: other }],
        }),
  });
  switch (step.action) {
    case "packing":
      return [
        { type: "AggregationEvent", parentID: ssccUri(container.sscc), action: "ADD", bizStep: "packing" },
        ...(other === null ? [] : [shipping()]),
      ];
    case "unpacking":
      return [{ type: "AggregationEvent", parentID: ssccUri(container.sscc), action: "DELETE", bizStep: "unpacking" }];
    case "shipping":
      return [shipping()];
    case "receiving":
      return [
        {
          type: "ObjectEvent",
          epcList: [ssccUri(container.sscc)],
          action: "OBSERVE",
          bizStep: "receiving",
          disposition: "in_progress",
          bizLocation: { id: self },
        },
      ];
  }
}

/** One step's events for the EPCIS document; `eventIdOf` names an event without its own eventID. */
export function containerStepEvents(
  container: ExportContainer,
  step: ExportContainerStep,
  origin: string,
  eventIdOf: (key: string) => string,
): ContainerEpcisEvent[] {
  const source = step.events.length > 0 ? step.events : recordedEvents(container, step, origin);
  const events: ContainerEpcisEvent[] = [];
  source.forEach((payload, index) => {
    if (payload.type !== "AggregationEvent" && payload.type !== "ObjectEvent") return;
    const event: ContainerEpcisEvent = {
      type: payload.type,
      eventID:
        typeof payload.eventID === "string" ? payload.eventID : eventIdOf(`${step.digest.toLowerCase()}:${index}`),
      eventTime: typeof payload.eventTime === "string" ? payload.eventTime : chinaIsoTime(step.occurredAtMs),
      eventTimeZoneOffset: typeof payload.eventTimeZoneOffset === "string" ? payload.eventTimeZoneOffset : CHINA_OFFSET,
    };
    for (const member of CARRIED) {
      if (payload[member] !== undefined) event[member] = asJson(payload[member]);
    }
    event["oioc:record"] = "container";
    event["oioc:sscc"] = container.sscc;
    event["oioc:bizStep"] = step.action;
    event["oioc:actor"] = organisationUri(origin, step.actor.id);
    event["oioc:digest"] = step.digest;
    event["oioc:payloadCid"] = step.payloadCid;
    event["oioc:ledgerState"] = step.ledger.state;
    if (step.ledger.txHash !== null) event["oioc:txHash"] = step.ledger.txHash;
    events.push(event);
  });
  return events;
}

/** Every container step of the export once (a case holding two exported lots is listed once), in batch order. */
export function* containerSteps(
  input: ExportInput,
): Generator<{ container: ExportContainer; step: ExportContainerStep }> {
  const seen = new Set<string>();
  for (const entry of input.batches) {
    for (const container of entry.containers ?? []) {
      for (const step of container.steps) {
        const key = step.digest.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        yield { container, step };
      }
    }
  }
}

/** Items of each lot a packing's document lists, by `gtin/lot` (GTIN-14). */
export function lotsPacked(
  events: readonly Record<string, unknown>[],
): Map<string, { gtin: string; lot: string; items: number }> {
  const lots = new Map<string, { gtin: string; lot: string; items: number }>();
  for (const event of events) {
    if (event.type !== "AggregationEvent" || event.action !== "ADD" || !Array.isArray(event.childEPCs)) continue;
    for (const epc of event.childEPCs) {
      if (typeof epc !== "string") continue;
      try {
        const link = parseDigitalLink(epc);
        if (link.lot === undefined) continue;
        const key = `${link.gtin}/${link.lot}`;
        const lot = lots.get(key) ?? { gtin: link.gtin, lot: link.lot, items: 0 };
        lot.items += 1;
        lots.set(key, lot);
      } catch {
        // An SSCC (a case in a pallet) or another identifier: its lots come from its own packing.
      }
    }
  }
  return lots;
}

/** The `po`/`desadv` references a step's document names (EPCIS bizTransactionList), as `type id`. */
export function referenceDocuments(events: readonly Record<string, unknown>[]): string[] {
  const references: string[] = [];
  for (const event of events) {
    for (const entry of Array.isArray(event.bizTransactionList) ? (event.bizTransactionList as unknown[]) : []) {
      if (typeof entry !== "object" || entry === null) continue;
      const { type, bizTransaction } = entry as { type?: unknown; bizTransaction?: unknown };
      if (typeof bizTransaction !== "string") continue;
      const name = typeof type === "string" ? type.replace(/^.*[:/#]/, "").replace(/^BTT-/, "") : "";
      const text = name === "" ? bizTransaction : `${name} ${bizTransaction}`;
      if (!references.includes(text)) references.push(text);
    }
  }
  return references;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The EPCIS events of a payload document, wherever it nests its event list; [] for anything else. */
export function payloadEvents(document: unknown, depth = 0): Record<string, unknown>[] {
  if (depth > 6) return [];
  if (Array.isArray(document)) return document.flatMap((value) => payloadEvents(value, depth + 1));
  if (!isRecord(document)) return [];
  if (typeof document.type === "string" && document.type.endsWith("Event")) return [document];
  return Object.values(document).flatMap((value) => payloadEvents(value, depth + 1));
}
