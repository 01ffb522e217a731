import type { Request } from "express";

import type { WriteOrigin } from "../../services/write-log.ts";
import { principalOf } from "../auth.ts";
import { idempotencyClaimOf } from "../idempotency.ts";

/** Who made a write and in which request: what the audit log records. */
export function originOf(req: Request): WriteOrigin {
  const idempotency = idempotencyClaimOf(req);
  return { principal: principalOf(req), requestId: req.id, ...(idempotency === undefined ? {} : { idempotency }) };
}
