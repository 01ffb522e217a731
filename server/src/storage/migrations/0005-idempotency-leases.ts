/**
 * Idempotency keys held under a lease, so a key whose handler died (a SIGKILL, a lost
 * replica) is taken over by the next retry instead of answering "still being handled"
 * for ever: the holder's random token and when its lease lapses, and what the write
 * stored under the key (JSON: action, target, details), committed in the write's own
 * transaction so a retry after a crash between the write and its answer is answered
 * from the write rather than doing it twice. Keys reserved before this have no lease
 * and are taken over at their next retry.
 */
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema.alterTable("idempotency_keys").addColumn("lease_token", "text").execute();
  await db.schema.alterTable("idempotency_keys").addColumn("lease_expires_at_ms", "bigint").execute();
  await db.schema.alterTable("idempotency_keys").addColumn("written_ref", "text").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("idempotency_keys").dropColumn("written_ref").execute();
  await db.schema.alterTable("idempotency_keys").dropColumn("lease_expires_at_ms").execute();
  await db.schema.alterTable("idempotency_keys").dropColumn("lease_token").execute();
}

export const idempotencyLeases: Migration = { up, down };
