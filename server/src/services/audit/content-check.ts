/**
 * An audit's check of one CID: fetch the content and hash it again with Kubo's UnixFS
 * parameters (raw leaves, 256 KiB chunks, 174 links, CIDv1) into a block store that keeps
 * nothing, so memory stays flat for any size, and compare with the CID that was signed.
 */
import { IMPORT_PARAMETERS } from "../../ipfs/content-store.ts";
import { importFile } from "../../ipfs/unixfs-file.ts";

export type ContentRole =
  "metadata" | "video" | "photo" | "event_payload" | "items_archive" | "recall_reason" | "container_payload";

export interface ContentCheck {
  cid: string;
  role: ContentRole;
  /** The bytes could be fetched. */
  present: boolean;
  /** Their CID, computed here, equals the one signed. */
  matches: boolean;
  pinned: boolean | null;
}

/** Where an audit reads content: the platform's own store, or any IPFS gateway. */
export interface ContentSource {
  /**
   * The bytes behind a CID, as a stream (a planting video may be gigabytes: it is hashed as
   * it arrives, never held). The stream throws when no store or gateway has the content.
   */
  streamContent: (cid: string) => AsyncIterable<Uint8Array>;
  /** Whether an error `streamContent` threw means a store that checks what it reads found its copy damaged or altered. */
  isCorrupt: (error: unknown) => boolean;
  /** Whether the platform pins the CID (null when the source cannot tell). */
  isPinned: (cid: string) => Promise<boolean | null>;
}

/**
 * Signed documents (metadata, event payloads, recall reasons) are kept to be parsed; far
 * larger than any we write, one is not a document of ours and is only hashed.
 */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** A block store that keeps nothing: the importer hashes every block and we only want the root. */
const hashOnly = { put: () => Promise.resolve() };

/**
 * Fetches `cid` and hashes it again with the UnixFS parameters, streaming: memory stays
 * the importer's window of 256 KiB chunks whatever the size. With `keep`, also returns
 * the bytes of a document small enough to parse, once they are known to match.
 */
export async function checkContent(
  sources: ContentSource,
  cid: string,
  role: ContentRole,
  keep = false,
): Promise<{ check: ContentCheck; bytes: Uint8Array | null }> {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  async function* tapped(): AsyncGenerator<Uint8Array> {
    for await (const chunk of sources.streamContent(cid)) {
      if (keep && keptBytes <= MAX_DOCUMENT_BYTES) {
        keptBytes += chunk.length;
        if (keptBytes <= MAX_DOCUMENT_BYTES) kept.push(chunk);
        else kept.length = 0;
      }
      yield chunk;
    }
  }
  let present: boolean;
  let matches = false;
  try {
    const computed = await importFile(tapped(), hashOnly, IMPORT_PARAMETERS);
    present = true;
    matches = computed.toV1().toString() === cid;
  } catch (error) {
    // A damaged copy is there but wrong; anything else (not found, a gateway gone) is absent.
    present = sources.isCorrupt(error);
  }
  return {
    check: { cid, role, present, matches, pinned: await sources.isPinned(cid).catch(() => null) },
    bytes: matches && keep && keptBytes <= MAX_DOCUMENT_BYTES ? Buffer.concat(kept) : null,
  };
}
