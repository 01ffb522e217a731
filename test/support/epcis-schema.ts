/**
 * The official EPCIS 2.0 JSON Schema as a validator, for the tests and the exports bench to
 * check every export and query answer against: the very validator the server judges capture
 * documents with (server/src/services/epcis-schema.ts), over GS1's schema vendored unchanged
 * in `server/schemas/epcis/` (see its README and licence).
 */
export {
  EPCIS_SCHEMA_PATH,
  formatSchemaErrors,
  loadEpcisValidator,
  type EpcisValidation,
  type EpcisValidator,
} from "../../server/src/services/epcis-schema.ts";
