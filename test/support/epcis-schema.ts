/**
 * The official EPCIS 2.0 JSON Schema as a validator, for the tests and the exports bench to
 * check every export against. The schema file is GS1's, vendored unchanged in
 * `test/data/epcis/` (see its README and licence) so a clone carries what the tests need; it
 * is draft-07, which is what Ajv's default class implements, with `ajv-formats` for the
 * `uri` and `date-time` formats the schema leans on.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { Ajv, type ErrorObject } from "ajv";
import ajvFormats from "ajv-formats";

// ajv-formats is CommonJS whose `module.exports` is the plugin and also has it as `default`;
// TypeScript sees only the latter under NodeNext, so take it from there.
const addFormats = ajvFormats.default;

const EPCIS_SCHEMA_FILE = "EPCIS-JSON-Schema.json";

/** The vendored schema, with GS1's examples. */
export const EPCIS_SCHEMA_PATH = path.join(import.meta.dirname, "..", "data", "epcis", EPCIS_SCHEMA_FILE);

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

/** Ajv's errors as lines a test failure or a log can show. */
export function formatSchemaErrors(errors: readonly ErrorObject[], limit = 20): string {
  return errors
    .slice(0, limit)
    .map((error) => `${error.instancePath || "/"} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`)
    .join("\n");
}
