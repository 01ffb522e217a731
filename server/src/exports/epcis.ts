/**
 * EPCIS 2.0 JSON-LD export of batches' histories, for regulators. Pure: records in,
 * a document (or a stream of its text) out; mapping decisions are in critical-events.ts.
 *
 * Choices the standard leaves to us, made here:
 * - Identifiers. Lots are class-level EPCs in `quantityList`s as canonical GS1 Digital
 *   Link URIs (`https://id.gs1.org/01/{gtin}/10/{lot}`); items an event names are
 *   instance-level (`…/01/{gtin}/21/{serial}`).
 * - Places. We have no GLNs, so `readPoint` is the region (`{publicOrigin}/locations/{GB/T
 *   2260 code}`) and `bizLocation` the organisation that did the step
 *   (`{publicOrigin}/organisations/{id}`), both HTTP URIs under our origin as CBV 2.0 allows
 *   for user vocabularies. A shipment has no business location (the goods are in transit).
 * - eventID. `ni:///sha-256;…` names a SHA-256 of the event's canonical form, which our
 *   keccak EIP-712 digest is not, so the ID is a name-based UUID (RFC 9562 version 5) of
 *   the digest: stable across exports and deployments, and the digest itself travels as
 *   `oioc:digest` for anyone who wants to check the signature.
 * - Our own fields (transaction hash, digest, payload CID, hash-chain head, our step name,
 *   residue tests, inputs applied) sit under the `oioc` prefix declared in `@context`.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import type { Writable } from "node:stream";

import { CHINA_OFFSET, chinaIsoTime } from "../domain/china-time.ts";
import {
  STEP_MAPPING,
  criticalEvents,
  itemUri,
  locationOf,
  lotClassUri,
  quantityOf,
  storedCriticalEvent,
  testsPassed,
  type CriticalEvent,
} from "./critical-events.ts";
import { containerStepEvents, containerSteps } from "./container-events.ts";
import type { ExportBatch, ExportEvent, ExportInput } from "./types.ts";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type EpcisEvent = {
  type: "ObjectEvent" | "TransformationEvent" | "AggregationEvent";
  eventID: string;
  eventTime: string;
  eventTimeZoneOffset: string;
} & Record<string, JsonValue>;

export interface EpcisDocument {
  "@context": JsonValue[];
  type: "EPCISDocument";
  schemaVersion: "2.0";
  creationDate: string;
  sender?: string;
  epcisBody: { eventList: EpcisEvent[] };
}

/** An EPCIS 2.0 query answer (`GET /epcis/events`): the same head, the events under `queryResults`. */
export interface EpcisQueryDocument {
  "@context": JsonValue[];
  type: "EPCISQueryDocument";
  schemaVersion: "2.0";
  creationDate: string;
  epcisBody: { queryResults: { queryName: "SimpleEventQuery"; resultsBody: { eventList: EpcisEvent[] } } };
}

export interface EpcisOptions {
  creationDate: Date;
  senderName?: string;
  /** `https://trace.example.cn`: the origin our location, organisation and vocabulary URIs live under. */
  publicOrigin: string;
}

/** The official EPCIS 2.0 JSON-LD context, by the URI GS1 publishes it under. */
const EPCIS_CONTEXT_URI = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

// ------------------------------------------------------------------- event IDs

/** RFC 9562 name-based UUID, version 5 (SHA-1), as `urn:uuid:…`. */
export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll("-", ""), "hex");
  if (namespaceBytes.length !== 16) throw new RangeError(`not a UUID: ${namespace}`);
  const hash = createHash("sha1").update(namespaceBytes).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 9562's namespace for names that are URLs. */
const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
/** Our namespace for event IDs, itself derived from a URN we own, so no one else's v5 IDs collide with ours. */
const EVENT_ID_NAMESPACE = uuidV5(URL_NAMESPACE, "urn:oioc:epcis:event-id");

/** The eventID of a critical event: `urn:uuid:` + UUIDv5 of its digest (or of the batch fact it stands for). */
export function epcisEventId(key: string): string {
  return `urn:uuid:${uuidV5(EVENT_ID_NAMESPACE, key)}`;
}

// ---------------------------------------------------------------- the mapping

/**
 * CBV 2.0 business transaction types for the reference-document types people enter;
 * a type CBV does not know is left out (the schema allows a transaction without one).
 */
const BIZ_TRANSACTION_TYPES: Readonly<Record<string, string>> = {
  inv: "inv",
  invoice: "inv",
  bol: "bol",
  bill_of_lading: "bol",
  waybill: "bol",
  po: "po",
  purchase_order: "po",
  desadv: "desadv",
  despatch_advice: "desadv",
  dispatch_note: "desadv",
  recadv: "recadv",
  receiving_advice: "recadv",
  cert: "cert",
  certificate: "cert",
  compliance_certificate: "cert",
  testres: "testres",
  test_report: "testres",
  inspection_report: "testres",
  prodorder: "prodorder",
  production_order: "prodorder",
};

interface MappingContext {
  origin: string;
}

function organisationUri(context: MappingContext, id: string): string {
  return `${context.origin}/organisations/${encodeURIComponent(id)}`;
}

function withoutUndefined(value: Record<string, string | number | boolean | undefined>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = entry;
  return out;
}

function quantityElement(
  epcClass: string,
  quantity?: { value: number; uom: string | null },
): Record<string, JsonValue> {
  const element: Record<string, JsonValue> = { epcClass };
  if (quantity !== undefined) {
    element.quantity = quantity.value;
    if (quantity.uom !== null) element.uom = quantity.uom;
  }
  return element;
}

/** One critical event as an EPCIS 2.0 event. */
function toEpcisEvent(critical: CriticalEvent, context: MappingContext): EpcisEvent {
  const mapping = STEP_MAPPING[critical.step];
  const { batch } = critical.entry;
  const { data, actor } = critical;
  const location = locationOf(critical);
  const quantity = quantityOf(critical);
  const lot = quantityElement(lotClassUri(batch.gtin, batch.lot), quantity);
  const items = critical.serials.map((serial) => itemUri(batch.gtin, serial));

  const event: EpcisEvent = {
    type: mapping.eventType,
    eventID: epcisEventId(critical.key),
    eventTime: chinaIsoTime(critical.occurredAtMs),
    eventTimeZoneOffset: CHINA_OFFSET,
  };
  if (mapping.eventType === "ObjectEvent") {
    if (items.length > 0) event.epcList = items;
    event.quantityList = [lot];
    if (mapping.action !== null) event.action = mapping.action;
  } else {
    const inputs = (data.inputBatches ?? []).map((input) => quantityElement(lotClassUri(input.gtin, input.lot)));
    if (inputs.length > 0) event.inputQuantityList = inputs;
    if (items.length > 0) event.outputEPCList = items;
    event.outputQuantityList = [lot];
    // Outputs alone need a transformation ID to be linkable to inputs recorded elsewhere.
    if (inputs.length === 0) event.transformationID = `${context.origin}/transformations/${critical.key}`;
  }
  event.bizStep = mapping.cbvStep ?? `${context.origin}/ns/epcis#${critical.step}`;
  const disposition = critical.step === "inspecting" && !testsPassed(data) ? "non_conformant" : mapping.disposition;
  if (disposition !== null) event.disposition = disposition;
  if (critical.step === "recalling") event.persistentDisposition = { set: ["recalled"] };
  event.readPoint = { id: `${context.origin}/locations/${location.regionCode}` };
  if (critical.step !== "shipping") event.bizLocation = { id: organisationUri(context, actor.id) };

  const reference = data.referenceDocument;
  if (reference !== undefined) {
    const type = BIZ_TRANSACTION_TYPES[reference.type.toLowerCase()];
    const uri = `${organisationUri(context, actor.id)}/documents/${encodeURIComponent(reference.type)}/${encodeURIComponent(reference.number)}`;
    event.bizTransactionList = [type === undefined ? { bizTransaction: uri } : { type, bizTransaction: uri }];
  }
  if (data.counterpartyId !== undefined && (critical.step === "shipping" || critical.step === "receiving")) {
    const self = organisationUri(context, actor.id);
    const other = organisationUri(context, data.counterpartyId);
    const [from, to] = critical.step === "shipping" ? [self, other] : [other, self];
    event.sourceList = [{ type: "owning_party", source: from }];
    event.destinationList = [{ type: "owning_party", destination: to }];
  }
  const temperatures = data.temperatures ?? [];
  if (temperatures.length > 0) {
    event.sensorElementList = [
      {
        sensorReport: temperatures.map((reading) => ({
          type: "gs1:Temperature",
          value: reading.celsius,
          uom: "CEL",
          time: reading.at,
        })),
      },
    ];
  }
  if (mapping.action === "ADD") {
    const ilmd: Record<string, JsonValue> = { "cbvmda:countryOfOrigin": "CN", "oioc:regionCode": location.regionCode };
    if (batch.certificateNumber !== null) ilmd["oioc:complianceCertificateNumber"] = batch.certificateNumber;
    event.ilmd = ilmd;
  }

  event["oioc:bizStep"] = critical.step;
  event["oioc:record"] = critical.source;
  event["oioc:actor"] = organisationUri(context, actor.id);
  if (location.name !== null) event["oioc:locationName"] = location.name;
  if (critical.digest !== null) event["oioc:digest"] = critical.digest;
  if (critical.payloadCid !== null) event["oioc:payloadCid"] = critical.payloadCid;
  if (critical.ledger !== null) {
    event["oioc:ledgerState"] = critical.ledger.state;
    if (critical.ledger.txHash !== null) event["oioc:txHash"] = critical.ledger.txHash;
  }
  if (critical.eventHead !== null) event["oioc:eventHead"] = critical.eventHead;
  if (data.tests !== undefined) event["oioc:residueTests"] = data.tests.map(withoutUndefined);
  if (data.inputs !== undefined) event["oioc:inputsApplied"] = data.inputs.map(withoutUndefined);
  return event;
}

// ------------------------------------------------------------------ documents

function trimOrigin(origin: string): string {
  return origin.replace(/\/+$/, "");
}

function documentHead(options: EpcisOptions): Omit<EpcisDocument, "epcisBody"> {
  const head: Omit<EpcisDocument, "epcisBody"> = {
    "@context": [EPCIS_CONTEXT_URI, { oioc: `${trimOrigin(options.publicOrigin)}/ns/epcis#` }],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: options.creationDate.toISOString(),
  };
  if (options.senderName !== undefined) head.sender = options.senderName;
  return head;
}

/** The events of an export, one at a time, in the order the document lists them. */
export function* epcisEvents(input: ExportInput, options: EpcisOptions): Generator<EpcisEvent> {
  const context = { origin: trimOrigin(options.publicOrigin) };
  for (const critical of criticalEvents(input)) yield toEpcisEvent(critical, context);
  // Then the cases and pallets holding the batches' items: packed, shipped, received, unpacked.
  for (const { container, step } of containerSteps(input)) {
    yield* containerStepEvents(container, step, context.origin, epcisEventId);
  }
}

/** One stored event as the export writes it, for the query, which reads events one by one. */
export function epcisEventOfStored(entry: ExportBatch, stored: ExportEvent, options: EpcisOptions): EpcisEvent {
  return toEpcisEvent(storedCriticalEvent(entry, stored), { origin: trimOrigin(options.publicOrigin) });
}

/** A query answer around events already mapped, with the export's context and head. */
export function buildEpcisQueryDocument(events: EpcisEvent[], options: EpcisOptions): EpcisQueryDocument {
  const { "@context": context, creationDate } = documentHead(options);
  return {
    "@context": context,
    type: "EPCISQueryDocument",
    schemaVersion: "2.0",
    creationDate,
    epcisBody: { queryResults: { queryName: "SimpleEventQuery", resultsBody: { eventList: events } } },
  };
}

/** The whole document in memory: fine for a batch or a query of a few thousand events. */
export function buildEpcisDocument(input: ExportInput, options: EpcisOptions): EpcisDocument {
  return { ...documentHead(options), epcisBody: { eventList: [...epcisEvents(input, options)] } };
}

/** Bytes gathered before a write, so 10,000 events are a few hundred writes rather than 10,000. */
const WRITE_CHUNK_CHARS = 64 * 1024;

/**
 * The same document as {@link buildEpcisDocument}, written to `out` event by event (it
 * never holds more than one event and one chunk of text), honouring backpressure.
 * Resolves once everything is handed to the stream; does not end it.
 */
export async function writeEpcisDocument(input: ExportInput, options: EpcisOptions, out: Writable): Promise<void> {
  const head = JSON.stringify(documentHead(options));
  let pending = `${head.slice(0, -1)},"epcisBody":{"eventList":[`;
  const flush = async (): Promise<void> => {
    if (!out.write(pending)) await once(out, "drain");
    pending = "";
  };
  let first = true;
  for (const event of epcisEvents(input, options)) {
    pending += (first ? "" : ",") + JSON.stringify(event);
    first = false;
    if (pending.length >= WRITE_CHUNK_CHARS) await flush();
  }
  pending += "]}}";
  await flush();
}
