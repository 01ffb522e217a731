/** 合格证 rows: the certificate, the batches it covers, the certificates it was issued from. */
import type { Selectable } from "kysely";

import type { Db } from "./database.ts";
import type { CertificatesTable } from "./schema.ts";

export interface StoredCertificate {
  id: string;
  issuerOrganisationId: string;
  issuerAddress: string;
  gtin: string;
  quantityMilli: bigint;
  unit: string;
  issuedOn: string;
  documentText: string;
  documentHash: string;
  signature: string;
  typedDataVersion: string;
  createdBy: string;
  createdAtMs: number;
  parents: string[];
  batchIds: string[];
}

export interface NewCertificate extends Omit<StoredCertificate, "createdAtMs" | "batchIds"> {
  /** Each batch covered, with what the certificate counts against its harvest. */
  batches: { batchId: string; quantityMilli: bigint }[];
  /** What it takes of each parent, in the order of `parents`. */
  parentShares: bigint[];
}

function toCertificate(row: Selectable<CertificatesTable>, parents: string[], batchIds: string[]): StoredCertificate {
  return {
    id: row.id,
    issuerOrganisationId: row.issuer_organisation_id,
    issuerAddress: row.issuer_address,
    gtin: row.gtin,
    quantityMilli: BigInt(row.quantity_milli),
    unit: row.unit,
    issuedOn: row.issued_on,
    documentText: row.document_text,
    documentHash: row.document_hash,
    signature: row.signature,
    typedDataVersion: row.typed_data_version,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    parents,
    batchIds,
  };
}

export async function insertCertificate(db: Db, certificate: NewCertificate, nowMs: number): Promise<void> {
  await db
    .insertInto("certificates")
    .values({
      id: certificate.id,
      issuer_organisation_id: certificate.issuerOrganisationId,
      issuer_address: certificate.issuerAddress,
      gtin: certificate.gtin,
      quantity_milli: certificate.quantityMilli.toString(),
      unit: certificate.unit,
      issued_on: certificate.issuedOn,
      document_text: certificate.documentText,
      document_hash: certificate.documentHash,
      signature: certificate.signature,
      typed_data_version: certificate.typedDataVersion,
      created_by: certificate.createdBy,
      created_at_ms: nowMs,
    })
    .execute();
  await db
    .insertInto("certificate_batches")
    .values(
      certificate.batches.map((batch) => ({
        certificate_id: certificate.id,
        batch_id: batch.batchId,
        quantity_milli: batch.quantityMilli.toString(),
      })),
    )
    .execute();
  if (certificate.parents.length > 0) {
    await db
      .insertInto("certificate_parents")
      .values(
        certificate.parents.map((parentId, position) => ({
          certificate_id: certificate.id,
          parent_id: parentId,
          position,
          quantity_milli: (certificate.parentShares[position] ?? 0n).toString(),
        })),
      )
      .execute();
  }
}

export async function getCertificate(db: Db, id: string): Promise<StoredCertificate | null> {
  const row = await db.selectFrom("certificates").selectAll().where("id", "=", id.toLowerCase()).executeTakeFirst();
  if (row === undefined) return null;
  const parents = await db
    .selectFrom("certificate_parents")
    .select("parent_id")
    .where("certificate_id", "=", row.id)
    .orderBy("position")
    .execute();
  const batches = await db
    .selectFrom("certificate_batches")
    .select("batch_id")
    .where("certificate_id", "=", row.id)
    .orderBy("batch_id")
    .execute();
  return toCertificate(
    row,
    parents.map((parent) => parent.parent_id),
    batches.map((batch) => batch.batch_id),
  );
}

/** What the certificates issued from each of `parentIds` already took of it. */
export async function takenOfParents(db: Db, parentIds: readonly string[]): Promise<Map<string, bigint>> {
  const taken = new Map<string, bigint>(parentIds.map((id) => [id, 0n]));
  if (parentIds.length === 0) return taken;
  const rows = await db
    .selectFrom("certificate_parents")
    .select(["parent_id", "quantity_milli"])
    .where("parent_id", "in", [...parentIds])
    .execute();
  for (const row of rows) taken.set(row.parent_id, (taken.get(row.parent_id) ?? 0n) + BigInt(row.quantity_milli));
  return taken;
}

/** What earlier certificates issued from the batch itself count against its harvest. */
export async function certifiedQuantityOfBatch(db: Db, batchId: string): Promise<bigint> {
  const rows = await db
    .selectFrom("certificate_batches")
    .select("quantity_milli")
    .where("batch_id", "=", batchId)
    .execute();
  return rows.reduce((sum, row) => sum + BigInt(row.quantity_milli), 0n);
}

export interface CertificateSummary {
  id: string;
  issuerOrganisationId: string;
  quantityMilli: bigint;
  unit: string;
  issuedOn: string;
  /** True when the certificate was issued from parents (a mixed or repacked lot). */
  mixed: boolean;
}

/** Every certificate covering the batch, directly or through parents, oldest first. */
export async function listCertificatesOfBatch(db: Db, batchId: string): Promise<CertificateSummary[]> {
  const rows = await db
    .selectFrom("certificate_batches")
    .innerJoin("certificates", "certificates.id", "certificate_batches.certificate_id")
    .select([
      "certificates.id",
      "certificates.issuer_organisation_id",
      "certificates.quantity_milli",
      "certificates.unit",
      "certificates.issued_on",
      "certificates.created_at_ms",
      "certificate_batches.quantity_milli as counted_milli",
    ])
    .where("certificate_batches.batch_id", "=", batchId)
    .orderBy("certificates.created_at_ms")
    .orderBy("certificates.id")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    issuerOrganisationId: row.issuer_organisation_id,
    quantityMilli: BigInt(row.quantity_milli),
    unit: row.unit,
    issuedOn: row.issued_on,
    mixed: row.counted_milli === "0",
  }));
}
