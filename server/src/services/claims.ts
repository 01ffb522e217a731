/**
 * Claiming an item's hidden verification code (printed under a scratch-off). The first
 * correct entry claims the item; later correct entries learn when it was first claimed.
 *
 * Guessing is rate-limited twice: per item (a copier attacking one code) and per client
 * (one phone sweeping many). With 10^8 codes and at most MAX_WRONG_PER_ITEM_PER_HOUR wrong
 * guesses an hour on an item, the expected time to hit one code by guessing is
 * 10^8 / 2 / 5 hours, over 1,100 years (EXPECTED_GUESS_HOURS; a test states it). Both
 * limits are checked and the attempt recorded in one locked step (reserveClaimAttempt), so
 * a burst of simultaneous guesses cannot all be judged against the same count.
 */
import { createHmac } from "node:crypto";

import { normalizeVerificationCode, verifyVerificationCode, VERIFICATION_CODE_DIGITS } from "../domain/serials.ts";
import { AppError } from "../errors/app-error.ts";
import { claimItem, getBatchByLot, getItem } from "../storage/batches.ts";
import { reserveClaimAttempt, settleClaimAttempt } from "../storage/scans.ts";
import type { ServiceContext } from "./context.ts";

export const MAX_WRONG_PER_ITEM_PER_HOUR = 5;
export const MAX_ATTEMPTS_PER_CLIENT_PER_HOUR = 20;
/** Expected hours for a guesser held to the per-item limit to hit the right code (half the code space). */
export const EXPECTED_GUESS_HOURS = 10 ** VERIFICATION_CODE_DIGITS / 2 / MAX_WRONG_PER_ITEM_PER_HOUR;

const DAY_MS = 86_400_000;

export interface ClaimResult {
  firstClaim: boolean;
  claimedAtMs: number;
}

/**
 * A guessing client, by its network address only: anything else it sends (a User-Agent)
 * it can change at will to get a fresh budget. Keyed by the pepper and the day, so stored
 * attempts cannot be linked to an address, nor one day's to another's.
 */
export function claimClientHash(ctx: ServiceContext, ip: string, dayOffset = 0): string {
  const day = Math.floor(ctx.now() / DAY_MS) + dayOffset;
  return createHmac("sha256", ctx.secrets.hiddenCodePepper)
    .update(`oioc:claim-client:v1\u0000${String(day)}\u0000${ip}`)
    .digest("hex");
}

export async function claimHiddenCode(
  ctx: ServiceContext,
  link: { gtin: string; lot: string; serial: string },
  typedCode: string,
  client: { ip: string },
): Promise<ClaimResult> {
  const batch = await getBatchByLot(ctx.db, link.gtin, link.lot);
  const item = batch === null ? null : await getItem(ctx.db, batch.batchId, link.serial);
  if (batch === null || item === null) throw new AppError("item.not_found");
  if (item.hiddenCodeHmac === null) throw new AppError("claim.no_code");
  const code = normalizeVerificationCode(typedCode);
  const nowMs = ctx.now();
  const hourAgo = nowMs - 3_600_000;
  const who = claimClientHash(ctx, client.ip);
  // The hour may straddle midnight: yesterday's hash of the same address counts too.
  const yesterday = claimClientHash(ctx, client.ip, -1);
  const attemptId = await reserveClaimAttempt(
    ctx.db,
    { batchId: batch.batchId, serial: item.serial, clientHash: who, attemptedAtMs: nowMs },
    {
      item: { max: MAX_WRONG_PER_ITEM_PER_HOUR, sinceMs: hourAgo },
      client: { max: MAX_ATTEMPTS_PER_CLIENT_PER_HOUR, sinceMs: hourAgo, alsoClientHashes: [yesterday] },
    },
  );
  if (attemptId === null) throw new AppError("claim.too_many_attempts");
  if (!verifyVerificationCode(ctx.secrets.hiddenCodePepper, item.serial, code, item.hiddenCodeHmac)) {
    await settleClaimAttempt(ctx.db, attemptId, "wrong");
    throw new AppError("claim.wrong_code");
  }
  const firstClaim = await claimItem(ctx.db, batch.batchId, item.serial, who, nowMs);
  await settleClaimAttempt(ctx.db, attemptId, firstClaim ? "claimed" : "already_claimed");
  if (firstClaim) return { firstClaim, claimedAtMs: nowMs };
  const claimed = await getItem(ctx.db, batch.batchId, item.serial);
  return { firstClaim, claimedAtMs: claimed?.claim?.atMs ?? nowMs };
}
