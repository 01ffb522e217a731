/**
 * `Idempotency-Key` on writes: a retried request (the phone lost the answer, not the
 * request) gets the first answer again instead of doing the work twice; the same key
 * with a different body is refused. Writes also have natural keys (GTIN + lot), so a
 * client without keys still cannot register a batch twice.
 */
import { createHash } from "node:crypto";

import type { Request, Response } from "express";
import type { Kysely } from "kysely";

import { completeIdempotencyKey, releaseIdempotencyKey, reserveIdempotencyKey } from "../storage/idempotency.ts";
import type { Database } from "../storage/schema.ts";
import { ProblemError } from "./problem.ts";

const KEY = /^[A-Za-z0-9._:-]{8,128}$/;

export type WriteHandler = (req: Request) => Promise<{ status: number; body: unknown }>;

/**
 * Runs `handler` at most once per (organisation, key). Without a key it simply runs.
 * `bodyDigest` identifies the request for streamed bodies, which cannot be hashed upfront.
 */
export async function idempotent(
  db: Kysely<Database>,
  req: Request,
  res: Response,
  handler: WriteHandler,
  bodyDigest?: string,
): Promise<void> {
  const key = req.get("idempotency-key");
  const send = (status: number, body: unknown): void => {
    res.status(status).json(body);
  };
  if (key === undefined) {
    const { status, body } = await handler(req);
    send(status, body);
    return;
  }
  if (!KEY.test(key)) {
    throw new ProblemError("request.invalid", { detail: "Idempotency-Key: 8 to 128 characters of [A-Za-z0-9._:-]" });
  }
  const organisationId = req.principal?.organisationId ?? "operator";
  const requestHash =
    bodyDigest ??
    createHash("sha256")
      .update(JSON.stringify(req.body ?? null))
      .digest("hex");
  const reservation = await reserveIdempotencyKey(db, {
    organisationId,
    key,
    method: req.method,
    path: req.path,
    requestHash,
  });
  switch (reservation.outcome) {
    case "replay":
      res.setHeader("idempotent-replayed", "true");
      send(reservation.status, reservation.body);
      return;
    case "mismatch":
      throw new ProblemError("idempotency.conflict");
    case "in_progress":
      throw new ProblemError("idempotency.conflict", { detail: "A request with this key is still being handled." });
    case "reserved":
      break;
  }
  let result: { status: number; body: unknown };
  try {
    result = await handler(req);
  } catch (error) {
    // A refused request changed nothing; the client may fix it and retry under the same key.
    await releaseIdempotencyKey(db, { organisationId, key });
    throw error;
  }
  await completeIdempotencyKey(db, { organisationId, key }, result);
  send(result.status, result.body);
}
