/**
 * GTIN entitlement: the operator binds company prefixes and GTINs to organisations (or
 * allocates a prefix from the platform's), a GTIN's owner grants it to others, and anyone
 * may ask who is entitled to a GTIN (it is public on the ledger anyway).
 */
import { Router, type Request } from "express";

import type { ServiceContext } from "../../services/context.ts";
import {
  bindCompanyPrefix,
  bindGtin,
  changeGrant,
  companyPrefixRequest,
  grantRequest,
  gtinBindingRequest,
  gtinEntitlement,
  organisationEntitlements,
  releaseCompanyPrefix,
  releaseGtin,
  type GrantChangeResult,
} from "../../services/entitlement.ts";
import type { GtinBindingRecord, GtinGrantRecord, PrefixBindingRecord } from "../../storage/entitlements.ts";
import { AppError } from "../../errors/app-error.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { awaiting } from "./views.ts";

function instant(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function prefixBindingView(binding: PrefixBindingRecord) {
  return {
    id: binding.id,
    prefix: binding.prefix,
    organisationId: binding.organisationId,
    origin: binding.origin,
    ledgerState: binding.ledger.state,
    failureReason: binding.ledger.failureReason,
    txHash: binding.ledger.txHash,
    createdAt: instant(binding.createdAtMs),
    releasedAt: instant(binding.releasedAtMs),
    releaseLedgerState: binding.releaseLedgerState,
  };
}

export function gtinBindingView(binding: GtinBindingRecord) {
  return {
    id: binding.id,
    gtin: binding.gtin,
    organisationId: binding.organisationId,
    origin: binding.origin,
    ledgerState: binding.ledger.state,
    failureReason: binding.ledger.failureReason,
    txHash: binding.ledger.txHash,
    createdAt: instant(binding.createdAtMs),
    releasedAt: instant(binding.releasedAtMs),
    releaseLedgerState: binding.releaseLedgerState,
  };
}

export function grantView(grant: GtinGrantRecord) {
  return {
    id: grant.id,
    gtin: grant.gtin,
    ownerOrganisationId: grant.ownerOrganisationId,
    granteeOrganisationId: grant.granteeOrganisationId,
    ledgerState: grant.ledger.state,
    failureReason: grant.ledger.failureReason,
    createdAt: instant(grant.createdAtMs),
    withdrawnAt: instant(grant.withdrawnAtMs),
    withdrawLedgerState: grant.withdrawLedgerState,
  };
}

function grantAnswer(res: Parameters<typeof awaiting>[0], result: GrantChangeResult) {
  if ("awaitingSignature" in result) return awaiting(res, result.awaitingSignature);
  return { status: 202, body: { grant: grantView(result.grant) } };
}

/** Admins and regulators see any organisation's bindings; an organisation its own. */
function requireReader(req: Request): string {
  const principal = principalOf(req);
  const id = String(req.params.id);
  if (principal.roles.includes("admin") || principal.roles.includes("regulator") || principal.organisationId === id) {
    return id;
  }
  throw new AppError("auth.forbidden");
}

export function entitlementsRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/organisations/:id/company-prefixes", requireRole("admin"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const binding = await bindCompanyPrefix(
          ctx,
          originOf(req),
          String(req.params.id),
          companyPrefixRequest.parse(req.body),
        );
        return { status: 202, body: { companyPrefix: prefixBindingView(binding) } };
      },
      { validate: () => companyPrefixRequest.parse(req.body) },
    );
  });

  router.delete("/api/v1/organisations/:id/company-prefixes/:prefix", requireRole("admin"), async (req, res) => {
    const binding = await releaseCompanyPrefix(ctx, originOf(req), String(req.params.id), String(req.params.prefix));
    res.status(202).json({ companyPrefix: prefixBindingView(binding) });
  });

  router.post("/api/v1/organisations/:id/gtins", requireRole("admin"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const binding = await bindGtin(ctx, originOf(req), String(req.params.id), gtinBindingRequest.parse(req.body));
        return { status: 202, body: { gtinBinding: gtinBindingView(binding) } };
      },
      { validate: () => gtinBindingRequest.parse(req.body) },
    );
  });

  router.delete("/api/v1/organisations/:id/gtins/:gtin", requireRole("admin"), async (req, res) => {
    const binding = await releaseGtin(ctx, originOf(req), String(req.params.id), String(req.params.gtin));
    res.status(202).json({ gtinBinding: gtinBindingView(binding) });
  });

  router.get(
    "/api/v1/organisations/:id/entitlements",
    requireRole("admin", "regulator", "cooperative", "actor"),
    async (req, res) => {
      const { companyPrefixes, gtins } = await organisationEntitlements(ctx, requireReader(req));
      res.json({ companyPrefixes: companyPrefixes.map(prefixBindingView), gtins: gtins.map(gtinBindingView) });
    },
  );

  router.post("/api/v1/products/:gtin/grants", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => {
        const { grantee } = grantRequest.parse(req.body);
        return grantAnswer(res, await changeGrant(ctx, originOf(req), String(req.params.gtin), grantee, true));
      },
      { validate: () => grantRequest.parse(req.body) },
    );
  });

  router.delete("/api/v1/products/:gtin/grants/:orgId", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(ctx, req, res, async () =>
      grantAnswer(res, await changeGrant(ctx, originOf(req), String(req.params.gtin), String(req.params.orgId), false)),
    );
  });

  router.get("/api/v1/products/:gtin/entitlement", async (req, res) => {
    const entitlement = await gtinEntitlement(ctx, req.params.gtin);
    res.json({
      entitlement: {
        ...entitlement,
        grantees: entitlement.grantees.map((grantee) => ({
          organisationId: grantee.organisationId,
          ledgerState: grantee.ledgerState,
          grantedAt: instant(grantee.grantedAtMs),
        })),
      },
    });
  });

  return router;
}
