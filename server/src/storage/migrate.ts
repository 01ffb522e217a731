/**
 * Brings the schema up to date. Safe to run at every start and from several replicas at
 * once: Kysely takes a lock first (an advisory lock on PostgreSQL; SQLite has one writer)
 * and applies only the migrations not yet recorded, each in a transaction.
 */
import type { Kysely } from "kysely";
import { Migrator, type MigrationResult } from "kysely/migration";

import { MIGRATIONS } from "./migrations/index.ts";

export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed`, { cause: error });
  }
  return results ?? [];
}
