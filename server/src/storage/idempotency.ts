/**
 * Client-supplied idempotency keys (the `Idempotency-Key` header). The first request
 * with a key reserves it; its response is stored with it; a retry with the same key and
 * the same request gets that response again, and a different request under a used key
 * is refused rather than silently answered with another request's result.
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

export type Reservation =
  /** The key is new and now reserved: handle the request, then complete it. */
  | { outcome: "reserved" }
  /** Handled before: send this response again. */
  | { outcome: "replay"; status: number; body: unknown }
  /** Another request with this key is still being handled. */
  | { outcome: "in_progress" }
  /** The key was used for a different request. */
  | { outcome: "mismatch" };

export async function reserveIdempotencyKey(
  db: Db,
  request: IdempotentRequest,
  nowMs = Date.now(),
): Promise<Reservation> {
  const values = {
    organisation_id: request.organisationId,
    key: request.key,
    method: request.method,
    path: request.path,
    request_hash: request.requestHash,
    response_status: null,
    response_body: null,
    created_at_ms: nowMs,
    completed_at_ms: null,
  };
  // ON CONFLICT DO NOTHING rather than catching the unique violation: a failed statement
  // would abort a caller's PostgreSQL transaction. Against a concurrent first request not
  // yet committed, PostgreSQL waits for it to end before deciding, as a plain insert would.
  const inserted = await db
    .insertInto("idempotency_keys")
    .values(values)
    .onConflict((oc) => oc.columns(["organisation_id", "key"]).doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 1n) return { outcome: "reserved" };
  const existing = await db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("organisation_id", "=", request.organisationId)
    .where("key", "=", request.key)
    .executeTakeFirst();
  // Released between the insert and this read: the caller may simply try again.
  if (existing === undefined) return { outcome: "in_progress" };
  if (
    existing.method !== request.method ||
    existing.path !== request.path ||
    existing.request_hash !== request.requestHash
  ) {
    return { outcome: "mismatch" };
  }
  if (existing.response_status === null || existing.response_body === null) return { outcome: "in_progress" };
  return {
    outcome: "replay",
    status: existing.response_status,
    body: fromJson(z.json(), existing.response_body, "idempotency_keys.response_body"),
  };
}

/** Stores the response of a reserved key. */
export async function completeIdempotencyKey(
  db: Db,
  ref: { organisationId: string; key: string },
  response: { status: number; body: unknown },
  nowMs = Date.now(),
): Promise<void> {
  const result = await db
    .updateTable("idempotency_keys")
    .set({ response_status: response.status, response_body: JSON.stringify(response.body), completed_at_ms: nowMs })
    .where("organisation_id", "=", ref.organisationId)
    .where("key", "=", ref.key)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n)
    throw new Error(`idempotency key ${ref.key} was not reserved or is already complete`);
}

/** Frees a reserved key whose request failed without a result worth replaying, so a retry can run. */
export async function releaseIdempotencyKey(db: Db, ref: { organisationId: string; key: string }): Promise<void> {
  await db
    .deleteFrom("idempotency_keys")
    .where("organisation_id", "=", ref.organisationId)
    .where("key", "=", ref.key)
    .where("completed_at_ms", "is", null)
    .execute();
}

/** Forgets keys older than `beforeMs`; returns how many. */
export async function pruneIdempotencyKeys(db: Db, beforeMs: number): Promise<number> {
  const result = await db.deleteFrom("idempotency_keys").where("created_at_ms", "<", beforeMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}
