/**
 * Builds the consumer scan page into `scanner-web/dist/`: one minified JS bundle (the page
 * and the shared verification core), one CSS file, both named by their content hash (the
 * server serves `/web/` as immutable), and `scan.html` pointing at them. Prints the gzip
 * size and fails above the budget: the page must load fast on a cheap phone over 3G.
 *
 * `node scripts/tasks/build-web.ts` (exit code 1 when over budget).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { build } from "esbuild";

/** HTML + CSS + JS, gzipped, together. */
export const SCAN_PAGE_BUDGET_GZIP_BYTES = 50 * 1024;

export interface WebBuild {
  outDir: string;
  files: { name: string; bytes: number; gzipBytes: number }[];
  gzipBytes: number;
  withinBudget: boolean;
}

const projectRoot = path.resolve(import.meta.dirname, "../..");
const webRoot = path.join(projectRoot, "scanner-web");

/** `scan-0123456789.js`: named by content, so `/web/` can be cached for long. */
export function contentName(base: string, extension: string, content: Uint8Array): string {
  return `${base}-${createHash("sha256").update(content).digest("hex").slice(0, 10)}.${extension}`;
}

/** One minified browser bundle of a TypeScript or CSS entry, in memory. */
export async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    // BigInt (noble's curve arithmetic) needs ES2020; every WebView WeChat ships has it.
    target: entry.endsWith(".css") ? ["chrome80", "safari13"] : ["es2020"],
    platform: "browser",
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    outdir: "out",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.contents;
}

export async function buildWeb(options: { outDir?: string } = {}): Promise<WebBuild> {
  const outDir = options.outDir ?? path.join(webRoot, "dist");
  const js = await bundle(path.join(webRoot, "src", "main.ts"));
  const css = await bundle(path.join(webRoot, "src", "scan.css"));
  const jsName = contentName("scan", "js", js);
  const cssName = contentName("scan", "css", css);

  const template = readFileSync(path.join(webRoot, "scan.html"), "utf8");
  if (!template.includes('"/web/scan.js"') || !template.includes('"/web/scan.css"')) {
    throw new Error("scan.html must reference /web/scan.js and /web/scan.css");
  }
  const html = template
    .replace('"/web/scan.js"', `"/web/${jsName}"`)
    .replace('"/web/scan.css"', `"/web/${cssName}"`)
    .replace(/>\s+</g, "><")
    .trim();

  mkdirSync(outDir, { recursive: true });
  // Only the scan page's own earlier outputs go: the consoles build into the same folder.
  for (const name of readdirSync(outDir)) {
    if (/^scan(-[0-9a-f]{10})?\.(js|css|html)$/.test(name)) rmSync(path.join(outDir, name), { force: true });
  }
  const outputs: [string, Uint8Array][] = [
    ["scan.html", new TextEncoder().encode(html)],
    [jsName, js],
    [cssName, css],
  ];
  const files = outputs.map(([name, content]) => {
    writeFileSync(path.join(outDir, name), content);
    return { name, bytes: content.byteLength, gzipBytes: gzipSync(content, { level: 9 }).byteLength };
  });
  const gzipBytes = files.reduce((sum, file) => sum + file.gzipBytes, 0);
  return { outDir, files, gzipBytes, withinBudget: gzipBytes <= SCAN_PAGE_BUDGET_GZIP_BYTES };
}

if (import.meta.main) {
  const result = await buildWeb();
  for (const file of result.files) {
    console.log(
      `[build-web] ${file.name.padEnd(28)} ${String(file.bytes).padStart(8)} B  ${String(file.gzipBytes).padStart(7)} B gzip`,
    );
  }
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  console.log(
    `[build-web] total ${kib(result.gzipBytes)} KiB gzip (budget ${kib(SCAN_PAGE_BUDGET_GZIP_BYTES)} KiB) -> ${path.relative(projectRoot, result.outDir)}/`,
  );
  if (!result.withinBudget) {
    console.error("[build-web] over the scan page budget");
    process.exitCode = 1;
  }
}
