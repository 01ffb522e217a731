/**
 * `Idempotency-Key` on writes: a retried request (the phone lost the answer, not the
 * request) gets the first answer again instead of doing the work twice; the same key
 * with a different body is refused. Writes also have natural keys (GTIN + lot), so a
 * client without keys still cannot register a batch twice.
 *
 * A key is held under a lease while its handler runs (services/idempotent-writes.ts); a
 * retry while it is held gets 409 `idempotency.in_progress` with `Retry-After`, and a
 * retry after its holder died is answered from what was written, or runs again if nothing was.
 */
import { createHash } from "node:crypto";

import type { Request, Response } from "express";

import { AppError } from "../errors/app-error.ts";
import {
  writeOnce,
  type IdempotencyContext,
  type KeyedOutcome,
  type WriteAnswer,
} from "../services/idempotent-writes.ts";
import type { KeyClaim, WrittenRef } from "../storage/idempotency.ts";
import { problemBody } from "./problem.ts";

export type { WriteAnswer };

const KEY = /^[A-Za-z0-9._:-]{8,128}$/;

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
  /**
   * The handler's own first check of the request (its body's schema), run before the key is
   * claimed: a request no retry can make valid is refused as the handler would refuse it,
   * without the two durable writes of claiming the key and releasing it.
   */
  validate?: () => unknown;
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
  options.validate?.();
  const requestHash =
    options.bodyDigest ??
    createHash("sha256")
      .update(JSON.stringify(req.body ?? null))
      .digest("hex");
  const result: KeyedOutcome = await writeOnce(
    ctx,
    {
      organisationId: req.principal?.organisationId ?? "operator",
      key,
      method: req.method,
      path: req.path,
      requestHash,
    },
    (claim) => {
      claims.set(req, claim);
      return handler(req);
    },
    {
      recover: async (written) => (await options.recover?.(written, res)) ?? answerLost(written),
      onRenewalError: (error) => {
        req.log.warn({ err: error }, "idempotency key lease not renewed");
      },
    },
  );
  switch (result.outcome) {
    case "answered":
      if (result.replayed) res.setHeader("idempotent-replayed", "true");
      send(result.answer);
      return;
    case "mismatch":
      throw new AppError("idempotency.conflict");
    case "in_progress":
      throw inProgress(res, result.retryAfterMs);
  }
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
