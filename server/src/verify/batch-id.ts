/**
 * A batch's id: `keccak256(abi.encode(uint64 gtin, string lot))`, as the registry's
 * `batchIdOf`. The one implementation: the server names batches with it, the scan page and
 * the CLI check the ids they are given with it.
 */
import { abiStringTail, concatBytes, keccak256Hex, parseUint, uintWord } from "./bytes.ts";
import { AppError } from "../errors/app-error.ts";

const DIGITS = /^\d{1,20}$/;

/**
 * The id of the batch `lot` of `gtin`: the GTIN's digits as written (leading zeros, as a
 * GTIN-14 has them) or its value. Throws `verify.uint_range` for anything else.
 */
export function batchIdOf(gtin: string | bigint, lot: string): string {
  if (typeof gtin === "string" && !DIGITS.test(gtin)) {
    throw new AppError("verify.uint_range", { value: gtin.slice(0, 80), bits: 64 });
  }
  const value = parseUint(typeof gtin === "string" ? BigInt(gtin) : gtin, 64);
  // Head: the GTIN word, then the string's offset (two words in); tail: the string.
  return keccak256Hex(concatBytes(uintWord(value), uintWord(64n), abiStringTail(lot)));
}
