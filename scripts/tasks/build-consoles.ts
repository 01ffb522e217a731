/**
 * Builds the cooperative and regulator consoles into `scanner-web/dist/console/`: one
 * minified bundle per console and one shared stylesheet, named by content hash (the
 * server serves `/web/` as cacheable), and each console's HTML, from one template, pointing at them. No inline
 * script or style anywhere: the server's CSP is `default-src 'self'`. Each file gets `.br` and `.gz`
 * siblings, which the server sends by `Accept-Encoding`.
 *
 * `node scripts/tasks/build-consoles.ts`
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";

import { bundle, contentName, writeFavicon, writeWithSiblings } from "./build-web.ts";

/** The two consoles, and the public pages for joining and signing in, which share their frame and styles. */
export const CONSOLES = ["cooperative", "regulator", "field", "operator", "apply", "signin"] as const;
export type ConsoleName = (typeof CONSOLES)[number];

/** What tells the two pages apart before their script runs: the title, and phone or desk layout. */
const PAGES: Record<ConsoleName, { title: string; layout: "mobile" | "desktop"; entry?: string }> = {
  cooperative: { title: "合作社控制台 · Cooperative console", layout: "mobile" },
  regulator: { title: "监管控制台 · Regulator console", layout: "desktop" },
  field: { title: "现场记录 · Field console", layout: "mobile" },
  operator: { title: "运营控制台 · Operator console", layout: "desktop" },
  apply: { title: "申请加入 · Apply to join", layout: "mobile", entry: "scanner-web/apply/main.ts" },
  signin: { title: "登录 · Sign in", layout: "mobile", entry: "scanner-web/signin/main.ts" },
};

export interface ConsoleBuild {
  outDir: string;
  files: { name: string; bytes: number; gzipBytes: number; brotliBytes: number }[];
}

const projectRoot = path.resolve(import.meta.dirname, "../..");
const consoleRoot = path.join(projectRoot, "scanner-web", "console");

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** Puts `staging` where `outDir` is; another build swapping at the same moment only means a retry. */
function swapIn(staging: string, outDir: string, retired: string): void {
  for (let attempt = 0; ; attempt++) {
    rmSync(retired, { recursive: true, force: true });
    try {
      if (existsSync(outDir)) renameSync(outDir, retired);
    } catch (error) {
      // The other build moved it first.
      if (errorCode(error) !== "ENOENT") throw error;
    }
    try {
      renameSync(staging, outDir);
      break;
    } catch (error) {
      // The other build put its own in first: move that one aside too, and try again.
      const code = errorCode(error);
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt >= 10) throw error;
    }
  }
  rmSync(retired, { recursive: true, force: true });
}

export async function buildConsoles(options: { outDir?: string } = {}): Promise<ConsoleBuild> {
  const outDir = options.outDir ?? path.join(projectRoot, "scanner-web", "dist", "console");
  const css = await bundle(path.join(consoleRoot, "console.css"));
  const cssName = contentName("console", "css", css);
  const outputs: [string, Uint8Array][] = [[cssName, css]];
  const template = readFileSync(path.join(consoleRoot, "console.html"), "utf8");
  for (const placeholder of [
    "{{title}}",
    "{{layout}}",
    '"/web/console/{{console}}.js"',
    '"/web/console/console.css"',
    '"/web/favicon.svg"',
  ]) {
    if (!template.includes(placeholder)) throw new Error(`console.html must contain ${placeholder}`);
  }
  const faviconName = writeFavicon(path.dirname(outDir));
  // The field console's QR decoder is a bundle of its own, fetched only by browsers without BarcodeDetector.
  const decoder = await bundle(path.join(consoleRoot, "src", "field", "qr-decoder.ts"));
  const decoderName = contentName("qr-decoder", "js", decoder);
  outputs.push([decoderName, decoder]);
  for (const name of CONSOLES) {
    const entry = PAGES[name].entry;
    const js = await bundle(
      entry === undefined ? path.join(consoleRoot, "src", name, "main.ts") : path.join(projectRoot, entry),
      name === "field"
        ? { define: { QR_DECODER_URL: JSON.stringify(`/web/console/${decoderName}`) }, external: ["/web/*"] }
        : {},
    );
    const jsName = contentName(name, "js", js);
    const html = template
      .replace("{{title}}", PAGES[name].title)
      .replace("{{layout}}", PAGES[name].layout)
      .replace(`"/web/console/{{console}}.js"`, `"/web/console/${jsName}"`)
      .replace('"/web/console/console.css"', `"/web/console/${cssName}"`)
      .replace('"/web/favicon.svg"', `"/web/${faviconName}"`)
      .replace(/>\s+</g, "><")
      .trim();
    outputs.push([`${name}.html`, new TextEncoder().encode(html)], [jsName, js]);
  }
  // The service worker keeps what the consoles under /console/ need to open offline (issue 15).
  const pages = CONSOLES.filter((name) => PAGES[name].entry === undefined);
  const assets = outputs
    .map(([name]) => name)
    .filter(
      (name) =>
        (/-[0-9a-f]{10}\.(?:js|css)$/.test(name) && pages.some((p) => name.startsWith(`${p}-`))) ||
        name.startsWith("console-") ||
        name.startsWith("qr-decoder-"),
    )
    .map((name) => `/web/console/${name}`);
  const precache = {
    version: contentName("sw", "v", new TextEncoder().encode(JSON.stringify(assets))).slice(3, 13),
    pages: pages.map((name) => `/console/${name}`),
    assets: [...assets, `/web/${faviconName}`],
  };
  outputs.push([
    "sw.js",
    await bundle(path.join(consoleRoot, "sw.ts"), { define: { PRECACHE: JSON.stringify(precache) } }),
  ]);
  // The folder is the consoles' alone: earlier builds' hashed files go. The new build is
  // written beside it and swapped in by two renames, so a server answering from the folder while
  // another process builds (two test files at once) never finds it half written or gone.
  const staging = `${outDir}.next-${String(process.pid)}`;
  const retired = `${outDir}.old-${String(process.pid)}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const files = outputs.map(([name, content]) => writeWithSiblings(staging, name, content));
  swapIn(staging, outDir, retired);
  console.log(
    `[web] consoles ${files.map((f) => `${f.name} ${(f.gzipBytes / 1024).toFixed(1)} KiB gzip`).join(", ")} -> ${path.relative(projectRoot, outDir)}/`,
  );
  return { outDir, files };
}

if (import.meta.main) await buildConsoles();
