/**
 * Builds the live-stream lot card page into `scanner-web/dist/lot/`: one minified script and
 * one stylesheet named by content hash (served under `/l/assets/`, cached for long), with
 * `.br` and `.gz` siblings, and the page template the server fills per lot (title, oEmbed
 * link, the QR code as SVG, the card's JSON). No inline script or style: the CSP is
 * `default-src 'self'`.
 *
 * `node scripts/tasks/build-lot-page.ts` (also run by `npm run build:web`)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { bundle, contentName, faviconDataUri, writeWithSiblings } from "./build-web.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const pageRoot = path.join(projectRoot, "scanner-web", "lot");

export const LOT_PAGE_PLACEHOLDERS = [
  "{{icon}}",
  "{{script}}",
  "{{style}}",
  "{{title}}",
  "{{oembed}}",
  "{{mode}}",
  "{{qr}}",
  "{{data}}",
];

export interface LotPageBuild {
  outDir: string;
  /** Script and stylesheet as brotli: what a phone downloads besides the page itself. */
  brotliBytes: number;
  gzipBytes: number;
}

export async function buildLotPage(options: { outDir?: string } = {}): Promise<LotPageBuild> {
  const outDir = options.outDir ?? path.join(projectRoot, "scanner-web", "dist", "lot");
  const js = await bundle(path.join(pageRoot, "main.ts"));
  const css = await bundle(path.join(pageRoot, "lot.css"));
  const jsName = contentName("lot", "js", js);
  const cssName = contentName("lot", "css", css);
  const template = readFileSync(path.join(pageRoot, "index.html"), "utf8");
  for (const placeholder of LOT_PAGE_PLACEHOLDERS) {
    if (!template.includes(placeholder)) throw new Error(`lot/index.html must contain ${placeholder}`);
  }
  const html = template
    .replace("{{script}}", jsName)
    .replace("{{style}}", cssName)
    // In the page: a request of its own would cost a phone a round trip.
    .replace("{{icon}}", () => faviconDataUri())
    .replace(/>\s+</g, "><")
    .replace(/>\s+\{\{/g, ">{{")
    .replace(/\}\}\s+</g, "}}<")
    .trim();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const files = [writeWithSiblings(outDir, jsName, js), writeWithSiblings(outDir, cssName, css)];
  writeFileSync(path.join(outDir, "index.html"), html);
  const brotliBytes = files.reduce((sum, file) => sum + file.brotliBytes, 0);
  const gzipBytes = files.reduce((sum, file) => sum + file.gzipBytes, 0);
  console.log(
    `[web] lot card page ${jsName} ${(js.byteLength / 1024).toFixed(1)} KiB (script and style ${String(brotliBytes)} B brotli) -> ${path.relative(projectRoot, outDir)}/`,
  );
  return { outDir, brotliBytes, gzipBytes };
}

if (import.meta.main) await buildLotPage();
