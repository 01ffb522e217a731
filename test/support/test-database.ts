/**
 * The server tests' PostgreSQL: when TEST_DATABASE_URL names a server, each test gets a
 * database of its own there; otherwise the tests run on SQLite.
 */
import { freshPostgresDatabase } from "../../scripts/lib/fresh-database.ts";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** A fresh database's URL on the test server, or undefined for SQLite. */
export async function freshTestDatabaseUrl(prefix: string): Promise<string | undefined> {
  return TEST_DATABASE_URL === undefined ? undefined : freshPostgresDatabase(TEST_DATABASE_URL, prefix);
}
