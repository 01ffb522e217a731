/**
 * Document CIDs: base32 CIDv1, codec raw (0x55), multihash sha2-256. Such a CID is the
 * SHA-256 of the document's bytes, so checking a document is one hash and a compare.
 * Multibase base32 (RFC 4648, lower case, no padding) is decoded here rather than with
 * `multiformats`, to keep the scan page small; the hash is the platform's Web Crypto (every
 * browser we serve has it on a secure origin, Node has it too), which spares the page a SHA-2
 * library (1.4 KB of its script, brotli) except over plain HTTP (`useSha256Fallback`). Signed values carry CIDs in binary;
 * `cidTextFromHex` names any CID in text, as `multiformats` would.
 */
import { bytesEqual, bytesToHex, concatBytes, hexToBytes } from "./bytes.ts";
import { AppError } from "../errors/app-error.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const CID_V1 = 0x01;
const RAW_CODEC = 0x55;
const DAG_PB_CODEC = 0x70;
const SHA2_256 = 0x12;
const DIGEST_BYTES = 32;
/** The binary form's prefix: version, codec, hash function, digest length (each a one-byte varint). */
const RAW_SHA256_PREFIX = Uint8Array.of(CID_V1, RAW_CODEC, SHA2_256, DIGEST_BYTES);

function base32Decode(text: string): Uint8Array {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new AppError("verify.cid_format", { reason: "not base32", char });
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  // Canonical encodings leave fewer than 5 zero bits over.
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) throw new AppError("verify.cid_format", { reason: "padding" });
  return Uint8Array.from(out);
}

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31] ?? "";
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31] ?? "";
  return out;
}

function requireRawSha256(bytes: Uint8Array): Uint8Array {
  if (
    bytes.length !== RAW_SHA256_PREFIX.length + DIGEST_BYTES ||
    !bytesEqual(bytes.subarray(0, 4), RAW_SHA256_PREFIX)
  ) {
    throw new AppError("verify.cid_format", { reason: "not a CIDv1 raw sha2-256", cid: bytesToHex(bytes) });
  }
  return bytes.subarray(4);
}

/** The binary CID of base32 text `b…`. Throws `verify.cid_format` for anything but CIDv1 raw sha2-256. */
export function cidBytesFromText(cidText: string): Uint8Array {
  if (!cidText.startsWith("b")) throw new AppError("verify.cid_format", { reason: "not multibase base32" });
  const bytes = base32Decode(cidText.slice(1));
  requireRawSha256(bytes);
  return bytes;
}

/** An unsigned varint (as multiformats writes them) at `offset`: its value and where the next field starts. */
function readVarint(bytes: Uint8Array, offset: number): [number, number] {
  let value = 0;
  // Seven varint bytes stay within a safe integer; no CID field comes near.
  for (let i = offset; i < bytes.length && i < offset + 7; i++) {
    const byte = bytes[i] ?? 0;
    value += (byte & 0x7f) * 2 ** (7 * (i - offset));
    if (byte < 0x80) return [value, i + 1];
  }
  throw new AppError("verify.cid_format", { reason: "truncated varint" });
}

/**
 * Base32 CIDv1 text (`b…`) of a binary CID given as 0x-hex, as signed values carry it: any
 * codec and multihash, a CIDv0 named as CIDv1 dag-pb (multiformats' `toV1`). Throws
 * `verify.cid_format` when the bytes are not one whole CID. Only raw sha2-256 CIDs can be
 * checked against bytes here (`cidMatchesBytes`).
 */
export function cidTextFromHex(cidHex: string): string {
  const given = hexToBytes(cidHex);
  // A CIDv0 is a bare sha2-256 multihash: its first byte is that function's code.
  const bytes = given[0] === SHA2_256 ? concatBytes(Uint8Array.of(CID_V1, DAG_PB_CODEC), given) : given;
  const [version, codecAt] = readVarint(bytes, 0);
  const [, hashAt] = readVarint(bytes, codecAt);
  const [, lengthAt] = readVarint(bytes, hashAt);
  const [length, digestAt] = readVarint(bytes, lengthAt);
  if (version !== CID_V1 || digestAt + length !== bytes.length) {
    throw new AppError("verify.cid_format", { reason: "not a whole CIDv1", cid: cidHex.slice(0, 80) });
  }
  return `b${base32Encode(bytes)}`;
}

/** A SHA-256 for a platform without Web Crypto. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

let fallbackSha256: Sha256 | null = null;

/**
 * The hash to use where the platform has no Web Crypto: browsers give it only to secure
 * origins, and the demo on a phone is opened over plain HTTP on the LAN. The scan page loads a
 * SHA-256 for that case only, so pages on HTTPS never download it.
 */
export function useSha256Fallback(sha256: Sha256): void {
  fallbackSha256 = sha256;
}

/** Whether this platform can hash without a fallback. */
export function hasWebCryptoDigest(): boolean {
  // The DOM types promise `subtle`; an insecure page (and an old runtime) has none.
  const platform = globalThis.crypto as { subtle?: SubtleCrypto } | undefined;
  return platform?.subtle !== undefined;
}

async function sha256Of(bytes: Uint8Array): Promise<Uint8Array> {
  if (hasWebCryptoDigest()) {
    // Copied: `digest` takes a buffer it may read after this call returns.
    return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes.slice()));
  }
  if (fallbackSha256 !== null) return fallbackSha256(bytes);
  throw new Error("no SHA-256 on this platform");
}

/**
 * Whether `bytes` are the content `cidText` names. False for any CID we cannot check, and
 * where the platform cannot hash at all: unchecked is never matched.
 */
export async function cidMatchesBytes(cidText: string, bytes: Uint8Array): Promise<boolean> {
  try {
    const digest = requireRawSha256(cidBytesFromText(cidText));
    return bytesEqual(digest, await sha256Of(bytes));
  } catch {
    return false;
  }
}
