/**
 * The small signed documents of a resolution (batch metadata, event payloads), as text the
 * resolver inlines so a phone verifies without one gateway fetch per document. Documents
 * are immutable (named by their hash), so their text is kept in memory once read.
 */
import type { ServiceContext } from "./context.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { readAll } from "./documents.ts";

/** Larger documents are left to the gateway: the page fetches them as before. */
export const INLINE_DOCUMENT_MAX_BYTES = 8 * 1024;
/** What one resolution inlines at most, all documents together (characters of text). */
export const INLINE_TOTAL_MAX_BYTES = 48 * 1024;
const CACHE_ENTRIES = 4_096;

/** Text by CID; null when the document cannot be inlined (too large, not UTF-8, unreadable). */
const cache = new Map<string, string | null>();

async function documentText(ctx: ServiceContext, cid: string): Promise<string | null> {
  if (cache.has(cid)) return cache.get(cid) ?? null;
  let text: string | null = null;
  try {
    const bytes = await readAll(ctx.content.cat(parseCid(cid)));
    if (bytes.byteLength <= INLINE_DOCUMENT_MAX_BYTES) {
      // Only text whose UTF-8 encoding gives back these exact bytes: the page hashes that encoding.
      const decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
      if (Buffer.from(decoded, "utf8").equals(Buffer.from(bytes))) text = decoded;
    }
  } catch (error) {
    // Unreadable here is not fatal: the page fetches it from the gateway and judges.
    ctx.logger.debug({ err: error, cid }, "document not inlined");
    return null;
  }
  if (cache.size >= CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(cid, text);
  return text;
}

/** The inlinable documents among `cids` (base32 CIDv1 text), within the total budget. */
export async function inlineDocuments(ctx: ServiceContext, cids: readonly string[]): Promise<Record<string, string>> {
  const documents: Record<string, string> = {};
  let total = 0;
  for (const cid of new Set(cids)) {
    const text = await documentText(ctx, cid);
    if (text === null || total + text.length > INLINE_TOTAL_MAX_BYTES) continue;
    documents[cid] = text;
    total += text.length;
  }
  return documents;
}
