/**
 * A fingerprint of everything a server keeps: every row of every table of its query store
 * and the set of CIDs its embedded IPFS store has pinned. Tests take one before and one
 * after hostile or malformed requests: refused input must leave both exactly as they were.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";

import type { Kysely } from "kysely";

import type { Database } from "../../server/src/storage/schema.ts";

/**
 * Tables that change with no write by a caller, or that record reads by design, and why:
 * their rows are not what "nothing changed" promises.
 */
export const VOLATILE_TABLES: Readonly<Record<string, string>> = {
  leases: "the ledger writer renews its lease on a timer",
  indexer_cursors: "the indexer records how far it has read the chain",
  scans: "a resolution through the page records the scan (clone signals)",
  claim_attempts: "failed hidden-code claims are counted on purpose (rate limit)",
  claim_guards: "failed hidden-code claims are counted on purpose (rate limit)",
  kysely_migration: "migration bookkeeping",
  kysely_migration_lock: "migration bookkeeping",
};

/** Columns that record use, not content, and why. */
export const VOLATILE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  // Authentication notes when a token was last used (at most once a minute).
  credentials: ["last_used_at_ms"],
};

export interface StoreDigest {
  /** Table name → SHA-256 over its rows (each row's JSON, sorted). */
  tables: Record<string, string>;
  /** SHA-256 over the sorted names of the pinned CIDs. */
  pins: string;
}

function rowText(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
    if (value instanceof Date) return value.toISOString();
    return value;
  });
}

/** `ipfsDir` is the embedded store's directory (`DATA_DIR/ipfs`); its `pins/` holds one file per pin. */
export async function storeDigest(db: Kysely<Database>, ipfsDir: string): Promise<StoreDigest> {
  const tables: Record<string, string> = {};
  const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  for (const table of await db.introspection.getTables()) {
    if (table.name in VOLATILE_TABLES) continue;
    const rows = await untyped.selectFrom(table.name).selectAll().execute();
    const skip = VOLATILE_COLUMNS[table.name] ?? [];
    const lines = rows
      .map((row) => rowText(Object.fromEntries(Object.entries(row).filter(([column]) => !skip.includes(column)))))
      .sort();
    tables[table.name] = createHash("sha256").update(lines.join("\n")).digest("hex");
  }
  const names = (await readdir(path.join(ipfsDir, "pins"))).filter((name) => !name.endsWith(".tmp")).sort();
  return { tables, pins: createHash("sha256").update(names.join("\n")).digest("hex") };
}

/**
 * The digest once background work (the ledger writer anchoring, the indexer projecting) has
 * stopped changing it: two equal readings `quietMs` apart. A "before" taken this way cannot
 * be disturbed by work that was already under way.
 */
export async function settledStoreDigest(
  db: Kysely<Database>,
  ipfsDir: string,
  { quietMs = 400, timeoutMs = 60_000 }: { quietMs?: number; timeoutMs?: number } = {},
): Promise<StoreDigest> {
  const deadline = Date.now() + timeoutMs;
  let last = await storeDigest(db, ipfsDir);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const next = await storeDigest(db, ipfsDir);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    if (Date.now() > deadline) throw new Error(`the store kept changing for ${String(timeoutMs)} ms`);
    last = next;
  }
}
