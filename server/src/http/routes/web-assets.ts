/**
 * The browser's files: the scan page's and consoles' bundles under `/web/`, the consoles'
 * pages, the favicon, and the scan page shell the resolver fills with an item's answer.
 *
 * Static files are sent as the `.br` or `.gz` sibling the build made (by `Accept-Encoding`),
 * held in memory once read (the build names bundles by content, so a name's bytes never
 * change; a rebuild changes the file's mtime and is picked up). Hashed names are cached by
 * browsers for a year; pages are revalidated (`no-cache`) or not stored at all (an item's
 * answer, `no-store`).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants } from "node:zlib";

import { Router, type Request, type Response } from "express";

import { utf8Of, type SharedText, type TextPiece } from "../../services/answer-text.ts";
import { firstPiece, followingPiece, gzipMember, type DeflatePiece } from "../gzip-pieces.ts";

const projectRoot = path.resolve(import.meta.dirname, "../../../..");
export const SCAN_PAGE_DIR = path.join(projectRoot, "scanner-web", "dist");

const IMMUTABLE = "public, max-age=31536000, immutable";
/** A content-hashed name, as the build writes them: `scan-0123456789.js`. */
const HASHED = /-[0-9a-f]{10}\.(?:js|css|svg)$/;
/** What `/web/` serves: bundles, stylesheets and icons, one folder deep at most. */
const SERVABLE = /^\/(?:console\/)?[a-z0-9-]+\.(?:js|css|svg)$/;

/** A script or stylesheet: never a document, so what only a document obeys is not sent with it. */
const SUBRESOURCE = /\.(?:js|css)$/;
/**
 * Headers a browser applies to documents only (a page's policy, framing, opener, referrer,
 * HSTS, which the page's own answer carries), and the rate limit's, which only an API client
 * reads. Sent with the script they were about a kilobyte of each phone's 35 KB. Kept:
 * `X-Content-Type-Options` and `Cross-Origin-Resource-Policy`, which do govern a script.
 * An SVG is not listed: opened on its own it is a document.
 */
const DOCUMENT_ONLY_HEADERS = [
  "Content-Security-Policy",
  "Cross-Origin-Opener-Policy",
  "Origin-Agent-Cluster",
  "Referrer-Policy",
  "Strict-Transport-Security",
  "X-DNS-Prefetch-Control",
  "X-Download-Options",
  "X-Frame-Options",
  "X-Permitted-Cross-Domain-Policies",
  "X-XSS-Protection",
  "RateLimit-Policy",
  "RateLimit",
] as const;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".html": "text/html; charset=utf-8",
};

export type Encoding = "br" | "gzip" | "identity";

interface Asset {
  mtimeMs: number;
  type: string;
  etag: string;
  bodies: Partial<Record<Encoding, Buffer>> & { identity: Buffer };
}

const assets = new Map<string, Asset>();

function readSibling(file: string): Buffer | undefined {
  return existsSync(file) ? readFileSync(file) : undefined;
}

/** The file and its compressed siblings, from memory unless the file changed on disk. */
function loadAsset(file: string): Asset | null {
  let mtimeMs: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return null;
    mtimeMs = stat.mtimeMs;
  } catch {
    return null;
  }
  const cached = assets.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached;
  const identity = readFileSync(file);
  const asset: Asset = {
    mtimeMs,
    type: TYPES[path.extname(file)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(identity).digest("base64url").slice(0, 22)}"`,
    bodies: { identity, br: readSibling(`${file}.br`), gzip: readSibling(`${file}.gz`) },
  };
  assets.set(file, asset);
  return asset;
}

/** The weight (q) the client's Accept-Encoding gives `coding`; 0 when it refuses or omits it. */
function weightOf(header: string, coding: string): number {
  let wildcard = 0;
  for (const part of header.split(",")) {
    const [name = "", ...parameters] = part.trim().toLowerCase().split(";");
    const q = parameters.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Math.min(1, Number(q) || 0);
    if (name.trim() === coding) return weight;
    if (name.trim() === "*") wildcard = weight;
  }
  return wildcard;
}

/**
 * The best encoding the client accepts among those we have: brotli when it is weighted at
 * least as high as gzip (it is smaller), whatever order the header lists them in.
 */
export function negotiate(req: Request, available: readonly Encoding[]): Encoding {
  const header = req.get("accept-encoding") ?? "";
  const br = available.includes("br") ? weightOf(header, "br") : 0;
  const gzip = available.includes("gzip") ? weightOf(header, "gzip") : 0;
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return "identity";
}

function sendBody(
  req: Request,
  res: Response,
  bodies: Partial<Record<Encoding, Buffer>> & { identity: Buffer },
  type: string,
): void {
  const available = (["br", "gzip", "identity"] as const).filter((e) => bodies[e] !== undefined);
  const encoding = negotiate(req, available);
  sendEncoded(req, res, bodies[encoding] ?? bodies.identity, encoding, type);
}

function sendEncoded(req: Request, res: Response, body: Buffer, encoding: Encoding, type: string): void {
  // One header line with what was already there (the resolver's `Accept`): a phone pays for each.
  const vary = res.getHeader("Vary");
  res.setHeader("Vary", typeof vary === "string" && vary !== "" ? `${vary}, Accept-Encoding` : "Accept-Encoding");
  res.setHeader("Content-Type", type);
  if (encoding !== "identity") res.setHeader("Content-Encoding", encoding);
  res.setHeader("Content-Length", String(body.byteLength));
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

function sendAsset(req: Request, res: Response, asset: Asset, cacheControl: string): void {
  res.setHeader("Cache-Control", cacheControl);
  res.setHeader("ETag", asset.etag);
  if (req.fresh) {
    res.append("Vary", "Accept-Encoding");
    res.status(304).end();
    return;
  }
  sendBody(req, res, asset.bodies, asset.type);
}

/** The scan page shell, split where an item's answer goes, with the CSP source of its inline style. */
interface Shell {
  mtimeMs: number;
  /** When the file's mtime was last looked at: at most once a second, not per page view. */
  checkedAtMs: number;
  /** The page up to the answer's JSON, and from its end. */
  openingText: Buffer;
  closingText: Buffer;
  /** The opening compressed once: the first piece of every page's deflate stream. */
  opening: DeflatePiece;
  styleSource: string | null;
  /** `Link` header value announcing the page's module, so the browser fetches it with the headers. */
  preload: string | null;
}

const shells = new Map<string, Shell>();
/** A rebuilt page is picked up within this long. */
const SHELL_CHECK_EVERY_MS = 1_000;

function scanShell(dir: string): Shell | null {
  const file = path.join(dir, "scan.html");
  const cached = shells.get(dir);
  const now = performance.now();
  if (cached !== undefined && now - cached.checkedAtMs < SHELL_CHECK_EVERY_MS) return cached;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  if (cached?.mtimeMs === mtimeMs) {
    cached.checkedAtMs = now;
    return cached;
  }
  const html = readFileSync(file, "utf8");
  const at = html.includes("</head>") ? html.indexOf("</head>") : 0;
  const module = /<script type="module" src="(\/web\/[a-z0-9-]+\.js)"/.exec(html)?.[1];
  const openingText = Buffer.from(`${html.slice(0, at)}<script type="application/json" id="resolution">`, "utf8");
  const shell = {
    mtimeMs,
    checkedAtMs: now,
    openingText,
    closingText: Buffer.from(`</script>${html.slice(at)}`, "utf8"),
    opening: firstPiece(openingText),
    styleSource: inlineStyleSource(html),
    preload: module === undefined ? null : `<${module}>; rel=modulepreload`,
  };
  shells.set(dir, shell);
  return shell;
}

/** The CSP source admitting the page's one inline `<style>` by its SHA-256, or null when it has none. */
export function inlineStyleSource(html: string): string | null {
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
  return style === undefined ? null : `'sha256-${createHash("sha256").update(style, "utf8").digest("base64")}'`;
}

/** The CSP with the inline style of the scan page admitted by its hash (never 'unsafe-inline'). */
export function admitStyle(csp: string, source: string): string {
  return /(^|;)\s*style-src /.test(csp)
    ? csp.replace(/((?:^|;)\s*style-src [^;]*)/, `$1 ${source}`)
    : `${csp};style-src 'self' ${source}`;
}

/** The last policy a style was admitted to: the policy and the page change only on restart or rebuild. */
let lastAdmitted = { csp: "", source: "", result: "" };
function admittedStyle(csp: string, source: string): string {
  if (lastAdmitted.csp !== csp || lastAdmitted.source !== source) {
    lastAdmitted = { csp, source, result: admitStyle(csp, source) };
  }
  return lastAdmitted.result;
}

/** A shared piece compressed as the one that follows `after` in a page's deflate stream. */
interface FollowingPiece {
  after: DeflatePiece;
  piece: DeflatePiece;
}

/** Compressed shared pieces (a batch's part of its items' answers), kept while the piece is in use. */
const compressedShared = new WeakMap<SharedText, FollowingPiece>();

function compressedAfter(previous: DeflatePiece, shared: SharedText): DeflatePiece {
  const cached = compressedShared.get(shared);
  if (cached?.after === previous) return cached.piece;
  const piece = followingPiece(previous, utf8Of([shared]));
  compressedShared.set(shared, { after: previous, piece });
  return piece;
}

/**
 * An item's page: the shell with the answer inlined as JSON, so a phone needs one round trip
 * before verifying. The answer comes in pieces (answer-text.ts): what many pages share (the
 * shell, a batch's part) is compressed once, and a response compresses only its own
 * kilobyte (gzip-pieces.ts). gzip is sent when the client takes it: deflate pieces concatenate, brotli
 * streams do not, and compressing a whole 22 KB page per response (brotli quality 4: 0.27 ms
 * unloaded) was most of a page view's cost. A client that takes brotli only gets brotli at
 * quality 4, compressed per response.
 */
export function sendScanPage(
  req: Request,
  res: Response,
  status: number,
  answer: readonly TextPiece[],
  dir: string = SCAN_PAGE_DIR,
): void {
  res.status(status).setHeader("Cache-Control", "no-store");
  // Read by API clients, never by a browser showing a page.
  res.removeHeader("RateLimit-Policy");
  res.removeHeader("RateLimit");
  const page = scanShell(dir);
  if (page === null) {
    res.type("text/plain; charset=utf-8").send("The scan page is not built (npm run build:web).");
    return;
  }
  if (page.preload !== null) res.append("Link", page.preload);
  const csp = res.getHeader("Content-Security-Policy");
  if (typeof csp === "string" && page.styleSource !== null) {
    res.setHeader("Content-Security-Policy", admittedStyle(csp, page.styleSource));
  }
  const header = req.get("accept-encoding") ?? "";
  const gzipWeight = weightOf(header, "gzip");
  const brWeight = weightOf(header, "br");
  if (gzipWeight > 0 && gzipWeight >= brWeight) {
    // The shared pieces that open the answer come compressed from memory; the rest is this page's own.
    const prefix: DeflatePiece[] = [page.opening];
    let first = 0;
    for (const piece of answer) {
      if (typeof piece === "string") break;
      prefix.push(compressedAfter(prefix.at(-1) ?? page.opening, piece));
      first += 1;
    }
    const rest = Buffer.concat([utf8Of(answer.slice(first)), page.closingText]);
    sendEncoded(req, res, gzipMember(prefix, rest), "gzip", "text/html; charset=utf-8");
    return;
  }
  const identity = Buffer.concat([page.openingText, utf8Of(answer), page.closingText]);
  if (brWeight <= 0) {
    sendEncoded(req, res, identity, "identity", "text/html; charset=utf-8");
    return;
  }
  const br = brotliCompressSync(identity, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 4,
      [constants.BROTLI_PARAM_SIZE_HINT]: identity.byteLength,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
  sendEncoded(req, res, br, "br", "text/html; charset=utf-8");
}

export function webAssetsRouter(options: { dir?: string } = {}): Router {
  const dir = options.dir ?? SCAN_PAGE_DIR;
  const router = Router();

  router.use("/web", (req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || !SERVABLE.test(req.path)) {
      next();
      return;
    }
    const asset = loadAsset(path.join(dir, req.path));
    if (asset === null) {
      next();
      return;
    }
    if (SUBRESOURCE.test(req.path)) {
      for (const name of DOCUMENT_ONLY_HEADERS) res.removeHeader(name);
    }
    sendAsset(req, res, asset, HASHED.test(req.path) ? IMMUTABLE : "no-cache");
  });

  // Browsers ask for it on their own; a page's `<link rel=icon>` names the hashed copy.
  router.get("/favicon.ico", (req, res, next) => {
    const asset = loadAsset(path.join(dir, "favicon.svg"));
    if (asset === null) {
      next();
      return;
    }
    sendAsset(req, res, asset, "public, max-age=86400");
  });

  // The consoles' service worker: at /console/ so that its scope covers the consoles' pages.
  router.get("/console/sw.js", (req, res, next) => {
    const asset = loadAsset(path.join(dir, "console", "sw.js"));
    if (asset === null) {
      next();
      return;
    }
    for (const name of DOCUMENT_ONLY_HEADERS) res.removeHeader(name);
    sendAsset(req, res, asset, "no-cache");
  });

  for (const name of ["cooperative", "regulator", "field", "operator"] as const) {
    router.get(`/console/${name}`, (req, res) => {
      const asset = loadAsset(path.join(dir, "console", `${name}.html`));
      if (asset === null) {
        res.status(503).type("text/plain; charset=utf-8").send("The consoles are not built (npm run build:web).");
        return;
      }
      sendAsset(req, res, asset, "no-cache");
    });
  }
  // Joining and signing in (issue 15): public pages built with the consoles.
  for (const name of ["apply", "signin"] as const) {
    router.get(`/${name}`, (req, res) => {
      const asset = loadAsset(path.join(dir, "console", `${name}.html`));
      if (asset === null) {
        res.status(503).type("text/plain; charset=utf-8").send("The pages are not built (npm run build:web).");
        return;
      }
      sendAsset(req, res, asset, "no-cache");
    });
  }
  return router;
}
