/**
 * Builds the consumer scan page into `scanner-web/dist/`: one minified JS bundle (the page
 * and the shared verification core) named by its content hash (the server serves it as
 * immutable), and `scan.html` with the stylesheet inlined (it is small, and a separate file
 * would cost the first paint a round trip; the server's CSP admits it by its hash), the
 * bundle and the favicon. Every served file gets `.br` and `.gz` siblings made here, at the
 * highest levels, so the server never compresses a static file per request. Prints the sizes
 * and fails above the budgets: the page must load fast on a cheap phone over 3G.
 *
 * `node scripts/tasks/build-web.ts` (exit code 1 when over budget).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { build } from "esbuild";
import { minify, type MinifyOptions } from "terser";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const webRoot = path.join(projectRoot, "scanner-web");

/**
 * HTML + CSS + JS, gzipped, together: what they weighed when last made lighter (29,787 B), plus
 * 300, so that growth is a decision written here, not a drift.
 */
export const SCAN_PAGE_BUDGET_GZIP_BYTES = 30_087;
/**
 * The same, as brotli: what a phone actually downloads of the script (every browser we serve
 * accepts `br`; the HTML comes with the item's answer, gzip). 25,760 B, plus 300.
 */
export const SCAN_PAGE_BUDGET_BROTLI_BYTES = 26_060;

export interface WebBuild {
  outDir: string;
  files: { name: string; bytes: number; gzipBytes: number; brotliBytes: number }[];
  gzipBytes: number;
  brotliBytes: number;
  withinBudget: boolean;
}

/** Highest gzip level and brotli quality: made once at build time, served many times. */
export function gzipBest(content: Uint8Array): Buffer {
  return gzipSync(content, { level: 9 });
}

export function brotliBest(content: Uint8Array): Buffer {
  return brotliCompressSync(content, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: content.byteLength,
    },
  });
}

/**
 * Writes `name` and, unless it is tiny, its `.br` and `.gz` siblings (the server picks by
 * `Accept-Encoding`); returns its sizes.
 */
export function writeWithSiblings(
  outDir: string,
  name: string,
  content: Uint8Array,
): { name: string; bytes: number; gzipBytes: number; brotliBytes: number } {
  writeFileSync(path.join(outDir, name), content);
  const gzip = gzipBest(content);
  const brotli = brotliBest(content);
  writeFileSync(path.join(outDir, `${name}.gz`), gzip);
  writeFileSync(path.join(outDir, `${name}.br`), brotli);
  return { name, bytes: content.byteLength, gzipBytes: gzip.byteLength, brotliBytes: brotli.byteLength };
}

const FAVICON_SOURCE = "favicon.svg";

/**
 * The favicon, named by content under `/web/` (every page links it, so no browser asks for
 * a missing `/favicon.ico`); also as `favicon.svg`, which the server answers `/favicon.ico` with.
 */
export function writeFavicon(outDir: string): string {
  const svg = readFileSync(path.join(webRoot, FAVICON_SOURCE));
  const name = contentName("favicon", "svg", svg);
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(outDir)) {
    if (/^favicon(-[0-9a-f]{10})?\.svg(\.br|\.gz)?$/.test(file)) rmSync(path.join(outDir, file), { force: true });
  }
  writeWithSiblings(outDir, name, svg);
  writeWithSiblings(outDir, "favicon.svg", svg);
  return name;
}

/**
 * The favicon as a `data:` URI (the CSP's img-src admits `data:`), escaping only what a URL or
 * a double-quoted attribute cannot hold as is: every page carries it, and `encodeURIComponent`
 * made it half again as long (about 180 bytes of each page's gzip instead of about 110).
 */
export function faviconDataUri(): string {
  const svg = readFileSync(path.join(webRoot, FAVICON_SOURCE), "utf8").trim().replace(/\s+/g, " ");
  const escaped = svg.replace(/"/g, "'").replace(/[%#<>&?[\\\]^`{|}]|[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
  return `data:image/svg+xml,${escaped}`;
}

/** `scan-0123456789.js`: named by content, so `/web/` can be cached for long. */
export function contentName(base: string, extension: string, content: Uint8Array): string {
  return `${base}-${createHash("sha256").update(content).digest("hex").slice(0, 10)}.${extension}`;
}

/** One minified browser bundle of a TypeScript or CSS entry, in memory. */
export async function bundle(
  entry: string,
  options: { define?: Record<string, string>; external?: string[] } = {},
): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    define: options.define ?? {},
    external: options.external ?? [],
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

/**
 * terser's compressor after esbuild's minifier, for the scan page's scripts: its passes join
 * statements, inline functions used once and drop what they make unreachable, which esbuild
 * does not. Measured on the page's script: 24,752 → 23,979 brotli bytes (2 passes; a third
 * took 22 bytes more off for three times the time). ES2020 output, as the bundle's target.
 */
const COMPACT_OPTIONS = {
  module: true,
  ecma: 2020,
  compress: { passes: 2 },
  format: { wrap_func_args: false },
} as const satisfies MinifyOptions;

const TERSER_VERSION = (
  JSON.parse(readFileSync(createRequire(import.meta.url).resolve("terser/package.json"), "utf8")) as { version: string }
).version;

/** Where compacted scripts are kept by their input's hash: every e2e test builds the page, and terser takes a second or two. */
const COMPACT_CACHE = path.join(projectRoot, "node_modules", ".cache", "scan-page-compact");

/** `js` (one of esbuild's minified bundles) compacted further by terser; the same input gives the same bytes. */
export async function compact(js: Uint8Array): Promise<Uint8Array> {
  const key = createHash("sha256")
    .update(`${TERSER_VERSION}\n${JSON.stringify(COMPACT_OPTIONS)}\n`)
    .update(js)
    .digest("hex")
    .slice(0, 32);
  const cached = path.join(COMPACT_CACHE, `${key}.js`);
  try {
    return readFileSync(cached);
  } catch {
    // Not compacted yet.
  }
  const { code } = await minify(new TextDecoder().decode(js), COMPACT_OPTIONS);
  if (code === undefined) throw new Error("terser produced nothing");
  const bytes = new TextEncoder().encode(code);
  try {
    mkdirSync(COMPACT_CACHE, { recursive: true });
    // Written whole, then renamed: builds in parallel test processes never read half a file.
    const partial = `${cached}.${String(process.pid)}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, cached);
  } catch {
    // A read-only tree only makes the next build compact again.
  }
  return bytes;
}

export async function buildWeb(options: { outDir?: string } = {}): Promise<WebBuild> {
  const outDir = options.outDir ?? path.join(webRoot, "dist");
  // Loaded by the page only where the browser has no Web Crypto (plain HTTP on a LAN).
  const sha256Js = await compact(await bundle(path.join(webRoot, "src", "sha256-fallback.ts")));
  const sha256Name = contentName("sha256", "js", sha256Js);
  // Loaded by the page only for an item packed in cases or pallets, or with a 合格证 (most have neither).
  const itemPathJs = await compact(await bundle(path.join(webRoot, "src", "item-path.ts")));
  const itemPathName = contentName("item-path", "js", itemPathJs);
  // Loaded by the page only when "how we checked" opens or a hidden code is submitted.
  const onDemandJs = await compact(await bundle(path.join(webRoot, "src", "on-demand.ts")));
  const onDemandName = contentName("on-demand", "js", onDemandJs);
  const js = await compact(
    await bundle(path.join(webRoot, "src", "main.ts"), {
      define: {
        SHA256_FALLBACK_URL: JSON.stringify(`/web/${sha256Name}`),
        CONTAINERS_CHUNK_URL: JSON.stringify(`/web/${itemPathName}`),
        ON_DEMAND_CHUNK_URL: JSON.stringify(`/web/${onDemandName}`),
      },
      // Fetched at run time from the server, never bundled into the page.
      external: ["/web/*"],
    }),
  );
  const css = new TextDecoder().decode(await bundle(path.join(webRoot, "src", "scan.css"))).trim();
  const jsName = contentName("scan", "js", js);

  const template = readFileSync(path.join(webRoot, "scan.html"), "utf8");
  for (const placeholder of [
    '"/web/scan.js"',
    '<link rel="stylesheet" href="/web/scan.css" />',
    '"/web/favicon.svg"',
  ]) {
    if (!template.includes(placeholder)) throw new Error(`scan.html must contain ${placeholder}`);
  }
  if (css.includes("</style")) throw new Error("the stylesheet cannot be inlined: it contains </style");

  mkdirSync(outDir, { recursive: true });
  // Only the scan page's own earlier outputs go: the consoles build into the same folder.
  for (const name of readdirSync(outDir)) {
    if (/^(scan(-[0-9a-f]{10})?\.(js|css|html)|(sha256|item-path|on-demand)-[0-9a-f]{10}\.js)(\.br|\.gz)?$/.test(name))
      rmSync(path.join(outDir, name), { force: true });
  }
  // Also served as a file: for the consoles and for browsers that ask for /favicon.ico on their own.
  writeFavicon(outDir);
  const html = template
    .replace('"/web/scan.js"', `"/web/${jsName}"`)
    .replace('<link rel="stylesheet" href="/web/scan.css" />', () => `<style>${css}</style>`)
    // In the page itself: a request of its own would cost a phone a round trip and a kilobyte of headers.
    .replace('"/web/favicon.svg"', () => `"${faviconDataUri()}"`)
    .replace(/>\s+</g, "><")
    .trim();

  // The HTML is sent by the resolver with the item's answer inside, compressed per response;
  // its siblings here only measure it.
  const files = [
    writeWithSiblings(outDir, "scan.html", new TextEncoder().encode(html)),
    writeWithSiblings(outDir, jsName, js),
  ];
  // Not part of the page's weight: a page on HTTPS never asks for it.
  writeWithSiblings(outDir, sha256Name, sha256Js);
  // Nor this one, which only packed items' pages ask for.
  writeWithSiblings(outDir, itemPathName, itemPathJs);
  // Nor this one, which a page asks for only when its visitor asks.
  writeWithSiblings(outDir, onDemandName, onDemandJs);
  const gzipBytes = files.reduce((sum, file) => sum + file.gzipBytes, 0);
  const brotliBytes = files.reduce((sum, file) => sum + file.brotliBytes, 0);
  return {
    outDir,
    files,
    gzipBytes,
    brotliBytes,
    withinBudget: gzipBytes <= SCAN_PAGE_BUDGET_GZIP_BYTES && brotliBytes <= SCAN_PAGE_BUDGET_BROTLI_BYTES,
  };
}

if (import.meta.main) {
  const result = await buildWeb();
  for (const file of result.files) {
    console.log(
      `[build-web] ${file.name.padEnd(28)} ${String(file.bytes).padStart(8)} B  ${String(file.gzipBytes).padStart(7)} B gzip  ${String(file.brotliBytes).padStart(7)} B brotli`,
    );
  }
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  console.log(
    `[build-web] total ${kib(result.gzipBytes)} KiB gzip (budget ${kib(SCAN_PAGE_BUDGET_GZIP_BYTES)} KiB), ${kib(result.brotliBytes)} KiB brotli (budget ${kib(SCAN_PAGE_BUDGET_BROTLI_BYTES)} KiB) -> ${path.relative(projectRoot, result.outDir)}/`,
  );
  if (!result.withinBudget) {
    console.error("[build-web] over the scan page budget");
    process.exitCode = 1;
  }
}
