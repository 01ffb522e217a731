/** Answers of writes whose handler died after committing, for every write route. */
import type { Request, Response } from "express";

import type { ServiceContext } from "../../services/context.ts";
import { coldChainOf, eventRequest } from "../../services/events.ts";
import { findInspectionRequest } from "../../services/inspection-requests.ts";
import { findBatch, findEvent, findMedia, findProduct } from "../../services/lookups.ts";
import { describeRequest, getSignatureRequest } from "../../services/signature-requests.ts";
import type { WrittenRef } from "../../storage/idempotency.ts";
import { principalOf } from "../auth.ts";
import type { WriteAnswer } from "../idempotency.ts";
import { awaiting, batchView, eventView, inspectionRequestView } from "./views.ts";

/**
 * The answer of a write that committed under an idempotency key whose handler died
 * before answering, rebuilt from what it stored (see http/idempotency.ts).
 */
export async function recoverWrite(
  ctx: ServiceContext,
  req: Request,
  res: Response,
  written: WrittenRef,
  withColdChain = false,
): Promise<WriteAnswer | null> {
  const reasonCid = typeof written.details.reasonCid === "string" ? written.details.reasonCid : null;
  switch (written.action) {
    case "product.register": {
      const product = await findProduct(ctx, written.target);
      return product === null ? null : { status: 201, body: { product } };
    }
    case "media.upload": {
      const media = await findMedia(ctx, written.target);
      return media === null ? null : { status: 201, body: { media, url: `/ipfs/${media.cid}` } };
    }
    case "batch.register": {
      const batch = await findBatch(ctx, written.target);
      if (batch === null) return null;
      const statusUrl = `/api/v1/batches/${batch.batchId}`;
      res.setHeader("location", statusUrl);
      return { status: 202, body: { batch: batchView(batch), statusUrl } };
    }
    case "event.record": {
      const event = await findEvent(ctx, written.target);
      if (event === null) return null;
      if (!withColdChain) return { status: 202, body: { event: eventView(event) } };
      const input = eventRequest.safeParse(req.body);
      const batch = await findBatch(ctx, event.batchId);
      const coldChain = input.success && batch !== null ? await coldChainOf(ctx, batch.gtin, input.data.data) : null;
      return { status: 202, body: { event: eventView(event), coldChain } };
    }
    case "inspection.request": {
      const request = await findInspectionRequest(ctx, written.target);
      return request === null ? null : { status: 202, body: { inspectionRequest: inspectionRequestView(request) } };
    }
    case "batch.recall":
    case "batch.regulator_recall":
      return reasonCid === null ? null : { status: 202, body: { batchId: written.target, reasonCid } };
    case "signature_request.create": {
      const request = await getSignatureRequest(ctx, written.target, principalOf(req).organisationId);
      const described = describeRequest(ctx, { ...request, value: request.value });
      if (!withColdChain) return awaiting(res, described);
      const input = eventRequest.safeParse(req.body);
      const batch = await findBatch(ctx, String(req.params.batchId));
      const coldChain = input.success && batch !== null ? await coldChainOf(ctx, batch.gtin, input.data.data) : null;
      return awaiting(res, described, coldChain);
    }
    default:
      return null;
  }
}
