/**
 * 合格证 issuing and reading (issue 14, part 5). A batch's cooperative or its current
 * custodian issues a certificate for part of the batch's registered quantity (never more, over
 * all its certificates: mass balance); a buyer who mixes or repacks lots issues one naming
 * certificates of batches it holds as parents, for at most what remains of them. The issuer signs the
 * `QualityCertificate` struct with its custodial key, or, holding its own key, in its wallet
 * through a signature request (judged again when the signature comes back); the certificate is
 * not submitted to the registry (the contract knows no such type): its signature, checked
 * against the issuer's registered key, is the proof. Every refusal comes before anything is stored.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import {
  CERTIFICATE_BASES,
  CERTIFICATE_PROMISE,
  MAX_PARENTS,
  certificateDocument,
  certificateValue,
  certificateValueJson,
  issuedOnNumber,
  type CertificateDocument,
  type PublicCertificate,
  type QualityCertificateValue,
} from "../domain/certificate.ts";
import { chinaDate } from "../domain/china-time.ts";
import { regionName } from "../domain/region-names.ts";
import { DOMAIN_NAME, OFF_CHAIN_TYPES } from "../domain/typed-data.ts";
import { quantityMilli, unitCode } from "../domain/units.ts";
import { AppError } from "../errors/app-error.ts";
import type { Batch } from "../storage/batches.ts";
import { getBatch } from "../storage/batches.ts";
import { getProduct } from "../storage/catalogue.ts";
import {
  takenOfParents,
  certifiedQuantityOfBatch,
  getCertificate,
  insertCertificate,
  listCertificatesOfBatch,
  type CertificateSummary,
  type StoredCertificate,
} from "../storage/certificates.ts";
import type { Db } from "../storage/database.ts";
import { lockBatchCustody } from "../storage/inspection-requests.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import type { StoredSignatureRequest } from "../storage/signature-requests.ts";
import { inTransaction } from "../storage/transaction.ts";
import { keccak256Hex } from "../verify/bytes.ts";
import { structDigest } from "../verify/eip712.ts";
import { activeOrganisation } from "./active-organisation.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";
import { custodyOfBatch } from "./custody.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import type { SignatureRequest } from "./signature-requests.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** Organisations that hold batches and so may certify them; inspectors and regulators never do. */
const ISSUER_KINDS = ["cooperative", "processor", "logistics", "retailer"] as const;

const certificateFields = {
  quantity: z.object({ value: z.string().max(32), unit: z.string().max(16) }).strict(),
  basis: z
    .array(z.enum(CERTIFICATE_BASES))
    .min(1)
    .max(CERTIFICATE_BASES.length)
    .refine((list) => new Set(list).size === list.length, "each basis once"),
  /** The issuer's contact phone, printed on the certificate. */
  phone: z.string().regex(/^\+?[0-9 -]{5,24}$/, "a phone number"),
  /** Where the product was grown; defaults to the batch's cooperative's (or the first parent's) region. */
  origin: z
    .object({
      regionCode: z.string().regex(/^\d{6}$/),
      place: z.string().trim().min(1).max(200).optional(),
    })
    .strict()
    .optional(),
  /** The China calendar day; today (China time) when omitted. */
  issuedOn: z.iso.date().optional(),
};

export const batchCertificateRequest = z.object(certificateFields).strict();
export const mixedCertificateRequest = z
  .object({
    ...certificateFields,
    parents: z
      .array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a certificate id"))
      .min(1)
      .max(MAX_PARENTS),
  })
  .strict();

export type BatchCertificateRequest = z.infer<typeof batchCertificateRequest>;
export type MixedCertificateRequest = z.infer<typeof mixedCertificateRequest>;

/** Whether the organisation holds the batch: its cooperative, or its custodian now. */
async function holdsBatch(db: Db, organisationId: string, batch: Batch): Promise<boolean> {
  if (batch.organisationId === organisationId) return true;
  return (await custodyOfBatch(db, batch.batchId)).custodian === organisationId;
}

function checkIssuedOn(date: string, nowMs: number): void {
  if (date > chinaDate(nowMs)) {
    throw new AppError("request.invalid", {}, { detail: "issuedOn is after today (China time)." });
  }
}

function originOf(input: { regionCode: string; place?: string | undefined }): CertificateDocument["origin"] {
  return { regionCode: input.regionCode, place: input.place ?? regionName(input.regionCode)?.zh ?? input.regionCode };
}

async function requireIssuer(ctx: ServiceContext, origin: WriteOrigin): Promise<Organisation> {
  return activeOrganisation(ctx, origin.principal.organisationId, ISSUER_KINDS);
}

function remainingOf(batch: Batch, certified: bigint): bigint {
  return batch.quantityMilli - certified;
}

async function checkMassBalance(db: Db, batch: Batch, milli: bigint): Promise<void> {
  const remaining = remainingOf(batch, await certifiedQuantityOfBatch(db, batch.batchId));
  if (milli > remaining) {
    throw new AppError("certificate.over_quantity", {
      requestedMilli: milli.toString(),
      remainingMilli: (remaining < 0n ? 0n : remaining).toString(),
    });
  }
}

/**
 * What a certificate of an issuer holding its own key needs to be stored once signed, kept
 * with its signature request: the document's exact text (its random serial included: the
 * signed value binds it by its hash) and what it counts against each batch it covers. What
 * it takes of each parent is kept as judged when prepared, and taken again at submission.
 */
const preparedCertificate = z
  .object({
    documentText: z.string(),
    batches: z.array(z.object({ batchId: z.string(), quantityMilli: z.bigint() }).strict()).min(1),
    parentShares: z.array(z.bigint()),
    createdBy: z.string(),
  })
  .strict();
type PreparedCertificate = z.infer<typeof preparedCertificate>;

/** A certificate request: stored at once (custodial key), or waiting for the issuer's own wallet. */
export type CertificateIssue = StoredCertificate | { awaitingSignature: SignatureRequest };

const utf8 = new TextEncoder();

function signedValueOf(documentText: string): QualityCertificateValue {
  const document = certificateDocument.parse(JSON.parse(documentText));
  return certificateValue(document, keccak256Hex(utf8.encode(documentText)));
}

/** The certificate's id: its struct's EIP-712 digest, what its issuer signs. */
function certificateId(ctx: ServiceContext, value: QualityCertificateValue): string {
  return structDigest(ctx.domain, "QualityCertificate", OFF_CHAIN_TYPES.QualityCertificate, {
    ...certificateValueJson(value),
  });
}

/**
 * The rules that may have changed since the certificate was prepared, judged with its batches
 * held: custody (and no recall) of every batch, and what remains of the batch or the parents.
 * Answers what it takes of each parent (none without parents).
 */
async function judgeAgain(db: Db, issuer: Organisation, document: CertificateDocument): Promise<bigint[]> {
  const milli = BigInt(document.quantity.milli);
  if (document.parents.length > 0) {
    await requireHeld(db, issuer, document.batchIds);
    return sharesOfParents(db, await parentsOf(db, document.parents), milli);
  }
  const [batchId] = document.batchIds;
  const current = batchId === undefined ? null : await getBatch(db, batchId);
  if (current === null) throw new AppError("batch.not_found");
  if (!(await holdsBatch(db, issuer.id, current))) throw new AppError("certificate.no_custody");
  if (current.status === "recalled") throw new AppError("batch.recalled");
  await checkMassBalance(db, current, milli);
  return [];
}

/** Every batch held by the issuer (cooperative or custodian now) and none recalled. */
async function requireHeld(db: Db, issuer: Organisation, batchIds: readonly string[]): Promise<void> {
  for (const batchId of batchIds) {
    const batch = await getBatch(db, batchId);
    if (batch === null || !(await holdsBatch(db, issuer.id, batch))) throw new AppError("certificate.no_custody");
    if (batch.status === "recalled") throw new AppError("batch.recalled");
  }
}

async function parentsOf(db: Db, ids: readonly string[]): Promise<StoredCertificate[]> {
  const parents: StoredCertificate[] = [];
  for (const id of ids) {
    const parent = await getCertificate(db, id);
    if (parent === null) throw new AppError("certificate.parent_invalid", { parent: id, reason: "unknown" });
    parents.push(parent);
  }
  return parents;
}

/**
 * Signs the prepared document as the issuer: with its custodial key, stored at once; or asks
 * its own wallet, nothing stored until the signature comes back (`submitCertificate`).
 */
async function signAndStore(
  ctx: ServiceContext,
  origin: WriteOrigin,
  issuer: Organisation,
  document: CertificateDocument,
  batches: PreparedCertificate["batches"],
  parentShares: bigint[],
): Promise<CertificateIssue> {
  const prepared: PreparedCertificate = {
    documentText: JSON.stringify(certificateDocument.parse(document)),
    batches,
    parentShares,
    createdBy: origin.principal.credentialId ?? "admin",
  };
  const value = signedValueOf(prepared.documentText);
  const signed = await signAsOrganisation(
    ctx,
    origin,
    issuer,
    { primaryType: "QualityCertificate", value },
    { record: prepared, deadline: BigInt(Math.floor(ctx.now() / 1000) + ctx.signatureTtlSeconds) },
  );
  if ("awaitingSignature" in signed) return signed;
  return store(ctx, origin, issuer, prepared, value, signed.signature);
}

/**
 * Completes the certificate request of an issuer holding its own key, its signature already
 * checked against the prepared value (sign-and-submit.ts): stored as a custodial one is, once
 * custody and mass balance are judged again as they are now.
 */
export async function submitCertificate(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: Pick<StoredSignatureRequest, "id" | "organisationId" | "record">,
  value: QualityCertificateValue,
  signature: string,
): Promise<StoredCertificate> {
  // The public certificate (domain/certificate.ts) carries 65 bytes: a longer contract wallet's
  // signature (a Safe's, its owners' concatenated) would be stored as a certificate no verifier reads.
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new AppError(
      "signature.invalid",
      {},
      { detail: "A certificate's signature is 65 bytes; verifiers do not read a longer contract-wallet signature." },
    );
  }
  const prepared = preparedCertificate.parse(request.record);
  const kept = signedValueOf(prepared.documentText);
  if (certificateId(ctx, kept) !== certificateId(ctx, value)) {
    throw new Error(`the document kept with ${request.id} is not the one its value signs`);
  }
  const issuer = await activeOrganisation(ctx, request.organisationId, ISSUER_KINDS);
  return store(ctx, origin, issuer, prepared, value, signature);
}

async function store(
  ctx: ServiceContext,
  origin: WriteOrigin,
  issuer: Organisation,
  prepared: PreparedCertificate,
  value: QualityCertificateValue,
  signature: string,
): Promise<StoredCertificate> {
  const document = certificateDocument.parse(JSON.parse(prepared.documentText));
  const id = certificateId(ctx, value);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    for (const batch of prepared.batches) await lockBatchCustody(trx, batch.batchId);
    // Judged again with the batches held: a certificate or a handover accepted meanwhile counts.
    const parentShares = await judgeAgain(trx, issuer, document);
    await insertCertificate(
      trx,
      {
        id,
        issuerOrganisationId: issuer.id,
        issuerAddress: document.issuer.signer,
        gtin: document.product.gtin,
        quantityMilli: BigInt(document.quantity.milli),
        unit: document.quantity.unit,
        issuedOn: document.issuedOn,
        documentText: prepared.documentText,
        documentHash: value.documentHash,
        signature,
        typedDataVersion: ctx.domain.version,
        createdBy: prepared.createdBy,
        parents: document.parents,
        parentShares,
        batches: prepared.batches,
      },
      nowMs,
    );
    await recordWrite(
      trx,
      origin,
      "certificate.issue",
      id,
      { batchIds: document.batchIds, parents: document.parents },
      nowMs,
    );
  });
  const stored = await getCertificate(ctx.db, id);
  if (stored === null) throw new AppError("certificate.not_found");
  return stored;
}

function commonDocument(
  issuer: Organisation,
  input: BatchCertificateRequest,
  rest: Pick<CertificateDocument, "product" | "quantity" | "origin" | "batchIds" | "parents">,
  nowMs: number,
): CertificateDocument {
  const issuedOn = input.issuedOn ?? chinaDate(nowMs);
  checkIssuedOn(issuedOn, nowMs);
  return {
    type: "oioc.quality-certificate",
    version: 1,
    serial: randomUUID(),
    ...rest,
    issuedOn,
    issuer: { signer: issuer.signerAddress, name: { zh: issuer.nameZh, en: issuer.nameEn }, phone: input.phone },
    promise: { zh: CERTIFICATE_PROMISE.zh, en: CERTIFICATE_PROMISE.en },
    basis: input.basis,
  };
}

/** `POST /api/v1/batches/:batchId/certificates`: a certificate for part (or all) of a batch. */
export async function issueBatchCertificate(
  ctx: ServiceContext,
  origin: WriteOrigin,
  batchId: string,
  input: BatchCertificateRequest,
): Promise<CertificateIssue> {
  const issuer = await requireIssuer(ctx, origin);
  const batch = await requireBatch(ctx, batchId);
  if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
  // Until the registry accepts the batch its attestation may still fail, and a failed batch is
  // removed to be registered again: a certificate must not name a batch that may vanish.
  if (batch.ledger.state !== "anchored") throw new AppError("certificate.batch_not_anchored");
  if (batch.status === "recalled") throw new AppError("batch.recalled");
  if (!(await holdsBatch(ctx.db, issuer.id, batch))) throw new AppError("certificate.no_custody");
  if (unitCode(input.quantity.unit) !== batch.unit) {
    throw new AppError("product.unit_mismatch", {}, { detail: `${input.quantity.unit} is not the batch's unit` });
  }
  const milli = quantityMilli(input.quantity.value);
  await checkMassBalance(ctx.db, batch, milli);
  if (input.issuedOn !== undefined && input.issuedOn < chinaDate(batch.harvestedAtMs)) {
    throw new AppError("request.invalid", {}, { detail: "issuedOn is before the batch's harvest (China time)." });
  }
  const product = await getProduct(ctx.db, batch.gtin);
  const cooperative = await getOrganisation(ctx.db, batch.organisationId);
  const document = commonDocument(
    issuer,
    input,
    {
      product: { gtin: batch.gtin, name: { zh: product?.nameZh ?? batch.gtin, en: product?.nameEn ?? null } },
      quantity: { milli: milli.toString(), unit: batch.unit },
      origin: originOf(input.origin ?? { regionCode: cooperative?.regionCode ?? "000000" }),
      batchIds: [batch.batchId],
      parents: [],
    },
    ctx.now(),
  );
  return signAndStore(ctx, origin, issuer, document, [{ batchId: batch.batchId, quantityMilli: milli }], []);
}

/**
 * `POST /api/v1/certificates`: a mixed or repacked lot's certificate. Each parent must be a
 * certificate of batches the issuer holds (so a buyer certifies only what it bought), in the
 * new certificate's unit; the quantity is at most what remains of the parents (each gives out
 * its quantity once, over all the certificates issued from it).
 */
export async function issueMixedCertificate(
  ctx: ServiceContext,
  origin: WriteOrigin,
  input: MixedCertificateRequest,
): Promise<CertificateIssue> {
  const issuer = await requireIssuer(ctx, origin);
  const ids = input.parents.map((id) => id.toLowerCase());
  if (new Set(ids).size !== ids.length) throw new AppError("certificate.parent_invalid", { reason: "named twice" });
  const unit = unitCode(input.quantity.unit);
  const parents: StoredCertificate[] = [];
  for (const id of ids) {
    const parent = await getCertificate(ctx.db, id);
    if (parent === null) throw new AppError("certificate.parent_invalid", { parent: id, reason: "unknown" });
    if (parent.unit !== unit) throw new AppError("certificate.parent_invalid", { parent: id, reason: "unit" });
    // One certificate names one product: lots of different products are certified apart.
    if (parents.length > 0 && parent.gtin !== parents[0]?.gtin) {
      throw new AppError("certificate.parent_invalid", { parent: id, reason: "product" });
    }
    parents.push(parent);
  }
  const batchIds = [...new Set(parents.flatMap((parent) => parent.batchIds))].sort();
  await requireHeld(ctx.db, issuer, batchIds);
  const milli = quantityMilli(input.quantity.value);
  const parentShares = await sharesOfParents(ctx.db, parents, milli);
  const first = parents[0];
  if (first === undefined) throw new AppError("certificate.parent_invalid", { reason: "none" });
  const firstDocument = certificateDocument.parse(JSON.parse(first.documentText));
  const document = commonDocument(
    issuer,
    input,
    {
      product: firstDocument.product,
      quantity: { milli: milli.toString(), unit },
      origin: input.origin === undefined ? firstDocument.origin : originOf(input.origin),
      batchIds,
      parents: ids,
    },
    ctx.now(),
  );
  // Through parents it counts nothing against a harvest: its parents already did.
  return signAndStore(
    ctx,
    origin,
    issuer,
    document,
    batchIds.map((batchId) => ({ batchId, quantityMilli: 0n })),
    parentShares,
  );
}

/**
 * What the new certificate takes of each parent: what remains of the first, then of the next,
 * until `milli` is covered. A parent gives out at most its own quantity over all the
 * certificates issued from it, so repacking the same lots again cannot certify more.
 */
async function sharesOfParents(db: Db, parents: readonly StoredCertificate[], milli: bigint): Promise<bigint[]> {
  const taken = await takenOfParents(
    db,
    parents.map((parent) => parent.id),
  );
  const remaining = parents.map((parent) => {
    const left = parent.quantityMilli - (taken.get(parent.id) ?? 0n);
    return left > 0n ? left : 0n;
  });
  const available = remaining.reduce((total, left) => total + left, 0n);
  if (milli > available) {
    throw new AppError("certificate.parents_over_quantity", {
      requestedMilli: milli.toString(),
      remainingMilli: available.toString(),
    });
  }
  let due = milli;
  return remaining.map((left) => {
    const share = left < due ? left : due;
    due -= share;
    return share;
  });
}

/** The public JSON of a certificate (`domain/certificate.ts` `publicCertificate`). */
export async function publicCertificateOf(ctx: ServiceContext, id: string): Promise<PublicCertificate> {
  const stored = /^0x[0-9a-fA-F]{64}$/.test(id) ? await getCertificate(ctx.db, id) : null;
  if (stored === null) throw new AppError("certificate.not_found");
  return publicView(ctx, stored);
}

export async function storedCertificate(ctx: ServiceContext, id: string): Promise<StoredCertificate> {
  const stored = /^0x[0-9a-fA-F]{64}$/.test(id) ? await getCertificate(ctx.db, id) : null;
  if (stored === null) throw new AppError("certificate.not_found");
  return stored;
}

export async function publicView(ctx: ServiceContext, stored: StoredCertificate): Promise<PublicCertificate> {
  const issuer = await getOrganisation(ctx.db, stored.issuerOrganisationId);
  if (issuer === null) throw new AppError("organisation.not_found");
  // The struct as it was signed, from its stored fields: a verifier recomputes the rest.
  const value = {
    issuer: stored.issuerAddress,
    gtin: BigInt(stored.gtin).toString(),
    quantityMilli: stored.quantityMilli.toString(),
    unit: stored.unit,
    issuedOn: issuedOnNumber(stored.issuedOn).toString(),
    documentHash: stored.documentHash,
  };
  return {
    id: stored.id,
    primaryType: "QualityCertificate",
    domain: {
      name: DOMAIN_NAME,
      version: stored.typedDataVersion,
      chainId: ctx.domain.chainId.toString(),
      verifyingContract: ctx.domain.verifyingContract,
    },
    value,
    signature: stored.signature,
    document: stored.documentText,
    issuer: {
      organisationId: issuer.id,
      name: { zh: issuer.nameZh, en: issuer.nameEn },
      kind: issuer.kind,
      regionCode: issuer.regionCode,
      signerAddress: stored.issuerAddress,
      ledgerState: issuer.ledgerState,
    },
    parents: stored.parents,
    batchIds: stored.batchIds,
    createdAt: new Date(stored.createdAtMs).toISOString(),
  };
}

/** The certificates covering a batch, for the resolver and the lot card to show (next round). */
export async function certificatesOfBatch(ctx: ServiceContext, batchId: string): Promise<CertificateSummary[]> {
  const batch = await requireBatch(ctx, batchId);
  return listCertificatesOfBatch(ctx.db, batch.batchId);
}

/** The certificate's public page, where its QR code points. */
export function certificatePageUrl(ctx: ServiceContext, id: string): string {
  return `${ctx.publicOrigin}/c/${id}`;
}
