/**
 * The capture direction for cases and pallets (docs/aggregation.md, docs/epcis.md): which
 * captured EPCIS events are about containers, and the request the containers service takes
 * for each. Pure, like epcis-mapping.ts: the capture service then goes through
 * `packContainer` / `recordContainerEvent`, so every rule of the API applies.
 *
 * - AggregationEvent `ADD` (bizStep packing or none), `parentID` an SSCC, `childEPCs` items
 *   (as the capture takes them elsewhere: Digital Links or SGTIN URNs) and/or child SSCCs: a packing.
 * - AggregationEvent `DELETE` (bizStep unpacking or none): an unpacking; the registry clears the
 *   whole case, so `childEPCs` must be absent or name every child (the service compares).
 * - ObjectEvent `OBSERVE` whose `epcList` is SSCCs, bizStep shipping (the receiver from
 *   `destinationList`, one of our organisation URIs) or receiving: container events.
 * - `bizTransactionList` entries of the types the containers service takes (po, desadv, inv,
 *   rma) are written into the signed payload document; others are listed as ignored.
 */
import {
  cbvTerm,
  organisationIdOfUri,
  parseEpc,
  type CapturedEpcisEvent,
  type UnmappableEvent,
} from "./epcis-mapping.ts";
import { buildDigitalLink, gtinCheckDigit } from "./gs1.ts";

const BIZ_TRANSACTION_TYPES = ["po", "desadv", "inv", "rma"] as const;
type BizTransactionType = (typeof BIZ_TRANSACTION_TYPES)[number];

interface ContainerCommon {
  eventID: string | null;
  occurredAt: string;
  bizTransactions: { type: BizTransactionType; id: string }[];
  /** JSON paths (relative to the event) of what is not signed into the container's payload. */
  ignored: string[];
}

/** A child an AggregationEvent names: an item (its Digital Link) or a container (its SSCC). */
export type CapturedChild =
  { kind: "item"; link: string; gtin: string; serial: string } | { kind: "sscc"; sscc: string };

export type MappedContainerEvent =
  | (ContainerCommon & { kind: "packing"; sscc: string; children: CapturedChild[] })
  | (ContainerCommon & { kind: "unpacking"; sscc: string; children: CapturedChild[] | null })
  | (ContainerCommon & { kind: "shipping" | "receiving"; ssccs: string[]; receiver: string | undefined });

/** Members read for container events (or common to every event): never "ignored". */
const READ_MEMBERS = new Set([
  "type",
  "eventID",
  "action",
  "bizStep",
  "eventTime",
  "eventTimeZoneOffset",
  "recordTime",
  "epcList",
  "parentID",
  "childEPCs",
  "destinationList",
  "bizTransactionList",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * An SSCC as `normalizeSscc` takes it, from a Digital Link (`…/00/{18 digits}`, its check digit
 * judged by the service) or a pure-identity URN (`urn:epc:id:sscc:{prefix}.{extension + serial
 * reference}`, TDS 2.1 §6.3.2, which carries no check digit: computed). Null when not an SSCC.
 */
export function ssccOfEpc(value: string): string | null {
  const urn = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(value);
  if (urn !== null) {
    const prefix = urn[1] ?? "";
    const rest = urn[2] ?? "";
    if (prefix.length + rest.length !== 17 || rest.length < 1) return null;
    const body = `${rest.slice(0, 1)}${prefix}${rest.slice(1)}`;
    return `${body}${String(gtinCheckDigit(body))}`;
  }
  return /^https?:\/\/[^/]+\/00\/[0-9]{18}$/.test(value) ? value : null;
}

function childOf(value: unknown): CapturedChild | null {
  if (typeof value !== "string") return null;
  const sscc = ssccOfEpc(value);
  if (sscc !== null) return { kind: "sscc", sscc };
  const key = parseEpc(value);
  if (key?.kind !== "item") return null;
  const link = /^https?:\/\//.test(value)
    ? value
    : buildDigitalLink({ host: "id.gs1.org", gtin: key.gtin, serial: key.serial });
  return { kind: "item", link, gtin: key.gtin, serial: key.serial };
}

/**
 * A captured event as a container request, or why it cannot be one; null when the event is not
 * about containers (an ObjectEvent of items or lots: epcis-mapping.ts maps it).
 */
export function mapCapturedContainerEvent(event: CapturedEpcisEvent): MappedContainerEvent | UnmappableEvent | null {
  const eventID = typeof event.eventID === "string" ? event.eventID : null;
  const refuse = (code: UnmappableEvent["code"], detail: string): UnmappableEvent => ({ eventID, code, detail });
  let epcSsccs: string[] = [];
  if (event.type === "ObjectEvent") {
    const epcs = asArray(event.epcList);
    epcSsccs = epcs.map((epc) => (typeof epc === "string" ? ssccOfEpc(epc) : null)).filter((s) => s !== null);
    if (epcSsccs.length === 0) return null;
    if (epcSsccs.length !== epcs.length || event.quantityList !== undefined) {
      return refuse("epcis.event_unmappable", "epcList mixes SSCCs with items or lots: send them as separate events");
    }
  } else if (event.type !== "AggregationEvent") {
    return null;
  }

  const occurredAt = typeof event.eventTime === "string" ? Date.parse(event.eventTime) : Number.NaN;
  if (Number.isNaN(occurredAt)) return refuse("epcis.event_unmappable", "eventTime is not a time");
  const ignored: string[] = [];
  const bizTransactions: ContainerCommon["bizTransactions"] = [];
  for (const [index, entry] of asArray(event.bizTransactionList).entries()) {
    const type =
      isRecord(entry) && typeof entry.type === "string"
        ? entry.type.replace(/^(?:https?:\/\/ref\.gs1\.org\/cbv\/BTT-|urn:epcglobal:cbv:btt:)/, "")
        : "";
    const known = BIZ_TRANSACTION_TYPES.find((candidate) => candidate === type);
    const id = isRecord(entry) && typeof entry.bizTransaction === "string" ? entry.bizTransaction : "";
    if (known === undefined || id.length === 0 || id.length > 200) ignored.push(`bizTransactionList/${String(index)}`);
    else bizTransactions.push({ type: known, id });
  }
  for (const member of Object.keys(event)) if (!READ_MEMBERS.has(member)) ignored.push(member);
  const common: ContainerCommon = { eventID, occurredAt: new Date(occurredAt).toISOString(), bizTransactions, ignored };
  // Absent is null; a step that is not CBV's reads as itself and matches none of ours.
  const step =
    event.bizStep === undefined
      ? null
      : typeof event.bizStep === "string"
        ? (cbvTerm(event.bizStep, "BizStep") ?? event.bizStep)
        : "not a step";

  if (event.type === "ObjectEvent") {
    if (event.action !== "OBSERVE" || (step !== "shipping" && step !== "receiving")) {
      return refuse(
        "epcis.biz_step_unsupported",
        `${String(event.bizStep)} with action ${String(event.action)}: an SSCC is shipped or received (OBSERVE)`,
      );
    }
    let receiver: string | undefined;
    if (step === "shipping") {
      const destinations = asArray(event.destinationList)
        .map((entry) =>
          isRecord(entry) && typeof entry.destination === "string" ? organisationIdOfUri(entry.destination) : null,
        )
        .filter((id): id is string => id !== null);
      if (new Set(destinations).size > 1) {
        return refuse("epcis.event_unmappable", "destinationList names more than one of our organisations");
      }
      receiver = destinations[0];
    } else if (event.destinationList !== undefined) ignored.push("destinationList");
    return { ...common, kind: step, ssccs: epcSsccs, receiver };
  }

  if (event.destinationList !== undefined) ignored.push("destinationList");
  const parent = typeof event.parentID === "string" ? ssccOfEpc(event.parentID) : null;
  if (parent === null) return refuse("epcis.event_unmappable", "parentID is not an SSCC (a case or pallet)");
  if (event.childQuantityList !== undefined) {
    return refuse("epcis.event_unmappable", "childQuantityList: a case holds items or cases, named in childEPCs");
  }
  const children: CapturedChild[] = [];
  for (const [index, epc] of asArray(event.childEPCs).entries()) {
    const child = childOf(epc);
    if (child === null) {
      return refuse("epcis.event_unmappable", `childEPCs/${String(index)} is neither an SGTIN nor an SSCC`);
    }
    children.push(child);
  }
  if (event.action === "ADD" && (step === null || step === "packing")) {
    return { ...common, kind: "packing", sscc: parent, children };
  }
  if (event.action === "DELETE" && (step === null || step === "unpacking")) {
    return { ...common, kind: "unpacking", sscc: parent, children: children.length === 0 ? null : children };
  }
  return refuse(
    "epcis.biz_step_unsupported",
    `AggregationEvent ${String(event.action)} with ${String(event.bizStep)}: we record ADD as packing and DELETE as unpacking`,
  );
}
