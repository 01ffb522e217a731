/**
 * One gzip member (RFC 1952) assembled from pieces of one deflate stream (RFC 1951), so a
 * page whose larger parts are shared by many responses compresses those once:
 *
 * - a shared piece is compressed once by zlib, ending with a sync flush (byte-aligned, not
 *   final), which is what lets pieces compressed apart follow one another in one stream;
 * - a response's own text (about a kilobyte) is sent as non-compressed ("stored") blocks,
 *   framed as RFC 1951 §3.2.4 says: setting up zlib per response cost more than the rest
 *   of the page view, and a kilobyte compresses by a few hundred bytes at most;
 * - the member's trailer is the CRC-32 of the whole text, carried on from a cached value
 *   over the shared prefix, so only the response's own bytes are summed per response.
 */
import { constants, crc32, deflateRawSync } from "node:zlib";

/** Bytes of a deflate stream with the text they stand for and the CRC-32 of everything up to their end. */
export interface DeflatePiece {
  /** Deflate bytes (never the stream's end). */
  deflated: Buffer;
  /** Length of the text so far, this piece included. */
  lengthAfter: number;
  /** CRC-32 of the text so far, this piece included. */
  crcAfter: number;
}

/** The start of a stream: `text` compressed once, ending byte-aligned so anything may follow. */
export function firstPiece(text: Buffer): DeflatePiece {
  return followingPiece({ lengthAfter: 0, crcAfter: 0 }, text);
}

/** `text` compressed once as the piece that follows `previous` (whose CRC and length carry on). */
export function followingPiece(previous: Pick<DeflatePiece, "lengthAfter" | "crcAfter">, text: Buffer): DeflatePiece {
  return {
    deflated: deflateRawSync(text, { level: 9, finishFlush: constants.Z_SYNC_FLUSH }),
    lengthAfter: previous.lengthAfter + text.byteLength,
    crcAfter: crc32(text, previous.crcAfter),
  };
}

/** The most a stored block holds: LEN is 16 bits. */
const STORED_BLOCK_MAX = 0xffff;

/** `text` as stored blocks at a byte boundary, the last one final when `final` (then the stream ends). */
export function storedBlocks(text: Buffer, final: boolean): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  do {
    const length = Math.min(STORED_BLOCK_MAX, text.byteLength - offset);
    const last = offset + length >= text.byteLength;
    const header = Buffer.alloc(5);
    // BFINAL in the low bit, BTYPE 00 (stored) above it; the other 5 bits pad to the byte.
    header[0] = final && last ? 1 : 0;
    header.writeUInt16LE(length, 1);
    header.writeUInt16LE(~length & 0xffff, 3);
    parts.push(header, text.subarray(offset, offset + length));
    offset += length;
  } while (offset < text.byteLength);
  return Buffer.concat(parts);
}

/** RFC 1952: deflate, no flags, no modification time, no extra flags, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);

/**
 * A gzip member: the compressed pieces of a shared prefix (the last of them carrying the
 * prefix's CRC and length), then the response's own `rest` as stored blocks ending the stream.
 */
export function gzipMember(prefix: readonly DeflatePiece[], rest: Buffer): Buffer {
  const last = prefix.at(-1);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(rest, last?.crcAfter ?? 0) >>> 0, 0);
  trailer.writeUInt32LE(((last?.lengthAfter ?? 0) + rest.byteLength) % 2 ** 32, 4);
  return Buffer.concat([GZIP_HEADER, ...prefix.map((piece) => piece.deflated), storedBlocks(rest, true), trailer]);
}
