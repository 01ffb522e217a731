/**
 * Joining: the public application (and its licence photo), the applicant's status view, and
 * the bureau's review. The public endpoints have their own, much smaller per-address limits
 * than the API's: applying is free, so it must stay cheap to refuse a flood.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from "express";
import { z } from "zod";

import { regionName } from "../../domain/region-names.ts";
import { AppError } from "../../errors/app-error.ts";
import {
  applicationForReview,
  applicationListQuery,
  applicationRequest,
  applicationStatus,
  applicationsForReview,
  apply,
  approveApplication,
  LICENCE_MAX_BYTES,
  refusalRequest,
  refuseApplication,
  uploadLicence,
} from "../../services/applications.ts";
import { ANONYMOUS, type ServiceContext } from "../../services/context.ts";
import type { WriteOrigin } from "../../services/write-log.ts";
import type { Application } from "../../storage/applications.ts";
import { requireRole } from "../auth.ts";
import { organisationView } from "./organisations.ts";
import { originOf } from "./origin.ts";
import { signInLinkView } from "./members.ts";
import { perAddress, publicLimits, type PublicLimits } from "./public-limits.ts";

export const LICENCE_PATH = "/api/v1/applications/licence";

/** The public has no principal: its writes are logged as the anonymous caller's, with the request id. */
function publicOrigin(req: Request): WriteOrigin {
  return { principal: req.principal ?? ANONYMOUS, requestId: req.id };
}

/** What the applicant sees: the decision and its reason, never anything of other applications. */
function statusView(application: Application) {
  return {
    id: application.id,
    kind: application.kind,
    name: application.name,
    regionCode: application.regionCode,
    regionName: regionName(application.regionCode),
    status: application.status,
    refusal: application.refusal,
    organisationId: application.organisationId,
    submittedAt: new Date(application.createdAtMs).toISOString(),
    decidedAt: application.decidedAtMs === null ? null : new Date(application.decidedAtMs).toISOString(),
  };
}

/** What the reviewing bureau and the operator see: the contact and the licence photo too. */
function reviewView(application: Application) {
  return {
    ...statusView(application),
    uscc: application.uscc,
    contact: application.contact,
    licenceCid: application.licenceCid,
    licenceUrl: application.licenceCid === null ? null : `/ipfs/${application.licenceCid}`,
  };
}

const statusQuery = z.object({ secret: z.string().regex(/^[A-Za-z0-9_-]{22}$/) }).strict();

export function applicationsRouter(ctx: ServiceContext, limits: PublicLimits = publicLimits(600)): Router {
  const router = Router();
  const applyLimit = perAddress(limits.applications, 10 * 60_000);
  const licenceLimit = perAddress(limits.licences, 10 * 60_000);
  const statusLimit = perAddress(limits.statusReads, 60_000);
  const licenceBody = express.raw({ type: () => true, limit: LICENCE_MAX_BYTES });

  const refuseDeclaredTooLarge: RequestHandler = (req, res, next) => {
    const declared = req.get("content-length");
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > LICENCE_MAX_BYTES) {
      // Refused before a byte is read, and the connection closed rather than drained.
      res.setHeader("connection", "close");
      next(new AppError("application.licence_too_large"));
      return;
    }
    next();
  };
  router.post(LICENCE_PATH, licenceLimit, refuseDeclaredTooLarge, licenceBody, async (req, res) => {
    const bytes: unknown = req.body;
    const body = bytes instanceof Buffer ? new Uint8Array(bytes) : new Uint8Array();
    const licence = await uploadLicence(ctx, publicOrigin(req), body);
    res.status(201).json({ licence });
  });
  // A chunked body over the limit is cut by the parser: answered with the licence's own code.
  const licenceTooLarge: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
    const tooLarge =
      typeof error === "object" && error !== null && "type" in error && error.type === "entity.too.large";
    next(tooLarge ? new AppError("application.licence_too_large") : error);
  };
  router.use(LICENCE_PATH, licenceTooLarge);

  router.post("/api/v1/applications", applyLimit, async (req, res) => {
    const { application, secret } = await apply(ctx, publicOrigin(req), applicationRequest.parse(req.body));
    const statusPath = `/api/v1/applications/${application.id}?secret=${secret}`;
    res
      .status(201)
      .location(statusPath)
      .json({
        application: statusView(application),
        secret,
        statusUrl: `${ctx.publicOrigin}/apply#id=${application.id}&s=${secret}`,
        fee: 0,
      });
  });

  router.get("/api/v1/applications", requireRole("admin", "regulator"), async (req, res) => {
    const query = applicationListQuery.parse(req.query);
    const applications = await applicationsForReview(ctx, req.principal ?? ANONYMOUS, query.status);
    res.setHeader("cache-control", "no-store");
    res.json({ applications: applications.map(reviewView) });
  });

  router.get("/api/v1/applications/:id", statusLimit, async (req, res) => {
    res.setHeader("cache-control", "no-store");
    const id = String(req.params.id);
    if (
      req.principal !== undefined &&
      (req.principal.roles.includes("admin") || req.principal.roles.includes("regulator"))
    ) {
      res.json({ application: reviewView(await applicationForReview(ctx, req.principal, id)) });
      return;
    }
    const query = statusQuery.safeParse(req.query);
    if (!query.success) throw new AppError("application.not_found");
    res.json({ application: statusView(await applicationStatus(ctx, id, query.data.secret)) });
  });

  router.post("/api/v1/applications/:id/approve", requireRole("admin", "regulator"), async (req, res) => {
    const approval = await approveApplication(ctx, originOf(req), String(req.params.id));
    res.setHeader("cache-control", "no-store");
    res.status(201).json({
      application: reviewView(approval.application),
      organisation: organisationView(approval.organisation),
      chair: approval.chair,
      signIn: await signInLinkView(approval.signIn),
    });
  });

  router.post("/api/v1/applications/:id/refuse", requireRole("admin", "regulator"), async (req, res) => {
    const application = await refuseApplication(
      ctx,
      originOf(req),
      String(req.params.id),
      refusalRequest.parse(req.body),
    );
    res.json({ application: reviewView(application) });
  });

  return router;
}
