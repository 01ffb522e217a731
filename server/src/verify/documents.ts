/**
 * Reading the metadata and event payload documents once their bytes matched their CIDs.
 * The CID proves the bytes are what the organisation signed; these guards only make sure
 * the page can render what it reads (the full zod schemas of `domain/documents.ts` would
 * triple the scan page's size). A document that fails them is treated as not verified.
 */
import type { BatchMetadataDocument, EventPayloadDocument } from "../domain/documents.ts";

/** `domain/documents.ts`'s DOCUMENT_MAX_BYTES, restated so the page does not import zod. */
export const DOCUMENT_MAX_BYTES = 262_144;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLocalised(value: unknown): boolean {
  return isObject(value) && typeof value.zh === "string" && (value.en === null || typeof value.en === "string");
}

const isString = (value: unknown): value is string => typeof value === "string";
const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const isRange = (value: unknown): boolean =>
  isObject(value) && isFiniteNumber(value.minC) && isFiniteNumber(value.maxC) && value.minC <= value.maxC;
const isCidText = (value: unknown): boolean => isString(value) && /^b[a-z2-7]{20,120}$/.test(value);

function isCertification(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value.kind) &&
    isString(value.number) &&
    isString(value.issuer) &&
    isString(value.validFrom) &&
    isString(value.validTo)
  );
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

/** The metadata document in `bytes`, or null when it is not one the page can show. */
export function readMetadataDocument(bytes: Uint8Array): BatchMetadataDocument | null {
  const doc = parseJson(bytes);
  // Version 2 adds the signed cold-chain range (`product.coldChain`); version 1 has none.
  if (!isObject(doc) || doc.type !== "oioc.batch-metadata" || (doc.version !== 1 && doc.version !== 2)) return null;
  const { product, cooperative, plot } = doc;
  const ok =
    isString(doc.gtin) &&
    isString(doc.lot) &&
    isObject(product) &&
    isLocalised(product.name) &&
    (product.coldChain === undefined || product.coldChain === null || isRange(product.coldChain)) &&
    isObject(cooperative) &&
    isLocalised(cooperative.name) &&
    isString(cooperative.regionCode) &&
    isString(cooperative.signer) &&
    (plot === null || (isObject(plot) && isString(plot.name) && isString(plot.regionCode))) &&
    isString(doc.harvestedAt) &&
    typeof doc.itemCount === "number" &&
    Array.isArray(doc.certifications) &&
    doc.certifications.every(isCertification) &&
    (doc.videoCid === null || isCidText(doc.videoCid)) &&
    (doc.description === null || isLocalised(doc.description));
  return ok ? (doc as unknown as BatchMetadataDocument) : null;
}

/** The event payload document in `bytes`, or null when it is not one the page can show. */
export function readEventPayloadDocument(bytes: Uint8Array): EventPayloadDocument | null {
  const doc = parseJson(bytes);
  if (!isObject(doc) || doc.type !== "oioc.event-payload" || doc.version !== 1) return null;
  const { actor, data } = doc;
  const location = isObject(data) ? data.location : undefined;
  const ok =
    isString(doc.bizStep) &&
    isString(doc.occurredAt) &&
    isObject(actor) &&
    isLocalised(actor.name) &&
    isObject(data) &&
    (location === undefined || (isObject(location) && (location.name === undefined || isString(location.name)))) &&
    (data.note === undefined || isLocalised(data.note));
  return ok ? (doc as unknown as EventPayloadDocument) : null;
}
