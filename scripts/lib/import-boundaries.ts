/**
 * The server's layers and what each may import (docs/architecture.md), as ESLint
 * `no-restricted-imports` rules per folder: a lower layer that imports a higher one fails
 * `npm run lint`. Imports are relative paths, so each rule is written for a file's depth
 * below server/src: `../` from `services/x.ts` and `../../` from `services/audit/x.ts` both
 * reach server/src, and nothing else of the same name can be meant.
 */
import type { Linter } from "eslint";

/** What a layer may import besides itself; `typesFrom`: layers it may name types of, never values. */
interface Layer {
  readonly may: readonly Target[];
  readonly typesFrom?: readonly Target[];
}

/** A folder of server/src, or one of its top-level modules. */
type Target = LayerName | "config" | "root";

export type LayerName =
  | "errors"
  | "domain"
  | "verify"
  | "storage"
  | "ipfs"
  | "ledger"
  | "workers"
  | "labels"
  | "exports"
  | "services"
  | "http";

export const LAYERS: Readonly<Record<LayerName, Layer>> = {
  // The one error type and its registry of codes: thrown by every layer, rendered by http/.
  errors: { may: [] },
  // Pure rules: imported by everything, including the scan page and the consoles.
  domain: { may: ["errors"] },
  // Bundled into the scan page: the domain's rules, nothing of the server.
  verify: { may: ["errors", "domain"] },
  // The repositories implement the ports the writer and the indexer define.
  storage: { may: ["errors", "domain"], typesFrom: ["ledger"] },
  ipfs: { may: ["errors", "domain", "verify"] },
  ledger: { may: ["errors", "domain", "verify"] },
  // The worker threads' tasks: the heavy pure work of a registration.
  workers: { may: ["errors", "domain"] },
  labels: { may: ["errors", "domain"] },
  // The export formats are written from the repositories' records, which callers pass in.
  exports: { may: ["errors", "domain"], typesFrom: ["storage"] },
  services: {
    may: ["errors", "domain", "verify", "storage", "ipfs", "ledger", "workers", "labels", "exports"],
  },
  // Routes reach data through the services only; labels and exports render into the response.
  http: { may: ["errors", "domain", "services", "labels", "exports"], typesFrom: ["storage", "config"] },
};

/** The tail of an import path below server/src that names a target. */
const TARGET_PATTERN: Readonly<Record<Target, string>> = {
  errors: "errors/",
  domain: "domain/",
  verify: "verify/",
  storage: "storage/",
  ipfs: "ipfs/",
  ledger: "ledger/",
  workers: "workers/",
  labels: "labels/",
  exports: "exports/",
  services: "services/",
  http: "http/",
  config: "config\\.ts$",
  // The composition root: only it wires the layers together.
  root: "(?:server|main|reindex)\\.ts$",
};

/**
 * Imports of a higher layer that exist today and are being removed (issue #11): each is
 * allowed for its one file until it goes. `test/server/import-boundaries.test.ts` fails
 * when an entry is no longer needed, so the list only shrinks.
 */
export interface KnownViolation {
  /** The importing file, from the repository root. */
  readonly file: string;
  /** The imported module, from server/src. */
  readonly imports: string;
}

export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [];

const RULE = "@typescript-eslint/no-restricted-imports";
/** Deep enough for every folder of server/src (services/audit/, labels/sheet/ are two). */
const MAX_DEPTH = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function describeLayer(name: LayerName): string {
  const layer = LAYERS[name];
  const may = layer.may.length === 0 ? "nothing else of the server" : layer.may.join(", ");
  const types = layer.typesFrom === undefined ? "" : `, and types only from ${layer.typesFrom.join(", ")}`;
  return `${name}/ may import ${may}${types} (docs/architecture.md)`;
}

/** The rule's patterns for a file `depth` folders below server/src, with its allowed exceptions. */
function layerPatterns(name: LayerName, depth: number, exceptions: readonly string[]) {
  const layer = LAYERS[name];
  const up = "(?:\\.\\./)".repeat(depth);
  const except =
    exceptions.length === 0 ? "" : `(?!(?:${exceptions.map((imported) => escapeRegExp(imported)).join("|")})$)`;
  const message = describeLayer(name);
  const targets = (Object.keys(TARGET_PATTERN) as Target[]).filter(
    (target) => target !== name && !layer.may.includes(target),
  );
  return [
    ...targets.map((target) => ({
      regex: `^${up}${except}${TARGET_PATTERN[target]}`,
      allowTypeImports: layer.typesFrom?.includes(target) ?? false,
      message,
    })),
    {
      regex: `^${up}\\.\\./\\.\\./(?:test|scripts|scanner-web)/`,
      message:
        "the server imports nothing of the tests, the scripts or the browser code: test helpers live in test/support/",
    },
  ];
}

function folderGlob(name: LayerName, depth: number): string {
  return `server/src/${name}/${"*/".repeat(depth - 1)}*.ts`;
}

/**
 * Flat-config objects: one per layer and depth, then one per file with known violations
 * (a later object's options replace an earlier one's for the same rule).
 */
export function importBoundaryConfigs(knownViolations: readonly KnownViolation[] = KNOWN_VIOLATIONS): Linter.Config[] {
  const configs: Linter.Config[] = [];
  for (const name of Object.keys(LAYERS) as LayerName[]) {
    for (let depth = 1; depth <= MAX_DEPTH; depth += 1) {
      configs.push({
        files: [folderGlob(name, depth)],
        ignores: ["**/*.test.ts"],
        rules: { [RULE]: ["error", { patterns: layerPatterns(name, depth, []) }] },
      });
    }
  }
  configs.push({
    files: ["scanner-web/**/*.ts"],
    rules: {
      [RULE]: [
        "error",
        {
          patterns: [
            {
              regex: "^(?:\\.\\./)+server/src/(?!(?:errors|domain|verify)/)",
              allowTypeImports: true,
              message:
                "the scan page and the consoles run the errors, the domain's rules and the verifier only; the rest of the server they may name types of (docs/architecture.md)",
            },
            {
              regex: "^(?:\\.\\./)+(?:test|scripts)/",
              message: "shipped code imports nothing of the tests or the scripts",
            },
          ],
        },
      ],
    },
  });
  const byFile = new Map<string, string[]>();
  for (const violation of knownViolations) {
    byFile.set(violation.file, [...(byFile.get(violation.file) ?? []), violation.imports]);
  }
  for (const [file, imports] of byFile) {
    const match = /^server\/src\/([^/]+)\/(.+)$/.exec(file);
    const name = match?.[1];
    if (match === null || name === undefined || !(name in LAYERS) || match[2] === undefined) {
      throw new Error(`known violation in ${file}: not a file of a server layer`);
    }
    const depth = match[2].split("/").length;
    configs.push({
      files: [file],
      rules: {
        [RULE]: [
          "error",
          {
            patterns: layerPatterns(name as LayerName, depth, imports),
          },
        ],
      },
    });
  }
  return configs;
}
