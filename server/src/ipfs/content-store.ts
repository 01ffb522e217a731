/**
 * The one interface the rest of the server uses for content on IPFS (media, metadata,
 * documents). Two adapters implement it: `embedded.ts` (blocks on local disk, the default)
 * and `kubo.ts` (a Kubo node over its RPC API). Both import with the same parameters, so a
 * file gets the same CID whichever engine stored it, and the same CID Kubo gives it.
 */
import { bases } from "multiformats/basics";
import { CID } from "multiformats/cid";

import { AppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";

export interface AbortOptions {
  signal?: AbortSignal;
}

export interface AddOptions extends AbortOptions {
  /** Refuse (kind `too_large`) as soon as the input exceeds this many bytes. */
  maxBytes?: number;
  /**
   * Pin the result (default true): everything we reference must stay retrievable. Unpinned
   * content may be garbage-collected (by Kubo's GC; by the embedded store a day later).
   */
  pin?: boolean;
}

export interface AddResult {
  cid: CID;
  /** Bytes of the file itself, not of the DAG that encodes it. */
  sizeBytes: number;
}

export interface ContentStat {
  sizeBytes: number;
}

export interface CatOptions extends AbortOptions {
  /** First byte to return (default 0). Must not exceed the file size. */
  offset?: number;
  /** How many bytes to return at most (default: to the end). */
  length?: number;
}

export interface ContentStore {
  /**
   * Imports one file as UnixFS and returns its CID. The input is consumed as a stream and
   * never held whole in memory; when this resolves, the content is durably stored (and
   * pinned unless `pin: false`).
   */
  add(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: AddOptions): Promise<AddResult>;
  /** The file's size, or null when nothing with this CID is stored here. */
  stat(cid: CID, options?: AbortOptions): Promise<ContentStat | null>;
  /**
   * The file's bytes, or a range of them, as a stream: blocks are read as the consumer pulls,
   * and blocks wholly outside the range are not read. Errors (`not_found` included) surface
   * on the first iteration. Ending the iteration early releases everything.
   */
  cat(cid: CID, options?: CatOptions): AsyncIterable<Uint8Array>;
  /** Whether the root block of `cid` is stored here (cheap; says nothing about completeness). */
  has(cid: CID, options?: AbortOptions): Promise<boolean>;
  /** Pins `cid` after checking its whole DAG is stored here (`not_found` when it is not). */
  pin(cid: CID, options?: AbortOptions): Promise<void>;
  /** Whether `cid` is pinned, which the audit checks for everything a batch references. */
  isPinned(cid: CID, options?: AbortOptions): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Why a content-store operation failed. The adapters branch on the kind; each kind has the
 * registry code the HTTP layer answers with (`CODE_OF_KIND`).
 */
export type ContentErrorKind =
  /** The CID text does not parse. */
  | "cid_malformed"
  /** A caller passed an impossible argument (a negative offset, an offset past the end). */
  | "invalid_argument"
  /** Nothing (or not all of the DAG) with this CID is stored here. */
  | "not_found"
  /** The CID names something that is not a UnixFS file (a directory, dag-cbor, a broken DAG). */
  | "not_a_file"
  /** The input was larger than the caller allowed. */
  | "too_large"
  /** The store cannot answer now (disk error, Kubo down or timing out, store closed). */
  | "unavailable"
  /** Stored bytes fail verification against their CID: local data damage. */
  | "corrupt";

const CODE_OF_KIND = {
  cid_malformed: "ipfs.cid_malformed",
  invalid_argument: "request.invalid",
  not_found: "ipfs.not_found",
  not_a_file: "ipfs.not_a_file",
  too_large: "request.too_large",
  unavailable: "ipfs.unavailable",
  // A fault in our own data: answered as internal.error and logged with its cause.
  corrupt: "ipfs.corrupt",
} as const satisfies Record<ContentErrorKind, ErrorCode>;

/** The one error type, with the store's own kind and the CID concerned (kept out of the caller's answer). */
export class ContentError extends AppError<(typeof CODE_OF_KIND)[ContentErrorKind]> {
  readonly kind: ContentErrorKind;
  /** The CID concerned, as text, when there is one. */
  readonly cid: string | undefined;

  constructor(kind: ContentErrorKind, message: string, options: { cid?: CID | string; cause?: unknown } = {}) {
    super(CODE_OF_KIND[kind], {}, { cause: options.cause });
    this.message = message;
    this.name = "ContentError";
    this.kind = kind;
    this.cid = options.cid === undefined ? undefined : String(options.cid);
  }
}

export function isContentError(error: unknown, kind?: ContentErrorKind): error is ContentError {
  return error instanceof ContentError && (kind === undefined || error.kind === kind);
}

/**
 * The import parameters every adapter uses, equal to Kubo's
 * `ipfs add --cid-version=1 --raw-leaves=true --chunker=size-262144 --max-file-links=174
 *  --trickle=false --hash=sha2-256`
 * which is what plain `ipfs add --cid-version=1` does with Kubo's default configuration
 * (CIDv1 implies raw leaves; 256 KiB chunks and 174 links per node are Kubo's defaults,
 * the `unixfs-v0-2015` parameters of IPIP-499 with CIDv1 and raw leaves). We pin them
 * explicitly because newer profiles (`unixfs-v1-2025`: 1 MiB chunks, 1024 links) would give
 * the same bytes a different CID. Changing any of these changes every CID we produce.
 */
export const IMPORT_PARAMETERS = {
  cidVersion: 1,
  rawLeaves: true,
  chunkSizeBytes: 262_144,
  maxLinksPerNode: 174,
} as const satisfies ImportParameters;

export interface ImportParameters {
  cidVersion: 0 | 1;
  rawLeaves: boolean;
  chunkSizeBytes: number;
  maxLinksPerNode: number;
}

/** Longer than any CID we could hold (a sha2-512 CIDv1 in base16 is about 135 chars). */
const MAX_CID_TEXT_LENGTH = 256;

const multibases = Object.values(bases);

/**
 * Parses CID text from outside (a URL, a form field). Accepts CIDv0 and CIDv1 in any
 * multibase; throws `cid_malformed` otherwise.
 */
export function parseCid(text: string): CID {
  if (text.length === 0 || text.length > MAX_CID_TEXT_LENGTH) {
    throw new ContentError("cid_malformed", "CID text is empty or too long");
  }
  try {
    // CIDv0 (Qm…) is base58btc without a multibase prefix; CID.parse handles it itself.
    if (text.startsWith("Qm")) return CID.parse(text);
    const base = multibases.find((candidate) => text.startsWith(candidate.prefix));
    if (base === undefined) throw new Error("unknown multibase prefix");
    return CID.parse(text, base.decoder);
  } catch (cause) {
    throw new ContentError("cid_malformed", "not a valid CID", { cause });
  }
}

/** Checks a byte range argument to `cat` and resolves it against the file size. */
export function resolveRange(sizeBytes: number, options: CatOptions, cid?: CID): { start: number; end: number } {
  const start = options.offset ?? 0;
  if (!Number.isSafeInteger(start) || start < 0 || start > sizeBytes) {
    throw new ContentError("invalid_argument", `offset ${start} is outside 0..${sizeBytes}`, { cid });
  }
  const length = options.length ?? sizeBytes - start;
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ContentError("invalid_argument", `length ${length} is not a non-negative integer`, { cid });
  }
  return { start, end: Math.min(sizeBytes, start + length) };
}

/** Passes `source` through, counting bytes and enforcing the caller's limit as it goes. */
export function meterSource(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  maxBytes: number | undefined,
  signal: AbortSignal | undefined,
): AsyncIterable<Uint8Array> & { bytesSoFar(): number } {
  let total = 0;
  return {
    bytesSoFar: () => total,
    async *[Symbol.asyncIterator]() {
      for await (const chunk of source) {
        signal?.throwIfAborted();
        // The source may come straight from a request: check what it really yields.
        if (!(chunk instanceof Uint8Array)) throw new TypeError("content chunks must be Uint8Array");
        total += chunk.length;
        if (maxBytes !== undefined && total > maxBytes) {
          throw new ContentError("too_large", `content exceeds ${maxBytes} bytes`);
        }
        if (chunk.length > 0) yield chunk;
      }
    },
  };
}
