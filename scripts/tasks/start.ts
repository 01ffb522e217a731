/**
 * `npm start`: the production server (see server/src/main.ts). Builds the pages it serves
 * when they are not built yet (`npm run build:web` rebuilds them after a change).
 */
import { existsSync } from "node:fs";
import path from "node:path";

import { main } from "../../server/src/main.ts";
import { buildWebAssets } from "../lib/web-assets.ts";

if (!existsSync(path.join(import.meta.dirname, "..", "..", "scanner-web", "dist", "scan.html"))) {
  await buildWebAssets();
}
await main();
