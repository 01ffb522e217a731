/**
 * Conversions between records and columns, shared by the repositories. Data read back
 * from the database is treated like any other outside input: JSON is parsed against a
 * schema, and enum-like text is checked against its closed set.
 */
import { z } from "zod";

const CANONICAL_UINT = /^(0|[1-9][0-9]*)$/;

/** An unsigned protocol integer (uint64, uint256) as canonical decimal text: exact on every engine. */
export function uintToText(value: bigint): string {
  if (value < 0n) throw new RangeError(`an unsigned integer cannot be negative: ${value}`);
  return value.toString();
}

export function textToUint(text: string): bigint {
  if (!CANONICAL_UINT.test(text)) throw new Error(`stored value is not a canonical unsigned integer: ${text}`);
  return BigInt(text);
}

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** Parses a JSON column against its schema; a malformed row fails loudly, naming the column. */
export function fromJson<T>(schema: z.ZodType<T>, text: string, column: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`column ${column} does not hold JSON`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`column ${column} holds unexpected JSON: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Checks a text column against the closed set it may hold. */
export function oneOf<const T extends readonly string[]>(values: T, value: string, column: string): T[number] {
  const found = values.find((allowed) => allowed === value);
  if (found === undefined) throw new Error(`column ${column} holds unexpected value ${JSON.stringify(value)}`);
  return found;
}

/** Addresses are stored in lowercase so that equality in SQL matches equality of keys. */
export function normaliseAddress(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`not an address: ${address}`);
  return address.toLowerCase();
}

export const stringArray = z.array(z.string());
export const jsonObject = z.record(z.string(), z.json());
