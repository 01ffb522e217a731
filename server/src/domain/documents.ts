/**
 * The public documents that signatures bind through their CIDs: a batch's metadata
 * document (its CID is the signed `metadataCid`) and an event's payload document (the
 * signed `payloadCid`). They are stored on IPFS as small JSON files, one raw block each
 * (under 256 KiB, CIDv1, raw leaves: the CID is the SHA-256 of the bytes), so a browser
 * checks a document against its CID with one `crypto.subtle.digest` call.
 *
 * What is public is deliberate: the region and the plot's name and area, never its
 * coordinates; organisation names and registered regions, never prices.
 */
import { z } from "zod";

import { isoInstant } from "./instants.ts";

/** Largest document we store: one UnixFS chunk, so the CID is a raw block's hash. */
export const DOCUMENT_MAX_BYTES = 262_144;

const cidText = z.string().regex(/^b[a-z2-7]{20,120}$/, "a base32 CIDv1");
const regionCode = z.string().regex(/^\d{6}$/, "a GB/T 2260 six-digit region code");
const isoTime = z.iso.datetime({ offset: true });
const localised = z.object({ zh: z.string().max(2_000), en: z.string().max(2_000).nullable() });

export const certificationRef = z.object({
  kind: z.enum(["pollution_free", "green_food", "organic", "geographical_indication"]),
  number: z.string().min(1).max(64),
  issuer: z.string().min(1).max(200),
  validFrom: z.iso.date(),
  validTo: z.iso.date(),
  /** GTIN-14s the certificate covers. */
  scopeGtins: z.array(z.string().regex(/^\d{14}$/)).max(1_000),
});
export type CertificationRef = z.infer<typeof certificationRef>;

/** The range a product must be kept in, °C (the catalogue's `coldChain`). */
export const coldChainRange = z.object({ minC: z.number().min(-60).max(60), maxC: z.number().min(-60).max(60) });

/**
 * Version 2 adds `product.coldChain`, so the range excursions are judged against is signed
 * with the batch; version 1 documents (without it) keep verifying.
 */
export const batchMetadataDocument = z.object({
  type: z.literal("oioc.batch-metadata"),
  version: z.union([z.literal(1), z.literal(2)]),
  gtin: z.string().regex(/^\d{14}$/),
  lot: z.string().min(1).max(20),
  product: z.object({
    name: localised,
    category: z.string().max(100),
    unit: z.string().max(8),
    coldChain: coldChainRange.nullable().optional(),
  }),
  cooperative: z.object({
    name: localised,
    /** 统一社会信用代码, public on every business licence. */
    uscc: z.string().length(18),
    regionCode,
    signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  }),
  plot: z
    .object({ id: z.string().max(64), name: z.string().max(200), regionCode, areaHa: z.number().positive() })
    .nullable(),
  harvestedAt: isoTime,
  quantity: z.object({ value: z.string().regex(/^\d+(\.\d{1,3})?$/), unit: z.string().max(8) }),
  itemCount: z.number().int().positive(),
  /** 承诺达标合格证 number the cooperative issued for this batch. */
  complianceCertificateNumber: z.string().max(64).nullable(),
  certifications: z.array(certificationRef).max(20),
  videoCid: cidText.nullable(),
  photoCids: z.array(cidText).max(50),
  description: localised.nullable(),
  /**
   * The batch's item serials, encrypted (AES-256-GCM under a key only the platform holds):
   * published so that the query store can be rebuilt from the chain and IPFS alone, and
   * encrypted because a public list of every serial would let anyone print valid codes.
   */
  itemsArchiveCid: cidText,
});
export type BatchMetadataDocument = z.infer<typeof batchMetadataDocument>;

export const temperatureReading = z.object({ at: isoInstant, celsius: z.number().min(-100).max(100) });

/**
 * Most readings one event carries. A reading takes 45 to 75 bytes of the payload document
 * (the time as the logger wrote it, °C), so 3,000 (a reading every 5 minutes for 10 days)
 * stay well inside DOCUMENT_MAX_BYTES with the rest of the event; a longer series goes in
 * several events. The document's own size is checked again when it is stored.
 */
export const TEMPERATURE_READINGS_MAX = 3_000;

/**
 * One analyte an inspection tested: the result against its limit (mg/kg), the method or
 * standard (e.g. GB 23200.113-2018, limits of GB 2763-2021) and the laboratory. The lab is
 * also the signing actor; `laboratory` names it as the report does.
 */
export const residueTest = z.object({
  substance: z.string().min(1).max(200),
  method: z.string().max(200).optional(),
  standard: z.string().max(200).optional(),
  laboratory: z.string().max(200).optional(),
  resultMgPerKg: z.number().min(0).max(1e6).optional(),
  limitMgPerKg: z.number().min(0).max(1e6).optional(),
  passed: z.boolean(),
});

export const inputApplied = z.object({
  name: z.string().min(1).max(200),
  kind: z.enum(["fertilizer", "pesticide", "other"]),
  amount: z.string().regex(/^\d+(\.\d{1,3})?$/),
  unit: z.string().max(8),
  /** 农药登记证号 or fertiliser registration, when it has one. */
  registrationNumber: z.string().max(64).optional(),
});

export const batchRef = z.object({ gtin: z.string().regex(/^\d{14}$/), lot: z.string().min(1).max(20) });

/**
 * Structured fields of a critical tracking event, by business step. Every field is
 * optional so one schema serves every step; the server checks what a step requires.
 */
export const eventData = z
  .object({
    /** Where it happened: a region, and a name people recognise (a warehouse, a shop). */
    location: z.object({ regionCode, name: z.string().max(200).optional() }).optional(),
    quantity: z.object({ value: z.string().regex(/^\d+(\.\d{1,3})?$/), unit: z.string().max(8) }).optional(),
    /** Cold chain: the logger's series (shipping, cooling, receiving). */
    temperatures: z.array(temperatureReading).max(TEMPERATURE_READINGS_MAX).optional(),
    /** Fertiliser and pesticide applications (input_application). */
    inputs: z.array(inputApplied).max(100).optional(),
    /** What an inspection tested, per the 2026 compliance-certificate rules (inspecting). */
    tests: z.array(residueTest).max(200).optional(),
    /** Transformation (NY/T 4712): the inbound batches this outbound batch was made from. */
    inputBatches: z.array(batchRef).max(100).optional(),
    /** Shipping / receiving: the other party, by organisation id. */
    counterpartyId: z.string().max(64).optional(),
    /** A reference document: invoice, bill of lading, inspection report number. */
    referenceDocument: z.object({ type: z.string().max(64), number: z.string().max(64) }).optional(),
    note: localised.optional(),
  })
  .strict();
export type EventData = z.infer<typeof eventData>;

export const eventPayloadDocument = z.object({
  type: z.literal("oioc.event-payload"),
  version: z.literal(1),
  batch: batchRef,
  bizStep: z.string(),
  occurredAt: isoTime,
  actor: z.object({ name: localised, regionCode, signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }),
  /** A shipping event's receiver (its signer is the event's signed counterparty). */
  receiver: z.object({ name: localised, regionCode, signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }).optional(),
  data: eventData,
  /** Photos and documents attached to the event. */
  attachmentCids: z.array(cidText).max(50),
});
export type EventPayloadDocument = z.infer<typeof eventPayloadDocument>;

/** The bytes stored on IPFS for a document: JSON with keys in the order the schema gives. */
export function encodeDocument(document: BatchMetadataDocument | EventPayloadDocument): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(document));
  if (bytes.byteLength > DOCUMENT_MAX_BYTES) {
    throw new RangeError(`a document is at most ${DOCUMENT_MAX_BYTES} bytes; this one is ${bytes.byteLength}`);
  }
  return bytes;
}
