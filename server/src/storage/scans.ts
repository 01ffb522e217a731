/**
 * Scans of item codes and attempts to claim hidden codes: the raw material of clone
 * detection ("3 or more scans in 24 h, or 10 or more in 7 days") and of rate limits on
 * guessing hidden codes. Clients appear only as keyed hashes.
 */
import { compiledOnce } from "./compiled-query.ts";
import type { Db } from "./database.ts";
import { inTransaction } from "./transaction.ts";

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

/** A scan as its table row; batch ids are stored in lower case, as every query gives them. */
function scanRow(scan: NewScan) {
  return {
    batch_id: scan.batchId.toLowerCase(),
    serial: scan.serial,
    scanned_at_ms: scan.scannedAtMs,
    coarse_place: scan.coarsePlace,
    client_hash: scan.clientHash,
    verdict: scan.verdict,
  };
}

export async function recordScan(db: Db, scan: NewScan): Promise<number> {
  const row = await db.insertInto("scans").values(scanRow(scan)).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/*
 * Page views are recorded by group commit: the scans of concurrent page views are written
 * together in one statement, so a burst costs one transaction (on SQLite with
 * synchronous=FULL, one fsync) instead of one each, and each page view's answer waits for
 * the commit of its group: an answered scan is on disk, so neither a crash nor a restart
 * loses one a clone signal may later depend on. A group is written as soon as the event
 * loop has taken in the requests of the moment (no timer: a phone waits for it), and the
 * scans that arrive meanwhile form the next group. Counting includes the scans not yet
 * committed, so the clone signal of an answer counts every scan made before it.
 */

const ROWS_PER_INSERT = 500;

/** The promise a group's page views wait on, settled when the group is committed or has failed. */
interface Group {
  committed: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group nobody awaits (a test buffering without waiting) must not fail the process.
  committed.catch(() => undefined);
  return { committed, resolve, reject };
}

interface ScanBuffer {
  /** Waiting for the next flush, and the group they will be written in. */
  pending: NewScan[];
  group: Group | null;
  /** Taken by the flush under way, not committed yet. */
  writing: NewScan[];
  scheduled: boolean;
  flushing: Promise<void> | null;
  /**
   * Counts read the database and these lists together, so no flush may commit in between:
   * counts in progress (`readers`) hold a flush off, and a waiting flush holds new counts off.
   */
  readers: number;
  writer: "none" | "waiting" | "writing";
  wake: (() => void)[];
}

const buffers = new WeakMap<Db, ScanBuffer>();

function bufferOf(db: Db): ScanBuffer {
  let buffer = buffers.get(db);
  if (buffer === undefined) {
    buffer = {
      pending: [],
      group: null,
      writing: [],
      scheduled: false,
      flushing: null,
      readers: 0,
      writer: "none",
      wake: [],
    };
    buffers.set(db, buffer);
  }
  return buffer;
}

/** A group of up to 500 scans is one statement, so one commit (a larger one, rare, takes several). */
async function writeScans(db: Db, scans: readonly NewScan[]): Promise<void> {
  for (let i = 0; i < scans.length; i += ROWS_PER_INSERT) {
    await db
      .insertInto("scans")
      .values(scans.slice(i, i + ROWS_PER_INSERT).map(scanRow))
      .execute();
  }
}

/** Flushes once the requests that arrived with this one have been taken in (after I/O callbacks). */
function schedule(db: Db, buffer: ScanBuffer): void {
  if (buffer.scheduled || buffer.flushing !== null) return;
  buffer.scheduled = true;
  setImmediate(() => {
    buffer.scheduled = false;
    flushScans(db).catch(() => undefined);
  });
}

/** Resolves at the next change of the gate's state. */
function gateChanged(buffer: ScanBuffer): Promise<void> {
  return new Promise((resolve) => buffer.wake.push(resolve));
}

function openGate(buffer: ScanBuffer): void {
  const waiting = buffer.wake;
  buffer.wake = [];
  for (const wake of waiting) wake();
}

/**
 * Records a page view's scan with the group of this moment (see above). Counted at once;
 * the promise resolves when the group is committed, and rejects when writing it failed
 * (the page view must then not be answered as if it had been recorded).
 */
export function bufferScan(db: Db, scan: NewScan): Promise<void> {
  const buffer = bufferOf(db);
  buffer.pending.push(scan);
  buffer.group ??= newGroup();
  schedule(db, buffer);
  return buffer.group.committed;
}

/** Writes every buffered scan now (the server calls it before closing the database). */
export async function flushScans(db: Db): Promise<void> {
  const buffer = bufferOf(db);
  while (buffer.flushing !== null) await buffer.flushing;
  if (buffer.pending.length === 0) return;
  const flushing = (async () => {
    buffer.writer = "waiting";
    while (buffer.readers > 0) await gateChanged(buffer);
    buffer.writer = "writing";
    buffer.writing = buffer.pending;
    buffer.pending = [];
    const group = buffer.group;
    buffer.group = null;
    try {
      await writeScans(db, buffer.writing);
      group?.resolve();
    } catch (error) {
      // Not kept for another attempt: the page views waiting on this group are refused, so
      // no answer was sent for a scan that is not on disk.
      group?.reject(error);
      throw error;
    } finally {
      buffer.writing = [];
      buffer.writer = "none";
      buffer.flushing = null;
      openGate(buffer);
      if (buffer.pending.length > 0) schedule(db, buffer);
    }
  })();
  buffer.flushing = flushing;
  await flushing;
}

/** The scans not yet committed: those being written, then those waiting. */
type Unwritten = readonly (readonly NewScan[])[];

/**
 * An item's unwritten scans since `sinceMs`. Every page view asks, over everything buffered:
 * the serial is compared first, so the batch id is lower-cased only for that item's scans.
 */
function unwrittenOf(all: Unwritten, batchId: string, serial: string, sinceMs: number): NewScan[] {
  const id = batchId.toLowerCase();
  const found: NewScan[] = [];
  for (const scans of all) {
    for (const scan of scans) {
      if (scan.serial === serial && scan.scannedAtMs >= sinceMs && scan.batchId.toLowerCase() === id) found.push(scan);
    }
  }
  return found;
}

/**
 * Reads the database given the unwritten scans, with no flush committing in between (its
 * scans would otherwise be missed or counted twice).
 */
async function consistently<T>(db: Db, read: (unwritten: Unwritten) => Promise<T>): Promise<T> {
  const buffer = bufferOf(db);
  while (buffer.writer !== "none") await gateChanged(buffer);
  buffer.readers += 1;
  try {
    return await read([buffer.writing, buffer.pending]);
  } finally {
    buffer.readers -= 1;
    if (buffer.readers === 0) openGate(buffer);
  }
}

export interface ScanCounts {
  scans: number;
  distinctClients: number;
}

/** Scans of one item since `sinceMs` (the unwritten ones too), and by how many distinct clients. */
export async function countScansSince(db: Db, batchId: string, serial: string, sinceMs: number): Promise<ScanCounts> {
  const item = (eb: Db) =>
    eb
      .selectFrom("scans")
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "=", serial)
      .where("scanned_at_ms", ">=", sinceMs);
  return consistently(db, async (all) => {
    const stored = await item(db)
      .select((eb) => [
        eb.fn.countAll<number>().as("scans"),
        eb.fn.count<number>("client_hash").distinct().as("distinct_clients"),
      ])
      .executeTakeFirstOrThrow();
    const unwritten = unwrittenOf(all, batchId, serial, sinceMs);
    if (unwritten.length === 0) return { scans: stored.scans, distinctClients: stored.distinct_clients };
    const clients = [...new Set(unwritten.map((scan) => scan.clientHash))];
    // Clients already in the database are counted there; only new ones add to the distinct count.
    const known = await item(db).select("client_hash").distinct().where("client_hash", "in", clients).execute();
    const knownSet = new Set(known.map((row) => row.client_hash));
    return {
      scans: stored.scans + unwritten.length,
      distinctClients: stored.distinct_clients + clients.filter((c) => !knownSet.has(c)).length,
    };
  });
}

/**
 * One indexed pass over an item's scans: counts for the day and the week, the first scan,
 * and whether one client (the page view's own, whose scan is still unwritten) scanned it today.
 */
const summaryOf = compiledOnce(
  (
    db,
    dayMs: number,
    weekMs: number,
    clientsSinceMs: number,
    ownSinceMs: number,
    ownClient: string,
    batchId: string,
    serial: string,
  ) =>
    db
      .selectFrom("scans")
      .select((eb) => [
        eb.fn.countAll<number>().filterWhere("scanned_at_ms", ">=", dayMs).as("day"),
        eb.fn.countAll<number>().filterWhere("scanned_at_ms", ">=", weekMs).as("week"),
        eb.fn
          .count<number>("client_hash")
          .distinct()
          .filterWhere("scanned_at_ms", ">=", clientsSinceMs)
          .as("clients_day"),
        eb.fn
          .countAll<number>()
          .filterWhere((f) => f.and([f("scanned_at_ms", ">=", ownSinceMs), f("client_hash", "=", ownClient)]))
          .as("own_day"),
        eb.fn.min<number | null>("scanned_at_ms").as("first"),
      ])
      .where("batch_id", "=", batchId)
      .where("serial", "=", serial),
  [-1, -2, -3, -4, "\u0000own", "\u0000batch", "\u0000serial"] as const,
);

export interface ItemScanSummary {
  scansDay: number;
  scansWeek: number;
  distinctClientsDay: number;
  firstAtMs: number | null;
}

/**
 * What a consumer's answer needs to know of one item's scans (unwritten ones too), in one
 * query: scans in the last day and week, distinct clients in the last day, the first scan.
 * Every page view asks this, so it is one indexed pass over the item's rows, not four.
 * `ownClient` is the client hash of the page view asking (its own scan is unwritten yet):
 * whether it is new today is read in the same pass, so the usual page view needs no second query.
 */
export async function itemScanSummary(
  db: Db,
  batchId: string,
  serial: string,
  nowMs: number,
  ownClient: string | null = null,
): Promise<ItemScanSummary> {
  const dayMs = nowMs - 86_400_000;
  const weekMs = nowMs - 7 * 86_400_000;
  const item = () => db.selectFrom("scans").where("batch_id", "=", batchId.toLowerCase()).where("serial", "=", serial);
  return consistently(db, async (all) => {
    const [stored] = await summaryOf(db, dayMs, weekMs, dayMs, dayMs, ownClient ?? "", batchId.toLowerCase(), serial);
    if (stored === undefined) throw new Error("an aggregate query returned no row");
    const summary: ItemScanSummary = {
      scansDay: stored.day,
      scansWeek: stored.week,
      distinctClientsDay: stored.clients_day,
      firstAtMs: stored.first,
    };
    const unwritten = unwrittenOf(all, batchId, serial, 0);
    if (unwritten.length === 0) return summary;
    const dayUnwritten = unwritten.filter((scan) => scan.scannedAtMs >= dayMs);
    const clients = [...new Set(dayUnwritten.map((scan) => scan.clientHash))];
    // Clients already stored for the day are counted there; only new ones add to the distinct count.
    const knownSet = new Set<string>();
    if (ownClient !== null && stored.own_day > 0) knownSet.add(ownClient);
    const unknown = clients.filter((client) => client !== ownClient);
    const known =
      unknown.length === 0
        ? []
        : await item()
            .select("client_hash")
            .distinct()
            .where("scanned_at_ms", ">=", dayMs)
            .where("client_hash", "in", unknown)
            .execute();
    for (const row of known) knownSet.add(row.client_hash);
    const times = unwritten.map((scan) => scan.scannedAtMs);
    if (summary.firstAtMs !== null) times.push(summary.firstAtMs);
    return {
      scansDay: summary.scansDay + dayUnwritten.length,
      scansWeek: summary.scansWeek + unwritten.filter((scan) => scan.scannedAtMs >= weekMs).length,
      distinctClientsDay: summary.distinctClientsDay + clients.filter((c) => !knownSet.has(c)).length,
      firstAtMs: Math.min(...times),
    };
  });
}

/**
 * Scans of one item after `afterMs` (a hidden-code claim) by clients that had not scanned it
 * at or before then (unwritten scans too): the claimant opened the page before claiming, so
 * their later scans do not count; a copy scanned somewhere else does.
 */
export async function countScansByNewClientsAfter(
  db: Db,
  batchId: string,
  serial: string,
  afterMs: number,
): Promise<number> {
  return consistently(db, async (all) => {
    const rows = await db
      .selectFrom("scans")
      .select(["client_hash", "scanned_at_ms"])
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "=", serial)
      .execute();
    const scans = [
      ...rows.map((row) => ({ clientHash: row.client_hash, at: row.scanned_at_ms })),
      ...unwrittenOf(all, batchId, serial, 0).map((scan) => ({ clientHash: scan.clientHash, at: scan.scannedAtMs })),
    ];
    const before = new Set(scans.filter((scan) => scan.at <= afterMs).map((scan) => scan.clientHash));
    return scans.filter((scan) => scan.at > afterMs && !before.has(scan.clientHash)).length;
  });
}

/** When the item was first scanned (an unwritten scan counts), or null if never. */
export async function firstScanAtMs(db: Db, batchId: string, serial: string): Promise<number | null> {
  return consistently(db, async (all) => {
    const stored = await db
      .selectFrom("scans")
      .select((eb) => eb.fn.min<number | null>("scanned_at_ms").as("first"))
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "=", serial)
      .executeTakeFirst();
    const times = unwrittenOf(all, batchId, serial, 0).map((scan) => scan.scannedAtMs);
    // MIN over no rows is NULL.
    if (stored?.first !== undefined && stored.first !== null) times.push(stored.first);
    return times.length === 0 ? null : Math.min(...times);
  });
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

/** What a guessing limit allows: at most `max` counted attempts since `sinceMs`. */
export interface ClaimBudget {
  max: number;
  sinceMs: number;
}

/**
 * Reserves a judgement of one hidden-code guess, atomically on either engine: inside one
 * transaction it locks the item's and then the client's guard row (always in that order,
 * so two guesses never wait on each other in a cycle), counts the item's wrong or still
 * pending attempts and the client's attempts since the window start, and records a
 * `pending` attempt only if both are under their limits. Returns the attempt's id, or null
 * when a limit is reached. The caller judges the code and settles the attempt's outcome;
 * a pending attempt never settled (a crash) keeps counting as a wrong one.
 */
export async function reserveClaimAttempt(
  db: Db,
  attempt: { batchId: string; serial: string; clientHash: string; attemptedAtMs: number },
  limits: { item: ClaimBudget; client: ClaimBudget & { alsoClientHashes?: string[] } },
): Promise<number | null> {
  const batchId = attempt.batchId.toLowerCase();
  return inTransaction(db, async (trx) => {
    for (const subject of [`item:${batchId}:${attempt.serial}`, `client:${attempt.clientHash}`]) {
      // A write takes the row's lock (PostgreSQL) or the database's write lock (SQLite) until commit.
      await trx
        .insertInto("claim_guards")
        .values({ subject, touched_at_ms: attempt.attemptedAtMs })
        .onConflict((oc) => oc.column("subject").doUpdateSet({ touched_at_ms: attempt.attemptedAtMs }))
        .execute();
    }
    const onItem = await trx
      .selectFrom("claim_attempts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("batch_id", "=", batchId)
      .where("serial", "=", attempt.serial)
      .where("outcome", "in", ["wrong", "pending"])
      .where("attempted_at_ms", ">=", limits.item.sinceMs)
      .executeTakeFirstOrThrow();
    if (onItem.n >= limits.item.max) return null;
    const byClient = await trx
      .selectFrom("claim_attempts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("client_hash", "in", [attempt.clientHash, ...(limits.client.alsoClientHashes ?? [])])
      .where("attempted_at_ms", ">=", limits.client.sinceMs)
      .executeTakeFirstOrThrow();
    if (byClient.n >= limits.client.max) return null;
    const row = await trx
      .insertInto("claim_attempts")
      .values({
        batch_id: batchId,
        serial: attempt.serial,
        client_hash: attempt.clientHash,
        attempted_at_ms: attempt.attemptedAtMs,
        outcome: "pending",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  });
}

/** Records how a reserved attempt was judged: wrong, claimed or already_claimed. */
export async function settleClaimAttempt(db: Db, id: number, outcome: string): Promise<void> {
  await db.updateTable("claim_attempts").set({ outcome }).where("id", "=", id).execute();
}

/**
 * Deletes guard rows no attempt has touched since `beforeMs`: a guard only matters while
 * its subject's window (an hour; a client's hash changes daily) is open, and one is made
 * again by the next attempt. A delete waits for a guard's lock, so it never cuts into one.
 */
export async function pruneClaimGuards(db: Db, beforeMs: number): Promise<number> {
  const result = await db.deleteFrom("claim_guards").where("touched_at_ms", "<", beforeMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}
