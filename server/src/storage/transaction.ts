/**
 * The one way to open a transaction. Everything engine-specific stays below it, in the
 * drivers: on SQLite, `sqlite-read-write.ts` holds the single writer for the whole
 * transaction, begins it IMMEDIATE (so `busy_timeout` applies between processes) and does
 * not roll back again a transaction SQLite already ended itself (a full disk), so the
 * caller sees that failure; on PostgreSQL the pool gives the transaction one connection at
 * the default isolation (READ COMMITTED), and repositories that race for a row settle it
 * themselves: the outbox locks what it claims (FOR UPDATE SKIP LOCKED), idempotency keys and
 * uploads rely on a unique key, nonces compare and set with a bounded retry. Nothing is
 * retried here: a failed unit of work reaches its caller.
 */
import { Transaction } from "kysely";

import type { Db } from "./database.ts";
import type { Database } from "./schema.ts";

/** An open transaction: what a unit of work receives and passes to repository functions. */
export type Trx = Transaction<Database>;

/**
 * Runs `work` in a transaction, or inside the caller's when `db` already is one, so a
 * repository function that needs atomicity composes with the caller's larger unit of work.
 */
export function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  if (db instanceof Transaction) return work(db);
  return db.transaction().execute(work);
}
