/**
 * EPCIS 2.0 REST bindings (GS1 EPCIS 2.0 §12): capture for partners with their own systems
 * (`POST /epcis/capture`, an organisation's token, `Idempotency-Key` honoured like every
 * write), the capture job (`GET /epcis/capture/{captureID}`, to the organisation that sent
 * it), and the event query (`GET /epcis/events`, public like a batch's events). What is
 * mapped and refused, and why a capture is all or nothing: docs/epcis.md.
 */
import { Router, type Response } from "express";

import { AppError } from "../../errors/app-error.ts";
import { isErrorCode } from "../../errors/registry.ts";
import type { ServiceContext } from "../../services/context.ts";
import { MAX_CAPTURE_EVENTS, captureDocument, captureOf } from "../../services/epcis-capture.ts";
import { parseQueryParameters, queryEpcisEvents } from "../../services/epcis-query.ts";
import { sharedEpcisValidator } from "../../services/epcis-schema.ts";
import type { EpcisCapture } from "../../storage/epcis-captures.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { problemBody } from "../problem.ts";
import { originOf } from "./origin.ts";

const EPCIS_VERSION = "2.0.0";
const CAPTURE_PATH = "/epcis/capture";

/** A capture job as GS1's REST bindings describe it, with each event's outcome beside. */
export function captureJobView(capture: EpcisCapture) {
  const outcomes = capture.outcomes ?? [];
  return {
    captureID: capture.id,
    createdAt: new Date(capture.createdAtMs).toISOString(),
    ...(capture.finishedAtMs === null ? {} : { finishedAt: new Date(capture.finishedAtMs).toISOString() }),
    running: capture.state === "running",
    success: capture.state === "success",
    captureErrorBehaviour: "rollback",
    eventCount: capture.eventCount,
    errors: outcomes.flatMap((outcome) =>
      outcome.outcome === "refused" && outcome.code !== null && isErrorCode(outcome.code)
        ? [
            problemBody(
              new AppError(
                outcome.code,
                outcome.details ?? {},
                outcome.detail === null ? {} : { detail: outcome.detail },
              ),
              `/epcisBody/eventList/${String(outcome.index)}`,
            ),
          ]
        : [],
    ),
    events: outcomes.map((outcome) => {
      if (outcome.outcome !== "refused" || outcome.code === null || !isErrorCode(outcome.code)) return outcome;
      const problem = problemBody(new AppError(outcome.code));
      return { ...outcome, message: problem.message };
    }),
  };
}

/** GS1's REST bindings name the capture job in `Location`, on the first answer and on a replay alike. */
function locateCaptureJob(res: Response): void {
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    if (res.statusCode === 202 && typeof body === "object" && body !== null && "captureID" in body) {
      res.setHeader("location", `${CAPTURE_PATH}/${String(body.captureID)}`);
    }
    return json(body);
  };
}

export function epcisRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.use("/epcis", (_req, res, next) => {
    res.setHeader("gs1-epcis-version", EPCIS_VERSION);
    next();
  });

  router.post(CAPTURE_PATH, requireRole("cooperative", "actor"), async (req, res) => {
    if (typeof req.is(["application/json", "application/ld+json"]) !== "string") {
      throw new AppError("request.unsupported_media_type");
    }
    res.setHeader("gs1-epcis-capture-limit", String(MAX_CAPTURE_EVENTS));
    locateCaptureJob(res);
    const principal = principalOf(req);
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const capture = await captureDocument(ctx, originOf(req), sharedEpcisValidator(), {
          document: req.body,
          documentText: JSON.stringify(req.body),
        });
        return { status: 202, body: captureJobView(capture) };
      },
      {
        recover: async (written) =>
          written.action === "epcis.capture"
            ? { status: 202, body: captureJobView(await captureOf(ctx, principal.organisationId, written.target)) }
            : null,
      },
    );
  });

  router.get(
    `${CAPTURE_PATH}/:captureId`,
    requireRole("cooperative", "actor", "regulator", "admin"),
    async (req, res) => {
      const capture = await captureOf(ctx, principalOf(req).organisationId, String(req.params.captureId));
      res.setHeader("cache-control", "no-store");
      res.json(captureJobView(capture));
    },
  );

  router.get("/epcis/events", async (req, res) => {
    const parameters = parseQueryParameters(req.query);
    const answer = await queryEpcisEvents(ctx, parameters);
    if (answer.nextPageToken !== null) {
      const next = new URLSearchParams();
      for (const [name, value] of Object.entries(parameters)) {
        if (name === "nextPageToken") continue;
        for (const one of Array.isArray(value) ? value : [value]) next.append(name, one);
      }
      next.set("nextPageToken", answer.nextPageToken);
      res.setHeader("link", `</epcis/events?${next.toString()}>; rel="next"`);
    }
    res.json(answer.document);
  });

  return router;
}
