/**
 * What batches refer to: products (by GTIN-14), an organisation's plots, and its
 * certifications (three-products-one-label).
 */
import type { Selectable } from "kysely";

import { formatQuantityMilli, quantityMilli } from "../domain/units.ts";
import { CERTIFICATION_KINDS, type CertificationKind } from "../domain/enumerations.ts";
import { fromJson, oneOf, stringArray, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { CertificationsTable, PlotsTable, ProductsTable } from "./schema.ts";

/** A product's net content per item: an exact decimal amount of a mass unit ("250", "g"). */
export interface NetContent {
  value: string;
  unit: string;
}

export interface Product {
  gtin: string;
  nameZh: string;
  nameEn: string | null;
  category: string;
  unit: string;
  coldChain: { minC: number; maxC: number } | null;
  maxYieldPerHa: number | null;
  /** What one item holds (a 250 g tin), for weighing items issued against the harvest; null when not declared. */
  netContent: NetContent | null;
  createdBy: string;
  createdAtMs: number;
}

function toProduct(row: Selectable<ProductsTable>): Product {
  return {
    gtin: row.gtin,
    nameZh: row.name_zh,
    nameEn: row.name_en,
    category: row.category,
    unit: row.unit,
    coldChain:
      row.cold_chain_min_c === null || row.cold_chain_max_c === null
        ? null
        : { minC: row.cold_chain_min_c, maxC: row.cold_chain_max_c },
    maxYieldPerHa: row.max_yield_per_ha,
    netContent:
      row.net_content_milli === null || row.net_content_unit === null
        ? null
        : { value: formatQuantityMilli(BigInt(row.net_content_milli)), unit: row.net_content_unit },
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
  };
}

export async function insertProduct(
  db: Db,
  product: Omit<Product, "createdAtMs">,
  nowMs = Date.now(),
): Promise<Product> {
  const row = await db
    .insertInto("products")
    .values({
      gtin: product.gtin,
      name_zh: product.nameZh,
      name_en: product.nameEn,
      category: product.category,
      unit: product.unit,
      cold_chain_min_c: product.coldChain?.minC ?? null,
      cold_chain_max_c: product.coldChain?.maxC ?? null,
      max_yield_per_ha: product.maxYieldPerHa,
      net_content_milli: product.netContent === null ? null : quantityMilli(product.netContent.value).toString(),
      net_content_unit: product.netContent?.unit ?? null,
      created_by: product.createdBy,
      created_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toProduct(row);
}

export async function getProduct(db: Db, gtin: string): Promise<Product | null> {
  const row = await db.selectFrom("products").selectAll().where("gtin", "=", gtin).executeTakeFirst();
  return row === undefined ? null : toProduct(row);
}

export interface Plot {
  id: string;
  organisationId: string;
  name: string;
  area: number;
  areaUnit: string;
  regionCode: string;
  /** Private: for the organisation and regulators only; the public page shows the region. */
  location: { latitude: number; longitude: number } | null;
  createdAtMs: number;
}

function toPlot(row: Selectable<PlotsTable>): Plot {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    area: row.area,
    areaUnit: row.area_unit,
    regionCode: row.region_code,
    location:
      row.latitude === null || row.longitude === null ? null : { latitude: row.latitude, longitude: row.longitude },
    createdAtMs: row.created_at_ms,
  };
}

export async function insertPlot(db: Db, plot: Omit<Plot, "createdAtMs">, nowMs = Date.now()): Promise<Plot> {
  const row = await db
    .insertInto("plots")
    .values({
      id: plot.id,
      organisation_id: plot.organisationId,
      name: plot.name,
      area: plot.area,
      area_unit: plot.areaUnit,
      region_code: plot.regionCode,
      latitude: plot.location?.latitude ?? null,
      longitude: plot.location?.longitude ?? null,
      created_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPlot(row);
}

export async function getPlot(db: Db, id: string): Promise<Plot | null> {
  const row = await db.selectFrom("plots").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toPlot(row);
}

export async function listPlots(db: Db, organisationId: string): Promise<Plot[]> {
  const rows = await db
    .selectFrom("plots")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .orderBy("name")
    .orderBy("id")
    .execute();
  return rows.map(toPlot);
}

export interface Certification {
  id: string;
  organisationId: string;
  kind: CertificationKind;
  number: string;
  issuer: string;
  validFromMs: number;
  validToMs: number;
  scopeGtins: string[];
  createdAtMs: number;
}

function toCertification(row: Selectable<CertificationsTable>): Certification {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    kind: oneOf(CERTIFICATION_KINDS, row.kind, "certifications.kind"),
    number: row.number,
    issuer: row.issuer,
    validFromMs: row.valid_from_ms,
    validToMs: row.valid_to_ms,
    scopeGtins: fromJson(stringArray, row.scope_gtins_json, "certifications.scope_gtins_json"),
    createdAtMs: row.created_at_ms,
  };
}

export async function insertCertification(
  db: Db,
  certification: Omit<Certification, "createdAtMs">,
  nowMs = Date.now(),
): Promise<Certification> {
  const row = await db
    .insertInto("certifications")
    .values({
      id: certification.id,
      organisation_id: certification.organisationId,
      kind: certification.kind,
      number: certification.number,
      issuer: certification.issuer,
      valid_from_ms: certification.validFromMs,
      valid_to_ms: certification.validToMs,
      scope_gtins_json: toJson(certification.scopeGtins),
      created_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCertification(row);
}

export async function listCertifications(db: Db, organisationId: string): Promise<Certification[]> {
  const rows = await db
    .selectFrom("certifications")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .orderBy("valid_from_ms")
    .orderBy("id")
    .execute();
  return rows.map(toCertification);
}

export async function getCertifications(db: Db, ids: readonly string[]): Promise<Certification[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("certifications").selectAll().where("id", "in", ids).orderBy("id").execute();
  return rows.map(toCertification);
}
