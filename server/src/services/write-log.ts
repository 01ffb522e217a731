/** Appends the who-did-what entry of a write, inside the write's own transaction. */
import { appendAudit } from "../storage/audit-log.ts";
import type { Db } from "../storage/database.ts";
import { markIdempotencyKeyWritten, type KeyClaim } from "../storage/idempotency.ts";
import type { Principal } from "./context.ts";

export interface WriteOrigin {
  principal: Principal;
  requestId: string | null;
  /** The idempotency key the request holds: the write marks it in its own transaction, or rolls back if it lost it. */
  idempotency?: KeyClaim;
}

export async function recordWrite(
  db: Db,
  origin: WriteOrigin,
  action: string,
  target: string,
  details: Record<string, unknown>,
  nowMs: number,
): Promise<void> {
  if (origin.idempotency !== undefined) {
    await markIdempotencyKeyWritten(db, origin.idempotency, { action, target, details });
  }
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
