/**
 * The official EPCIS 2.0 JSON Schema as a validator: capture documents are judged against it
 * at the boundary, and the tests and the exports bench check every export against the same
 * file. The schema is GS1's, vendored unchanged in `server/schemas/epcis/` (see its README
 * and licence); it is draft-07, which is what Ajv's default class implements, with
 * `ajv-formats` for the `uri` and `date-time` formats the schema leans on.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { Ajv, type ErrorObject } from "ajv";
import ajvFormats from "ajv-formats";

// ajv-formats is CommonJS whose `module.exports` is the plugin and also has it as `default`;
// TypeScript sees only the latter under NodeNext, so take it from there.
const addFormats = ajvFormats.default;

/** The vendored schema. */
export const EPCIS_SCHEMA_PATH = path.join(
  import.meta.dirname,
  "..",
  "..",
  "schemas",
  "epcis",
  "EPCIS-JSON-Schema.json",
);

export interface EpcisValidation {
  valid: boolean;
  errors: ErrorObject[];
}

export type EpcisValidator = (document: unknown) => EpcisValidation;

/** Compiles the official schema once; the returned function validates documents or single events. */
export function loadEpcisValidator(schemaPath: string = EPCIS_SCHEMA_PATH): EpcisValidator {
  const schema: unknown = JSON.parse(readFileSync(schemaPath, "utf8"));
  // strict: false because GS1's schema uses keywords beside `$ref` and `if` without `then`,
  // which draft-07 allows and Ajv's strict mode reports; allErrors so a report names every fault.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema as object);
  return (document) => {
    const valid = validate(document);
    return { valid, errors: valid ? [] : [...(validate.errors ?? [])] };
  };
}

let shared: EpcisValidator | undefined;

/**
 * The process's one compiled validator, compiled on first use: compiling GS1's schema takes
 * about 0.15 s, which every server start (tens of them in a test run) would otherwise pay
 * whether or not anything is ever captured.
 */
export function sharedEpcisValidator(): EpcisValidator {
  shared ??= loadEpcisValidator();
  return shared;
}

/** One schema failure as a caller reads it: where (a JSON Pointer into the document) and what. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * Ajv's errors as issues, at most `limit`, each place and message once. The schema's
 * `if`/`then` wrappers repeat a deeper failure as "must match then schema" at every level
 * above it; those add nothing a caller can act on and are left out when a deeper issue exists.
 */
export function schemaIssues(errors: readonly ErrorObject[], limit = 50): SchemaIssue[] {
  const concrete = errors.filter((error) => error.keyword !== "if");
  const chosen = concrete.length > 0 ? concrete : errors;
  const seen = new Set<string>();
  const issues: SchemaIssue[] = [];
  for (const error of chosen) {
    const issue = { path: error.instancePath || "/", message: error.message ?? error.keyword };
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
    if (issues.length >= limit) break;
  }
  return issues;
}

/** Ajv's errors as lines a test failure or a log can show. */
export function formatSchemaErrors(errors: readonly ErrorObject[], limit = 20): string {
  return errors
    .slice(0, limit)
    .map((error) => `${error.instancePath || "/"} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`)
    .join("\n");
}
