/**
 * A write runs at most once per (organisation, idempotency key), as far as its effects go.
 * The key is held under a lease renewed while the write runs; a retry while it is held is
 * told to wait. When the holder died (a crash, a replica gone), the lease lapses and the
 * next retry takes the key over: it runs the write again if nothing was written, or
 * answers from what was written (the write's own transaction marks the key, see
 * storage/idempotency.ts and services/write-log.ts). The HTTP layer (http/idempotency.ts)
 * reads the key and the body and renders what this decides.
 */
import { randomUUID } from "node:crypto";

import type { Kysely } from "kysely";

import {
  completeIdempotencyKey,
  holdsIdempotencyKey,
  IdempotencyLeaseLost,
  releaseIdempotencyKey,
  renewIdempotencyKey,
  reserveIdempotencyKey,
  type KeyClaim,
  type WrittenRef,
} from "../storage/idempotency.ts";
import type { Database } from "../storage/schema.ts";

/** Long enough that renewals every third of it survive a busy event loop; short enough that a crash frees keys soon. */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;

/** A lease lost mid-write: another request took the key over, and this one's write was rolled back. */
const LEASE_LOST_RETRY_MS = 1_000;

export type WriteAnswer = { status: number; body: unknown };

/** What running a keyed write needs of the service context. */
export interface IdempotencyContext {
  db: Kysely<Database>;
  idempotencyLeaseMs?: number;
  /** The replica's clock for leases (the service context's); `Date.now` without one. */
  now?: () => number;
}

export interface KeyedWrite {
  organisationId: string;
  key: string;
  method: string;
  path: string;
  /** Identifies the request: the same key with another body is refused. */
  requestHash: string;
}

export type KeyedOutcome =
  /** The write's answer: this run's, or the stored one of an earlier run (`replayed`). */
  | { outcome: "answered"; answer: WriteAnswer; replayed: boolean }
  /** The key was used for another request. */
  | { outcome: "mismatch" }
  /** Another request with this key is still being handled; ask again after `retryAfterMs`. */
  | { outcome: "in_progress"; retryAfterMs: number };

export interface KeyedWriteHooks {
  /**
   * The answer to a write that committed under the key while its handler died before
   * answering, rebuilt from what it stored; it is stored as the key's answer.
   */
  recover: (written: WrittenRef) => Promise<WriteAnswer>;
  /** A renewal of the lease failed (the write goes on; the lease may lapse). */
  onRenewalError: (error: unknown) => void;
}

/**
 * Runs `write` once per key: `write` gets the claim its transaction marks the key with
 * (see `recordWrite`). A write that throws releases the key, so the client may fix the
 * request and retry under it; the error reaches the caller.
 */
export async function writeOnce(
  ctx: IdempotencyContext,
  request: KeyedWrite,
  write: (claim: KeyClaim) => Promise<WriteAnswer>,
  hooks: KeyedWriteHooks,
): Promise<KeyedOutcome> {
  const leaseMs = ctx.idempotencyLeaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
  const now = ctx.now ?? Date.now;
  const claim: KeyClaim = { organisationId: request.organisationId, key: request.key, token: randomUUID() };
  const reservation = await reserveIdempotencyKey(ctx.db, request, { token: claim.token, leaseMs, nowMs: now() });
  switch (reservation.outcome) {
    case "replay":
      return { outcome: "answered", answer: { status: reservation.status, body: reservation.body }, replayed: true };
    case "mismatch":
      return { outcome: "mismatch" };
    case "in_progress":
      return { outcome: "in_progress", retryAfterMs: reservation.retryAfterMs };
    case "recover": {
      const answer = await hooks.recover(reservation.written);
      await completeIdempotencyKey(ctx.db, claim, answer, now());
      return { outcome: "answered", answer, replayed: true };
    }
    case "reserved":
      break;
  }
  const renewal = setInterval(() => {
    renewIdempotencyKey(ctx.db, claim, leaseMs, now()).catch(hooks.onRenewalError);
  }, leaseMs / 3);
  renewal.unref();
  let answer: WriteAnswer;
  try {
    answer = await write(claim);
  } catch (error) {
    clearInterval(renewal);
    if (error instanceof IdempotencyLeaseLost) return { outcome: "in_progress", retryAfterMs: LEASE_LOST_RETRY_MS };
    // A key taken over while this write ran: the failure may be the taker's doing (its write
    // committed first, so this one met `batch.exists` or an already recalled batch), and this
    // write committed nothing. The answer is the taker's, which a retry gets; reporting this
    // error would answer one key twice, differently. Still held, the failure is this request's own.
    if (!(await holdsIdempotencyKey(ctx.db, claim))) {
      return { outcome: "in_progress", retryAfterMs: LEASE_LOST_RETRY_MS };
    }
    // A refused request changed nothing; the client may fix it and retry under the same key.
    await releaseIdempotencyKey(ctx.db, claim);
    throw error;
  }
  clearInterval(renewal);
  // False only when a retry took over after this write: that retry answers from the same
  // write, so this answer is still true.
  await completeIdempotencyKey(ctx.db, claim, answer, now());
  return { outcome: "answered", answer, replayed: false };
}
