/**
 * Client-supplied idempotency keys (the `Idempotency-Key` header). The first request
 * with a key reserves it under a lease (a random token and an expiry its handler keeps
 * renewing); its response is stored with it; a retry with the same key and the same
 * request gets that response again, and a different request under a used key is refused
 * rather than silently answered with another request's result.
 *
 * A crash must not wedge a key. The reservation, the write and the answer cannot share
 * one transaction (a write streams to IPFS and signs before it touches the database, and
 * holding a transaction that long would stall every other request on SQLite), so:
 * - the write's own transaction marks the key written, fenced by the lease token
 *   (`markIdempotencyKeyWritten`): a write commits only while its handler still holds
 *   the key, and the mark commits with it or not at all;
 * - a key whose lease expired (its handler died) is taken over by the next request with
 *   it: rerun when nothing was written, answered from what was written otherwise;
 * - a handler that stalled past its lease and was taken over answers "in progress" whatever
 *   its write met (the taker's batch already committed under the same GTIN and lot), so one
 *   key never gets two different answers (services/idempotent-writes.ts).
 */
import { z } from "zod";

import { fromJson } from "./codec.ts";
import type { Db } from "./database.ts";

export interface IdempotentRequest {
  organisationId: string;
  key: string;
  method: string;
  path: string;
  /** Hash of the request body, so a different body under the same key is recognised. */
  requestHash: string;
}

export interface KeyRef {
  organisationId: string;
  key: string;
}

/** A reservation held by one handler: only the holder of `token` may write, answer or release. */
export interface KeyClaim extends KeyRef {
  token: string;
}

/** What a write stored under a key: the audit log's action and target, and its details. */
export interface WrittenRef {
  action: string;
  target: string;
  details: Record<string, unknown>;
}

export type Reservation =
  /** The key is new (or its holder died before writing) and now held: handle the request, then complete it. */
  | { outcome: "reserved"; takenOver: boolean }
  /** Handled before: send this response again. */
  | { outcome: "replay"; status: number; body: unknown }
  /** The holder died after its write committed but before its answer was stored: answer from what was written. */
  | { outcome: "recover"; written: WrittenRef }
  /** Another request with this key is still being handled; ask again after `retryAfterMs`. */
  | { outcome: "in_progress"; retryAfterMs: number }
  /** The key was used for a different request. */
  | { outcome: "mismatch" };

export interface LeaseOptions {
  token: string;
  leaseMs: number;
  nowMs?: number;
}

const writtenRef = z.object({
  action: z.string(),
  target: z.string(),
  details: z.record(z.string(), z.json()),
});

/** When the row being raced for vanished or changed hands under us: ask again shortly. */
const RACE_RETRY_MS = 1_000;

export async function reserveIdempotencyKey(
  db: Db,
  request: IdempotentRequest,
  lease: LeaseOptions,
): Promise<Reservation> {
  const nowMs = lease.nowMs ?? Date.now();
  const expiresAtMs = nowMs + lease.leaseMs;
  // ON CONFLICT DO NOTHING rather than catching the unique violation: a failed statement
  // would abort a caller's PostgreSQL transaction. Against a concurrent first request not
  // yet committed, PostgreSQL waits for it to end before deciding, as a plain insert would.
  const inserted = await db
    .insertInto("idempotency_keys")
    .values({
      organisation_id: request.organisationId,
      key: request.key,
      method: request.method,
      path: request.path,
      request_hash: request.requestHash,
      response_status: null,
      response_body: null,
      created_at_ms: nowMs,
      completed_at_ms: null,
      lease_token: lease.token,
      lease_expires_at_ms: expiresAtMs,
      written_ref: null,
    })
    .onConflict((oc) => oc.columns(["organisation_id", "key"]).doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 1n) return { outcome: "reserved", takenOver: false };
  const existing = await db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("organisation_id", "=", request.organisationId)
    .where("key", "=", request.key)
    .executeTakeFirst();
  // Released between the insert and this read: the caller may simply try again.
  if (existing === undefined) return { outcome: "in_progress", retryAfterMs: RACE_RETRY_MS };
  if (
    existing.method !== request.method ||
    existing.path !== request.path ||
    existing.request_hash !== request.requestHash
  ) {
    return { outcome: "mismatch" };
  }
  if (existing.response_status !== null && existing.response_body !== null) {
    return {
      outcome: "replay",
      status: existing.response_status,
      body: fromJson(z.json(), existing.response_body, "idempotency_keys.response_body"),
    };
  }
  // Keys reserved before leases existed have no expiry: their holder is long gone.
  const heldUntil = existing.lease_expires_at_ms ?? 0;
  if (heldUntil > nowMs) return { outcome: "in_progress", retryAfterMs: heldUntil - nowMs };
  // The holder died. Take the key over by compare-and-set on its token, and read back
  // whether a write got in first: under PostgreSQL's read committed, a concurrent write's
  // fence may commit between our read and this update, and RETURNING sees its mark.
  const taken = await db
    .updateTable("idempotency_keys")
    .set({ lease_token: lease.token, lease_expires_at_ms: expiresAtMs })
    .where("organisation_id", "=", request.organisationId)
    .where("key", "=", request.key)
    .where("completed_at_ms", "is", null)
    .where("lease_token", existing.lease_token === null ? "is" : "=", existing.lease_token)
    .returning(["written_ref"])
    .executeTakeFirst();
  if (taken === undefined) return { outcome: "in_progress", retryAfterMs: RACE_RETRY_MS };
  if (taken.written_ref !== null) {
    return { outcome: "recover", written: fromJson(writtenRef, taken.written_ref, "idempotency_keys.written_ref") };
  }
  return { outcome: "reserved", takenOver: true };
}

/** Extends the holder's lease while its handler runs; false once the key is no longer its own. */
export async function renewIdempotencyKey(
  db: Db,
  claim: KeyClaim,
  leaseMs: number,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("idempotency_keys")
    .set({ lease_expires_at_ms: nowMs + leaseMs })
    .where("organisation_id", "=", claim.organisationId)
    .where("key", "=", claim.key)
    .where("lease_token", "=", claim.token)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export class IdempotencyLeaseLost extends Error {
  constructor(ref: KeyRef) {
    super(`idempotency key ${ref.key} was taken over by another request`);
    this.name = "IdempotencyLeaseLost";
  }
}

/**
 * Called inside a write's transaction: records what the write stored under the key, and
 * throws (rolling the write back) when the key is no longer this handler's, so a key
 * taken over after a stall never gets two writes. The first write of a handler is the
 * one an interrupted request is answered from.
 *
 * One UPDATE, even when an earlier write of the handler already marked the key: on
 * PostgreSQL it holds the key's row until this transaction ends, so a takeover racing the
 * commit waits for it and then reads the mark (and answers from it) instead of slipping
 * in between a check and the commit.
 */
export async function markIdempotencyKeyWritten(db: Db, claim: KeyClaim, written: WrittenRef): Promise<void> {
  const result = await db
    .updateTable("idempotency_keys")
    .set((eb) => ({ written_ref: eb.fn.coalesce("written_ref", eb.val(JSON.stringify(written))) }))
    .where("organisation_id", "=", claim.organisationId)
    .where("key", "=", claim.key)
    .where("lease_token", "=", claim.token)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new IdempotencyLeaseLost(claim);
}

/** Whether `claim` still holds its key: unanswered, and not taken over by another request. */
export async function holdsIdempotencyKey(db: Db, claim: KeyClaim): Promise<boolean> {
  const row = await db
    .selectFrom("idempotency_keys")
    .select(["lease_token"])
    .where("organisation_id", "=", claim.organisationId)
    .where("key", "=", claim.key)
    .where("lease_token", "=", claim.token)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Stores the response of a held key; false when another request took the key over meanwhile. */
export async function completeIdempotencyKey(
  db: Db,
  claim: KeyClaim,
  response: { status: number; body: unknown },
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("idempotency_keys")
    .set({
      response_status: response.status,
      response_body: JSON.stringify(response.body),
      completed_at_ms: nowMs,
      lease_expires_at_ms: null,
    })
    .where("organisation_id", "=", claim.organisationId)
    .where("key", "=", claim.key)
    .where("lease_token", "=", claim.token)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Frees a held key whose request failed without a result worth replaying, so a retry can
 * run. A key whose write committed is kept: its retry is answered from the write.
 */
export async function releaseIdempotencyKey(db: Db, claim: KeyClaim): Promise<void> {
  await db
    .deleteFrom("idempotency_keys")
    .where("organisation_id", "=", claim.organisationId)
    .where("key", "=", claim.key)
    .where("lease_token", "=", claim.token)
    .where("completed_at_ms", "is", null)
    .where("written_ref", "is", null)
    .execute();
}

/**
 * Forgets keys created before `beforeMs` that are answered or whose holder is gone; a
 * key still being handled (a six-hour upload) is kept until its lease lapses. Returns how many.
 */
export async function pruneIdempotencyKeys(db: Db, beforeMs: number, nowMs = Date.now()): Promise<number> {
  const result = await db
    .deleteFrom("idempotency_keys")
    .where("created_at_ms", "<", beforeMs)
    .where((eb) =>
      eb.or([
        eb("completed_at_ms", "is not", null),
        eb("lease_expires_at_ms", "is", null),
        eb("lease_expires_at_ms", "<", nowMs),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
