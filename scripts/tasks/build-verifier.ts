/**
 * Builds the independent verifier (`scanner-web/verifier/`) pinned to one deployment: its
 * chain id, registry, typed-data version, deployment block, JSON-RPC endpoints and quorum
 * (and a QBFT chain's validators), read from a config file (`TrustRoots` as JSON) and
 * embedded in the script. Output: `index.html` (stylesheet inlined, a strict CSP, the script
 * tag carrying the script's sha384 integrity so a browser refuses a tampered copy),
 * `verifier-<hash>.js`, and `release.json` beside them (each file's SHA-256, the pins, and
 * the CID of the directory of the page and its script).
 *
 * Reproducible: nothing in the output depends on the time, the machine or the folder it is
 * built in, so anyone can rebuild a commit and compare the CID with the published one.
 *
 * `node scripts/tasks/build-verifier.ts --config FILE [--out DIR]`
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import {
  VERIFIER_PAGE,
  directoryCid,
  sha256Hex,
  sha384Integrity,
  trustRootsSchema,
  type PinnedRoots,
  type VerifierRelease,
} from "../lib/verifier-release.ts";
import { bundle, contentName, faviconDataUri } from "./build-web.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const sourceDir = path.join(projectRoot, "scanner-web", "verifier");
export const DEFAULT_VERIFIER_OUT = path.join(projectRoot, "scanner-web", "dist", "verifier");

export interface VerifierBuild {
  outDir: string;
  release: VerifierRelease;
  /** The page and its script, as published (what the CID covers). */
  files: { name: string; bytes: number; sha256: string }[];
}

/** The roots in one fixed key order, whatever order the config file had: the bytes must not vary. */
export function canonicalPins(input: unknown): PinnedRoots {
  const roots = trustRootsSchema.parse(input);
  return {
    chainId: roots.chainId,
    registry: roots.registry,
    typedDataVersion: roots.typedDataVersion,
    deploymentBlock: roots.deploymentBlock,
    endpoints: [...roots.endpoints],
    quorum: roots.quorum,
    ...(roots.validators === undefined ? {} : { validators: [...roots.validators] }),
    ...(roots.maxBlockAgeSeconds === undefined ? {} : { maxBlockAgeSeconds: roots.maxBlockAgeSeconds }),
  };
}

function sha256Base64(text: string): string {
  return Buffer.from(sha256Hex(new TextEncoder().encode(text)), "hex").toString("base64");
}

export async function buildVerifier(pinsInput: unknown, options: { outDir?: string } = {}): Promise<VerifierBuild> {
  const pins = canonicalPins(pinsInput);
  const outDir = options.outDir ?? DEFAULT_VERIFIER_OUT;
  const js = await bundle(path.join(sourceDir, "main.ts"), { define: { VERIFIER_PINS: JSON.stringify(pins) } });
  const css = new TextDecoder().decode(await bundle(path.join(sourceDir, "verifier.css"))).trim();
  if (css.includes("</style")) throw new Error("the stylesheet cannot be inlined: it contains </style");
  const script = contentName("verifier", "js", js);
  const integrity = sha384Integrity(js);
  // The page's own script only (by origin and integrity), its one inlined stylesheet by hash,
  // and chain reads and the platform's answer from wherever the link and the pins say.
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'sha256-${sha256Base64(css)}'`,
    "connect-src *",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const template = readFileSync(path.join(sourceDir, "index.html"), "utf8");
  const html = template
    .replace(/\s*__CSS__\s*/, () => css)
    .replace("__CSP__", () => csp)
    .replace("__SCRIPT__", () => script)
    .replace("__INTEGRITY__", () => integrity)
    .replace("__FAVICON__", () => faviconDataUri())
    .replace(/>\s+</g, "><")
    .trim();
  if (/__[A-Z]+__/.test(html)) throw new Error("index.html has a placeholder the build does not fill");
  const page = new TextEncoder().encode(html);

  const published = [
    { name: VERIFIER_PAGE, content: page },
    { name: script, content: js },
  ];
  const cid = await directoryCid(published);
  const files = published.map((file) => ({
    name: file.name,
    bytes: file.content.byteLength,
    sha256: sha256Hex(file.content),
  }));
  const release: VerifierRelease = {
    type: "oioc.verifier-release",
    cid,
    page: VERIFIER_PAGE,
    script,
    integrity,
    files: Object.fromEntries(files.map((f) => [f.name, { sha256: f.sha256, bytes: f.bytes }])),
    pins,
  };

  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(outDir)) {
    if (/^(index\.html|release\.json|verifier-[0-9a-f]{10}\.js)$/.test(name)) rmSync(path.join(outDir, name));
  }
  for (const file of published) writeFileSync(path.join(outDir, file.name), file.content);
  writeFileSync(path.join(outDir, "release.json"), `${JSON.stringify(release, null, 2)}\n`);
  return { outDir, release, files };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { config: { type: "string" }, out: { type: "string" } }, strict: true });
  if (values.config === undefined) {
    console.error("usage: node scripts/tasks/build-verifier.ts --config FILE [--out DIR]");
    process.exit(2);
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(values.config, "utf8"));
    canonicalPins(config);
  } catch (error) {
    console.error(`error: ${values.config} is not a valid verifier config: ${(error as Error).message}`);
    process.exit(2);
  }
  const result = await buildVerifier(config, values.out === undefined ? {} : { outDir: path.resolve(values.out) });
  for (const file of result.files) {
    console.log(`[build-verifier] ${file.name.padEnd(26)} ${String(file.bytes).padStart(8)} B  sha256 ${file.sha256}`);
  }
  console.log(`[build-verifier] integrity ${result.release.integrity}`);
  const relative = path.relative(process.cwd(), result.outDir);
  console.log(`[build-verifier] CID ${result.release.cid} -> ${relative.startsWith("..") ? result.outDir : relative}/`);
}
