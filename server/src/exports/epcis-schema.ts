/**
 * The official EPCIS 2.0 JSON Schema as a validator. The schema file is GS1's, kept
 * outside the repository in `../shared/data/epcis/` (beside the project root); it is
 * draft-07, which is what Ajv's default class implements, with `ajv-formats` for the
 * `uri` and `date-time` formats the schema leans on.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { Ajv, type ErrorObject } from "ajv";
import ajvFormats from "ajv-formats";

import { ExportError } from "./types.ts";

// ajv-formats is CommonJS whose `module.exports` is the plugin and also has it as `default`;
// TypeScript sees only the latter under NodeNext, so take it from there.
const addFormats = ajvFormats.default;

/** The repository root: this file is server/src/exports/epcis-schema.ts. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, "../../..");

export const EPCIS_SCHEMA_FILE = "EPCIS-JSON-Schema.json";

/** `../shared/data/epcis` beside the project root; throws `export.schema_missing` when it is not there. */
export function epcisReferenceDir(projectRoot: string = PROJECT_ROOT): string {
  const dir = path.resolve(projectRoot, "../shared/data/epcis");
  if (!existsSync(path.join(dir, EPCIS_SCHEMA_FILE))) {
    throw new ExportError(
      "export.schema_missing",
      `the official EPCIS 2.0 schema is expected at ${path.join(dir, EPCIS_SCHEMA_FILE)} (shared/data/epcis beside the repository); it is not there`,
      { dir },
    );
  }
  return dir;
}

export interface EpcisValidation {
  valid: boolean;
  errors: ErrorObject[];
}

export type EpcisValidator = (document: unknown) => EpcisValidation;

/** Compiles the official schema once; the returned function validates documents or single events. */
export function loadEpcisValidator(dir: string = epcisReferenceDir()): EpcisValidator {
  const schema: unknown = JSON.parse(readFileSync(path.join(dir, EPCIS_SCHEMA_FILE), "utf8"));
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

/** Ajv's errors as lines a test failure or a log can show. */
export function formatSchemaErrors(errors: readonly ErrorObject[], limit = 20): string {
  return errors
    .slice(0, limit)
    .map((error) => `${error.instancePath || "/"} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`)
    .join("\n");
}
