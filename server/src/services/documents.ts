/**
 * Stores public JSON documents on IPFS. Each is small enough to be one raw block, so its
 * CID is the SHA-256 of its bytes (what the scan page checks); `cidBytesHex` is the binary
 * CID as signatures carry it.
 */
import { CID } from "multiformats/cid";

import { DOCUMENT_MAX_BYTES } from "../domain/documents.ts";
import { AppError } from "../errors/app-error.ts";
import { parseCid, type ContentStore } from "../ipfs/content-store.ts";

export interface StoredDocument {
  cid: CID;
  /** Base32 CIDv1 text. */
  cidText: string;
  /** Binary CID as 0x-hex: what EIP-712 values and the contract carry. */
  cidHex: string;
}

export function describeCid(cid: CID): StoredDocument {
  return { cid, cidText: cid.toString(), cidHex: `0x${Buffer.from(cid.bytes).toString("hex")}` };
}

export async function storeJsonDocument(content: ContentStore, document: unknown): Promise<StoredDocument> {
  const bytes = new TextEncoder().encode(JSON.stringify(document));
  if (bytes.byteLength > DOCUMENT_MAX_BYTES) {
    // What the caller sent would not fit one block: their request to trim, not our failure.
    throw new AppError(
      "request.document_too_large",
      { documentBytes: bytes.byteLength, maxBytes: DOCUMENT_MAX_BYTES },
      { detail: `The public document would be ${bytes.byteLength} bytes; at most ${DOCUMENT_MAX_BYTES} are allowed.` },
    );
  }
  return describeCid((await content.add([bytes])).cid);
}

export async function storeBytes(content: ContentStore, bytes: Uint8Array): Promise<StoredDocument> {
  return describeCid((await content.add([bytes])).cid);
}

/** The binary CID, as 0x-hex, of CID text in any multibase. */
export function cidHexFromText(text: string): string {
  return describeCid(parseCid(text)).cidHex;
}

export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}
