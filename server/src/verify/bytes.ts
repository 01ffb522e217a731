/**
 * Hex, integers and 32-byte words: the few conversions the verification core needs, so
 * the scan page does not pull in a general-purpose library for them.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";

import { AppError } from "../errors/app-error.ts";

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const DECIMAL = /^(?:0|[1-9]\d*)$/;

export function hexToBytes(hex: string): Uint8Array {
  if (!HEX.test(hex)) throw new AppError("verify.hex", { value: hex.slice(0, 80) });
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = "0x";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Exactly `length` bytes from 0x-hex, or a `verify.hex` error. */
export function fixedBytes(hex: string, length: number): Uint8Array {
  const bytes = hexToBytes(hex);
  if (bytes.length !== length) throw new AppError("verify.hex", { value: hex.slice(0, 80), length });
  return bytes;
}

/** A 20-byte address from 0x-hex (any letter case; the checksum is not required). */
export function addressBytes(address: string): Uint8Array {
  if (!ADDRESS.test(address)) throw new AppError("verify.address", { value: address.slice(0, 80) });
  return hexToBytes(address);
}

export function sameHex(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function keccak256(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

export function keccak256Hex(bytes: Uint8Array): string {
  return bytesToHex(keccak_256(bytes));
}

/** A uint<bits> from a decimal string (as the resolution carries them) or a bigint. */
export function parseUint(value: string | bigint, bits: number): bigint {
  let parsed: bigint;
  if (typeof value === "bigint") parsed = value;
  else if (DECIMAL.test(value)) parsed = BigInt(value);
  else throw new AppError("verify.uint_range", { value: value.slice(0, 80), bits });
  if (parsed < 0n || parsed >= 1n << BigInt(bits)) throw new AppError("verify.uint_range", { value, bits });
  return parsed;
}

/** A uint256 word, big-endian. */
export function uintWord(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let rest = value;
  for (let i = 31; i >= 0 && rest > 0n; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

export function wordToBigInt(word: Uint8Array): bigint {
  let out = 0n;
  for (const byte of word) out = (out << 8n) | BigInt(byte);
  return out;
}

const utf8 = new TextEncoder();

/**
 * The tail of a `string` in ABI encoding: its byte length as a word, then its UTF-8 bytes
 * zero-padded to whole words. The head (an offset word) depends on what else is encoded.
 */
export function abiStringTail(value: string): Uint8Array {
  const bytes = utf8.encode(value);
  const padded = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  padded.set(bytes);
  return concatBytes(uintWord(BigInt(bytes.length)), padded);
}

/** An address left-padded to one word. */
export function addressWord(address: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(addressBytes(address), 12);
  return out;
}

/**
 * Checksummed forms already computed: a batch's logs name the same few organisations again
 * and again, and each form is a hash (on a slow phone, tens of milliseconds in all). Bounded,
 * as the server's audit runs for long.
 */
const checksummed = new Map<string, string>();
const CHECKSUMMED_MAX = 1_024;

/** EIP-55 mixed-case checksum form of an address, as ethers and wallets print it. */
export function checksumAddress(address: string): string {
  if (!ADDRESS.test(address)) throw new AppError("verify.address", { value: address.slice(0, 80) });
  const lower = address.slice(2).toLowerCase();
  const known = checksummed.get(lower);
  if (known !== undefined) return known;
  const hash = keccak256Hex(utf8.encode(lower)).slice(2);
  let out = "0x";
  for (let i = 0; i < lower.length; i++) {
    const char = lower[i] ?? "";
    out += Number.parseInt(hash[i] ?? "0", 16) >= 8 ? char.toUpperCase() : char;
  }
  if (checksummed.size >= CHECKSUMMED_MAX) checksummed.clear();
  checksummed.set(lower, out);
  return out;
}
