/**
 * `Idempotency-Key` on writes: a retried request (the phone lost the answer, not the
 * request) gets the first answer again instead of doing the work twice; the same key
 * with a different body is refused. Writes also have natural keys (GTIN + lot), so a
 * client without keys still cannot register a batch twice.
 *
 * A key is held under a lease its handler renews while it runs; a retry while it is held
 * gets 409 `idempotency.in_progress` with `Retry-After`. When the holder died (a crash,
 * a replica gone), the lease lapses and the next retry takes the key over: it runs the
 * request again if nothing was written, or answers from what was written (the write's
 * own transaction marks the key, see storage/idempotency.ts and services/write-log.ts).
 */
import { createHash, randomUUID } from "node:crypto";

import type { Request, Response } from "express";
import type { Kysely } from "kysely";

import {
  completeIdempotencyKey,
  IdempotencyLeaseLost,
  releaseIdempotencyKey,
  renewIdempotencyKey,
  reserveIdempotencyKey,
  type KeyClaim,
  type WrittenRef,
} from "../storage/idempotency.ts";
import type { Database } from "../storage/schema.ts";
import { problemBody } from "./problem.ts";
import { AppError } from "../errors/app-error.ts";

const KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/** Long enough that renewals every third of it survive a busy event loop; short enough that a crash frees keys soon. */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;

export type WriteAnswer = { status: number; body: unknown };

export type WriteHandler = (req: Request) => Promise<WriteAnswer>;

export interface IdempotentOptions {
  /** Identifies the request for streamed bodies, which cannot be hashed upfront. */
  bodyDigest?: string;
  /**
   * Rebuilds the answer of a write that committed under the key while its handler died
   * before answering. Without it (or when it returns null) the retry is told the write
   * was stored and what it was (`idempotency.answer_lost`), which is final.
   */
  recover?: (written: WrittenRef, res: Response) => Promise<WriteAnswer | null>;
}

/** What `idempotent` needs of the service context. */
export interface IdempotencyContext {
  db: Kysely<Database>;
  idempotencyLeaseMs?: number;
}

const claims = new WeakMap<Request, KeyClaim>();

/** The key this request holds, if any, for the write's transaction to mark (see `originOf`). */
export function idempotencyClaimOf(req: Request): KeyClaim | undefined {
  return claims.get(req);
}

/**
 * Runs `handler` at most once per (organisation, key), as far as its writes go: a write
 * commits only while this request holds the key. Without a key it simply runs.
 */
export async function idempotent(
  ctx: IdempotencyContext,
  req: Request,
  res: Response,
  handler: WriteHandler,
  options: IdempotentOptions = {},
): Promise<void> {
  const key = req.get("idempotency-key");
  const send = (answer: WriteAnswer): void => {
    res.status(answer.status).json(answer.body);
  };
  if (key === undefined) {
    send(await handler(req));
    return;
  }
  if (!KEY.test(key)) {
    throw new AppError("request.invalid", {}, { detail: "Idempotency-Key: 8 to 128 characters of [A-Za-z0-9._:-]" });
  }
  const db = ctx.db;
  const leaseMs = ctx.idempotencyLeaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
  const organisationId = req.principal?.organisationId ?? "operator";
  const requestHash =
    options.bodyDigest ??
    createHash("sha256")
      .update(JSON.stringify(req.body ?? null))
      .digest("hex");
  const claim: KeyClaim = { organisationId, key, token: randomUUID() };
  const reservation = await reserveIdempotencyKey(
    db,
    { organisationId, key, method: req.method, path: req.path, requestHash },
    { token: claim.token, leaseMs },
  );
  switch (reservation.outcome) {
    case "replay":
      res.setHeader("idempotent-replayed", "true");
      send(reservation);
      return;
    case "mismatch":
      throw new AppError("idempotency.conflict");
    case "in_progress":
      throw inProgress(res, reservation.retryAfterMs);
    case "recover": {
      const answer = (await options.recover?.(reservation.written, res)) ?? answerLost(reservation.written);
      await completeIdempotencyKey(db, claim, answer);
      res.setHeader("idempotent-replayed", "true");
      send(answer);
      return;
    }
    case "reserved":
      break;
  }
  claims.set(req, claim);
  const renewal = setInterval(() => {
    renewIdempotencyKey(db, claim, leaseMs).catch((error: unknown) => {
      req.log.warn({ err: error }, "idempotency key lease not renewed");
    });
  }, leaseMs / 3);
  renewal.unref();
  let result: WriteAnswer;
  try {
    result = await handler(req);
  } catch (error) {
    clearInterval(renewal);
    // Another request took the key over while this one stalled; its write was rolled back.
    if (error instanceof IdempotencyLeaseLost) throw inProgress(res, 1_000);
    // A refused request changed nothing; the client may fix it and retry under the same key.
    await releaseIdempotencyKey(db, claim);
    throw error;
  }
  clearInterval(renewal);
  // False only when a retry took over after this handler's write: that retry answers from
  // the same write, so this answer is still true.
  await completeIdempotencyKey(db, claim, result);
  send(result);
}

function inProgress(res: Response, retryAfterMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  res.setHeader("retry-after", String(seconds));
  return new AppError("idempotency.in_progress", { retryAfterSeconds: seconds });
}

function answerLost(written: WrittenRef): WriteAnswer {
  const problem = new AppError(
    "idempotency.answer_lost",
    { written: { action: written.action, target: written.target } },
    { detail: `${written.action} ${written.target}` },
  );
  const body = problemBody(problem);
  return { status: body.status, body };
}
