/**
 * Opens the query store: SQLite in a file by default (through Node's built-in
 * `node:sqlite`, so there is no native addon to build), PostgreSQL when a URL is
 * configured. Both come back as the same `Kysely<Database>`, and schema.ts fixes the
 * type mappings so that every query behaves the same on either engine.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

import { Kysely, PostgresDialect, sql, type SqliteDatabase, type SqliteStatement, type Transaction } from "kysely";
import { Pool, types as pgTypes } from "pg";

import type { Database } from "./schema.ts";
import { SqliteReadWriteDialect } from "./sqlite-read-write.ts";

export type DatabaseConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string; poolSize?: number };

export type Engine = "sqlite" | "postgres";

/** The database or a transaction on it: every repository function takes either. */
export type Db = Kysely<Database> | Transaction<Database>;

export interface OpenedDatabase {
  db: Kysely<Database>;
  engine: Engine;
  close: () => Promise<void>;
}

export interface OpenOptions {
  /** Errors of idle PostgreSQL connections (the server restarted, the network dropped). */
  onIdleError?: (error: Error) => void;
}

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** Prepared statements kept per SQLite connection; the server's hot queries are far fewer. */
const SQLITE_STATEMENT_CACHE = 256;

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<OpenedDatabase> {
  switch (config.kind) {
    case "sqlite":
      return openSqlite(config.path);
    case "postgres":
      return openPostgres(config.url, config.poolSize ?? 10, options);
  }
}

function openSqlite(file: string): OpenedDatabase {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new DatabaseSync(file, { timeout: SQLITE_BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
  try {
    applySqlitePragmas(database);
  } catch (error) {
    database.close();
    throw error;
  }
  const adapter = sqliteAdapter(database);
  // Reads outside transactions get their own read-only connection (sqlite-read-write.ts),
  // so a long write transaction does not hold up health checks and scans.
  const reader = sqliteAdapter(
    new DatabaseSync(file, { readOnly: true, timeout: SQLITE_BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true }),
  );
  const db = new Kysely<Database>({ dialect: new SqliteReadWriteDialect(adapter, reader) });
  return {
    db,
    engine: "sqlite",
    close: async () => {
      // `destroy` closes the files only if a query ever ran; close them ourselves otherwise.
      await db.destroy();
      adapter.close();
      reader.close();
    },
  };
}

/**
 * WAL lets the scan page read while the writer writes. `synchronous = FULL` because an
 * HTTP success promises the submission is stored (DESIGN.md principle 3): in WAL mode,
 * NORMAL survives a crash of the process but may lose the last commits on power loss or
 * an OS crash, since the WAL is only synced at checkpoints. FULL syncs the WAL at every
 * commit, one fsync per transaction, which batching rows into transactions keeps cheap.
 */
function applySqlitePragmas(database: DatabaseSync): void {
  database.exec("PRAGMA journal_mode = WAL");
  database.exec("PRAGMA synchronous = FULL");
  database.exec("PRAGMA foreign_keys = ON");
  database.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  const mode = database.prepare("PRAGMA journal_mode").get()?.journal_mode;
  // Some file systems (network mounts) refuse WAL and SQLite silently keeps its old mode.
  if (mode !== "wal") throw new Error(`SQLite refused WAL mode for this file (journal_mode is ${String(mode)})`);
}

function toSqliteValue(value: unknown): SQLInputValue {
  if (value === null || typeof value === "number" || typeof value === "bigint" || typeof value === "string") {
    return value;
  }
  if (value instanceof Uint8Array) return value;
  // Kysely only ever passes what the caller gave it; anything else is a bug worth a clear message.
  throw new TypeError(`cannot bind a ${typeof value} as a SQLite parameter`);
}

interface ClosableSqliteDatabase extends SqliteDatabase {
  close: () => void;
}

/** Kysely's SqliteDialect speaks better-sqlite3's interface; this gives it node:sqlite in that shape. */
function sqliteAdapter(database: DatabaseSync): ClosableSqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  let open = true;

  function wrap(statement: StatementSync): SqliteStatement {
    return {
      // Any statement that yields columns (a SELECT, a PRAGMA, a write with RETURNING) is read with `all`.
      reader: statement.columns().length > 0,
      all: (parameters) => statement.all(...parameters.map(toSqliteValue)),
      run: (parameters) => statement.run(...parameters.map(toSqliteValue)),
      iterate: (parameters) => statement.iterate(...parameters.map(toSqliteValue)),
    };
  }

  return {
    close() {
      if (!open) return;
      open = false;
      cache.clear();
      try {
        database.exec("PRAGMA optimize");
      } catch {
        // Only statistics for the query planner; a full disk must not keep the file open.
      }
      database.close();
    },
    prepare(text) {
      const cached = cache.get(text);
      if (cached !== undefined) {
        // Re-inserting moves it to the end: the Map's order is the recency order.
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      // Kysely opens transactions with a plain (deferred) BEGIN, which takes the write lock
      // only at the first write; if another process wrote meanwhile, SQLite fails at once
      // instead of waiting. BEGIN IMMEDIATE takes the lock up front, so busy_timeout applies.
      const statement = wrap(database.prepare(text === "begin" ? "begin immediate" : text));
      cache.set(text, statement);
      if (cache.size > SQLITE_STATEMENT_CACHE) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      return statement;
    },
  };
}

/**
 * BIGINT columns hold milliseconds, block numbers and counts, all below 2^53 by
 * construction (uint64 protocol values are TEXT for this reason), so they are read as
 * numbers, as SQLite returns them; pg's default would return strings.
 */
type PgTypeId = Parameters<typeof pgTypes.getTypeParser>[0];
type PgTypeFormat = Parameters<typeof pgTypes.getTypeParser>[1];

function pgTypeParser(id: PgTypeId, format?: PgTypeFormat): unknown {
  if (id === pgTypes.builtins.INT8 && format !== "binary") return (value: string) => Number(value);
  return pgTypes.getTypeParser(id, format);
}

async function openPostgres(url: string, poolSize: number, options: OpenOptions): Promise<OpenedDatabase> {
  const pool = new Pool({
    connectionString: url,
    max: poolSize,
    types: { getTypeParser: pgTypeParser },
  });
  // Without a listener, an idle connection's error would crash the process; the pool
  // drops that connection and opens a new one for the next query.
  pool.on(
    "error",
    options.onIdleError ??
      ((error) => {
        process.emitWarning(error);
      }),
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Fail at start-up, with the driver's message, rather than at the first request.
    await pingDatabase(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, engine: "postgres", close: () => db.destroy() };
}

/** A round trip to the database: throws when it cannot answer. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** How many rows a table holds (a reindex reports what it rebuilt). */
export async function countRows(db: Db, table: keyof Database): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const engines = new WeakMap<object, Engine>();

/**
 * The engine behind a database or transaction handle. Kysely keeps its dialect private,
 * but its compilers differ visibly: PostgreSQL numbers parameters (`$1`), SQLite does not.
 */
export function engineOf<DB>(db: Kysely<DB> | Transaction<DB>): Engine {
  const known = engines.get(db);
  if (known !== undefined) return known;
  const compiled = db.selectNoFrom((eb) => eb.val(1).as("probe")).compile();
  const engine: Engine = compiled.sql.includes("$1") ? "postgres" : "sqlite";
  engines.set(db, engine);
  return engine;
}

const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const PG_UNIQUE_VIOLATION = "23505";

/** Whether a write failed because a unique key (or primary key) already exists, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code === PG_UNIQUE_VIOLATION) return true;
  return (
    code === "ERR_SQLITE_ERROR" && (errcode === SQLITE_CONSTRAINT_UNIQUE || errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
  );
}
