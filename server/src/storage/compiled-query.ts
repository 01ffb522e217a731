/**
 * Queries Kysely compiles once per database and runs again with new values. On the scan
 * path building and compiling a query cost more than SQLite's answer to it; the SQL is
 * still Kysely's, only the values change per call.
 */
import type { Compilable, CompiledQuery } from "kysely";

import type { Db } from "./database.ts";

type Value = string | number;

/**
 * `build` is called once per database with `sentinels` as its values; the compiled query's
 * parameters must be exactly those sentinels, in order, or the first use fails: a query
 * whose parameters Kysely orders or repeats differently never runs with values misplaced.
 */
export function compiledOnce<P extends readonly Value[], R>(
  build: (db: Db, ...values: P) => Compilable<R>,
  sentinels: P,
): (db: Db, ...values: P) => Promise<R[]> {
  const compiledFor = new WeakMap<Db, CompiledQuery<R>>();
  return async (db, ...values) => {
    let compiled = compiledFor.get(db);
    if (compiled === undefined) {
      compiled = build(db, ...sentinels).compile();
      const parameters = compiled.parameters;
      if (parameters.length !== sentinels.length || parameters.some((value, i) => value !== sentinels[i])) {
        throw new Error(`a compiled query's parameters are not its sentinels in order: ${compiled.sql}`);
      }
      compiledFor.set(db, compiled);
    }
    const result = await db.executeQuery<R>({ ...compiled, parameters: values });
    return result.rows;
  };
}
