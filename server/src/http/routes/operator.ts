/**
 * The operator's reads (issue 15 part 6): what `/console/operator` shows, for the admin token
 * only, each a plain JSON endpoint a script can call (docs/operator-console.md). They take no
 * parameters: a query string is refused rather than ignored.
 */
import { Router, type Request } from "express";
import { z } from "zod";

import type { ServiceContext } from "../../services/context.ts";
import {
  keysOverview,
  organisationsOverview,
  outboxHealth,
  relayerReport,
  type OperatorChain,
} from "../../services/operator.ts";
import { requireRole } from "../auth.ts";
import { organisationView } from "./organisations.ts";

const noQuery = z.object({}).strict();

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseNoQuery(req: Request): void {
  noQuery.parse(req.query);
}

export function operatorRouter(ctx: ServiceContext, chain: OperatorChain): Router {
  const router = Router();
  const admin = requireRole("admin");

  router.get("/api/v1/admin/organisations", admin, async (req, res) => {
    parseNoQuery(req);
    const overview = await organisationsOverview(ctx);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      organisations: overview.map((entry) => ({
        ...organisationView(entry.organisation),
        prefixes: entry.prefixes,
        members: entry.members,
      })),
    });
  });

  router.get("/api/v1/admin/keys", admin, async (req, res) => {
    parseNoQuery(req);
    const keys = await keysOverview(ctx, chain);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      registry: ctx.domain.verifyingContract,
      chainId: ctx.domain.chainId.toString(),
      chainReachable: keys.chainReachable,
      server: keys.server,
      organisations: keys.organisations.map(({ createdAtMs, ...key }) => ({ ...key, createdAt: iso(createdAtMs) })),
    });
  });

  router.get("/api/v1/admin/relayer", admin, async (req, res) => {
    parseNoQuery(req);
    res.setHeader("Cache-Control", "no-store");
    res.json({ relayer: await relayerReport(ctx, chain) });
  });

  router.get("/api/v1/admin/outbox", admin, async (req, res) => {
    parseNoQuery(req);
    const health = await outboxHealth(ctx, chain);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      counts: health.counts,
      totals: health.totals,
      oldestPending:
        health.oldestPending === null
          ? null
          : { acceptedAt: iso(health.oldestPending.acceptedAtMs), ageSeconds: health.oldestPending.ageSeconds },
      // No retry is offered: a failed entry is final (the registry refused its signed bytes,
      // which would be refused again); the organisation records it anew (docs/operator-console.md).
      lastErrors: health.lastErrors.map(({ at, ...error }) => ({ ...error, at: iso(at) })),
      indexer: health.indexer,
    });
  });

  return router;
}
