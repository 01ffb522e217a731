/** docs/error-codes.md lists every code the server can answer with, as the catalogues say today. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { renderErrorCatalogue } from "../../scripts/lib/error-catalogue.ts";
import { DOMAIN_ERRORS } from "../../server/src/domain/errors.ts";
import { PROBLEMS } from "../../server/src/http/problem.ts";
import { LABEL_ERRORS } from "../../server/src/labels/errors.ts";

describe("error code catalogue", () => {
  it("is in step with the code (regenerate with `npm run cli -- error-codes`)", () => {
    assert.equal(readFileSync("docs/error-codes.md", "utf8"), renderErrorCatalogue());
  });

  it("gives every code a remedy", () => {
    const text = renderErrorCatalogue();
    for (const code of [...Object.keys(PROBLEMS), ...Object.keys(DOMAIN_ERRORS), ...Object.keys(LABEL_ERRORS)]) {
      const row = text.split("\n").find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row !== undefined, code);
      assert.ok(!row.endsWith("|  |"), `${code} has a remedy`);
    }
  });
});
