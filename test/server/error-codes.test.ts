/** docs/error-codes.md lists every code of the registry, as the registry says today. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { renderErrorCatalogue } from "../../scripts/lib/error-catalogue.ts";
import { ERRORS } from "../../server/src/errors/registry.ts";

describe("error code catalogue", () => {
  it("is in step with the registry (regenerate with `npm run cli -- error-codes`)", () => {
    assert.equal(readFileSync("docs/error-codes.md", "utf8"), renderErrorCatalogue());
  });

  it("gives every code a status, both messages and a remedy", () => {
    const text = renderErrorCatalogue();
    for (const [code, entry] of Object.entries(ERRORS)) {
      const row = text.split("\n").find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row !== undefined, code);
      assert.ok(entry.status >= 400 && entry.status < 600, `${code} has an error status`);
      assert.ok(entry.en.trim() !== "" && entry.zh.trim() !== "" && entry.remedy.trim() !== "", `${code} is complete`);
    }
  });
});
