/**
 * Label sheets and single QR codes for a batch's items, for its cooperative (and the
 * operator). The sheet is streamed: items are read from the store a page of rows at a
 * time and each label is drawn and sent before the next is read, so a 100,000-item batch
 * never sits in memory. The hidden codes (derived by services/items.ts) are printed in their boxes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

import { Router, type Request } from "express";

import { labelGeometry, labelSheetLayoutQuerySchema } from "../../labels/sheet/geometry.ts";
import { writeLabelSheet } from "../../labels/sheet/write-sheet.ts";
import { qrPng, qrSvg } from "../../labels/qr.ts";
import { requireBatch } from "../../services/batch-lookup.ts";
import type { ServiceContext } from "../../services/context.ts";
import { itemUri, labelSheetOf, requireItem } from "../../services/items.ts";
import type { Batch } from "../../storage/batches.ts";
import { principalOf, requireRole } from "../auth.ts";
import { AppError } from "../../errors/app-error.ts";

/** How long a label download link works: long enough to open it on the print-room PC. */
const LINK_TTL_MS = 60 * 60 * 1000;

function linkSignature(ctx: ServiceContext, batchId: string, expiresMs: number): string {
  return createHmac("sha256", ctx.secrets.keystoreSecret)
    .update(`oioc:label-link:v1\u0000${batchId.toLowerCase()}\u0000${String(expiresMs)}`)
    .digest("base64url");
}

/** A signed link, valid for an hour, that opens the sheet without credentials (to print from another device). */
function signedLinkValid(ctx: ServiceContext, req: Request, batchId: string): boolean {
  const expires = Number(req.query.expires);
  const sig = req.query.sig;
  if (!Number.isSafeInteger(expires) || typeof sig !== "string" || expires < ctx.now()) return false;
  const expected = Buffer.from(linkSignature(ctx, batchId, expires));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function mayPrint(req: Request, batch: Batch): void {
  const principal = principalOf(req);
  if (principal.roles.includes("admin") || principal.organisationId === batch.organisationId) return;
  throw new AppError("batch.not_yours");
}

export function labelsRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/batches/:batchId/label-links", requireRole("admin", "cooperative"), async (req, res) => {
    const batch = await requireBatch(ctx, String(req.params.batchId));
    mayPrint(req, batch);
    const expires = ctx.now() + LINK_TTL_MS;
    const url = `${ctx.publicOrigin}/api/v1/batches/${batch.batchId}/labels.pdf?expires=${String(expires)}&sig=${linkSignature(ctx, batch.batchId, expires)}`;
    res.status(201).json({ url, expiresAt: new Date(expires).toISOString() });
  });

  router.get("/api/v1/batches/:batchId/labels.pdf", async (req, res) => {
    const batch = await requireBatch(ctx, req.params.batchId);
    if (!signedLinkValid(ctx, req, batch.batchId)) {
      if (req.principal === undefined) throw new AppError("auth.missing");
      if (!req.principal.roles.some((role) => role === "admin" || role === "cooperative")) {
        throw new AppError("auth.forbidden");
      }
      mayPrint(req, batch);
    }
    const { expires: _expires, sig: _sig, ...layoutQuery } = req.query;
    const layout = labelSheetLayoutQuerySchema.strict().parse(layoutQuery);
    labelGeometry(layout); // refuses an impossible layout before anything is sent
    const sheet = await labelSheetOf(ctx, batch);
    res.setHeader("Content-Type", "application/pdf");
    // A lot may hold any GS1 character, `"` and `;` included: quoted by the RFC 6266 rules.
    res.attachment(`labels-${batch.gtin}-${batch.lot}.pdf`);
    res.setHeader("Cache-Control", "no-store");
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    await writeLabelSheet(sheet.items, sheet.heading, layout, res, { signal: abort.signal });
    res.end();
  });

  router.get(
    /^\/api\/v1\/batches\/(0x[0-9a-fA-F]{64})\/items\/([^/]+)\/qr\.(svg|png)$/,
    requireRole("admin", "cooperative"),
    async (req, res) => {
      const params = req.params as unknown as Record<string, string>;
      const batch = await requireBatch(ctx, params["0"] ?? "");
      mayPrint(req, batch);
      const item = await requireItem(ctx, batch, decodeURIComponent(params["1"] ?? ""));
      const uri = itemUri(ctx, batch.gtin, batch.lot, item.serial);
      res.setHeader("Cache-Control", "private, max-age=86400");
      if (params["2"] === "svg") res.type("image/svg+xml").send(await qrSvg(uri));
      else res.type("image/png").send(await qrPng(uri));
    },
  );

  return router;
}
