/**
 * Builds the 合格证 page into `scanner-web/dist/certificate/`: one minified script, one
 * stylesheet (named by content hash, so a new build is never mixed with a cached old one) and
 * the page, which the server fills with the JSON-RPC endpoint when it serves `/c/:id`. No
 * inline script or style: the server's CSP is `default-src 'self'`.
 *
 * `node scripts/tasks/build-certificate-page.ts` (also run by `npm run build:web`)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { bundle, contentName } from "./build-web.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const pageRoot = path.join(projectRoot, "scanner-web", "certificate");

export async function buildCertificatePage(
  options: { outDir?: string } = {},
): Promise<{ outDir: string; bytes: number }> {
  const outDir = options.outDir ?? path.join(projectRoot, "scanner-web", "dist", "certificate");
  const js = await bundle(path.join(pageRoot, "main.ts"));
  const css = await bundle(path.join(pageRoot, "certificate.css"));
  const jsName = contentName("certificate", "js", js);
  const cssName = contentName("certificate", "css", css);
  const template = readFileSync(path.join(pageRoot, "index.html"), "utf8");
  for (const placeholder of ["{{script}}", "{{style}}", "{{rpcUrl}}"]) {
    if (!template.includes(placeholder)) throw new Error(`certificate/index.html must contain ${placeholder}`);
  }
  const html = template.replace("{{script}}", jsName).replace("{{style}}", cssName);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, jsName), js);
  writeFileSync(path.join(outDir, cssName), css);
  writeFileSync(path.join(outDir, "index.html"), html);
  console.log(
    `[web] certificate page ${jsName} ${(js.byteLength / 1024).toFixed(1)} KiB -> ${path.relative(projectRoot, outDir)}/`,
  );
  return { outDir, bytes: js.byteLength };
}

if (import.meta.main) await buildCertificatePage();
