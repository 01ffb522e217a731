/**
 * The rule that keeps queries in server/src/storage/ (scripts/lib/query-boundary.ts) fires
 * where it must and nowhere else: `npm run lint` applies it to the real tree, this proves
 * it would catch a query written outside the repositories.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";

import { ESLint } from "eslint";
import tseslint from "typescript-eslint";

import { QUERY_BOUNDARY_MESSAGE, queryBoundaryConfigs } from "../../scripts/lib/query-boundary.ts";

const root = path.resolve(import.meta.dirname, "../..");

const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } }, ...queryBoundaryConfigs()],
});

/** The lines the rule refuses in `code`, as if it were the file at `file`. */
async function refusedLines(code: string, file: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result !== undefined);
  for (const message of result.messages) {
    assert.equal(message.ruleId, "no-restricted-syntax", message.message);
    assert.equal(message.message, QUERY_BOUNDARY_MESSAGE);
  }
  return result.messages.map((message) => message.line);
}

const source = [
  'import { sql, type Kysely } from "kysely";', // 1: a value of Kysely (raw SQL)
  'import type { Transaction } from "kysely";', // 2: types may be named
  'import { getBatch } from "../storage/batches.ts";', // 3
  "export async function f(db: Kysely<object>, trx: Transaction<object>) {",
  '  await db.selectFrom("items").selectAll().execute();', // 5
  '  await trx.insertInto("items").values({}).execute();', // 6
  '  await db.updateTable("items").set({}).execute();', // 7
  '  await db.deleteFrom("items").execute();', // 8
  "  await db.transaction().execute(async () => {});", // 9
  "  await sql`select 1`.execute(db);", // 10: its import is refused
  '  return getBatch(db, "0x");', // 11: a repository call is the way
  "}",
].join("\n");

describe("queries stay in server/src/storage/", () => {
  it("refuses a query, a transaction or raw SQL in a service, a route and a CLI command", async () => {
    for (const file of ["server/src/services/x.ts", "server/src/http/routes/x.ts", "scripts/tasks/cli/x.ts"]) {
      assert.deepEqual(await refusedLines(source, file), [1, 5, 6, 7, 8, 9], file);
    }
  });

  it("lets the repositories build them", async () => {
    assert.deepEqual(await refusedLines(source, "server/src/storage/x.ts"), []);
  });
});
