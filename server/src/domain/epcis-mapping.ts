/**
 * EPCIS 2.0 events and our trace events, both ways, in one table. The export direction
 * (exports/critical-events.ts, exports/epcis.ts) reads {@link STEP_MAPPING}; the capture
 * direction ({@link mapCapturedEvent}) reads the same table backwards, so a partner who
 * sends back what we export gets the same step. Pure: no storage, no clock.
 *
 * What a captured event may say and how it lands in our event:
 * - `type`: ObjectEvent only. Transformation, association and transaction events have no
 *   representation in a batch-level trace event yet: refused as `epcis.event_type_unsupported`,
 *   never dropped. AggregationEvents and ObjectEvents of SSCCs are cases and pallets: the
 *   capture service routes them to epcis-container-mapping.ts before they reach this mapping.
 * - What: `epcList` of SGTINs (Digital Links `…/01/{gtin}/21/{serial}`, or
 *   `urn:epc:id:sgtin:` URNs) and/or `quantityList` of LGTIN classes (`…/01/{gtin}/10/{lot}`
 *   or `urn:epc:class:lgtin:`). Items are looked up to their batch by the caller; all must be
 *   of one batch, since our events are about one batch.
 * - `bizStep`: a CBV 2.0 step (bare, `https://ref.gs1.org/cbv/BizStep-…` or
 *   `urn:epcglobal:cbv:bizstep:…`) that {@link STEP_MAPPING} names, or our own vocabulary
 *   `…/ns/epcis#{step}` for the steps CBV has no word for. `commissioning` is harvesting (with
 *   `action: ADD`) as in the export; recalls (`holding`) have their own endpoint.
 * - `eventTime` → `occurredAt`; `readPoint` `…/locations/{GB/T 2260 code}` → the place;
 *   `destinationList` / `sourceList` `…/organisations/{id}` → the receiver a shipping names /
 *   the counterparty of a receiving; `quantityList[0]` with a quantity → the quantity;
 *   `sensorElementList` temperature readings (a `value` at a time) → cold-chain readings; the first
 *   `bizTransactionList` entry → the reference document.
 * - Everything else (SGLN places, further transactions, `ilmd`, user extensions, a
 *   disposition that merely restates the step) is not signed into our event; the capture's
 *   answer lists those JSON paths under `ignored`, so nothing vanishes without a word.
 */
import type { EventData } from "./documents.ts";
import { gtinCheckDigit, parseDigitalLink } from "./gs1.ts";
import type { BizStep } from "./typed-data.ts";
import { unitFromCode } from "./units.ts";

/**
 * Our business steps in EPCIS / CBV 2.0 terms. CBV 2.0 has no word for planting, applying
 * fertiliser or pesticide, cooling or certifying (and no "transforming" or "harvesting"):
 * those use our own vocabulary, `{publicOrigin}/ns/epcis#{step}` (`cbvStep: null`), which
 * CBV 2.0 allows for user-defined business steps. Every event also carries our step name
 * as `oioc:bizStep`, so nothing is lost for readers who know only CBV.
 *
 * | ours             | EPCIS event         | action  | bizStep (CBV 2.0)    | disposition (CBV 2.0)        |
 * | ---------------- | ------------------- | ------- | -------------------- | ---------------------------- |
 * | planting         | ObjectEvent         | OBSERVE | oioc#planting        | –                            |
 * | input_application| ObjectEvent         | OBSERVE | oioc#input_application | –                          |
 * | harvesting       | ObjectEvent         | ADD     | commissioning        | active                       |
 * | cooling          | ObjectEvent         | OBSERVE | oioc#cooling         | active                       |
 * | transforming     | TransformationEvent | –       | commissioning        | active                       |
 * | packing          | ObjectEvent         | OBSERVE | packing              | in_progress                  |
 * | shipping         | ObjectEvent         | OBSERVE | shipping             | in_transit                   |
 * | receiving        | ObjectEvent         | OBSERVE | receiving            | in_progress                  |
 * | inspecting       | ObjectEvent         | OBSERVE | inspecting           | conformant / non_conformant  |
 * | certifying       | ObjectEvent         | OBSERVE | oioc#certifying      | conformant                   |
 * | retail_selling   | ObjectEvent         | OBSERVE | retail_selling       | retail_sold                  |
 * | recalling        | ObjectEvent         | OBSERVE | holding              | recalled (also persistent)   |
 *
 * Harvesting is where the lot (GTIN + lot, a class-level identifier) comes into being,
 * hence ADD + commissioning, as GS1's FSMA 204 guidance does for the harvest CTE.
 * Transformation uses commissioning for the outbound lot it creates, as GS1 US and GDST
 * guidance do (NY/T 4712: the outbound batch is the trace code, linked to its inbound
 * ones). Packing stays an ObjectEvent: an AggregationEvent needs a parent (a case or
 * pallet SSCC) and we record none, so an aggregation would claim a containment we cannot
 * name. Recalls use `holding` (objects taken out of the normal flow) with the `recalled`
 * disposition, set persistently so later events do not silently clear it. Inspection is
 * `non_conformant` when any residue test failed.
 */
export interface StepMapping {
  eventType: "ObjectEvent" | "TransformationEvent";
  action: "ADD" | "OBSERVE" | null;
  /** A CBV 2.0 business step, or null for our own vocabulary. */
  cbvStep: string | null;
  disposition: string | null;
}

export const STEP_MAPPING: Readonly<Record<BizStep, StepMapping>> = {
  planting: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: null, disposition: null },
  input_application: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: null, disposition: null },
  harvesting: { eventType: "ObjectEvent", action: "ADD", cbvStep: "commissioning", disposition: "active" },
  cooling: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: null, disposition: "active" },
  transforming: { eventType: "TransformationEvent", action: null, cbvStep: "commissioning", disposition: "active" },
  packing: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: "packing", disposition: "in_progress" },
  shipping: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: "shipping", disposition: "in_transit" },
  receiving: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: "receiving", disposition: "in_progress" },
  inspecting: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: "inspecting", disposition: "conformant" },
  certifying: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: null, disposition: "conformant" },
  retail_selling: {
    eventType: "ObjectEvent",
    action: "OBSERVE",
    cbvStep: "retail_selling",
    disposition: "retail_sold",
  },
  recalling: { eventType: "ObjectEvent", action: "OBSERVE", cbvStep: "holding", disposition: "recalled" },
};

const STEPS = Object.keys(STEP_MAPPING) as BizStep[];

/** Our own vocabulary's URI path for steps CBV has no word for: `{origin}/ns/epcis#{step}`. */
export const OWN_VOCABULARY_PATH = "/ns/epcis#";

/** Where our organisations and places live under the public origin, as the export writes them. */
const ORGANISATION_URI = /^https?:\/\/[^/]+\/organisations\/([^/?#]{1,100})$/;
const LOCATION_URI = /^https?:\/\/[^/]+\/locations\/(\d{6})$/;

/** A CBV term written any of the three ways CBV 2.0 allows, as its bare word; null if it is another URI. */
export function cbvTerm(value: string, kind: "BizStep" | "Disp"): string | null {
  if (/^[a-z_]+$/.test(value)) return value;
  const web = new RegExp(`^https?://ref\\.gs1\\.org/cbv/${kind}-([a-z_]+)$`).exec(value);
  if (web?.[1] !== undefined) return web[1];
  const urn = new RegExp(`^urn:epcglobal:cbv:${kind === "BizStep" ? "bizstep" : "disp"}:([a-z_]+)$`).exec(value);
  return urn?.[1] ?? null;
}

/**
 * Our steps a business-step value stands for: the CBV steps of the table, or our own
 * vocabulary's `…/ns/epcis#{step}` under any origin. Empty when it names none of ours.
 */
export function stepsOfBizStep(value: string): BizStep[] {
  const term = cbvTerm(value, "BizStep");
  if (term !== null) return STEPS.filter((step) => STEP_MAPPING[step].cbvStep === term);
  const hash = value.indexOf(OWN_VOCABULARY_PATH);
  if (hash < 0 || !/^https?:\/\//.test(value)) return [];
  const own = value.slice(hash + OWN_VOCABULARY_PATH.length);
  return STEPS.filter((step) => step === own && STEP_MAPPING[step].cbvStep === null);
}

/** Our steps whose events carry this disposition (inspection also `non_conformant`). */
export function stepsOfDisposition(value: string): BizStep[] {
  const term = cbvTerm(value, "Disp");
  if (term === null) return [];
  if (term === "non_conformant") return ["inspecting"];
  return STEPS.filter((step) => STEP_MAPPING[step].disposition === term);
}

// -------------------------------------------------------------- identifiers

/** What an EPC names: an item (GTIN + serial) or a lot (GTIN + lot, a class). */
export type EpcKey = { kind: "item"; gtin: string; serial: string } | { kind: "lot"; gtin: string; lot: string };

/** A wildcard of URN patterns: every item of a GTIN (`urn:epc:idpat:sgtin:CP.IR.*`). */
export type EpcPattern = EpcKey | { kind: "gtin"; gtin: string };

/** GTIN-14 from an EPC URN's company prefix and indicator + item reference (TDS 2.1 §6.3.1). */
function gtinOfUrn(companyPrefix: string, indicatorAndItem: string): string | null {
  if (!/^\d+$/.test(companyPrefix) || !/^\d+$/.test(indicatorAndItem)) return null;
  if (companyPrefix.length + indicatorAndItem.length !== 13) return null;
  const body = `${indicatorAndItem.slice(0, 1)}${companyPrefix}${indicatorAndItem.slice(1)}`;
  return `${body}${String(gtinCheckDigit(body))}`;
}

/** URN escapes (`%2F`) to text; null when malformed. */
function urnText(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * An EPC or EPC class as a key we can look up, from a GS1 Digital Link (any host) or a
 * pure-identity URN (`sgtin`, `lgtin`; with `allowPatterns`, `urn:epc:idpat:sgtin:CP.IR.*`).
 * Null for anything else (SSCCs, GRAIs, other URIs): not an identifier of ours.
 */
export function parseEpc(value: string, options: { allowPatterns?: boolean } = {}): EpcPattern | null {
  const sgtin = /^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$/.exec(value);
  if (sgtin !== null) {
    const gtin = gtinOfUrn(sgtin[1] ?? "", sgtin[2] ?? "");
    const serial = urnText(sgtin[3] ?? "");
    return gtin === null || serial === null ? null : { kind: "item", gtin, serial };
  }
  const lgtin = /^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$/.exec(value);
  if (lgtin !== null) {
    const gtin = gtinOfUrn(lgtin[1] ?? "", lgtin[2] ?? "");
    const lot = urnText(lgtin[3] ?? "");
    return gtin === null || lot === null ? null : { kind: "lot", gtin, lot };
  }
  const pattern = /^urn:epc:idpat:sgtin:(\d+)\.(\d+)\.\*$/.exec(value);
  if (pattern !== null) {
    const gtin = options.allowPatterns === true ? gtinOfUrn(pattern[1] ?? "", pattern[2] ?? "") : null;
    return gtin === null ? null : { kind: "gtin", gtin };
  }
  if (!/^https?:\/\//.test(value)) return null;
  try {
    const link = parseDigitalLink(value);
    if (link.serial !== undefined) return { kind: "item", gtin: link.gtin, serial: link.serial };
    if (link.lot !== undefined) return { kind: "lot", gtin: link.gtin, lot: link.lot };
    return null;
  } catch {
    return null;
  }
}

// -------------------------------------------------------------- capture

/** The parts of an EPCIS event the mapping reads; the schema has already checked the document. */
export interface CapturedEpcisEvent {
  type?: unknown;
  eventID?: unknown;
  action?: unknown;
  bizStep?: unknown;
  disposition?: unknown;
  eventTime?: unknown;
  epcList?: unknown;
  quantityList?: unknown;
  readPoint?: unknown;
  bizLocation?: unknown;
  sourceList?: unknown;
  destinationList?: unknown;
  sensorElementList?: unknown;
  bizTransactionList?: unknown;
  [key: string]: unknown;
}

/** An event we can record: which batch (by items or lot), and the request `POST …/events` takes. */
export interface MappedEvent {
  eventID: string | null;
  items: Array<{ gtin: string; serial: string }>;
  lots: Array<{ gtin: string; lot: string }>;
  request: {
    bizStep: Exclude<BizStep, "recalling">;
    occurredAt: string;
    receiver?: string;
    data: EventData;
  };
  /** JSON paths (relative to the event) of what is not signed into our event. */
  ignored: string[];
}

/** Why an event cannot become one of ours (codes from the registry's `epcis.` family). */
export interface UnmappableEvent {
  eventID: string | null;
  code: "epcis.event_type_unsupported" | "epcis.biz_step_unsupported" | "epcis.event_unmappable";
  detail: string;
}

/** Members the mapping reads or that belong to every event (`type`, times, IDs): never "ignored". */
const READ_MEMBERS = new Set([
  "type",
  "eventID",
  "action",
  "bizStep",
  "eventTime",
  "eventTimeZoneOffset",
  "recordTime",
  "epcList",
  "quantityList",
  "readPoint",
  "sourceList",
  "destinationList",
  "sensorElementList",
  "bizTransactionList",
]);

const TEMPERATURE_TYPES = new Set(["gs1:Temperature", "Temperature", "https://gs1.org/voc/Temperature"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function idOf(value: unknown): string | null {
  return isRecord(value) && typeof value.id === "string" ? value.id : null;
}

/** Our organisation id from one of our organisation URIs (`{origin}/organisations/{id}`). */
export function organisationIdOfUri(value: string): string | null {
  const match = ORGANISATION_URI.exec(value)?.[1];
  if (match === undefined) return null;
  try {
    return decodeURIComponent(match);
  } catch {
    return null;
  }
}

/** A number as our quantity text (at most three decimals); null if it has more. */
function quantityText(value: number): string | null {
  if (!Number.isFinite(value) || value < 0) return null;
  const text = String(value);
  return /^\d+(\.\d{1,3})?$/.test(text) ? text : null;
}

/** A reading in °C from a sensor value and its UN/CEFACT unit; null for a unit that is not a temperature. */
function celsiusOf(value: number, uom: unknown): number | null {
  if (uom === undefined || uom === "CEL") return value;
  if (uom === "FAH") return Math.round((((value - 32) * 5) / 9) * 1000) / 1000;
  if (uom === "KEL") return Math.round((value - 273.15) * 1000) / 1000;
  return null;
}

function isoOf(time: string): string | null {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * One schema-valid EPCIS event as the request our events endpoint takes, or why it cannot
 * be one. Knows nothing of batches or organisations beyond their identifiers: the capture
 * service looks those up and then goes through the same use case as `POST …/events`.
 */
export function mapCapturedEvent(event: CapturedEpcisEvent): MappedEvent | UnmappableEvent {
  const eventID = typeof event.eventID === "string" ? event.eventID : null;
  const refuse = (code: UnmappableEvent["code"], detail: string): UnmappableEvent => ({ eventID, code, detail });
  if (event.type !== "ObjectEvent") {
    return refuse(
      "epcis.event_type_unsupported",
      `${String(event.type)}: only ObjectEvent (and AggregationEvent, as cases) can be recorded yet`,
    );
  }
  if (typeof event.bizStep !== "string") return refuse("epcis.biz_step_unsupported", "the event names no bizStep");
  const steps = stepsOfBizStep(event.bizStep).filter(
    (step) => STEP_MAPPING[step].eventType === "ObjectEvent" && step !== "recalling",
  );
  const action = event.action === "ADD" ? "ADD" : event.action === "OBSERVE" ? "OBSERVE" : "DELETE";
  const step = steps.find((candidate) => STEP_MAPPING[candidate].action === action);
  if (step === undefined || step === "recalling") {
    return refuse(
      "epcis.biz_step_unsupported",
      `${event.bizStep} with action ${action} is none of our steps (see docs/epcis.md)`,
    );
  }
  const ignored: string[] = [];

  const items: MappedEvent["items"] = [];
  for (const [index, epc] of asArray(event.epcList).entries()) {
    const key = typeof epc === "string" ? parseEpc(epc) : null;
    if (key?.kind !== "item") return refuse("epcis.event_unmappable", `epcList/${String(index)} is not an SGTIN`);
    items.push({ gtin: key.gtin, serial: key.serial });
  }
  const lots: MappedEvent["lots"] = [];
  let quantity: EventData["quantity"];
  for (const [index, element] of asArray(event.quantityList).entries()) {
    const epcClass = isRecord(element) && typeof element.epcClass === "string" ? element.epcClass : "";
    const key = parseEpc(epcClass);
    if (key?.kind !== "lot") {
      return refuse("epcis.event_unmappable", `quantityList/${String(index)} is not an LGTIN class of a lot`);
    }
    lots.push({ gtin: key.gtin, lot: key.lot });
    if (isRecord(element) && typeof element.quantity === "number") {
      const value = quantityText(element.quantity);
      if (value === null) {
        return refuse("epcis.event_unmappable", `quantityList/${String(index)}/quantity has more than three decimals`);
      }
      if (quantity !== undefined) {
        return refuse("epcis.event_unmappable", "only one quantityList element may state a quantity");
      }
      const uom = typeof element.uom === "string" ? element.uom : null;
      let unit = uom ?? "";
      if (uom !== null) {
        try {
          unit = unitFromCode(uom);
        } catch {
          unit = uom;
        }
      }
      if (unit === "" || unit.length > 8) {
        return refuse("epcis.event_unmappable", `quantityList/${String(index)} needs a uom (UN/CEFACT Rec 20 code)`);
      }
      quantity = { value, unit };
    }
  }
  if (items.length === 0 && lots.length === 0) {
    return refuse("epcis.event_unmappable", "the event names neither items (epcList) nor a lot (quantityList)");
  }

  const occurredAt = typeof event.eventTime === "string" ? isoOf(event.eventTime) : null;
  if (occurredAt === null) return refuse("epcis.event_unmappable", "eventTime is not a time");
  const data: EventData = {};
  if (quantity !== undefined) data.quantity = quantity;

  const readPoint = idOf(event.readPoint);
  const regionCode = readPoint === null ? undefined : LOCATION_URI.exec(readPoint)?.[1];
  if (regionCode !== undefined) data.location = { regionCode };
  else if (event.readPoint !== undefined) ignored.push("readPoint");
  if (event.bizLocation !== undefined) ignored.push("bizLocation");

  let receiver: string | undefined;
  const parties = (list: unknown, member: "source" | "destination"): string[] =>
    asArray(list)
      .map((entry) =>
        isRecord(entry) && typeof entry[member] === "string" ? organisationIdOfUri(entry[member]) : null,
      )
      .filter((id): id is string => id !== null);
  const destinations = parties(event.destinationList, "destination");
  const sources = parties(event.sourceList, "source");
  if (step === "shipping" && destinations.length > 0) {
    if (new Set(destinations).size > 1) {
      return refuse("epcis.event_unmappable", "destinationList names more than one of our organisations");
    }
    receiver = destinations[0];
    data.counterpartyId = receiver;
  } else if (event.destinationList !== undefined) ignored.push("destinationList");
  if (step === "receiving" && sources.length > 0) data.counterpartyId = sources[0];
  else if (event.sourceList !== undefined) ignored.push("sourceList");

  const temperatures: NonNullable<EventData["temperatures"]> = [];
  for (const [elementIndex, element] of asArray(event.sensorElementList).entries()) {
    const metadataTime =
      isRecord(element) && isRecord(element.sensorMetadata) ? element.sensorMetadata.time : undefined;
    const reports = isRecord(element) ? asArray(element.sensorReport) : [];
    for (const [reportIndex, report] of reports.entries()) {
      const path = `sensorElementList/${String(elementIndex)}/sensorReport/${String(reportIndex)}`;
      // Other quantities, and summaries of an interval (minValue, maxValue, meanValue) rather than
      // readings at a time, have no place in our series: listed, not signed.
      if (
        !isRecord(report) ||
        typeof report.type !== "string" ||
        !TEMPERATURE_TYPES.has(report.type) ||
        report.value === undefined
      ) {
        ignored.push(path);
        continue;
      }
      const celsius = typeof report.value === "number" ? celsiusOf(report.value, report.uom) : null;
      const time = [report.time, metadataTime, event.eventTime].find((candidate) => typeof candidate === "string");
      const at = typeof time === "string" ? isoOf(time) : null;
      if (celsius === null || at === null || celsius < -100 || celsius > 100) {
        return refuse(
          "epcis.event_unmappable",
          `${path} is not a temperature reading we can record (value, uom, time)`,
        );
      }
      temperatures.push({ at, celsius });
    }
  }
  if (temperatures.length > 0) data.temperatures = temperatures;

  const transactions = asArray(event.bizTransactionList);
  const first = transactions[0];
  if (isRecord(first) && typeof first.bizTransaction === "string") {
    const bt =
      typeof first.type === "string"
        ? first.type.replace(/^(?:https?:\/\/ref\.gs1\.org\/cbv\/BTT-|urn:epcglobal:cbv:btt:)/, "")
        : "bizTransaction";
    if (bt.length <= 64 && first.bizTransaction.length <= 64) {
      data.referenceDocument = { type: bt, number: first.bizTransaction };
    } else ignored.push("bizTransactionList/0");
  }
  for (let index = 1; index < transactions.length; index++) ignored.push(`bizTransactionList/${String(index)}`);

  if (typeof event.disposition === "string") {
    const term = cbvTerm(event.disposition, "Disp");
    if (term !== STEP_MAPPING[step].disposition) ignored.push("disposition");
  }
  for (const member of Object.keys(event)) {
    if (!READ_MEMBERS.has(member) && member !== "disposition" && member !== "bizLocation") ignored.push(member);
  }

  return {
    eventID,
    items,
    lots,
    request: { bizStep: step, occurredAt, ...(receiver === undefined ? {} : { receiver }), data },
    ignored,
  };
}

/** Whether a mapping result is a refusal. */
export function isUnmappable(result: MappedEvent | UnmappableEvent): result is UnmappableEvent {
  return "code" in result;
}
