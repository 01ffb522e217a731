import type { Request } from "express";

import type { WriteOrigin } from "../../services/audit.ts";
import { principalOf } from "../auth.ts";

/** Who made a write and in which request: what the audit log records. */
export function originOf(req: Request): WriteOrigin {
  return { principal: principalOf(req), requestId: req.id };
}
