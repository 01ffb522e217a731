/** Builds what the server serves under /web/ and /console/: the scan page and the consoles. */
import { buildConsoles } from "../tasks/build-consoles.ts";
import { buildWeb } from "../tasks/build-web.ts";

/** Everything the browser gets; fails when the scan page is over its budget. */
export async function buildWebAssets(): Promise<void> {
  const web = await buildWeb();
  if (!web.withinBudget)
    throw new Error(`the scan page is ${web.gzipBytes} bytes gzip, ${web.brotliBytes} bytes brotli: over its budget`);
  await buildConsoles();
}
