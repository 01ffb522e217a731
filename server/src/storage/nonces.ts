/**
 * Per-signer EIP-712 nonces. The registry's nonces are unordered (any unused value is
 * accepted once), so the server only has to never hand the same one out twice; it counts
 * up from zero per signer.
 *
 * Allocation is a compare-and-set on the stored counter rather than `next = next + 1`:
 * the counter is a uint256 kept as decimal text (no engine adds those natively), and a
 * conditional UPDATE is atomic on both engines. On PostgreSQL a concurrent allocator
 * blocks on the row, then re-reads it, finds the counter moved, updates nothing and
 * retries; SQLite runs one write at a time.
 */
import { normaliseAddress, textToUint, uintToText } from "./codec.ts";
import type { Db } from "./database.ts";

const MAX_ATTEMPTS = 1_000;

/** Reserves `count` consecutive nonces for the signer; returns the first. */
export async function allocateNonces(db: Db, signerAddress: string, count = 1, nowMs = Date.now()): Promise<bigint> {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`cannot allocate ${count} nonces`);
  const signer = normaliseAddress(signerAddress);
  await db
    .insertInto("signer_nonces")
    .values({ signer_address: signer, next_nonce: "0", updated_at_ms: nowMs })
    .onConflict((oc) => oc.column("signer_address").doNothing())
    .execute();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await db
      .selectFrom("signer_nonces")
      .select("next_nonce")
      .where("signer_address", "=", signer)
      .executeTakeFirstOrThrow();
    const first = textToUint(current.next_nonce);
    const result = await db
      .updateTable("signer_nonces")
      .set({ next_nonce: uintToText(first + BigInt(count)), updated_at_ms: nowMs })
      .where("signer_address", "=", signer)
      .where("next_nonce", "=", current.next_nonce)
      .executeTakeFirst();
    if (result.numUpdatedRows === 1n) return first;
  }
  throw new Error(`could not allocate a nonce for ${signer}: ${MAX_ATTEMPTS} concurrent updates in a row`);
}

/** The next nonce that would be handed out, without reserving it. */
export async function peekNextNonce(db: Db, signerAddress: string): Promise<bigint> {
  const row = await db
    .selectFrom("signer_nonces")
    .select("next_nonce")
    .where("signer_address", "=", normaliseAddress(signerAddress))
    .executeTakeFirst();
  return row === undefined ? 0n : textToUint(row.next_nonce);
}
