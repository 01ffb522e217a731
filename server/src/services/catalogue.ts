/** Products (by GTIN), and an organisation's plots and certifications. */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import { chinaDayLastMs, chinaDayStartMs } from "../domain/china-time.ts";
import { normalizeGtin } from "../domain/gs1.ts";
import { isoDay } from "../domain/instants.ts";
import { parseRegionCode } from "../domain/region.ts";
import { formatQuantityMilli, quantityMilli, unitCode, UNITS, type UnitName } from "../domain/units.ts";
import { AppError } from "../errors/app-error.ts";
import {
  insertCertification,
  insertPlot,
  insertProduct,
  type Certification,
  type NetContent,
  type Plot,
  type Product,
} from "../storage/catalogue.ts";
import { isUniqueViolation } from "../storage/database.ts";
import { inTransaction } from "../storage/transaction.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import { requireEntitled } from "./entitlement.ts";
import type { ServiceContext } from "./context.ts";

export const productRequest = z
  .object({
    gtin: z.string().max(20),
    name: z.object({ zh: z.string().trim().min(1).max(100), en: z.string().trim().max(200).nullish() }),
    category: z.string().trim().min(1).max(64),
    /** Our unit name: kg, g, t, piece, bag, box, ... (see domain/units.ts). */
    unit: z.string().max(16),
    coldChain: z
      .object({ minC: z.number().min(-60).max(60), maxC: z.number().min(-60).max(60) })
      .refine((range) => range.minC < range.maxC, "minC must be below maxC")
      .nullish(),
    maxYieldPerHa: z.number().positive().max(1e7).nullish(),
    /**
     * What one item holds, as a mass: `{ "value": "250", "unit": "g" }` (g, kg or t; a positive
     * decimal with at most 3 places). The audit weighs the items a batch issues against its harvest.
     */
    netContent: z
      .object({ value: z.string().max(32), unit: z.string().max(16) })
      .strict()
      .nullish(),
  })
  .strict();

/**
 * A declared net content, checked and normalised ("250.0" → "250"): the unit must be a mass
 * (`product.net_content_unit`), the value a positive decimal (`units.quantity_*`).
 */
export function netContentOf(input: { value: string; unit: string }): NetContent {
  const mass = Object.hasOwn(UNITS, input.unit) && UNITS[input.unit as UnitName].milligrams !== undefined;
  if (!mass)
    throw new AppError("product.net_content_unit", {}, { detail: `netContent.unit "${input.unit}" is not g, kg or t` });
  return { value: formatQuantityMilli(quantityMilli(input.value)), unit: input.unit };
}

export async function registerProduct(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: z.infer<typeof productRequest>,
): Promise<Product> {
  const gtin = normalizeGtin(request.gtin);
  unitCode(request.unit);
  const netContent = request.netContent == null ? null : netContentOf(request.netContent);
  const nowMs = ctx.now();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      // The operator registers any product; an organisation only one whose GTIN it may use.
      if (origin.principal.organisationId !== null) await requireEntitled(trx, origin.principal.organisationId, gtin);
      const product = await insertProduct(
        trx,
        {
          gtin,
          nameZh: request.name.zh,
          nameEn: request.name.en ?? null,
          category: request.category,
          unit: request.unit,
          coldChain: request.coldChain ?? null,
          maxYieldPerHa: request.maxYieldPerHa ?? null,
          netContent,
          createdBy: origin.principal.organisationId ?? "admin",
        },
        nowMs,
      );
      await recordWrite(trx, origin, "product.register", gtin, {}, nowMs);
      return product;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("product.exists", {}, { cause: error });
    throw error;
  }
}

export const plotRequest = z
  .object({
    name: z.string().trim().min(1).max(200),
    areaHa: z.number().positive().max(100_000),
    regionCode: z.string().regex(/^\d{6}$/),
    location: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).nullish(),
  })
  .strict();

export async function registerPlot(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof plotRequest>,
): Promise<Plot> {
  const regionCode = parseRegionCode(request.regionCode).code;
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const plot = await insertPlot(
      trx,
      {
        id: `plot_${randomUUID()}`,
        organisationId,
        name: request.name,
        area: request.areaHa,
        areaUnit: "ha",
        regionCode,
        location: request.location ?? null,
      },
      nowMs,
    );
    await recordWrite(trx, origin, "plot.register", plot.id, { organisationId }, nowMs);
    return plot;
  });
}

export const certificationRequest = z
  .object({
    kind: z.enum(["pollution_free", "green_food", "organic", "geographical_indication"]),
    number: z.string().trim().min(1).max(64),
    issuer: z.string().trim().min(1).max(200),
    validFrom: isoDay,
    validTo: isoDay,
    scopeGtins: z.array(z.string().max(20)).min(1).max(1_000),
  })
  .strict()
  .refine((c) => c.validFrom <= c.validTo, { message: "validFrom must not be after validTo", path: ["validTo"] });

export async function registerCertification(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof certificationRequest>,
): Promise<Certification> {
  const scopeGtins = request.scopeGtins.map((gtin) => normalizeGtin(gtin));
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const certification = await insertCertification(
      trx,
      {
        id: `cert_${randomUUID()}`,
        organisationId,
        kind: request.kind,
        number: request.number,
        issuer: request.issuer,
        validFromMs: chinaDayStartMs(request.validFrom),
        // Valid through the whole last day, China time.
        validToMs: chinaDayLastMs(request.validTo),
        scopeGtins,
      },
      nowMs,
    );
    await recordWrite(trx, origin, "certification.register", certification.id, { organisationId }, nowMs);
    return certification;
  });
}
