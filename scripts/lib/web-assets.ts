/** Builds what the server serves under /web/ and /console/: the scan page and, when present, the consoles. */
import { existsSync } from "node:fs";
import path from "node:path";

import { buildWeb } from "../tasks/build-web.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");

export async function buildConsolesIfPresent(): Promise<void> {
  const script = path.join(projectRoot, "scripts", "tasks", "build-consoles.ts");
  if (!existsSync(script)) return;
  const module = (await import(script)) as { buildConsoles?: () => Promise<unknown> };
  await module.buildConsoles?.();
}

/** Everything the browser gets; fails when the scan page is over its budget. */
export async function buildWebAssets(): Promise<void> {
  const web = await buildWeb();
  if (!web.withinBudget) throw new Error(`the scan page is ${web.gzipBytes} bytes gzip, over its budget`);
  await buildConsolesIfPresent();
}
