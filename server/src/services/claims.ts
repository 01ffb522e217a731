/**
 * Claiming an item's hidden verification code (printed under a scratch-off). The first
 * correct entry claims the item; later correct entries learn when it was first claimed.
 *
 * Guessing is rate-limited twice: per item (a copier attacking one code) and per client
 * (one phone sweeping many). With 10^8 codes and at most MAX_WRONG_PER_ITEM_PER_HOUR wrong
 * guesses an hour on an item, the expected time to hit one code by guessing is
 * 10^8 / 2 / 5 hours, over 1,100 years (EXPECTED_GUESS_HOURS; a test states it).
 */
import { normalizeVerificationCode, verifyVerificationCode, VERIFICATION_CODE_DIGITS } from "../domain/serials.ts";
import { ProblemError } from "../http/problem.ts";
import { claimItem, getBatchByLot, getItem } from "../storage/batches.ts";
import { countClaimAttemptsSince, recordClaimAttempt } from "../storage/scans.ts";
import type { ServiceContext } from "./context.ts";
import { clientHash } from "./resolve.ts";

export const MAX_WRONG_PER_ITEM_PER_HOUR = 5;
export const MAX_ATTEMPTS_PER_CLIENT_PER_HOUR = 20;
/** Expected hours for a guesser held to the per-item limit to hit the right code (half the code space). */
export const EXPECTED_GUESS_HOURS = 10 ** VERIFICATION_CODE_DIGITS / 2 / MAX_WRONG_PER_ITEM_PER_HOUR;

export interface ClaimResult {
  firstClaim: boolean;
  claimedAtMs: number;
}

export async function claimHiddenCode(
  ctx: ServiceContext,
  link: { gtin: string; lot: string; serial: string },
  typedCode: string,
  client: { ip: string; userAgent: string },
): Promise<ClaimResult> {
  const batch = await getBatchByLot(ctx.db, link.gtin, link.lot);
  const item = batch === null ? null : await getItem(ctx.db, batch.batchId, link.serial);
  if (batch === null || item === null) throw new ProblemError("item.not_found");
  if (item.hiddenCodeHmac === null) throw new ProblemError("claim.no_code");
  const code = normalizeVerificationCode(typedCode);
  const nowMs = ctx.now();
  const hourAgo = nowMs - 3_600_000;
  const who = clientHash(ctx, client);
  const wrongOnItem = await ctx.db
    .selectFrom("claim_attempts")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("batch_id", "=", batch.batchId)
    .where("serial", "=", item.serial)
    .where("outcome", "=", "wrong")
    .where("attempted_at_ms", ">=", hourAgo)
    .executeTakeFirstOrThrow();
  if (
    wrongOnItem.n >= MAX_WRONG_PER_ITEM_PER_HOUR ||
    (await countClaimAttemptsSince(ctx.db, { clientHash: who }, hourAgo)) >= MAX_ATTEMPTS_PER_CLIENT_PER_HOUR
  ) {
    throw new ProblemError("claim.too_many_attempts");
  }
  const attempt = { batchId: batch.batchId, serial: item.serial, clientHash: who, attemptedAtMs: nowMs };
  if (!verifyVerificationCode(ctx.secrets.hiddenCodePepper, item.serial, code, item.hiddenCodeHmac)) {
    await recordClaimAttempt(ctx.db, { ...attempt, outcome: "wrong" });
    throw new ProblemError("claim.wrong_code");
  }
  const firstClaim = await claimItem(ctx.db, batch.batchId, item.serial, who, nowMs);
  await recordClaimAttempt(ctx.db, { ...attempt, outcome: firstClaim ? "claimed" : "already_claimed" });
  if (firstClaim) return { firstClaim, claimedAtMs: nowMs };
  const claimed = await getItem(ctx.db, batch.batchId, item.serial);
  return { firstClaim, claimedAtMs: claimed?.claim?.atMs ?? nowMs };
}
