/**
 * A Kysely dialect for SQLite with two connections to one WAL database: every write and
 * every transaction on the writer, one at a time (Kysely's own SQLite driver does that for
 * everything), and reads outside a transaction on a read-only connection that never waits.
 *
 * Why: node:sqlite is synchronous, so a long write transaction (the million items of one
 * batch, inserted in chunks that yield to the event loop) would otherwise hold the only
 * connection, and every health check and scan would queue behind it for seconds. In WAL
 * mode a reader sees the last committed state while the writer works, as PostgreSQL's
 * pool gives every request its own connection.
 */
import {
  CompiledQuery,
  RawNode,
  SelectQueryNode,
  SqliteAdapter,
  SqliteDialect,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
} from "kysely";

/** A plain select, which the read-only connection can answer. */
function isRead(query: CompiledQuery): boolean {
  if (SelectQueryNode.is(query.query)) return true;
  return RawNode.is(query.query) && /^\s*select\b/i.test(query.sql);
}

function run<R>(db: SqliteDatabase, query: CompiledQuery): QueryResult<R> {
  const statement = db.prepare(query.sql);
  if (statement.reader) return { rows: statement.all(query.parameters) as R[] };
  const { changes, lastInsertRowid } = statement.run(query.parameters);
  return {
    insertId: BigInt(lastInsertRowid),
    numAffectedRows: BigInt(changes),
    rows: [],
  };
}

/** One writer at a time, in arrival order. */
class WriterLock {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => released);
    return acquired;
  }
}

class Session implements DatabaseConnection {
  readonly #writer: SqliteDatabase;
  readonly #reader: SqliteDatabase;
  readonly #lock: WriterLock;
  #release: (() => void) | null = null;

  constructor(writer: SqliteDatabase, reader: SqliteDatabase, lock: WriterLock) {
    this.#writer = writer;
    this.#reader = reader;
    this.#lock = lock;
  }

  /** Holds the writer until `release`: from a transaction's begin, or a write's first statement. */
  async holdWriter(): Promise<void> {
    this.#release ??= await this.#lock.acquire();
  }

  release(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#release === null && isRead(query)) return run<R>(this.#reader, query);
    await this.holdWriter();
    return run<R>(this.#writer, query);
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error("SQLite streams only select queries");
    const db = this.#release === null ? this.#reader : this.#writer;
    for (const row of db.prepare(query.sql).iterate(query.parameters))
      yield await Promise.resolve({ rows: [row as R] });
  }
}

function sessionOf(connection: DatabaseConnection): Session {
  if (!(connection instanceof Session)) throw new TypeError("not a connection of this driver");
  return connection;
}

class ReadWriteDriver implements Driver {
  readonly #writer: SqliteDatabase;
  readonly #reader: SqliteDatabase;
  readonly #lock = new WriterLock();

  constructor(writer: SqliteDatabase, reader: SqliteDatabase) {
    this.#writer = writer;
    this.#reader = reader;
  }

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new Session(this.#writer, this.#reader, this.#lock));
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await sessionOf(connection).holdWriter();
    await connection.executeQuery(CompiledQuery.raw("begin"));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw("rollback"));
    } catch (error) {
      // SQLite ends the transaction itself on some failures (a full disk: SQLITE_FULL); then
      // there is nothing to roll back, and the failure that got us here must reach the caller
      // (a full disk is answered 507, not hidden behind this one).
      if (!(error instanceof Error && /no transaction is active/.test(error.message))) throw error;
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    sessionOf(connection).release();
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    this.#writer.close();
    this.#reader.close();
    return Promise.resolve();
  }
}

/** Kysely serialises every query on SQLite unless the adapter says connections may run side by side. */
class ReadWriteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

export class SqliteReadWriteDialect extends SqliteDialect {
  readonly #writer: SqliteDatabase;
  readonly #reader: SqliteDatabase;

  constructor(writer: SqliteDatabase, reader: SqliteDatabase) {
    super({ database: writer });
    this.#writer = writer;
    this.#reader = reader;
  }

  override createDriver(): Driver {
    return new ReadWriteDriver(this.#writer, this.#reader);
  }

  override createAdapter(): DialectAdapter {
    return new ReadWriteAdapter();
  }
}
