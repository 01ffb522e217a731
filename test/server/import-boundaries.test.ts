/**
 * The import-boundary rules of eslint.config.js fire: a module of a lower layer that
 * imports a higher one fails the lint (docs/architecture.md). Probe modules are linted as
 * text under a path in the layer, through ESLint's API with the project's own config, so
 * nothing is written into the tree; type information is not needed by this rule.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

import { ESLint } from "eslint";
import tseslint from "typescript-eslint";

import {
  importBoundaryConfigs,
  KNOWN_VIOLATIONS,
  LAYERS,
  type LayerName,
} from "../../scripts/lib/import-boundaries.ts";

const root = path.resolve(import.meta.dirname, "../..");
const RULE = "@typescript-eslint/no-restricted-imports";

const projectConfig = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === RULE,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The boundary messages ESLint gives `code` as the module at `file` (from the repository root). */
async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await projectConfig.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result, `no lint result for ${file}`);
  assert.deepEqual(
    result.messages.filter((message) => message.fatal === true),
    [],
    `${file} did not parse`,
  );
  return result.messages.filter((message) => message.ruleId === RULE).map((message) => message.message);
}

const valueImport = (from: string) => `import { probe } from "${from}";\nexport const used = probe;\n`;
const typeImport = (from: string) => `import type { Probe } from "${from}";\nexport type Used = Probe;\n`;

const layerNames = Object.keys(LAYERS) as LayerName[];

describe("import boundaries (eslint.config.js)", () => {
  it("refuses the upward imports issue #11 names, and a test helper in shipped code", async () => {
    const refused: [file: string, code: string][] = [
      ["server/src/services/claims-probe.ts", valueImport("../http/problem.ts")],
      ["server/src/services/audit/run-probe.ts", valueImport("../../http/problem.ts")],
      ["server/src/ipfs/gateway-probe.ts", valueImport("../http/problem.ts")],
      ["server/src/domain/step-probe.ts", typeImport("../storage/schema.ts")],
      ["server/src/domain/probe.ts", valueImport("../verify/merkle.ts")],
      ["server/src/verify/probe.ts", valueImport("../ledger/signing.ts")],
      ["server/src/storage/probe.ts", valueImport("../services/batches.ts")],
      ["server/src/storage/probe.ts", valueImport("../ledger/writer.ts")],
      ["server/src/workers/probe.ts", valueImport("../services/batches.ts")],
      ["server/src/exports/probe.ts", valueImport("../services/export-input.ts")],
      ["server/src/labels/sheet/probe.ts", valueImport("../../http/problem.ts")],
      ["server/src/ledger/probe.ts", valueImport("../storage/outbox.ts")],
      ["server/src/http/routes/probe.ts", valueImport("../../storage/batches.ts")],
      ["server/src/http/routes/probe.ts", valueImport("../../ipfs/gateway.ts")],
      ["server/src/services/probe.ts", valueImport("../server.ts")],
      ["server/src/services/probe.ts", valueImport("../config.ts")],
      ["server/src/services/probe.ts", valueImport("../../../test/support/test-server.ts")],
      ["server/src/labels/probe.ts", valueImport("../../../test/support/label-tools.ts")],
      ["server/src/http/routes/probe.ts", valueImport("../../../../scanner-web/src/dom.ts")],
      ["scanner-web/src/probe.ts", valueImport("../../server/src/services/resolve.ts")],
      ["scanner-web/console/src/shared/probe.ts", valueImport("../../../../server/src/http/routes/batches.ts")],
      ["scanner-web/src/probe.ts", valueImport("../../test/support/test-server.ts")],
    ];
    for (const [file, code] of refused) {
      const messages = await refusals(file, code);
      assert.equal(messages.length, 1, `${file}: ${code.split("\n")[0] ?? ""} was not refused`);
      assert.match(messages[0] ?? "", /docs\/architecture\.md|imports nothing of the tests/);
    }
  });

  it("allows what the layering allows: lower layers, types where the table says, the page's core", async () => {
    const allowed: [file: string, code: string][] = [
      ["server/src/services/probe.ts", valueImport("../storage/batches.ts")],
      ["server/src/services/audit/probe.ts", valueImport("../../verify/index.ts")],
      ["server/src/http/routes/probe.ts", valueImport("../../services/batches.ts")],
      ["server/src/http/routes/probe.ts", typeImport("../../storage/batches.ts")],
      ["server/src/http/routes/probe.ts", typeImport("../../config.ts")],
      ["server/src/storage/probe.ts", typeImport("../ledger/writer.ts")],
      ["server/src/exports/probe.ts", typeImport("../storage/organisations.ts")],
      ["server/src/ledger/probe.ts", valueImport("../verify/index.ts")],
      ["server/src/labels/sheet/probe.ts", valueImport("../qr.ts")],
      ["server/src/server-probe.ts", valueImport("./http/app.ts")],
      ["server/src/services/probe.test.ts", valueImport("../../../test/support/test-server.ts")],
      ["scanner-web/src/probe.ts", valueImport("../../server/src/verify/index.ts")],
      ["scanner-web/console/src/shared/probe.ts", valueImport("../../../../server/src/domain/units.ts")],
      ["scanner-web/console/src/regulator/probe.ts", typeImport("../../../../server/src/services/audit/report.ts")],
    ];
    for (const [file, code] of allowed) {
      assert.deepEqual(await refusals(file, code), [], `${file}: ${code.split("\n")[0] ?? ""} was refused`);
    }
  });

  it("holds the whole table: each layer, at each depth, may import exactly the layers it lists", async () => {
    for (const layer of layerNames) {
      for (const folder of [`server/src/${layer}`, `server/src/${layer}/nested`]) {
        const up = folder === `server/src/${layer}` ? "../" : "../../";
        for (const target of layerNames) {
          const messages = await refusals(`${folder}/probe.ts`, valueImport(`${up}${target}/probe.ts`));
          const allowed = target === layer || LAYERS[layer].may.includes(target);
          assert.equal(messages.length, allowed ? 0 : 1, `${folder} importing ${target}/`);
        }
      }
    }
  });

  it("keeps only known violations that are still in the code (the list only shrinks)", async () => {
    const strict = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [
        { languageOptions: { parser: tseslint.parser }, plugins: { "@typescript-eslint": tseslint.plugin } },
        ...importBoundaryConfigs([]),
      ],
    });
    const files = [...new Set(KNOWN_VIOLATIONS.map((violation) => violation.file))];
    for (const file of files) assert.ok(existsSync(path.join(root, file)), `known violation in ${file}: no such file`);
    const results = await strict.lintFiles(files);
    const found = new Set<string>();
    for (const result of results) {
      for (const message of result.messages) {
        const specifier = /^'([^']+)' import is restricted/.exec(message.message)?.[1];
        if (message.ruleId !== RULE || specifier === undefined) continue;
        const target = path.relative(
          path.join(root, "server/src"),
          path.resolve(path.dirname(result.filePath), specifier),
        );
        found.add(`${path.relative(root, result.filePath)} -> ${target}`);
      }
    }
    const stale = KNOWN_VIOLATIONS.map((violation) => `${violation.file} -> ${violation.imports}`).filter(
      (entry) => !found.has(entry),
    );
    assert.deepEqual(
      stale,
      [],
      "these imports are gone: remove them from KNOWN_VIOLATIONS in scripts/lib/import-boundaries.ts",
    );
  });
});

describe("docs/architecture.md", () => {
  const doc = readFileSync(path.join(root, "docs/architecture.md"), "utf8");

  it("states the layering the lint enforces, row by row", () => {
    const rows = new Map<string, { may: string[]; types: string[] }>();
    for (const [, folder, mayColumn] of doc.matchAll(/^\| `([a-z]+)\/` +\|[^|]*\| ([^|]*?) *\|$/gm)) {
      if (folder === undefined || mayColumn === undefined) continue;
      const [values = "", types = ""] = mayColumn.split(";");
      const names = (text: string) =>
        [
          ...text.matchAll(
            /\b(errors|domain|verify|storage|ipfs|ledger|workers|labels|exports|services|http|config)\b/g,
          ),
        ].map((match) => match[1] ?? "");
      rows.set(folder, { may: names(values).sort(), types: names(types).sort() });
    }
    assert.deepEqual([...rows.keys()].sort(), [...layerNames].sort(), "a row per layer");
    for (const layer of layerNames) {
      assert.deepEqual(
        rows.get(layer),
        { may: [...LAYERS[layer].may].sort(), types: [...(LAYERS[layer].typesFrom ?? [])].sort() },
        `the row of ${layer}/`,
      );
    }
  });

  it("names only files that exist", () => {
    const named = [...doc.matchAll(/`([\w./-]+\.(?:ts|sol))`/g)].map((match) => match[1] ?? "");
    assert.ok(named.length > 20, `only ${named.length} files named`);
    // Paths in server/src are written from there (`services/resolve.ts`), others from the root.
    const missing = named.filter(
      (file) => !existsSync(path.join(root, "server/src", file)) && !existsSync(path.join(root, file)),
    );
    assert.deepEqual(missing, [], "files docs/architecture.md names that are not there");
  });
});
