/**
 * Bearer-token authentication. Tokens are looked up by their SHA-256 (services/authentication.ts);
 * the operator's admin token from configuration is compared in constant time. Every
 * refusal is logged with the request id, and nothing about why a token failed leaks to
 * the caller beyond "not valid".
 */
import { createHash, timingSafeEqual } from "node:crypto";

import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Kysely } from "kysely";

import type { Role } from "../domain/enumerations.ts";
import { mayWrite } from "../domain/members.ts";
import { principalOfToken } from "../services/authentication.ts";
import type { Principal } from "../services/context.ts";
import type { Database } from "../storage/schema.ts";
import { AppError } from "../errors/app-error.ts";

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

function sameSecret(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

export function authenticate(options: { db: Kysely<Database>; adminToken: string }): RequestHandler {
  return (req, _res, next) => {
    const header = req.get("authorization");
    if (header === undefined) {
      next();
      return;
    }
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,200})$/.exec(header);
    if (match?.[1] === undefined) {
      next(new AppError("auth.invalid"));
      return;
    }
    const token = match[1];
    if (sameSecret(token, options.adminToken)) {
      req.principal = { organisationId: null, credentialId: null, roles: ["admin"] };
      next();
      return;
    }
    principalOfToken(options.db, token)
      .then((principal) => {
        if (principal === null) {
          req.log.warn({ path: req.path }, "refused an unknown, expired or revoked credential");
          throw new AppError("auth.invalid");
        }
        // A person's device session writes only where one of its capabilities reaches.
        if (principal.capabilities != null && !mayWrite(principal.capabilities, req.method, req.path)) {
          req.log.warn({ path: req.path, method: req.method, memberId: principal.memberId }, "refused a capability");
          throw new AppError("member.capability_missing", {}, { detail: `${req.method} ${req.path}` });
        }
        req.principal = principal;
      })
      .then(() => {
        next();
      }, next);
  };
}

/** Refuses the request unless the caller holds one of `roles` (401 without credentials, 403 with the wrong ones). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const principal = req.principal;
    if (principal === undefined) {
      req.log.warn({ path: req.path, method: req.method }, "refused a write without credentials");
      next(new AppError("auth.missing"));
      return;
    }
    if (!principal.roles.some((role) => roles.includes(role))) {
      req.log.warn({ path: req.path, method: req.method, organisationId: principal.organisationId }, "refused a role");
      next(new AppError("auth.forbidden"));
      return;
    }
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (req.principal === undefined) throw new AppError("auth.missing");
  return req.principal;
}
