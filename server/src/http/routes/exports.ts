/**
 * Regulators' exports: EPCIS 2.0 JSON-LD and the key-data-element spreadsheet (CSV and
 * XLSX) for a batch or a query, streamed as they are written. A cooperative may export its
 * own batches.
 */
import { Router, type Request, type Response } from "express";

import { writeEpcisDocument } from "../../exports/epcis.ts";
import { kdeRows, writeKdeCsv, writeKdeXlsx } from "../../exports/kde-spreadsheet.ts";
import type { ServiceContext } from "../../services/context.ts";
import { batchesInScope, batchScope, loadExportInput, type BatchScope } from "../../services/export-input.ts";
import { jurisdictionOf } from "../../services/regulator.ts";
import { principalOf, requireRole } from "../auth.ts";
import { AppError } from "../../errors/app-error.ts";

/** The operator sees every batch, a regulator those of its region (in `inputFor`), a cooperative only its own. */
export function scopeFor(req: Request): BatchScope {
  const scope = batchScope.parse(req.query);
  const principal = principalOf(req);
  if (principal.roles.includes("admin") || principal.roles.includes("regulator")) return scope;
  if (principal.organisationId === null) throw new AppError("auth.forbidden");
  if (scope.organisationId !== undefined && scope.organisationId !== principal.organisationId) {
    throw new AppError("auth.forbidden");
  }
  return { ...scope, organisationId: principal.organisationId };
}

function attachment(res: Response, type: string, name: string): void {
  // Express quotes the name by RFC 6266 (the content-disposition package); the type stays ours.
  res.attachment(name);
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
}

export function exportsRouter(ctx: ServiceContext): Router {
  const router = Router();
  const stamp = (): string => new Date(ctx.now()).toISOString().slice(0, 19).replace(/[-:T]/g, "");

  async function inputFor(req: Request) {
    const scope = scopeFor(req);
    const batches = await batchesInScope(ctx, scope, await jurisdictionOf(ctx, principalOf(req)));
    if (scope.batchId !== undefined && principalOf(req).roles.includes("cooperative")) {
      const own = batches.every((b) => b.organisationId === principalOf(req).organisationId);
      if (!own) throw new AppError("batch.not_yours");
    }
    return loadExportInput(ctx, batches);
  }

  router.get("/api/v1/exports/epcis", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const input = await inputFor(req);
    attachment(res, "application/ld+json; charset=utf-8", `epcis-${stamp()}.jsonld`);
    await writeEpcisDocument(
      input,
      {
        creationDate: new Date(ctx.now()),
        senderName: "一物一码 traceability platform",
        publicOrigin: ctx.publicOrigin,
      },
      res,
    );
    res.end();
  });

  router.get("/api/v1/exports/kde.csv", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const rows = kdeRows(await inputFor(req));
    attachment(res, "text/csv; charset=utf-8", `kde-${stamp()}.csv`);
    await writeKdeCsv(rows, res);
    res.end();
  });

  router.get("/api/v1/exports/kde.xlsx", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const rows = kdeRows(await inputFor(req));
    attachment(res, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", `kde-${stamp()}.xlsx`);
    await writeKdeXlsx(rows, res);
    res.end();
  });

  return router;
}
