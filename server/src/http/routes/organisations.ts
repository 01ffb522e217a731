/** Organisations, their credentials, plots and certifications. */
import { Router, type Request } from "express";

import type { ServiceContext } from "../../services/context.ts";
import {
  credentialRequest,
  issueCredential,
  onboardingRequest,
  onboardOrganisation,
  revokeOrganisationCredential,
} from "../../services/organisations.ts";
import { certificationRequest, plotRequest, registerCertification, registerPlot } from "../../services/catalogue.ts";
import {
  findOrganisationRecords,
  organisationCredentials,
  requireOrganisation,
  requireOrganisationRecords,
  searchOrganisations,
} from "../../services/organisation-records.ts";
import type { Organisation } from "../../storage/organisations.ts";
import { ORGANISATION_KINDS } from "../../domain/enumerations.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { AppError } from "../../errors/app-error.ts";
import { regionName } from "../../domain/region-names.ts";
import { reasonRequest, setOrganisationSuspended } from "../../services/regulator.ts";
import { originOf } from "./origin.ts";
import { z } from "zod";

/** What the API shows of an organisation: never its keystore. */
export function organisationView(org: Organisation) {
  return {
    id: org.id,
    kind: org.kind,
    name: { zh: org.nameZh, en: org.nameEn },
    uscc: org.uscc,
    regionCode: org.regionCode,
    regionName: regionName(org.regionCode),
    signerAddress: org.signerAddress,
    keyCustody: org.custody.kind,
    status: org.status,
    metadataCid: org.metadataCid,
    ledgerState: org.ledgerState,
    createdAt: new Date(org.createdAtMs).toISOString(),
  };
}

/** Admins act on any organisation; an organisation on itself. */
function requireSelfOrAdmin(req: Request): string {
  const principal = principalOf(req);
  const id = String(req.params.id);
  if (principal.roles.includes("admin") || principal.organisationId === id) return id;
  throw new AppError("auth.forbidden");
}

const listQuery = z
  .object({
    kind: z.enum(ORGANISATION_KINDS).optional(),
    status: z.enum(["active", "suspended"]).optional(),
    region: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional(),
  })
  .strict();

export function organisationsRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/organisations", requireRole("admin"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const result = await onboardOrganisation(ctx, originOf(req), onboardingRequest.parse(req.body));
        return {
          status: 201,
          body: {
            organisation: organisationView(result.organisation),
            credential: { id: result.credential.credential.id, token: result.credential.token },
          },
        };
      },
      { validate: () => onboardingRequest.parse(req.body) },
    );
  });

  router.get("/api/v1/me", requireRole("admin", "regulator", "cooperative", "actor"), async (req, res) => {
    const principal = principalOf(req);
    const records =
      principal.organisationId === null ? null : await findOrganisationRecords(ctx, principal.organisationId);
    res.json({
      organisation: records === null ? null : organisationView(records.organisation),
      roles: principal.roles,
      // A person's device session (issue 15): who, and what the person may do; null for an API token.
      member:
        principal.memberId == null ? null : { id: principal.memberId, capabilities: principal.capabilities ?? [] },
      plots: records?.plots ?? [],
      certifications: records?.certifications ?? [],
    });
  });

  router.get("/api/v1/organisations", requireRole("admin", "regulator"), async (req, res) => {
    const query = listQuery.parse(req.query);
    const orgs = await searchOrganisations(ctx, {
      kind: query.kind,
      status: query.status,
      regionPrefix: query.region,
    });
    res.json({ organisations: orgs.map(organisationView) });
  });

  router.get(
    "/api/v1/organisations/:id",
    requireRole("admin", "regulator", "cooperative", "actor"),
    async (req, res) => {
      const principal = principalOf(req);
      const id = String(req.params.id);
      const mayRead =
        principal.roles.includes("admin") || principal.roles.includes("regulator") || principal.organisationId === id;
      if (!mayRead) throw new AppError("auth.forbidden");
      const records = await requireOrganisationRecords(ctx, id);
      res.json({
        organisation: organisationView(records.organisation),
        plots: records.plots,
        certifications: records.certifications,
      });
    },
  );

  router.post("/api/v1/organisations/:id/credentials", requireRole("admin"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const issued = await issueCredential(
          ctx,
          originOf(req),
          String(req.params.id),
          credentialRequest.parse(req.body),
        );
        return { status: 201, body: { credential: { id: issued.credential.id, token: issued.token } } };
      },
      { validate: () => credentialRequest.parse(req.body) },
    );
  });

  router.get("/api/v1/organisations/:id/credentials", requireRole("admin"), async (req, res) => {
    res.json({ credentials: await organisationCredentials(ctx, String(req.params.id)) });
  });

  router.delete("/api/v1/organisations/:id/credentials/:credentialId", requireRole("admin"), async (req, res) => {
    await revokeOrganisationCredential(ctx, originOf(req), String(req.params.id), String(req.params.credentialId));
    res.status(204).end();
  });

  router.post("/api/v1/organisations/:id/plots", requireRole("admin", "cooperative"), async (req, res) => {
    const id = requireSelfOrAdmin(req);
    await idempotent(ctx, req, res, async () => {
      await requireOrganisation(ctx, id);
      const plot = await registerPlot(ctx, originOf(req), id, plotRequest.parse(req.body));
      return { status: 201, body: { plot } };
    });
  });

  router.post("/api/v1/organisations/:id/certifications", requireRole("admin", "cooperative"), async (req, res) => {
    const id = requireSelfOrAdmin(req);
    await idempotent(ctx, req, res, async () => {
      await requireOrganisation(ctx, id);
      const certification = await registerCertification(ctx, originOf(req), id, certificationRequest.parse(req.body));
      return { status: 201, body: { certification } };
    });
  });

  for (const [path, suspended] of [
    ["suspend", true],
    ["reinstate", false],
  ] as const) {
    // The operator (admin) too, from its console: for every region, in its own name.
    router.post(`/api/v1/organisations/:id/${path}`, requireRole("regulator", "admin"), async (req, res) => {
      await idempotent(
        ctx,
        req,
        res,
        async () => ({
          status: 202,
          body: await setOrganisationSuspended(
            ctx,
            originOf(req),
            String(req.params.id),
            suspended,
            reasonRequest.parse(req.body),
          ),
        }),
        { validate: () => reasonRequest.parse(req.body) },
      );
    });
  }

  return router;
}
