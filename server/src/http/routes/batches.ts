/** Batches: registration, search, one batch and its item links. */
import { Router, type Request } from "express";
import { z } from "zod";

import { chinaDayStartMs, chinaNextDayStartMs } from "../../domain/china-time.ts";
import { AppError } from "../../errors/app-error.ts";
import { batchRequest, registerBatch } from "../../services/batch-registration.ts";
import { requireBatch } from "../../services/batch-lookup.ts";
import { jurisdictionOf, requireBatchInJurisdiction } from "../../services/regulator.ts";
import { narrowRegionPrefix } from "../../domain/region.ts";
import type { ServiceContext } from "../../services/context.ts";
import { listItemLinks } from "../../services/items.ts";
import { searchBatches } from "../../services/lookups.ts";
import type { Batch } from "../../storage/batches.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";
import { awaiting, batchView } from "./views.ts";

const batchListQuery = z
  .object({
    organisationId: z.string().max(64).optional(),
    gtin: z
      .string()
      .regex(/^\d{14}$/)
      .optional(),
    /** GB/T 2260 prefix of the cooperative's region: "33" Zhejiang, "3301" Hangzhou, "330106" Xihu. */
    region: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional(),
    status: z.enum(["active", "recalled"]).optional(),
    harvestedFrom: z.iso.date().optional(),
    harvestedTo: z.iso.date().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

/** Serials are not public (a full list would let anyone print valid codes): the batch's cooperative and its region's regulators only. */
async function mayReadPrivate(ctx: ServiceContext, req: Request, batch: Batch): Promise<void> {
  const principal = principalOf(req);
  if (principal.roles.includes("admin")) return;
  if (principal.roles.includes("regulator")) {
    await requireBatchInJurisdiction(ctx, await jurisdictionOf(ctx, principal), batch);
    return;
  }
  if (principal.organisationId === batch.organisationId) return;
  throw new AppError("auth.forbidden");
}

export function batchesRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/batches", requireRole("cooperative"), async (req, res) => {
    // A large batch is minutes of the server's own work once the body is in: the idle
    // timeout is for silent clients, so it is off until this answer is sent.
    const idleMs = req.socket.timeout;
    req.socket.setTimeout(0);
    res.once("close", () => {
      if (!req.socket.destroyed) req.socket.setTimeout(idleMs ?? 0);
    });
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const accepted = await registerBatch(ctx, originOf(req), batchRequest.parse(req.body));
        if ("awaitingSignature" in accepted) return awaiting(res, accepted.awaitingSignature);
        res.setHeader("location", accepted.statusUrl);
        return { status: 202, body: { batch: batchView(accepted.batch), statusUrl: accepted.statusUrl } };
      },
      { validate: () => batchRequest.parse(req.body), recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/batches", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const principal = principalOf(req);
    const query = batchListQuery.parse(req.query);
    const ownOnly = !principal.roles.includes("admin") && !principal.roles.includes("regulator");
    const organisationId = ownOnly ? (principal.organisationId ?? "") : query.organisationId;
    // A regulator searches its own region only: the narrower of its prefix and the one asked.
    const jurisdiction = await jurisdictionOf(ctx, principal);
    const region = jurisdiction === null ? query.region : narrowRegionPrefix(jurisdiction, query.region);
    if (region === null) {
      res.json({ batches: [] });
      return;
    }
    const batches = await searchBatches(ctx, {
      organisationId,
      gtin: query.gtin,
      regionPrefix: region === "" ? undefined : region,
      status: query.status,
      harvestedFromMs: query.harvestedFrom === undefined ? undefined : chinaDayStartMs(query.harvestedFrom),
      harvestedBeforeMs: query.harvestedTo === undefined ? undefined : chinaNextDayStartMs(query.harvestedTo),
      limit: query.limit,
      offset: query.offset,
    });
    res.json({ batches: batches.map(batchView) });
  });

  router.get("/api/v1/batches/:batchId", async (req, res) => {
    const batch = await requireBatch(ctx, req.params.batchId);
    res.json({ batch: batchView(batch) });
  });

  router.get("/api/v1/batches/:batchId/items", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const batch = await requireBatch(ctx, String(req.params.batchId));
    await mayReadPrivate(ctx, req, batch);
    const page = pageQuery.parse(req.query);
    res.json({ items: await listItemLinks(ctx, batch, page), itemCount: batch.itemCount });
  });

  return router;
}
