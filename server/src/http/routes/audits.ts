/**
 * Audits for regulators: one batch, or every batch of a query (cooperative, region,
 * product, harvest dates), re-verified from the chain and IPFS and checked against the
 * rules; JSON by default, a printable HTML report with `?format=html` (`&lang=en` for English).
 */
import { Router, type Request, type Response } from "express";
import type { JsonRpcProvider } from "ethers";
import { z } from "zod";

import { PLATFORM_CONTENT, PLATFORM_RPC } from "../../domain/audit-sources.ts";
import { renderAuditHtml, type BatchAuditReport, type ScopeAuditReport } from "../../services/audit/report.ts";
import { auditScope, auditStoredBatch, scanFacts, serverAuditSources } from "../../services/audit/run.ts";
import { requireBatch } from "../../services/batch-lookup.ts";
import type { ServiceContext } from "../../services/context.ts";
import { batchScope } from "../../services/export-input.ts";
import { jurisdictionOf, requireBatchInJurisdiction } from "../../services/regulator.ts";
import { principalOf, requireRole } from "../auth.ts";

/** `format=html` is the printable report, in Chinese (`lang=zh`, the default) or English (`lang=en`). */
const format = z.object({
  format: z.enum(["json", "html"]).default("json"),
  lang: z.enum(["zh", "en"]).default("zh"),
});

function send(req: Request, res: Response, report: BatchAuditReport | ScopeAuditReport): void {
  res.setHeader("Cache-Control", "no-store");
  const wanted = format.parse({ format: req.query.format, lang: req.query.lang });
  if (wanted.format === "html") {
    res.type("text/html; charset=utf-8").send(renderAuditHtml(report, wanted.lang));
  } else {
    res.json(report);
  }
}

export function auditsRouter(ctx: ServiceContext, options: { provider: JsonRpcProvider; fromBlock: number }): Router {
  const router = Router();
  const sources = serverAuditSources(ctx, options.provider, options.fromBlock);
  const describe = {
    chainId: ctx.domain.chainId.toString(),
    registry: ctx.domain.verifyingContract,
    rpc: PLATFORM_RPC,
    content: PLATFORM_CONTENT,
  };

  router.get("/api/v1/audits/batches/:batchId", requireRole("admin", "regulator"), async (req, res) => {
    const batch = await requireBatch(ctx, String(req.params.batchId));
    await requireBatchInJurisdiction(ctx, await jurisdictionOf(ctx, principalOf(req)), batch);
    send(req, res, (await auditStoredBatch(ctx, sources, batch, describe)).report);
  });

  router.get("/api/v1/batches/:batchId/scan-facts", requireRole("admin", "regulator"), async (req, res) => {
    const batch = await requireBatch(ctx, String(req.params.batchId));
    await requireBatchInJurisdiction(ctx, await jurisdictionOf(ctx, principalOf(req)), batch);
    res.json(await scanFacts(ctx, batch.batchId));
  });

  router.get("/api/v1/audits", requireRole("admin", "regulator"), async (req, res) => {
    const { format: _format, lang: _lang, ...query } = req.query;
    const scope = batchScope.parse(query);
    send(req, res, await auditScope(ctx, sources, scope, describe, await jurisdictionOf(ctx, principalOf(req))));
  });

  return router;
}
