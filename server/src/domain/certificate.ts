/**
 * The 承诺达标合格证 (commitment-to-standard certificate) as a signed credential: a public JSON
 * document naming what the paper certificate names (product, quantity, origin, the day it
 * was issued, the issuer and its contact, the fixed promise and its basis), the batches it
 * covers and the certificates it was issued from (its parents, when a buyer mixes or repacks
 * lots). The issuer signs a small `QualityCertificate` struct in the registry's EIP-712
 * domain that binds the document by its Keccak-256 hash; the certificate's id is that
 * struct's digest.
 *
 * Browser-safe: the certificate page and the verifier import it.
 */
import * as z from "zod/mini";

/** The promise's fixed text, as the rules' template prints it (农业农村部令 2025 年第 4 号). */
export const CERTIFICATE_PROMISE = {
  zh: "我承诺对产品质量安全以及合格证真实性负责：不使用禁用农药兽药、停用兽药和非法添加物，常规农药兽药残留不超标。",
  en: "I promise to answer for this product's safety and this certificate's truth: no banned pesticides or veterinary drugs, no withdrawn veterinary drugs or illegal additives, and residues of ordinary pesticides and veterinary drugs within limits.",
} as const;

/** The basis the template's tick boxes offer, in its order. */
export const CERTIFICATE_BASES = ["entrusted_test", "self_test", "internal_control", "self_promise"] as const;
export type CertificateBasis = (typeof CERTIFICATE_BASES)[number];

export const BASIS_NAMES: Readonly<Record<CertificateBasis, { zh: string; en: string }>> = {
  entrusted_test: { zh: "委托检测", en: "entrusted test" },
  self_test: { zh: "自我检测", en: "self-test" },
  internal_control: { zh: "内部质量控制", en: "internal quality control" },
  self_promise: { zh: "自我承诺", en: "self promise" },
};

/** How many certificates one may name as its parents (a mixed lot of many small lots). */
export const MAX_PARENTS = 20;
/** How deep a verifier follows parents: a repack of a repack of … eight levels. */
export const MAX_LINEAGE_DEPTH = 8;

// zod's tree-shakeable build: the certificate page bundles these schemas (the full build is 450 KB).
const hex32 = z.string().check(z.regex(/^0x[0-9a-f]{64}$/, "a lower-case 0x-hex bytes32"));
const address = z.string().check(z.regex(/^0x[0-9a-fA-F]{40}$/, "an address"));
const decimal = (digits: number) => z.string().check(z.regex(new RegExp(`^\\d{1,${String(digits)}}$`)));
const localised = z.strictObject({
  zh: z.string().check(z.minLength(1), z.maxLength(200)),
  en: z.nullable(z.string().check(z.maxLength(200))),
});

export const certificateDocument = z.strictObject({
  type: z.literal("oioc.quality-certificate"),
  version: z.literal(1),
  /** A random serial, so two certificates alike in every field still differ. */
  serial: z.uuid(),
  product: z.strictObject({ gtin: z.string().check(z.regex(/^\d{14}$/)), name: localised }),
  /** Thousandths of `unit` (a UN/CEFACT Rec 20 code), as decimal text. */
  quantity: z.strictObject({
    milli: z.string().check(z.regex(/^[1-9]\d{0,19}$/)),
    unit: z.string().check(z.minLength(1), z.maxLength(16)),
  }),
  origin: z.strictObject({
    regionCode: z.string().check(z.regex(/^\d{6}$/)),
    place: z.string().check(z.minLength(1), z.maxLength(200)),
  }),
  /** The China calendar day the certificate was issued. */
  issuedOn: z.iso.date(),
  issuer: z.strictObject({
    signer: address,
    name: localised,
    phone: z.string().check(z.regex(/^\+?[0-9 -]{5,24}$/)),
  }),
  promise: z.strictObject({ zh: z.literal(CERTIFICATE_PROMISE.zh), en: z.literal(CERTIFICATE_PROMISE.en) }),
  basis: z.array(z.enum(CERTIFICATE_BASES)).check(
    z.minLength(1),
    z.maxLength(CERTIFICATE_BASES.length),
    z.refine((list) => new Set(list).size === list.length, "each basis once"),
  ),
  batchIds: z.array(hex32).check(z.minLength(1), z.maxLength(200)),
  parents: z.array(hex32).check(z.maxLength(MAX_PARENTS)),
});

export type CertificateDocument = z.infer<typeof certificateDocument>;

/** `2026-04-16` → 20260416n: the day as the signed struct carries it. */
export function issuedOnNumber(date: string): bigint {
  return BigInt(date.replaceAll("-", ""));
}

/** The signed struct, with the document's fields it repeats so a verifier compares them. */
export interface QualityCertificateValue {
  issuer: string;
  gtin: bigint;
  quantityMilli: bigint;
  unit: string;
  issuedOn: bigint;
  documentHash: string;
}

/** The struct a document is signed as, given the document's Keccak-256 hash. */
export function certificateValue(document: CertificateDocument, documentHash: string): QualityCertificateValue {
  return {
    issuer: document.issuer.signer,
    gtin: BigInt(document.product.gtin),
    quantityMilli: BigInt(document.quantity.milli),
    unit: document.quantity.unit,
    issuedOn: issuedOnNumber(document.issuedOn),
    documentHash,
  };
}

/** The struct as JSON: integers as decimal text. */
export type QualityCertificateJson = { [K in keyof QualityCertificateValue]: string };

export function certificateValueJson(value: QualityCertificateValue): QualityCertificateJson {
  return {
    issuer: value.issuer,
    gtin: value.gtin.toString(),
    quantityMilli: value.quantityMilli.toString(),
    unit: value.unit,
    issuedOn: value.issuedOn.toString(),
    documentHash: value.documentHash,
  };
}

/**
 * A certificate as the public API answers it (`GET /api/v1/certificates/:id`): the document's
 * exact text (what is hashed), the signed value and signature, the domain it was signed in,
 * and, for reading only, who the platform says the issuer is. A verifier trusts none of the
 * last part: it recomputes the id and recovers the signer.
 */
export const publicCertificate = z.strictObject({
  id: hex32,
  primaryType: z.literal("QualityCertificate"),
  domain: z.strictObject({
    name: z.string(),
    version: z.string(),
    chainId: decimal(20),
    verifyingContract: address,
  }),
  value: z.strictObject({
    issuer: address,
    gtin: decimal(20),
    quantityMilli: decimal(20),
    unit: z.string(),
    issuedOn: z.string().check(z.regex(/^\d{8}$/)),
    documentHash: hex32,
  }),
  signature: z.string().check(z.regex(/^0x[0-9a-fA-F]{130}$/)),
  document: z.string().check(z.maxLength(65_536)),
  issuer: z.strictObject({
    organisationId: z.string(),
    name: localised,
    kind: z.string(),
    regionCode: z.string(),
    signerAddress: address,
    /** Where the organisation's registration stands on the ledger, as the platform says (`anchored` once registered). */
    ledgerState: z.nullable(z.string()),
  }),
  parents: z.array(hex32),
  batchIds: z.array(hex32),
  createdAt: z.string(),
});

export type PublicCertificate = z.infer<typeof publicCertificate>;
