/**
 * 合格证 issuing and reading (issue 14, part 5). A batch's cooperative or its current
 * custodian issues a certificate for part of the batch's registered quantity (never more, over
 * all its certificates: mass balance); a buyer who mixes or repacks lots issues one naming
 * certificates of batches it holds as parents, for at most what remains of them. The issuer signs the
 * `QualityCertificate` struct with its custodial key; the certificate is not submitted to the
 * registry (the contract knows no such type): its signature, checked against the issuer's
 * registered key, is the proof. Every refusal comes before anything is stored.
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
} from "../domain/certificate.ts";
import { chinaDate } from "../domain/china-time.ts";
import { regionName } from "../domain/region-names.ts";
import { DOMAIN_NAME, OFF_CHAIN_TYPES, domainFor } from "../domain/typed-data.ts";
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
import { inTransaction } from "../storage/transaction.ts";
import { keccak256Hex } from "../verify/bytes.ts";
import { structDigest } from "../verify/eip712.ts";
import { activeOrganisation } from "./active-organisation.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";
import { custodyOfBatch } from "./custody.ts";
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
  const issuer = await activeOrganisation(ctx, origin.principal.organisationId, ISSUER_KINDS);
  // Asking an own wallet would need a signature-request kind of its own; refused rather than half done.
  if (issuer.custody.kind === "own") throw new AppError("certificate.own_wallet");
  return issuer;
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

interface Prepared {
  issuer: Organisation;
  document: CertificateDocument;
  /** What the certificate counts against each batch it covers. */
  batches: { batchId: string; quantityMilli: bigint }[];
  /** What it takes of each parent, when it has parents. */
  parentShares: bigint[];
}

/** Signs the prepared document with the issuer's custodial key; nothing is stored yet. */
async function sign(
  ctx: ServiceContext,
  prepared: Prepared,
): Promise<{ id: string; text: string; documentHash: string; signature: string; document: CertificateDocument }> {
  const document = certificateDocument.parse(prepared.document);
  const text = JSON.stringify(document);
  const value = certificateValue(document, keccak256Hex(new TextEncoder().encode(text)));
  const id = structDigest(ctx.domain, "QualityCertificate", OFF_CHAIN_TYPES.QualityCertificate, {
    ...certificateValueJson(value),
  });
  if (prepared.issuer.custody.kind !== "server") throw new AppError("certificate.own_wallet");
  const wallet = await ctx.keyRing.unlock(prepared.issuer.custody.keystoreJson);
  const signature = await wallet.signTypedData(
    domainFor(ctx.domain.chainId, ctx.domain.verifyingContract, ctx.domain.version),
    { QualityCertificate: OFF_CHAIN_TYPES.QualityCertificate.map((field) => ({ ...field })) },
    { ...value },
  );
  return { id, text, documentHash: value.documentHash, signature, document };
}

async function store(
  ctx: ServiceContext,
  origin: WriteOrigin,
  prepared: Prepared,
  /** Judges the write again inside the transaction; answers the parents' shares (none without parents). */
  recheck: (trx: Db) => Promise<bigint[] | undefined>,
): Promise<StoredCertificate> {
  const signed = await sign(ctx, prepared);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    for (const batch of prepared.batches) await lockBatchCustody(trx, batch.batchId);
    // Judged again with the batches held: a certificate or a handover accepted meanwhile counts.
    const parentShares = (await recheck(trx)) ?? prepared.parentShares;
    await insertCertificate(
      trx,
      {
        id: signed.id,
        issuerOrganisationId: prepared.issuer.id,
        issuerAddress: prepared.issuer.signerAddress,
        gtin: signed.document.product.gtin,
        quantityMilli: BigInt(signed.document.quantity.milli),
        unit: signed.document.quantity.unit,
        issuedOn: signed.document.issuedOn,
        documentText: signed.text,
        documentHash: signed.documentHash,
        signature: signed.signature,
        typedDataVersion: ctx.domain.version,
        createdBy: origin.principal.credentialId ?? "admin",
        parents: signed.document.parents,
        parentShares,
        batches: prepared.batches,
      },
      nowMs,
    );
    await recordWrite(
      trx,
      origin,
      "certificate.issue",
      signed.id,
      { batchIds: signed.document.batchIds, parents: signed.document.parents },
      nowMs,
    );
  });
  const stored = await getCertificate(ctx.db, signed.id);
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
): Promise<StoredCertificate> {
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
  return store(
    ctx,
    origin,
    { issuer, document, batches: [{ batchId: batch.batchId, quantityMilli: milli }], parentShares: [] },
    async (trx) => {
      const current = await getBatch(trx, batch.batchId);
      if (current === null) throw new AppError("batch.not_found");
      if (!(await holdsBatch(trx, issuer.id, current))) throw new AppError("certificate.no_custody");
      await checkMassBalance(trx, current, milli);
      return undefined;
    },
  );
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
): Promise<StoredCertificate> {
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
  const checkHolds = async (db: Db): Promise<void> => {
    for (const batchId of batchIds) {
      const batch = await getBatch(db, batchId);
      if (batch === null || !(await holdsBatch(db, issuer.id, batch))) throw new AppError("certificate.no_custody");
      if (batch.status === "recalled") throw new AppError("batch.recalled");
    }
  };
  await checkHolds(ctx.db);
  const milli = quantityMilli(input.quantity.value);
  await sharesOfParents(ctx.db, parents, milli);
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
  return store(
    ctx,
    origin,
    // Through parents it counts nothing against a harvest: its parents already did.
    { issuer, document, batches: batchIds.map((batchId) => ({ batchId, quantityMilli: 0n })), parentShares: [] },
    async (trx) => {
      await checkHolds(trx);
      return sharesOfParents(trx, parents, milli);
    },
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
