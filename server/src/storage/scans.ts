/**
 * Scans of item codes and attempts to claim hidden codes: the raw material of clone
 * detection ("3 or more scans in 24 h, or 10 or more in 7 days") and of rate limits on
 * guessing hidden codes. Clients appear only as keyed hashes.
 */
import type { Db } from "./database.ts";

export interface NewScan {
  batchId: string;
  serial: string;
  scannedAtMs: number;
  coarsePlace: string | null;
  clientHash: string;
  verdict: string;
}

export interface Scan extends NewScan {
  id: number;
}

export async function recordScan(db: Db, scan: NewScan): Promise<number> {
  const row = await db
    .insertInto("scans")
    .values({
      batch_id: scan.batchId.toLowerCase(),
      serial: scan.serial,
      scanned_at_ms: scan.scannedAtMs,
      coarse_place: scan.coarsePlace,
      client_hash: scan.clientHash,
      verdict: scan.verdict,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface ScanCounts {
  scans: number;
  distinctClients: number;
}

/** Scans of one item since `sinceMs`, and by how many distinct clients. */
export async function countScansSince(db: Db, batchId: string, serial: string, sinceMs: number): Promise<ScanCounts> {
  const row = await db
    .selectFrom("scans")
    .select((eb) => [
      eb.fn.countAll<number>().as("scans"),
      eb.fn.count<number>("client_hash").distinct().as("distinct_clients"),
    ])
    .where("batch_id", "=", batchId.toLowerCase())
    .where("serial", "=", serial)
    .where("scanned_at_ms", ">=", sinceMs)
    .executeTakeFirstOrThrow();
  return { scans: row.scans, distinctClients: row.distinct_clients };
}

/** The newest scans of one item, newest first: places and times for "far apart in short time". */
export async function recentScans(db: Db, batchId: string, serial: string, limit = 20): Promise<Scan[]> {
  const rows = await db
    .selectFrom("scans")
    .selectAll()
    .where("batch_id", "=", batchId.toLowerCase())
    .where("serial", "=", serial)
    .orderBy("scanned_at_ms", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    batchId: row.batch_id,
    serial: row.serial,
    scannedAtMs: row.scanned_at_ms,
    coarsePlace: row.coarse_place,
    clientHash: row.client_hash,
    verdict: row.verdict,
  }));
}

export async function recordClaimAttempt(
  db: Db,
  attempt: { batchId: string; serial: string; clientHash: string; attemptedAtMs: number; outcome: string },
): Promise<void> {
  await db
    .insertInto("claim_attempts")
    .values({
      batch_id: attempt.batchId.toLowerCase(),
      serial: attempt.serial,
      client_hash: attempt.clientHash,
      attempted_at_ms: attempt.attemptedAtMs,
      outcome: attempt.outcome,
    })
    .execute();
}

/** Claim attempts since `sinceMs`, on one item or by one client: what a rate limit counts. */
export async function countClaimAttemptsSince(
  db: Db,
  subject: { batchId: string; serial: string } | { clientHash: string },
  sinceMs: number,
): Promise<number> {
  let query = db
    .selectFrom("claim_attempts")
    .select((eb) => eb.fn.countAll<number>().as("attempts"))
    .where("attempted_at_ms", ">=", sinceMs);
  query =
    "clientHash" in subject
      ? query.where("client_hash", "=", subject.clientHash)
      : query.where("batch_id", "=", subject.batchId.toLowerCase()).where("serial", "=", subject.serial);
  const row = await query.executeTakeFirstOrThrow();
  return row.attempts;
}
