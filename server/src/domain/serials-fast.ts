/**
 * serials.ts for whole batches: the same serials, codes and digests, with HMAC-SHA256 from
 * `hash-wasm` (one keyed hasher reused for every item, as keccak.ts does) and randomness
 * drawn from the CSPRNG in blocks. A million items need two million HMACs: @noble/hashes
 * takes ~50 µs per item here and node:crypto's createHmac ~32 µs (OpenSSL sets the key
 * up again each time); a reused WASM hasher ~6 µs. serials-fast.test.ts checks that
 * every output equals serials.ts's.
 */
import { createHMAC, createSHA256, type IHasher } from "hash-wasm";

import { AppError } from "../errors/app-error.ts";
import {
  DERIVE_LABEL,
  DIGEST_LABEL,
  normalizeVerificationCode,
  PEPPER_MIN_BYTES,
  secureRandom,
  VERIFICATION_CODE_DIGITS,
  type RandomSource,
} from "./serials.ts";

/** Random bytes fetched at once: 64 KiB (getRandomValues' limit) serve about 7,000 serials. */
const RANDOM_BLOCK = 65_536;

/** The CSPRNG of serials.ts, read in blocks rather than nine bytes per call. */
export function blockRandom(source: RandomSource = secureRandom): RandomSource {
  const block = new Uint8Array(RANDOM_BLOCK);
  let used = RANDOM_BLOCK;
  return (bytes) => {
    if (bytes.length > RANDOM_BLOCK) {
      source(bytes);
      return;
    }
    if (used + bytes.length > RANDOM_BLOCK) {
      source(block);
      used = 0;
    }
    bytes.set(block.subarray(used, used + bytes.length));
    // Never hand the same bytes out twice.
    block.fill(0, used, used + bytes.length);
    used += bytes.length;
  };
}

const CODE_MODULUS = 10n ** BigInt(VERIFICATION_CODE_DIGITS);

export interface VerificationCodeHasher {
  /** `deriveVerificationCode(pepper, batchId, serial)` of serials.ts. */
  derive(batchId: string, serial: string): string;
  /** `verificationCodeDigest(pepper, serial, code)` of serials.ts. */
  digest(serial: string, code: string): string;
}

/** serials.ts's hidden-code HMACs under one pepper, with a reused keyed hasher. */
export async function verificationCodeHasher(pepper: Uint8Array): Promise<VerificationCodeHasher> {
  if (pepper.length < PEPPER_MIN_BYTES) {
    throw new AppError("serial.pepper_too_short", { bytes: pepper.length, min: PEPPER_MIN_BYTES });
  }
  const hmac: IHasher = await createHMAC(createSHA256(), pepper);
  const mac = (message: string): Uint8Array => {
    hmac.init();
    hmac.update(message);
    return hmac.digest("binary");
  };
  return {
    derive(batchId, serial) {
      const bytes = mac(`${DERIVE_LABEL}\u0000${batchId.toLowerCase()}\u0000${serial}`);
      let value = 0n;
      for (const byte of bytes.subarray(0, 8)) value = (value << 8n) | BigInt(byte);
      return (value % CODE_MODULUS).toString().padStart(VERIFICATION_CODE_DIGITS, "0");
    },
    digest(serial, code) {
      hmac.init();
      hmac.update(`${DIGEST_LABEL}\u0000${serial}\u0000${normalizeVerificationCode(code)}`);
      return hmac.digest("hex");
    },
  };
}
