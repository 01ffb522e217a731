/**
 * A path gateway for files: `GET|HEAD /ipfs/{cid}`, as the scan page's video player and
 * photo tags use it. Follows the IPFS path gateway conventions that matter to a phone on
 * 3G: the ETag is the CID, responses are immutable for a year, and single byte ranges are
 * served (players seek with them). Files only: no directory listings, no sub-paths.
 */
import { pipeline } from "node:stream/promises";

import { Router, type NextFunction, type Request, type Response } from "express";
import { fileTypeFromBuffer } from "file-type";
import type { CID } from "multiformats/cid";

import { AppError } from "../errors/app-error.ts";
import { ContentError, parseCid, type ContentStore } from "./content-store.ts";

export interface IpfsGatewayOptions {
  store: ContentStore;
  /**
   * The media type we already know for a CID (recorded when it was uploaded), tried before
   * sniffing. Return undefined to sniff.
   */
  contentType?: (cid: CID) => string | undefined | Promise<string | undefined>;
}

/** IPFS path gateway convention: 29030400 s is 48 weeks, and the content can never change. */
const IMMUTABLE_CACHE_CONTROL = "public, max-age=29030400, immutable";
const FALLBACK_CONTENT_TYPE = "application/octet-stream";
/** file-type's own "reasonable detection size": enough for every format it knows. */
const SNIFF_BYTES = 4100;
/** Sniffed types are cached per CID (they cannot change); a video is fetched range by range. */
const SNIFF_CACHE_ENTRIES = 1024;

export function createIpfsGatewayRouter(options: IpfsGatewayOptions): Router {
  const { store } = options;
  const sniffed = new Map<string, string>();

  async function contentTypeOf(cid: CID, sizeBytes: number, signal: AbortSignal): Promise<string> {
    const known = await options.contentType?.(cid);
    if (known !== undefined && isMediaType(known)) return known;
    const key = cid.toV1().toString();
    const cached = sniffed.get(key);
    if (cached !== undefined) {
      // Refresh its place so the types of popular files stay cached.
      sniffed.delete(key);
      sniffed.set(key, cached);
      return cached;
    }
    const head = await collect(store.cat(cid, { offset: 0, length: Math.min(sizeBytes, SNIFF_BYTES), signal }));
    const type = (await sniff(head)) ?? FALLBACK_CONTENT_TYPE;
    sniffed.set(key, type);
    if (sniffed.size > SNIFF_CACHE_ENTRIES) {
      const oldest = sniffed.keys().next();
      if (oldest.done !== true) sniffed.delete(oldest.value);
    }
    return type;
  }

  async function serve(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Stop store work (a Kubo request, disk reads) as soon as the client goes away.
    const abandoned = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abandoned.abort();
    });
    const { signal } = abandoned;
    try {
      const cidText = req.params.cid;
      if (typeof cidText !== "string") throw new ContentError("cid_malformed", "no CID in the path");
      const cid = parseCid(cidText);
      // Headers take visible ASCII only; a CID in an exotic base (emoji) is named canonically.
      const etag = `"${/^[\x21-\x7e]+$/.test(cidText) ? cidText : cid.toString()}"`;

      // The ETag is the CID, so a match needs no lookup: the client holds these very bytes.
      const ifNoneMatch = req.get("if-none-match");
      if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*" && entityTagListMatches(ifNoneMatch, etag)) {
        setCacheHeaders(res, etag);
        res.status(304).end();
        return;
      }
      const stat = await store.stat(cid, { signal });
      if (stat === null) throw new ContentError("not_found", "not stored here", { cid });
      if (ifNoneMatch?.trim() === "*") {
        setCacheHeaders(res, etag);
        res.status(304).end();
        return;
      }
      const size = stat.sizeBytes;
      const type = await contentTypeOf(cid, size, signal);

      // RFC 9110 §14.2: only GET has range semantics; HEAD and the rest ignore Range.
      const rangeHeader = req.method === "GET" ? req.get("range") : undefined;
      const range =
        rangeHeader !== undefined && ifRangeHolds(req.get("if-range"), etag) ? parseRange(rangeHeader, size) : null;
      if (range === "unsatisfiable") {
        res.setHeader("Content-Range", `bytes */${size}`);
        res.setHeader("Cache-Control", "no-store");
        throw new AppError("ipfs.range_not_satisfiable", { sizeBytes: size });
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? size;

      if (req.method === "HEAD") {
        setContentHeaders(res, etag, type, size);
        res.status(200).end();
        return;
      }
      const chunks = store.cat(cid, { offset: start, length: end - start, signal })[Symbol.asyncIterator]();
      // Pull the first chunk before any header goes out, so a failure to read the content
      // still gets a proper problem response instead of a cut-off 200.
      const first = await chunks.next();
      setContentHeaders(res, etag, type, end - start);
      if (range === null) {
        res.status(200);
      } else {
        res.status(206);
        res.setHeader("Content-Range", `bytes ${start}-${end - 1}/${size}`);
      }
      await pipeline(resume(first, chunks), res);
    } catch (error) {
      if (signal.aborted || isPrematureClose(error)) return; // the client left; nobody to answer
      // Before the headers, the application's error handler answers with the error's problem;
      // after them, it cuts the connection, so the client sees a short body.
      next(error);
    }
  }

  const router = Router();
  router.get("/ipfs/:cid", (req, res, next) => {
    void serve(req, res, next);
  });
  router.all("/ipfs/:cid", (req, res, next) => {
    // OPTIONS is left to the application's CORS handling.
    if (req.method === "OPTIONS") {
      next();
      return;
    }
    res.setHeader("Allow", "GET, HEAD");
    next(new AppError("method.not_allowed"));
  });
  return router;
}

function setCacheHeaders(res: Response, etag: string): void {
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", IMMUTABLE_CACHE_CONTROL);
}

function setContentHeaders(res: Response, etag: string, type: string, lengthBytes: number): void {
  setCacheHeaders(res, etag);
  res.setHeader("Content-Type", type);
  res.setHeader("Content-Length", String(lengthBytes));
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("X-Content-Type-Options", "nosniff");
  // Anyone may upload: a file that a browser would run as a page (HTML, SVG, XML) must not
  // run scripts with our origin, so such types are sandboxed. Media and PDFs are left alone
  // (a sandbox would also block Chrome's PDF viewer).
  if (isActiveContentType(type)) res.setHeader("Content-Security-Policy", "sandbox");
}

async function* resume(
  first: IteratorResult<Uint8Array>,
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    if (first.done === true) return;
    yield first.value;
    for (;;) {
      const next = await rest.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    // Reached on normal end, on error and when the response is destroyed mid-way.
    await rest.return?.();
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function sniff(head: Uint8Array): Promise<string | undefined> {
  if (head.length === 0) return undefined;
  try {
    return (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // A detector choking on odd bytes just means we do not know the type.
    return undefined;
  }
}

/** type/subtype with optional parameters, and nothing a header could not carry. */
function isMediaType(value: string): boolean {
  return /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[^"\r\n]*"|[\w!#$&^.+-]+))*$/.test(value);
}

function isActiveContentType(type: string): boolean {
  const essence = (type.split(";")[0] ?? "").trim().toLowerCase();
  return /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml)$|\+xml$/.test(essence);
}

function isPrematureClose(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** If-None-Match: weak comparison (RFC 9110 §13.1.2) against our one entity tag. */
export function entityTagListMatches(header: string, etag: string): boolean {
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .includes(etag);
}

/**
 * If-Range (RFC 9110 §13.1.5): honour Range only if the validator is our entity tag, compared
 * strongly. We send no Last-Modified, so a date never validates.
 */
function ifRangeHolds(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag;
}

/**
 * A Range header resolved against a representation of `sizeBytes` (RFC 9110 §14.1.2):
 * a half-open byte interval, "unsatisfiable" (answer 416), or null (ignore the header and
 * send everything: a malformed header, another unit, or several ranges, which RFC 9110
 * lets a server answer with the whole representation).
 */
export function parseRange(header: string, sizeBytes: number): { start: number; end: number } | "unsatisfiable" | null {
  const match = /^bytes=(.*)$/i.exec(header.trim());
  if (match === null) return null;
  // A list may carry empty elements, which recipients must ignore (RFC 9110 §5.6.1).
  const specs = (match[1] ?? "")
    .split(",")
    .map((spec) => spec.trim())
    .filter((spec) => spec !== "");
  if (specs.length !== 1) return null;
  const spec = /^(\d*)-(\d*)$/.exec(specs[0] ?? "");
  if (spec === null) return null;
  const [, firstText = "", lastText = ""] = spec;
  // Digits may exceed 2^53; compare as bigints so a huge position is out of range, not NaN.
  const size = BigInt(sizeBytes);
  if (firstText === "") {
    if (lastText === "") return null;
    const suffix = BigInt(lastText);
    if (suffix === 0n || size === 0n) return "unsatisfiable";
    return { start: Number(suffix >= size ? 0n : size - suffix), end: sizeBytes };
  }
  const first = BigInt(firstText);
  if (lastText !== "" && BigInt(lastText) < first) return null;
  if (first >= size) return "unsatisfiable";
  const last = lastText === "" ? size - 1n : BigInt(lastText);
  return { start: Number(first), end: Number(last >= size ? size : last + 1n) };
}
