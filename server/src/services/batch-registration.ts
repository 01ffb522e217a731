/**
 * Registering a harvest batch: validate everything it refers to, issue the item serials
 * and hidden codes, build the item tree, publish the metadata document (and the
 * encrypted serial archive) on IPFS, sign the attestation with the cooperative's key, and
 * store batch, items and outbox entry in one transaction before answering. From there
 * the ledger writer anchors it; nothing accepted is lost if the chain is away.
 */
import { z } from "zod";

import { chinaDate } from "../domain/china-time.ts";
import { batchMetadataDocument, type BatchMetadataDocument } from "../domain/documents.ts";
import { gtinToUint64, normalizeGtin, validateLot } from "../domain/gs1.ts";
import { isoInstant } from "../domain/instants.ts";
import { checkHarvestedAt, checkLedgerGtin, checkLedgerUnitAndCount, ledgerSeconds } from "../domain/registry-rules.ts";
import { CURRENT_TYPED_DATA_VERSION, type BatchAttestationValue } from "../domain/typed-data.ts";
import { quantityMilli, unitCode } from "../domain/units.ts";
import { AppError } from "../errors/app-error.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import {
  getBatchByLot,
  insertBatch,
  insertItemColumns,
  removeFailedBatch,
  type Batch,
  type NewBatch,
} from "../storage/batches.ts";
import { appendAudit } from "../storage/audit-log.ts";
import { getCertifications, getPlot, getProduct } from "../storage/catalogue.ts";
import { isUniqueViolation } from "../storage/database.ts";
import { inTransaction } from "../storage/transaction.ts";
import { getMedia } from "../storage/media.ts";
import { allocateNonces } from "../storage/nonces.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { batchIdOf } from "../verify/batch-id.ts";
import { issueItems } from "../workers/heavy.ts";
import { activeOrganisation } from "./active-organisation.ts";
import { requireEntitled } from "./entitlement.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import type { ServiceContext } from "./context.ts";
import { storeBytes, storeJsonDocument } from "./documents.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import type { SignatureRequest } from "./signature-requests.ts";

/** Items one registration may issue unless `BATCH_MAX_ITEMS` says otherwise. */
export const MAX_ITEMS_PER_BATCH = 1_000_000;
/** What `BATCH_MAX_ITEMS` may be raised to: the largest batch anyone could print labels for. */
export const ITEM_COUNT_CEILING = 10_000_000;

const localised = z.object({ zh: z.string().trim().max(2_000), en: z.string().trim().max(2_000).nullish() });

export const batchRequest = z
  .object({
    gtin: z.string().max(20),
    lot: z.string().max(40),
    plotId: z.string().max(64).nullish(),
    harvestedAt: isoInstant,
    quantity: z.object({ value: z.string().max(32), unit: z.string().max(16) }).strict(),
    itemCount: z.number().int().min(1).max(ITEM_COUNT_CEILING),
    /** Print a hidden verification code under a scratch-off on every label. */
    hiddenCodes: z.boolean().default(true),
    certificationIds: z.array(z.string().max(64)).max(20).default([]),
    /** 承诺达标合格证 number. */
    complianceCertificateNumber: z.string().trim().max(64).nullish(),
    description: localised.nullish(),
    videoCid: z.string().max(128).nullish(),
    photoCids: z.array(z.string().max(128)).max(50).default([]),
  })
  .strict();
export type BatchRequest = z.input<typeof batchRequest>;

/** A CID we hold as uploaded media, in canonical base32 CIDv1 text. */
async function uploadedMediaCid(ctx: ServiceContext, text: string): Promise<string> {
  let canonical: string;
  try {
    canonical = parseCid(text).toV1().toString();
  } catch {
    throw new AppError("ipfs.cid_malformed", {}, { detail: text });
  }
  if ((await getMedia(ctx.db, canonical)) === null) throw new AppError("media.not_found", {}, { detail: canonical });
  return canonical;
}

export type AcceptedBatch = { batch: Batch; statusUrl: string } | { awaitingSignature: SignatureRequest };

export async function registerBatch(
  ctx: ServiceContext,
  origin: WriteOrigin,
  input: z.infer<typeof batchRequest>,
): Promise<AcceptedBatch> {
  const maxItems = ctx.maxItemsPerBatch ?? MAX_ITEMS_PER_BATCH;
  if (input.itemCount > maxItems) {
    throw new AppError(
      "batch.too_many_items",
      { maxItems },
      { detail: `${String(input.itemCount)} items; at most ${String(maxItems)} per batch` },
    );
  }
  const cooperative = await activeOrganisation(ctx, origin.principal.organisationId, ["cooperative"]);
  const gtin = normalizeGtin(input.gtin);
  const lot = validateLot(input.lot);
  checkLedgerGtin(gtinToUint64(gtin));
  // The registry refuses a batch of a GTIN its attester neither owns nor was granted.
  await requireEntitled(ctx.db, cooperative.id, gtin);
  const product = await getProduct(ctx.db, gtin);
  if (product === null) throw new AppError("product.not_found", {}, { detail: gtin });
  if (input.quantity.unit !== product.unit) {
    throw new AppError("product.unit_mismatch", {}, { detail: `${input.quantity.unit} ≠ ${product.unit}` });
  }
  const unit = unitCode(input.quantity.unit);
  const milli = quantityMilli(input.quantity.value);
  checkLedgerUnitAndCount(unit, input.itemCount);
  const harvestedAtMs = Date.parse(input.harvestedAt);
  const nowMs = ctx.now();
  checkHarvestedAt(harvestedAtMs, nowMs);
  const plot = input.plotId == null ? null : await getPlot(ctx.db, input.plotId);
  if (input.plotId != null && (plot === null || plot.organisationId !== cooperative.id)) {
    throw new AppError("plot.not_found", {}, { detail: input.plotId });
  }
  const certifications = await getCertifications(ctx.db, input.certificationIds);
  if (
    certifications.length !== new Set(input.certificationIds).size ||
    certifications.some((c) => c.organisationId !== cooperative.id)
  ) {
    throw new AppError("certification.not_found");
  }
  const videoCid = input.videoCid == null ? null : await uploadedMediaCid(ctx, input.videoCid);
  const photoCids = await Promise.all(input.photoCids.map((cid) => uploadedMediaCid(ctx, cid)));

  const batchId = batchIdOf(gtin, lot);
  // A lot whose attestation the registry refused is free again (commitBatch replaces it).
  const existing = await getBatchByLot(ctx.db, gtin, lot);
  if (existing !== null && existing.ledger.state !== "failed") throw new AppError("batch.exists");

  // Serials, hidden-code HMACs, the tree and the sealed archive: seconds of CPU for a
  // million items, done on a worker thread so the loop keeps answering.
  const issued = await issueItems({
    count: input.itemCount,
    hiddenCodes: input.hiddenCodes,
    pepper: ctx.secrets.hiddenCodePepper,
    batchId,
    archiveSecret: ctx.secrets.keystoreSecret,
  });
  const { serials, hiddenCodeHmacs } = issued;
  const tree = { root: issued.root };
  const archive = await storeBytes(ctx.content, issued.archive);
  const metadataDocument: BatchMetadataDocument = batchMetadataDocument.parse({
    type: "oioc.batch-metadata",
    version: 2,
    gtin,
    lot,
    product: {
      name: { zh: product.nameZh, en: product.nameEn },
      category: product.category,
      unit: product.unit,
      // Signed with the batch, so a consumer's page judges excursions against what the cooperative attested.
      coldChain: product.coldChain,
    },
    cooperative: {
      name: { zh: cooperative.nameZh, en: cooperative.nameEn },
      uscc: cooperative.uscc,
      regionCode: cooperative.regionCode,
      signer: cooperative.signerAddress,
    },
    plot: plot === null ? null : { id: plot.id, name: plot.name, regionCode: plot.regionCode, areaHa: plot.area },
    harvestedAt: new Date(harvestedAtMs).toISOString(),
    quantity: { value: input.quantity.value.trim(), unit: input.quantity.unit },
    itemCount: input.itemCount,
    complianceCertificateNumber: input.complianceCertificateNumber ?? null,
    certifications: certifications.map((c) => ({
      kind: c.kind,
      number: c.number,
      issuer: c.issuer,
      validFrom: chinaDate(c.validFromMs),
      validTo: chinaDate(c.validToMs),
      scopeGtins: c.scopeGtins,
    })),
    videoCid,
    photoCids,
    description: input.description == null ? null : { zh: input.description.zh, en: input.description.en ?? null },
    itemsArchiveCid: archive.cidText,
  });
  const metadata = await storeJsonDocument(ctx.content, metadataDocument);

  const deadline = BigInt(Math.floor(nowMs / 1000) + ctx.signatureTtlSeconds);
  const nonce = await allocateNonces(ctx.db, cooperative.signerAddress, 1, nowMs);
  const value: BatchAttestationValue = {
    attester: cooperative.signerAddress,
    gtin: gtinToUint64(gtin),
    lot,
    itemsRoot: tree.root,
    itemCount: BigInt(input.itemCount),
    quantityMilli: milli,
    unit,
    harvestedAt: ledgerSeconds(harvestedAtMs),
    metadataCid: metadata.cidHex,
    nonce,
    deadline,
  };
  const record: UnsignedBatch = {
    batchId,
    gtin,
    lot,
    organisationId: cooperative.id,
    plotId: plot?.id ?? null,
    harvestedAtMs,
    quantityMilli: milli,
    unit,
    itemCount: input.itemCount,
    itemsRoot: tree.root,
    metadataCid: metadata.cidText,
    videoCid,
    photoCids,
    certificateNumber: input.complianceCertificateNumber ?? null,
    certificationIds: certifications.map((c) => c.id),
    description: { zh: input.description?.zh ?? null, en: input.description?.en ?? null },
    createdBy: origin.principal.credentialId ?? "admin",
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    cooperative,
    { primaryType: "BatchAttestation", value },
    { record: { ...record, itemsArchiveCid: archive.cidText }, deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  const batch = await commitBatch(ctx, origin, record, value, signed.signature, serials, hiddenCodeHmacs);
  return { batch, statusUrl: `/api/v1/batches/${batchId}` };
}

/** A batch as stored, before it carries a signature. */
export type UnsignedBatch = Omit<NewBatch, "attestation">;

/**
 * Stores a signed batch, its items and its outbox entry in one transaction; refuses a second
 * batch with its key unless the first one's attestation failed on chain, which it replaces
 * (the failed attempt stays in the audit log, with what the registry said).
 */
export async function commitBatch(
  ctx: ServiceContext,
  origin: WriteOrigin,
  record: UnsignedBatch,
  value: BatchAttestationValue,
  signature: string,
  serials: readonly string[],
  hiddenCodeHmacs: readonly (string | null)[],
): Promise<Batch> {
  const nowMs = ctx.now();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      // Again at this moment: a grant withdrawn while an own wallet was signing no longer entitles.
      await requireEntitled(trx, record.organisationId, record.gtin);
      const failed = await removeFailedBatch(trx, record.batchId);
      if (failed !== null) {
        await appendAudit(trx, {
          organisationId: origin.principal.organisationId,
          credentialId: origin.principal.credentialId,
          action: "batch.replace_failed",
          target: record.batchId,
          atMs: nowMs,
          details: {
            failureReason: failed.ledger.failureReason,
            txHash: failed.ledger.txHash,
            organisationId: failed.organisationId,
            itemsRoot: failed.itemsRoot,
            itemCount: failed.itemCount,
            metadataCid: failed.metadataCid,
            harvestedAtMs: failed.harvestedAtMs,
            createdAtMs: failed.createdAtMs,
          },
          requestId: origin.requestId,
        });
      }
      const stored = await insertBatch(
        trx,
        {
          ...record,
          attestation: {
            signerAddress: value.attester,
            signature,
            nonce: value.nonce,
            deadline: value.deadline,
            typedDataVersion: CURRENT_TYPED_DATA_VERSION,
          },
        },
        nowMs,
      );
      // Chunked statements that yield between them: the loop breathes while a million rows go in.
      await insertItemColumns(trx, record.batchId, serials, hiddenCodeHmacs);
      await enqueueOutbox(trx, outboxEntry("attestation", record.batchId, { value, signature }), nowMs);
      await recordWrite(
        trx,
        origin,
        "batch.register",
        record.batchId,
        { gtin: record.gtin, lot: record.lot, itemCount: record.itemCount },
        nowMs,
      );
      return stored;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("batch.exists", {}, { cause: error });
    throw error;
  }
}
