/**
 * Named leases for electing one holder among replicas (one ledger writer, one indexer).
 *
 * Acquiring and renewing are one upsert that takes the row only if it is free, expired
 * or already ours, so two replicas racing can never both succeed. Time is the caller's
 * clock: replicas need clocks in step to well within the lease's length, which NTP gives.
 */
import type { Db } from "./database.ts";

export interface Lease {
  name: string;
  holder: string;
  expiresAtMs: number;
}

/** Takes or renews the lease; returns true when `holder` holds it until `nowMs + ttlMs`. */
export async function acquireLease(
  db: Db,
  lease: { name: string; holder: string; ttlMs: number; nowMs: number },
): Promise<boolean> {
  const expiresAtMs = lease.nowMs + lease.ttlMs;
  const row = await db
    .insertInto("leases")
    .values({ name: lease.name, holder: lease.holder, expires_at_ms: expiresAtMs })
    .onConflict((oc) =>
      oc
        .column("name")
        .doUpdateSet({ holder: lease.holder, expires_at_ms: expiresAtMs })
        .where((eb) => eb.or([eb("leases.holder", "=", lease.holder), eb("leases.expires_at_ms", "<=", lease.nowMs)])),
    )
    .returning("holder")
    .executeTakeFirst();
  return row?.holder === lease.holder;
}

/** Gives the lease up early (on shutdown), if `holder` still has it. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", name).where("holder", "=", holder).execute();
}

/** Who holds the lease at `nowMs`, or null when nobody does. */
export async function currentLease(db: Db, name: string, nowMs: number): Promise<Lease | null> {
  const row = await db
    .selectFrom("leases")
    .selectAll()
    .where("name", "=", name)
    .where("expires_at_ms", ">", nowMs)
    .executeTakeFirst();
  return row === undefined ? null : { name: row.name, holder: row.holder, expiresAtMs: row.expires_at_ms };
}
