/** error-codes: docs/error-codes.md regenerated from the error catalogues. */
import { writeFileSync } from "node:fs";

import { renderErrorCatalogue } from "../../lib/error-catalogue.ts";

export function errorCodesCommand(): boolean {
  writeFileSync("docs/error-codes.md", renderErrorCatalogue());
  console.log("wrote docs/error-codes.md");
  return true;
}
