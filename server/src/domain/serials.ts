/**
 * Item serials and the hidden verification codes printed under a scratch-off.
 *
 * A serial is the AI (21) of one item's GS1 Digital Link: 13 characters of Crockford's
 * base32 (digits and capitals without I, L, O and U), so it is safe in AI 21 and in a
 * URL unescaped, short on a label, and cannot be misread as another (0/O, 1/I/L). Each
 * character carries 5 bits straight from a CSPRNG: 65 bits, so guessing a valid serial
 * of a 1,000,000-item batch succeeds once in about 3.7 × 10¹³ tries.
 *
 * A verification code is 8 digits (easy to type on a phone keypad), about 26.6 bits. It
 * only has to resist guessing online, where the resolver rate-limits claims per serial;
 * offline, the stored form is an HMAC-SHA256 keyed with a server secret (the pepper), so
 * a leaked database alone does not reveal or let anyone test codes.
 *
 * Browser-safe: randomness from `globalThis.crypto.getRandomValues`, HMAC from @noble/hashes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { AppError } from "../errors/app-error.ts";

/** Crockford's base32 alphabet, value order. */
export const SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const SERIAL_LENGTH = 13;
/** Bits of CSPRNG output in one serial: 13 characters × 5 bits. */
export const SERIAL_ENTROPY_BITS = SERIAL_LENGTH * 5;

export const VERIFICATION_CODE_DIGITS = 8;
/** log2(10^8) ≈ 26.58 bits per code. */
export const VERIFICATION_CODE_ENTROPY_BITS = VERIFICATION_CODE_DIGITS * Math.log2(10);

/** The smallest secret accepted for the verification-code HMAC: a full SHA-256 block's worth of key strength. */
export const PEPPER_MIN_BYTES = 32;

/** Fills `bytes` with cryptographically secure random bytes. Tests inject fixed bytes. */
export type RandomSource = (bytes: Uint8Array) => void;

export const secureRandom: RandomSource = (bytes) => {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues === undefined) throw new AppError("serial.random_unavailable", {});
  // getRandomValues refuses more than 65,536 bytes at once.
  for (let offset = 0; offset < bytes.length; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65536)));
  }
};

const SERIAL_BYTES = Math.ceil(SERIAL_ENTROPY_BITS / 8);
const ISSUED_SERIAL = new RegExp(`^[${SERIAL_ALPHABET}]{${SERIAL_LENGTH}}$`);

/** One serial: the first 65 bits of 9 random bytes, 5 bits (one character) at a time. */
export function generateSerial(random: RandomSource = secureRandom): string {
  const bytes = new Uint8Array(SERIAL_BYTES);
  random(bytes);
  let serial = "";
  for (let character = 0; character < SERIAL_LENGTH; character++) {
    let value = 0;
    for (let bit = character * 5; bit < character * 5 + 5; bit++) {
      value = (value << 1) | (((bytes[bit >>> 3] ?? 0) >>> (7 - (bit & 7))) & 1);
    }
    serial += SERIAL_ALPHABET.charAt(value);
  }
  return serial;
}

/**
 * `count` distinct serials. Repeats are astronomically rare at 65 bits but would make
 * two items one leaf, so they are drawn again rather than assumed away.
 */
export function generateSerials(count: number, random: RandomSource = secureRandom): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(generateSerial(random));
  return [...seen];
}

/** Whether `value` has the exact form of a serial issued here. */
export function isIssuedSerial(value: string): boolean {
  return ISSUED_SERIAL.test(value);
}

/**
 * A serial typed by a person, read the way Crockford's base32 intends: case-insensitive,
 * spaces and hyphens ignored, I and L read as 1, O as 0. Throws `serial.format`.
 */
export function normalizeSerialInput(input: string): string {
  const serial = input.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (!isIssuedSerial(serial)) throw new AppError("serial.format", { input });
  return serial;
}

// Rejection sampling keeps the digits uniform: 4,200,000,000 is the largest multiple of
// 10^8 below 2^32, so every value below it maps to each code exactly 42 times.
const CODE_MODULUS = 10 ** VERIFICATION_CODE_DIGITS;
const CODE_REJECT_FROM = Math.floor(2 ** 32 / CODE_MODULUS) * CODE_MODULUS;

/** A new 8-digit verification code, uniform over 00000000–99999999. */
export function generateVerificationCode(random: RandomSource = secureRandom): string {
  const bytes = new Uint8Array(4);
  for (;;) {
    random(bytes);
    const value = (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0;
    if (value < CODE_REJECT_FROM) return (value % CODE_MODULUS).toString().padStart(VERIFICATION_CODE_DIGITS, "0");
  }
}

/** A code as typed (spaces and hyphens ignored; full-width digits accepted); throws `serial.verification_code_format`. */
export function normalizeVerificationCode(input: string): string {
  const code = input
    .replace(/[\s-]/g, "")
    .replace(/[０-９]/g, (digit) => String.fromCharCode(digit.charCodeAt(0) - 0xff10 + 0x30));
  if (!new RegExp(`^[0-9]{${VERIFICATION_CODE_DIGITS}}$`).test(code)) {
    throw new AppError("serial.verification_code_format", {});
  }
  return code;
}

// Domain separation: the same pepper may key other HMACs one day, and binding the serial
// means a code's digest is only ever valid for its own item.
export const DIGEST_LABEL = "oioc:verification-code:v1";

function requirePepper(pepper: Uint8Array): Uint8Array {
  if (pepper.length < PEPPER_MIN_BYTES) {
    throw new AppError("serial.pepper_too_short", { bytes: pepper.length, min: PEPPER_MIN_BYTES });
  }
  return pepper;
}

function digestBytes(pepper: Uint8Array, serial: string, code: string): Uint8Array {
  const message = new TextEncoder().encode(`${DIGEST_LABEL}\u0000${serial}\u0000${code}`);
  return hmac(sha256, requirePepper(pepper), message);
}

/**
 * What is stored for a verification code: HMAC-SHA256(pepper, label ‖ 0 ‖ serial ‖ 0 ‖ code),
 * as 64 lower-case hex digits. Never store the code itself.
 */
export function verificationCodeDigest(pepper: Uint8Array, serial: string, code: string): string {
  let hex = "";
  for (const byte of digestBytes(pepper, serial, normalizeVerificationCode(code))) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}

/**
 * Whether `typedCode` is the code whose digest is `storedDigest`. The comparison takes the
 * same time wherever the first difference is, so response times leak nothing about how
 * close a guess was. A malformed code or digest is simply not a match.
 */
export function verifyVerificationCode(
  pepper: Uint8Array,
  serial: string,
  typedCode: string,
  storedDigest: string,
): boolean {
  requirePepper(pepper);
  let code: string;
  try {
    code = normalizeVerificationCode(typedCode);
  } catch {
    return false;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(storedDigest)) return false;
  const actual = digestBytes(pepper, serial, code);
  let difference = 0;
  for (let i = 0; i < actual.length; i++) {
    difference |= (actual[i] ?? 0) ^ Number.parseInt(storedDigest.slice(2 * i, 2 * i + 2), 16);
  }
  return difference === 0;
}

// A separate label from the digest's: deriving a code and storing its digest are two uses of the pepper.
export const DERIVE_LABEL = "oioc:verification-code-derive:v1";

/**
 * The hidden code of an item, derived from the pepper, the batch and the serial, so the
 * label sheet can print it whenever the cooperative downloads it, and nothing but the
 * pepper (which never enters the database) reveals it. Uniform enough: a 64-bit HMAC
 * output reduced mod 10^8 is biased by less than 10^-11.
 */
export function deriveVerificationCode(pepper: Uint8Array, batchId: string, serial: string): string {
  const message = new TextEncoder().encode(`${DERIVE_LABEL}\u0000${batchId.toLowerCase()}\u0000${serial}`);
  const mac = hmac(sha256, requirePepper(pepper), message);
  let value = 0n;
  for (const byte of mac.subarray(0, 8)) value = (value << 8n) | BigInt(byte);
  return (value % BigInt(CODE_MODULUS)).toString().padStart(VERIFICATION_CODE_DIGITS, "0");
}
