/** Recalls: by the batch's own cooperative, or by a regulator. */
import { Router } from "express";

import type { ServiceContext } from "../../services/context.ts";
import { recallOwnBatch, recallRequest } from "../../services/events.ts";
import { reasonRequest, recallAsRegulator } from "../../services/regulator.ts";
import { requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";
import { awaiting } from "./views.ts";

export function recallsRouter(ctx: ServiceContext): Router {
  const router = Router();

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
      { validate: () => recallRequest.parse(req.body), recover: (written) => recoverWrite(ctx, req, res, written) },
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
      { validate: () => reasonRequest.parse(req.body), recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  return router;
}
