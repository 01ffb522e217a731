import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { compiledOnce } from "./compiled-query.ts";
import { openDatabase, type OpenedDatabase } from "./database.ts";
import { migrateToLatest } from "./migrate.ts";

describe("queries compiled once", () => {
  let dir = "";
  let store: OpenedDatabase;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "oioc-compiled-"));
    store = await openDatabase({ kind: "sqlite", path: path.join(dir, "trace.db") });
    await migrateToLatest(store.db);
    await store.db
      .insertInto("leases")
      .values([
        { name: "a", holder: "one", expires_at_ms: 1 },
        { name: "b", holder: "two", expires_at_ms: 2 },
      ])
      .execute();
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs Kysely's SQL again with each call's values", async () => {
    const holderOf = compiledOnce(
      (db, name: string) => db.selectFrom("leases").select("holder").where("name", "=", name),
      ["\u0000name"] as const,
    );
    const holders = async (name: string) => (await holderOf(store.db, name)).map((row) => row.holder);
    assert.deepEqual(await holders("a"), ["one"]);
    assert.deepEqual(await holders("b"), ["two"]);
    assert.deepEqual(await holders("c"), []);
  });

  it("refuses a query whose parameters are not its sentinels in order", async () => {
    // The builder swaps its values: the compiled parameters come out in the other order.
    const swapped = compiledOnce(
      (db, first: string, second: string) =>
        db.selectFrom("leases").select("holder").where("holder", "=", second).where("name", "=", first),
      ["\u0000first", "\u0000second"] as const,
    );
    await assert.rejects(swapped(store.db, "a", "one"), /not its sentinels in order/);
  });
});
