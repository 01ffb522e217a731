/**
 * Refuses every write (any method but GET, HEAD, OPTIONS) whose credential belongs to a
 * suspended organisation, before any route reads its body or takes an idempotency key:
 * one place for all write routes, regulators' included, so a new route cannot forget it.
 * The use cases check their actor again when they act (services/active-organisation.ts).
 */
import type { RequestHandler } from "express";

import { requireActiveWriter } from "../services/active-organisation.ts";
import type { ServiceContext } from "../services/context.ts";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export function refuseSuspendedWriters(ctx: ServiceContext): RequestHandler {
  return (req, _res, next) => {
    const principal = req.principal;
    if (READS.has(req.method) || principal === undefined || principal.organisationId === null) {
      next();
      return;
    }
    requireActiveWriter(ctx, principal).then(() => {
      next();
    }, next);
  };
}
