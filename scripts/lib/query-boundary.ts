/**
 * One way to the database (docs/architecture.md): only the repositories of
 * server/src/storage/ build queries or open transactions; every other module of the server
 * calls a repository function (or `storage/transaction.ts` for a unit of work). An ESLint
 * `no-restricted-syntax` rule, run by `npm run lint`, fails a query built anywhere else.
 * It names calls by their method, so it also catches a query on a handle of any name.
 */
import type { Linter } from "eslint";

/** Kysely's entry points to a query, and to a transaction. */
export const QUERY_BUILDERS = [
  "selectFrom",
  "selectNoFrom",
  "insertInto",
  "replaceInto",
  "updateTable",
  "deleteFrom",
  "mergeInto",
  "transaction",
] as const;

export const QUERY_BOUNDARY_MESSAGE =
  "queries and transactions live in server/src/storage/: call a repository function (or inTransaction from storage/transaction.ts)";

/** The rule's options: the selectors it refuses, each with the message. */
export function queryBoundaryRule(): Linter.RuleEntry {
  const builders = QUERY_BUILDERS.join("|");
  return [
    "error",
    {
      selector: `CallExpression[callee.type='MemberExpression'][callee.property.name=/^(?:${builders})$/]`,
      message: QUERY_BOUNDARY_MESSAGE,
    },
    {
      // Raw SQL (`sql\`...\``) and Kysely's other values; its types (`Kysely<Database>`) may be named.
      selector: "ImportDeclaration[source.value='kysely'][importKind='value'] > ImportSpecifier[importKind='value']",
      message: QUERY_BOUNDARY_MESSAGE,
    },
  ];
}

/** Flat-config objects: the server's shipped code outside storage/, and the CLI's commands. */
export function queryBoundaryConfigs(): Linter.Config[] {
  return [
    {
      files: ["server/src/**/*.ts", "scripts/tasks/**/*.ts"],
      ignores: ["server/src/storage/**"],
      rules: { "no-restricted-syntax": queryBoundaryRule() },
    },
  ];
}
