/** Signature requests: the typed data an organisation holding its own key signs, and its signature. */
import { Router } from "express";

import type { ServiceContext } from "../../services/context.ts";
import { signatureSubmission, submitSignature } from "../../services/sign-and-submit.ts";
import { describeRequest, getSignatureRequest } from "../../services/signature-requests.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { acceptedBody, recoverContainerWrite } from "./containers.ts";
import { issued, recoverCertificateWrite } from "./certificates.ts";
import { grantView } from "./entitlements.ts";
import { batchView, eventView, inspectionRequestView } from "./views.ts";

export function signatureRequestsRouter(ctx: ServiceContext): Router {
  const router = Router();

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
          case "inspection_request":
            return { status: 202, body: { inspectionRequest: inspectionRequestView(submitted.request) } };
          case "gtin_grant":
            return { status: 202, body: { grant: grantView(submitted.grant) } };
          case "container":
            res.setHeader("location", `/api/v1/containers/${submitted.accepted.sscc}`);
            return { status: 202, body: acceptedBody(submitted.accepted) };
          // Stored, not queued: a certificate is never sent to the registry (201, as a custodial one).
          case "certificate":
            return issued(ctx, res, submitted.certificate);
        }
      },
      {
        recover: async (written) =>
          (await recoverContainerWrite(ctx, written)) ?? recoverCertificateWrite(ctx, req, res, written),
      },
    );
  });

  return router;
}
