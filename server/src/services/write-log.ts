/** Appends the who-did-what entry of a write, inside the write's own transaction. */
import { appendAudit } from "../storage/audit-log.ts";
import type { Db } from "../storage/database.ts";
import { markIdempotencyKeyWritten, type KeyClaim } from "../storage/idempotency.ts";
import { completeSignatureRequest } from "../storage/signature-requests.ts";
import { AppError } from "../errors/app-error.ts";
import type { Principal } from "./context.ts";

export interface WriteOrigin {
  principal: Principal;
  requestId: string | null;
  /** The idempotency key the request holds: the write marks it in its own transaction, or rolls back if it lost it. */
  idempotency?: KeyClaim;
  /**
   * The signature request whose signed write this is (an organisation holding its own key):
   * completed in the write's own transaction, so a write is never stored with its request still
   * open (a crash in between), and the same signature posted twice at once stores one write.
   */
  completes?: SignatureRequestCompletion;
}

export interface SignatureRequestCompletion {
  signatureRequestId: string;
  /** Transactions that completed it already: a write recording several entries completes it once. */
  readonly completedIn: WeakSet<Db>;
}

export function completing(origin: WriteOrigin, signatureRequestId: string): WriteOrigin {
  return { ...origin, completes: { signatureRequestId, completedIn: new WeakSet() } };
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
  const completes = origin.completes;
  if (completes !== undefined && !completes.completedIn.has(db)) {
    if (!(await completeSignatureRequest(db, completes.signatureRequestId, nowMs))) {
      throw new AppError("idempotency.conflict", {}, { detail: "already submitted" });
    }
    completes.completedIn.add(db);
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
