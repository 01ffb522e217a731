/** Appends the who-did-what entry of a write, inside the write's own transaction. */
import { appendAudit } from "../storage/audit-log.ts";
import type { Db } from "../storage/database.ts";
import type { Principal } from "./context.ts";

export interface WriteOrigin {
  principal: Principal;
  requestId: string | null;
}

export async function recordWrite(
  db: Db,
  origin: WriteOrigin,
  action: string,
  target: string,
  details: Record<string, unknown>,
  nowMs: number,
): Promise<void> {
  await appendAudit(db, {
    organisationId: origin.principal.organisationId,
    credentialId: origin.principal.credentialId,
    action,
    target,
    atMs: nowMs,
    details,
    requestId: origin.requestId,
  });
}
