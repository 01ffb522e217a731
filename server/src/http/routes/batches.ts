/** Products, media uploads, batches, their events and recalls. */
import { createHash } from "node:crypto";

import { Router, type Request, type Response } from "express";
import { z } from "zod";

import { chinaDayStartMs, chinaNextDayStartMs } from "../../domain/china-time.ts";
import { explainLedgerFailure } from "../../domain/ledger-failures.ts";
import { formatQuantityMilli, unitFromCode } from "../../domain/units.ts";
import { batchRequest, registerBatch, requireBatch } from "../../services/batches.ts";
import { productRequest, registerProduct } from "../../services/catalogue.ts";
import type { ServiceContext } from "../../services/context.ts";
import { coldChainOf, eventRequest, recallOwnBatch, recallRequest, recordEvent } from "../../services/events.ts";
import { listItemLinks } from "../../services/items.ts";
import { declaredTooLarge, uploadMedia } from "../../services/media.ts";
import { reasonRequest, recallAsRegulator } from "../../services/regulator.ts";
import { signatureSubmission, submitSignature } from "../../services/sign-and-submit.ts";
import { describeRequest, getSignatureRequest, type SignatureRequest } from "../../services/signature-requests.ts";
import { getBatch, listBatches, type Batch, type LedgerPosition } from "../../storage/batches.ts";
import { getProduct } from "../../storage/catalogue.ts";
import { getEvent, listBatchEvents, type TraceEvent } from "../../storage/events.ts";
import type { WrittenRef } from "../../storage/idempotency.ts";
import { getMedia } from "../../storage/media.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent, type WriteAnswer } from "../idempotency.ts";
import { AppError } from "../../errors/app-error.ts";
import { originOf } from "./origin.ts";

/** Where a record stands, with a refusal explained in plain words beside the contract's error. */
function ledgerView(ledger: LedgerPosition) {
  return { ...ledger, failure: explainLedgerFailure(ledger.failureReason) };
}

export function batchView(batch: Batch) {
  return {
    batchId: batch.batchId,
    gtin: batch.gtin,
    lot: batch.lot,
    organisationId: batch.organisationId,
    plotId: batch.plotId,
    harvestedAt: new Date(batch.harvestedAtMs).toISOString(),
    quantity: { value: formatQuantityMilli(batch.quantityMilli), unit: unitFromCode(batch.unit) },
    itemCount: batch.itemCount,
    itemsRoot: batch.itemsRoot,
    metadataCid: batch.metadataCid,
    videoCid: batch.videoCid,
    photoCids: batch.photoCids,
    complianceCertificateNumber: batch.certificateNumber,
    ledger: ledgerView(batch.ledger),
    status: batch.status,
    recall: batch.recall,
    createdAt: new Date(batch.createdAtMs).toISOString(),
  };
}

export function eventView(event: TraceEvent) {
  return {
    id: event.id,
    batchId: event.batchId,
    bizStep: event.bizStep,
    actorOrganisationId: event.actorOrganisationId,
    occurredAt: new Date(event.occurredAtMs).toISOString(),
    payloadCid: event.payloadCid,
    data: event.data,
    digest: event.digest,
    signerAddress: event.signed.signerAddress,
    ledger: ledgerView(event.ledger),
    chain: event.chain,
  };
}

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

/** An organisation with its own key gets the typed data to sign instead of an accepted write. */
function awaiting(res: Response, request: SignatureRequest, coldChain?: unknown): { status: number; body: unknown } {
  res.setHeader("location", request.submitUrl);
  return { status: 201, body: { signatureRequest: request, ...(coldChain === undefined ? {} : { coldChain }) } };
}

/**
 * The answer of a write that committed under an idempotency key whose handler died
 * before answering, rebuilt from what it stored (see http/idempotency.ts).
 */
async function recoverWrite(
  ctx: ServiceContext,
  req: Request,
  res: Response,
  written: WrittenRef,
  withColdChain = false,
): Promise<WriteAnswer | null> {
  const reasonCid = typeof written.details.reasonCid === "string" ? written.details.reasonCid : null;
  switch (written.action) {
    case "product.register": {
      const product = await getProduct(ctx.db, written.target);
      return product === null ? null : { status: 201, body: { product } };
    }
    case "media.upload": {
      const media = await getMedia(ctx.db, written.target);
      return media === null ? null : { status: 201, body: { media, url: `/ipfs/${media.cid}` } };
    }
    case "batch.register": {
      const batch = await getBatch(ctx.db, written.target);
      if (batch === null) return null;
      const statusUrl = `/api/v1/batches/${batch.batchId}`;
      res.setHeader("location", statusUrl);
      return { status: 202, body: { batch: batchView(batch), statusUrl } };
    }
    case "event.record": {
      const event = await getEvent(ctx.db, written.target);
      if (event === null) return null;
      if (!withColdChain) return { status: 202, body: { event: eventView(event) } };
      const input = eventRequest.safeParse(req.body);
      const batch = await getBatch(ctx.db, event.batchId);
      const coldChain = input.success && batch !== null ? await coldChainOf(ctx, batch.gtin, input.data.data) : null;
      return { status: 202, body: { event: eventView(event), coldChain } };
    }
    case "batch.recall":
    case "batch.regulator_recall":
      return reasonCid === null ? null : { status: 202, body: { batchId: written.target, reasonCid } };
    case "signature_request.create": {
      const request = await getSignatureRequest(ctx, written.target, principalOf(req).organisationId);
      const described = describeRequest(ctx, { ...request, value: request.value });
      if (!withColdChain) return awaiting(res, described);
      const input = eventRequest.safeParse(req.body);
      const batch = await getBatch(ctx.db, String(req.params.batchId));
      const coldChain = input.success && batch !== null ? await coldChainOf(ctx, batch.gtin, input.data.data) : null;
      return awaiting(res, described, coldChain);
    }
    default:
      return null;
  }
}

const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

/** Serials are not public (a full list would let anyone print valid codes): the batch's cooperative and regulators only. */
function mayReadPrivate(req: Request, batch: Batch): void {
  const principal = principalOf(req);
  if (principal.roles.includes("admin") || principal.roles.includes("regulator")) return;
  if (principal.organisationId === batch.organisationId) return;
  throw new AppError("auth.forbidden");
}

export function batchesRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/products", requireRole("admin", "cooperative"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => ({
        status: 201,
        body: { product: await registerProduct(ctx, originOf(req), productRequest.parse(req.body)) },
      }),
      { recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/products/:gtin", async (req, res) => {
    const product = await getProduct(ctx.db, req.params.gtin);
    if (product === null) throw new AppError("product.not_found");
    res.json({ product });
  });

  router.post("/api/v1/media", requireRole("cooperative", "actor"), async (req, res) => {
    if (declaredTooLarge(ctx, req.get("content-length"))) {
      // Refused before a byte is read; the connection is closed rather than drained, so the
      // client does not push gigabytes to hear no.
      res.setHeader("connection", "close");
      throw new AppError("media.too_large", {}, { detail: `at most ${String(ctx.mediaLimitBytes)} bytes` });
    }
    const contentType = (req.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const rawName = req.get("x-file-name");
    const fileName = rawName === undefined ? null : decodeURIComponent(rawName).slice(0, 200);
    // A streamed body cannot be hashed before it is read; the key's identity is its declared shape.
    const digest = createHash("sha256")
      .update(`${contentType}\n${req.get("content-length") ?? ""}\n${fileName ?? ""}`)
      .digest("hex");
    const abort = new AbortController();
    req.on("close", () => {
      if (!req.complete) abort.abort();
    });
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const media = await uploadMedia(ctx, originOf(req), req, { contentType, fileName, signal: abort.signal });
        return { status: 201, body: { media, url: `/ipfs/${media.cid}` } };
      },
      { bodyDigest: digest, recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

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
      { recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/batches", requireRole("admin", "regulator", "cooperative"), async (req, res) => {
    const principal = principalOf(req);
    const query = batchListQuery.parse(req.query);
    const ownOnly = !principal.roles.includes("admin") && !principal.roles.includes("regulator");
    const organisationId = ownOnly ? (principal.organisationId ?? "") : query.organisationId;
    const batches = await listBatches(ctx.db, {
      organisationId,
      gtin: query.gtin,
      regionPrefix: query.region,
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
    mayReadPrivate(req, batch);
    const page = pageQuery.parse(req.query);
    res.json({ items: await listItemLinks(ctx, batch, page), itemCount: batch.itemCount });
  });

  router.get("/api/v1/batches/:batchId/events", async (req, res) => {
    const batch = await requireBatch(ctx, req.params.batchId);
    res.json({ events: (await listBatchEvents(ctx.db, batch.batchId)).map(eventView) });
  });

  router.post("/api/v1/batches/:batchId/events", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const accepted = await recordEvent(
          ctx,
          originOf(req),
          String(req.params.batchId),
          eventRequest.parse(req.body),
        );
        if ("awaitingSignature" in accepted) return awaiting(res, accepted.awaitingSignature, accepted.coldChain);
        return { status: 202, body: { event: eventView(accepted.event), coldChain: accepted.coldChain } };
      },
      { recover: (written) => recoverWrite(ctx, req, res, written, true) },
    );
  });

  router.post("/api/v1/batches/:batchId/recall", requireRole("cooperative"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const result = await recallOwnBatch(
          ctx,
          originOf(req),
          String(req.params.batchId),
          recallRequest.parse(req.body),
        );
        if ("awaitingSignature" in result) return awaiting(res, result.awaitingSignature);
        return { status: 202, body: result };
      },
      { recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.post("/api/v1/batches/:batchId/regulator-recall", requireRole("regulator"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => ({
        status: 202,
        body: await recallAsRegulator(ctx, originOf(req), String(req.params.batchId), reasonRequest.parse(req.body)),
      }),
      { recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/signature-requests/:id", requireRole("cooperative", "actor"), async (req, res) => {
    const request = await getSignatureRequest(ctx, String(req.params.id), principalOf(req).organisationId);
    res.json({
      signatureRequest: describeRequest(ctx, { ...request, value: request.value }),
      completed: request.completedAtMs !== null,
    });
  });

  router.post("/api/v1/signature-requests/:id", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const { signature } = signatureSubmission.parse(req.body);
        const submitted = await submitSignature(ctx, originOf(req), String(req.params.id), signature);
        switch (submitted.kind) {
          case "attestation":
            return {
              status: 202,
              body: { batch: batchView(submitted.batch), statusUrl: `/api/v1/batches/${submitted.batch.batchId}` },
            };
          case "event":
            return { status: 202, body: { event: eventView(submitted.event) } };
          case "recall":
            return { status: 202, body: { batchId: submitted.batchId, reasonCid: submitted.reasonCid } };
        }
      },
      { recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  return router;
}
