/**
 * Builds the cooperative and regulator consoles into `scanner-web/dist/console/`: one
 * minified bundle per console and one shared stylesheet, named by content hash (the
 * server serves `/web/` as cacheable), and each console's HTML pointing at them. No inline
 * script or style anywhere: the server's CSP is `default-src 'self'`.
 *
 * `node scripts/tasks/build-consoles.ts`
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { bundle, contentName } from "./build-web.ts";

export const CONSOLES = ["cooperative", "regulator"] as const;
export type ConsoleName = (typeof CONSOLES)[number];

export interface ConsoleBuild {
  outDir: string;
  files: { name: string; bytes: number; gzipBytes: number }[];
}

const projectRoot = path.resolve(import.meta.dirname, "../..");
const consoleRoot = path.join(projectRoot, "scanner-web", "console");

export async function buildConsoles(options: { outDir?: string } = {}): Promise<ConsoleBuild> {
  const outDir = options.outDir ?? path.join(projectRoot, "scanner-web", "dist", "console");
  const css = await bundle(path.join(consoleRoot, "console.css"));
  const cssName = contentName("console", "css", css);
  const outputs: [string, Uint8Array][] = [[cssName, css]];
  for (const name of CONSOLES) {
    const js = await bundle(path.join(consoleRoot, "src", name, "main.ts"));
    const jsName = contentName(name, "js", js);
    const template = readFileSync(path.join(consoleRoot, `${name}.html`), "utf8");
    const scriptRef = `"/web/console/${name}.js"`;
    if (!template.includes(scriptRef) || !template.includes('"/web/console/console.css"')) {
      throw new Error(`${name}.html must reference /web/console/${name}.js and /web/console/console.css`);
    }
    const html = template
      .replace(scriptRef, `"/web/console/${jsName}"`)
      .replace('"/web/console/console.css"', `"/web/console/${cssName}"`)
      .replace(/>\s+</g, "><")
      .trim();
    outputs.push([`${name}.html`, new TextEncoder().encode(html)], [jsName, js]);
  }
  // The folder is the consoles' alone: earlier builds' hashed files go.
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const files = outputs.map(([name, content]) => {
    writeFileSync(path.join(outDir, name), content);
    return { name, bytes: content.byteLength, gzipBytes: gzipSync(content, { level: 9 }).byteLength };
  });
  console.log(
    `[web] consoles ${files.map((f) => `${f.name} ${(f.gzipBytes / 1024).toFixed(1)} KiB gzip`).join(", ")} -> ${path.relative(projectRoot, outDir)}/`,
  );
  return { outDir, files };
}

if (import.meta.main) await buildConsoles();
