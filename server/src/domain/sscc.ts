/**
 * The SSCC (GS1 AI 00, Serial Shipping Container Code) that names a case or a pallet: 18
 * digits, the last a GS1 mod-10 check digit computed as a GTIN's (General Specifications
 * 7.9), and the registry's key for it, `keccak256(abi.encode(uint64 sscc))` (the 18 digits as
 * an integer, below 10^18, so a `uint64`). See docs/aggregation.md.
 */
import { AbiCoder, keccak256 } from "ethers";

import { AppError } from "../errors/app-error.ts";
import { gtinCheckDigit } from "./gs1.ts";

const SSCC_DIGITS = /^[0-9]{18}$/;
const SSCC_URI = /^https?:\/\/[^/]+\/00\/([0-9]{18})$/;

/** GS1's Digital Link URI of an SSCC (the parentID / childEPC of EPCIS events). */
export function ssccUri(sscc: string): string {
  return `https://id.gs1.org/00/${sscc}`;
}

/** The check digit of an SSCC's first 17 digits. */
export function ssccCheckDigit(body: string): number {
  return gtinCheckDigit(body);
}

/**
 * The 18 digits of an SSCC given as its digits, with its AI (`00…`, `(00)…`) or as a GS1
 * Digital Link (`https://id.gs1.org/00/…`). Throws `container.sscc_invalid` for anything else
 * and `gs1.check_digit` for a wrong check digit.
 */
export function normalizeSscc(input: string): string {
  const trimmed = input.trim();
  const digits =
    SSCC_URI.exec(trimmed)?.[1] ??
    (trimmed.startsWith("(00)")
      ? trimmed.slice(4)
      : trimmed.length === 20 && trimmed.startsWith("00")
        ? trimmed.slice(2)
        : trimmed);
  if (!SSCC_DIGITS.test(digits)) throw new AppError("container.sscc_invalid", { value: input });
  const expected = ssccCheckDigit(digits.slice(0, 17));
  const actual = digits.charCodeAt(17) - 48;
  if (expected !== actual) throw new AppError("gs1.check_digit", { value: digits, expected, actual });
  return digits;
}

/** The registry's key of an SSCC (already normalised). */
export function containerKeyOf(sscc: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint64"], [BigInt(sscc)]));
}

/**
 * The SSCC numbered `serialReference` under a company prefix: extension digit, prefix, the
 * serial reference padded to fill 16 digits, and the check digit. Throws
 * `container.sscc_exhausted` when the serial reference does not fit.
 */
export function ssccFor(extension: number, prefix: string, serialReference: bigint): string {
  const width = 16 - prefix.length;
  const text = serialReference.toString();
  if (serialReference < 0n || text.length > width || extension < 0 || extension > 9) {
    throw new AppError("container.sscc_exhausted", { prefix });
  }
  const body = `${String(extension)}${prefix}${text.padStart(width, "0")}`;
  return `${body}${String(ssccCheckDigit(body))}`;
}
