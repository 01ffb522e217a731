/**
 * Cases and pallets (docs/aggregation.md): packed, shipped, received and unpacked by the
 * organisations whose step it is and who hold what they name; read by anyone who has the SSCC.
 * An organisation holding its own key is answered with a signature request, as for events.
 */
import { Router } from "express";

import {
  allocateSsccs,
  containerEventRequest,
  getContainer,
  packContainer,
  packRequest,
  recordContainerEvent,
  ssccAllocationRequest,
  type AcceptedContainerStep,
} from "../../services/containers.ts";
import type { ServiceContext } from "../../services/context.ts";
import type { WrittenRef } from "../../storage/idempotency.ts";
import { requireRole } from "../auth.ts";
import { idempotent, type WriteAnswer } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";
import { awaiting } from "./views.ts";

/** The answer to a container step stored, here and when a signature request completes one. */
export function acceptedBody(accepted: AcceptedContainerStep) {
  return {
    sscc: accepted.sscc,
    containerKey: accepted.containerKey,
    step: accepted.step,
    statusUrl: `/api/v1/containers/${accepted.sscc}`,
  };
}

/** A write that committed but whose handler died: the container's current view answers it. */
export async function recoverContainerWrite(ctx: ServiceContext, written: WrittenRef): Promise<WriteAnswer | null> {
  if (!written.action.startsWith("container.")) return null;
  const container = await getContainer(ctx, written.target);
  const step = container.steps.at(-1);
  if (step === undefined) return null;
  return {
    status: 202,
    body: acceptedBody({ sscc: container.sscc, containerKey: container.containerKey, step }),
  };
}

export function containersRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/containers/sscc", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const allocated = await allocateSsccs(ctx, originOf(req), ssccAllocationRequest.parse(req.body ?? {}));
        return { status: 201, body: allocated };
      },
      { validate: () => ssccAllocationRequest.parse(req.body ?? {}) },
    );
  });

  router.post("/api/v1/containers", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const accepted = await packContainer(ctx, originOf(req), packRequest.parse(req.body));
        if ("awaitingSignature" in accepted) return awaiting(res, accepted.awaitingSignature);
        res.setHeader("location", `/api/v1/containers/${accepted.sscc}`);
        return { status: 202, body: acceptedBody(accepted) };
      },
      {
        validate: () => packRequest.parse(req.body),
        recover: async (written) => (await recoverContainerWrite(ctx, written)) ?? recoverWrite(ctx, req, res, written),
      },
    );
  });

  router.post("/api/v1/containers/:sscc/events", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const accepted = await recordContainerEvent(
          ctx,
          originOf(req),
          String(req.params.sscc),
          containerEventRequest.parse(req.body),
        );
        if ("awaitingSignature" in accepted) return awaiting(res, accepted.awaitingSignature);
        return { status: 202, body: acceptedBody(accepted) };
      },
      {
        validate: () => containerEventRequest.parse(req.body),
        recover: async (written) => (await recoverContainerWrite(ctx, written)) ?? recoverWrite(ctx, req, res, written),
      },
    );
  });

  router.get("/api/v1/containers/:sscc", async (req, res) => {
    res.json({ container: await getContainer(ctx, req.params.sscc) });
  });

  return router;
}
