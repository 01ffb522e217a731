/**
 * `npm start`: the production server (see server/src/main.ts). Builds the pages it serves
 * when they are not built yet (`npm run build:web` rebuilds them after a change).
 */
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";
import path from "node:path";

// Before the server's code is loaded: compiled once, it is read back from Node's cache (its
// own folder under the temporary directory, or NODE_COMPILE_CACHE) by every later start, so
// a restart after a crash answers sooner. Static imports would load it before this line runs.
enableCompileCache();
const { main } = await import("../../server/src/main.ts");

if (!existsSync(path.join(import.meta.dirname, "..", "..", "scanner-web", "dist", "scan.html"))) {
  const { buildWebAssets } = await import("../lib/web-assets.ts");
  await buildWebAssets();
}
await main();
