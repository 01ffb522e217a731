/**
 * A batch's events: read by anyone, recorded by the organisations whose step it is and who
 * have a say about the batch (domain/custody.ts). Inspection requests: made by the batch's
 * cooperative or a regulator in its region, read by anyone.
 */
import { Router } from "express";

import { requireBatch } from "../../services/batch-lookup.ts";
import type { ServiceContext } from "../../services/context.ts";
import { eventRequest, recordEvent } from "../../services/events.ts";
import { inspectionRequestBody, inspectionRequestsOf, requestInspection } from "../../services/inspection-requests.ts";
import { eventsOfBatch } from "../../services/lookups.ts";
import { requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";
import { awaiting, eventView, inspectionRequestView } from "./views.ts";

export function eventsRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.get("/api/v1/batches/:batchId/events", async (req, res) => {
    const batch = await requireBatch(ctx, req.params.batchId);
    res.json({ events: (await eventsOfBatch(ctx, batch.batchId)).map(eventView) });
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
      {
        validate: () => eventRequest.parse(req.body),
        recover: (written) => recoverWrite(ctx, req, res, written, true),
      },
    );
  });

  router.get("/api/v1/batches/:batchId/inspection-requests", async (req, res) => {
    const requests = await inspectionRequestsOf(ctx, req.params.batchId);
    res.json({ inspectionRequests: requests.map(inspectionRequestView) });
  });

  router.post(
    "/api/v1/batches/:batchId/inspection-requests",
    requireRole("cooperative", "regulator"),
    async (req, res) => {
      await idempotent(
        ctx,
        req,
        res,
        async () => {
          const result = await requestInspection(
            ctx,
            originOf(req),
            String(req.params.batchId),
            inspectionRequestBody.parse(req.body),
          );
          if ("awaitingSignature" in result) return awaiting(res, result.awaitingSignature);
          return { status: 202, body: { inspectionRequest: inspectionRequestView(result.request) } };
        },
        {
          validate: () => inspectionRequestBody.parse(req.body),
          recover: (written) => recoverWrite(ctx, req, res, written),
        },
      );
    },
  );

  return router;
}
