/**
 * GS1 identifiers as the labels carry them: GTIN check digits, the AI (10) lot, AI (21)
 * serial and AI (22) variant, and GS1 Digital Link URIs
 * (`https://{host}/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`).
 *
 * Sources: GS1 General Specifications (7.9 check digit, figure 7.11-1 "GS1 AI encodable
 * character set 82", 7.12 century of YYMMDD dates), GS1 Digital Link Standard: URI
 * Syntax (key qualifier order, percent-encoding), and GS1's Barcode Syntax Dictionary for
 * the formats of the data attributes we accept.
 *
 * Pure and browser-safe: the scan page parses links with the same code as the resolver.
 */
import { AppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";

// ------------------------------------------------------------------------------ GTIN

const DIGITS = /^[0-9]+$/;
const GTIN_LENGTHS: ReadonlySet<number> = new Set([8, 12, 13, 14]);
const GTIN14_LIMIT = 10n ** 14n;

/**
 * The GS1 mod-10 check digit of `body` (a GTIN without its last digit). Weights 3 and 1
 * alternate from the right-most body digit, which always weighs 3, so the same function
 * serves GTIN-8, -12, -13 and -14 and leading zeros never change the result.
 */
export function gtinCheckDigit(body: string): number {
  if (!DIGITS.test(body)) throw new AppError("gs1.gtin_format", { value: body });
  let sum = 0;
  for (let i = body.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (body.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

/** Whether `value` is a GTIN-8, -12, -13 or -14 with a correct check digit. */
export function isValidGtin(value: string): boolean {
  if (!GTIN_LENGTHS.has(value.length) || !DIGITS.test(value)) return false;
  return gtinCheckDigit(value.slice(0, -1)) === value.charCodeAt(value.length - 1) - 48;
}

/**
 * The GTIN-14 form of a GTIN-8, -12, -13 or -14 (left-padded with zeros, as GS1 Digital
 * Link and the ledger store it). Throws `gs1.gtin_format` or `gs1.check_digit`.
 */
export function normalizeGtin(value: string): string {
  if (!GTIN_LENGTHS.has(value.length) || !DIGITS.test(value)) {
    throw new AppError("gs1.gtin_format", { value });
  }
  const expected = gtinCheckDigit(value.slice(0, -1));
  const actual = value.charCodeAt(value.length - 1) - 48;
  if (expected !== actual) throw new AppError("gs1.check_digit", { value, expected, actual });
  return value.padStart(14, "0");
}

/** The GTIN as the ledger's `uint64` (check digit included, leading zeros dropped). */
export function gtinToUint64(value: string): bigint {
  return BigInt(normalizeGtin(value));
}

/** The GTIN-14 of a ledger `uint64`; throws unless it is a GTIN with a correct check digit. */
export function gtinFromUint64(value: bigint): string {
  if (value <= 0n || value >= GTIN14_LIMIT) throw new AppError("gs1.gtin_range", { value: value.toString() });
  return normalizeGtin(value.toString().padStart(14, "0"));
}

// ------------------------------------------------------------- AI values (CSET 82)

/** GS1 AI encodable character set 82, in code-point order (General Specifications, figure 7.11-1). */
export const CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/** `!`, `"`, `%` to `?` (which takes in `&'()*+,-./`, the digits and `:;<=>`), A–Z, `_`, a–z. */
const CSET82_ONLY = /^[!"%-?A-Z_a-z]*$/;

/** Index of the first character outside CSET 82, or -1 when there is none. */
export function firstNonCset82(value: string): number {
  if (CSET82_ONLY.test(value)) return -1;
  for (let i = 0; i < value.length; i++) {
    if (!CSET82.includes(value.charAt(i))) return i;
  }
  return -1;
}

/** AIs (10), (21) and (22) are all X..20: 1 to 20 characters of CSET 82. */
export const AI_VALUE_MAX_LENGTH = 20;

function validateX20(value: string, lengthCode: ErrorCode, charsetCode: ErrorCode): string {
  if (value.length === 0 || value.length > AI_VALUE_MAX_LENGTH) {
    throw new AppError(lengthCode, { value, length: value.length, max: AI_VALUE_MAX_LENGTH });
  }
  const position = firstNonCset82(value);
  if (position >= 0) {
    throw new AppError(charsetCode, { value, position, character: value.charAt(position) });
  }
  return value;
}

/** Returns the lot unchanged if it is a valid AI (10); throws `gs1.lot_length` / `gs1.lot_charset`. */
export function validateLot(lot: string): string {
  return validateX20(lot, "gs1.lot_length", "gs1.lot_charset");
}

/** Returns the serial unchanged if it is a valid AI (21); throws `gs1.serial_length` / `gs1.serial_charset`. */
export function validateSerial(serial: string): string {
  return validateX20(serial, "gs1.serial_length", "gs1.serial_charset");
}

/** Returns the variant unchanged if it is a valid AI (22); throws `gs1.cpv_length` / `gs1.cpv_charset`. */
export function validateCpv(cpv: string): string {
  return validateX20(cpv, "gs1.cpv_length", "gs1.cpv_charset");
}

// ----------------------------------------------------------------- YYMMDD dates

/** A GS1 date. `day` is null when the label gave "00" (a month only; for AI 17 it means the month's last day). */
export interface Gs1Date {
  year: number;
  month: number;
  day: number | null;
}

/**
 * The full year of a two-digit GS1 year (General Specifications 7.12): within 49 years
 * before and 50 years after `referenceYear`, so labels printed around a century change
 * still read right.
 */
export function gs1FullYear(twoDigitYear: number, referenceYear: number): number {
  const referenceTwoDigits = referenceYear % 100;
  const century = referenceYear - referenceTwoDigits;
  const difference = twoDigitYear - referenceTwoDigits;
  if (difference >= 51) return century - 100 + twoDigitYear;
  if (difference <= -50) return century + 100 + twoDigitYear;
  return century + twoDigitYear;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses YYMMDD. Day "00" is accepted only where the AI allows it (`allowDayZero`, the
 * `yymmd0` AIs 11, 13, 15, 16, 17). Throws `digital_link.date`.
 */
export function parseGs1Date(value: string, options: { allowDayZero: boolean; referenceYear: number }): Gs1Date {
  if (value.length !== 6 || !DIGITS.test(value)) throw new AppError("digital_link.date", { value });
  const year = gs1FullYear(Number(value.slice(0, 2)), options.referenceYear);
  const month = Number(value.slice(2, 4));
  const day = Number(value.slice(4, 6));
  if (month < 1 || month > 12) throw new AppError("digital_link.date", { value });
  if (day === 0) {
    if (!options.allowDayZero) throw new AppError("digital_link.date", { value });
    return { year, month, day: null };
  }
  if (day > daysInMonth(year, month)) throw new AppError("digital_link.date", { value });
  return { year, month, day };
}

// ------------------------------------------------------- Digital Link vocabulary

/** Key qualifiers of AI (01), in the order the standard requires in the path. */
export const QUALIFIER_ORDER = ["22", "10", "21"] as const;
export type QualifierAi = (typeof QUALIFIER_ORDER)[number];

/** The data attributes this resolver understands in the query string. */
export const DATA_ATTRIBUTE_AIS = [
  "11", // production date, YYMMDD (day may be 00)
  "13", // packaging date
  "15", // best before
  "16", // sell by
  "17", // expiry
  "3100", // net weight in kg, N6 with 0..5 implied decimals (the AI's last digit)
  "3101",
  "3102",
  "3103",
  "3104",
  "3105",
  "422", // country of origin, ISO 3166-1 numeric
  "7006", // first freeze date, YYMMDD
  "7007", // harvest date, YYMMDD or a range YYMMDDYYMMDD
] as const;
export type DataAttributeAi = (typeof DATA_ATTRIBUTE_AIS)[number];

// Marked pure so that a bundle using only the GTIN functions (the scan page) drops them and their lists.
const DATA_ATTRIBUTE_SET: ReadonlySet<string> = /* @__PURE__ */ new Set(DATA_ATTRIBUTE_AIS);
const QUALIFIER_SET: ReadonlySet<string> = /* @__PURE__ */ new Set(QUALIFIER_ORDER);

function isDataAttributeAi(ai: string): ai is DataAttributeAi {
  return DATA_ATTRIBUTE_SET.has(ai);
}

function isQualifierAi(ai: string): ai is QualifierAi {
  return QUALIFIER_SET.has(ai);
}

/** Throws unless `value` is a valid value of data attribute `ai`. */
export function validateDataAttribute(ai: DataAttributeAi, value: string, referenceYear: number): void {
  const fail = (): never => {
    throw new AppError("digital_link.attribute_format", { ai, value });
  };
  switch (ai) {
    case "11":
    case "13":
    case "15":
    case "16":
    case "17":
      parseGs1Date(value, { allowDayZero: true, referenceYear });
      return;
    case "7006":
      parseGs1Date(value, { allowDayZero: false, referenceYear });
      return;
    case "7007":
      if (value.length !== 6 && value.length !== 12) fail();
      parseGs1Date(value.slice(0, 6), { allowDayZero: false, referenceYear });
      if (value.length === 12) parseGs1Date(value.slice(6), { allowDayZero: false, referenceYear });
      return;
    case "3100":
    case "3101":
    case "3102":
    case "3103":
    case "3104":
    case "3105":
      if (value.length !== 6 || !DIGITS.test(value)) fail();
      return;
    case "422":
      if (value.length !== 3 || !DIGITS.test(value)) fail();
      return;
  }
}

// --------------------------------------------------------------- percent-encoding

/** RFC 3986 unreserved characters: the only ones GS1 Digital Link leaves unescaped in an AI value. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * Percent-encodes an AI value (or a query key or value) the way GS1's reference encoder
 * does: everything but RFC 3986 unreserved characters, as %XX in upper case. Of CSET 82
 * that escapes ! " % & ' ( ) * + , / : ; < = > ? and leaves letters, digits, - . _ alone.
 */
export function encodeDigitalLinkValue(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const character = String.fromCharCode(byte);
    out +=
      byte < 0x80 && UNRESERVED.test(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Characters RFC 3986 allows to appear in a URI at all (plus `%` introducing an escape). */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

function decodeComponent(raw: string, plusIsSpace: boolean): string {
  if (BAD_PERCENT.test(raw)) throw new AppError("digital_link.syntax", { reason: "bad percent-escape", raw });
  try {
    return decodeURIComponent(plusIsSpace ? raw.replaceAll("+", " ") : raw);
  } catch (error) {
    throw new AppError("digital_link.syntax", { reason: "escape is not UTF-8", raw }, { cause: error });
  }
}

// ------------------------------------------------------------------ build & parse

export interface DigitalLinkInput {
  /** Host name of the resolver, with an optional port: `trace.example.cn`, `localhost:8080`. */
  host: string;
  /** "https" unless a local demo runs on plain HTTP. */
  scheme?: "https" | "http";
  /** GTIN-8, -12, -13 or -14; written as GTIN-14. */
  gtin: string;
  cpv?: string;
  lot?: string;
  serial?: string;
  /** Data attributes, written into the query string in ascending AI order. */
  dataAttributes?: Partial<Record<DataAttributeAi, string>>;
  /** Other query parameters such as `linkType`, written after the AIs in the order given. */
  params?: ReadonlyArray<readonly [string, string]>;
  /** For validating dates; defaults to the current UTC year. */
  referenceYear?: number;
}

export interface ParsedDigitalLink {
  /** Lower-cased scheme and the host as written, when an absolute URI was parsed. */
  scheme: "https" | "http" | undefined;
  host: string | undefined;
  /** Path segments before `/01/` (a resolver's own prefix), usually empty. */
  pathPrefix: string;
  /** Always GTIN-14. */
  gtin: string;
  cpv: string | undefined;
  lot: string | undefined;
  serial: string | undefined;
  dataAttributes: Partial<Record<DataAttributeAi, string>>;
  /** AI (17) read as a date, when present. */
  expiry: Gs1Date | undefined;
  /** Non-AI query parameters (decoded, in order); kept so the resolver can honour them. */
  params: Array<[string, string]>;
  /** The `linkType` parameter, the one non-AI parameter a resolver must act on. */
  linkType: string | undefined;
}

const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/;
const IPV6_HOST = /^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/;

function validateHost(host: string): string {
  const port = /:([0-9]{1,5})$/.exec(host)?.[1];
  const wellFormed = host.length <= 260 && (HOST_NAME.test(host) || IPV6_HOST.test(host));
  if (!wellFormed || (port !== undefined && Number(port) > 65535)) throw new AppError("digital_link.host", { host });
  return host;
}

function currentYear(): number {
  return new Date().getUTCFullYear();
}

const VALIDATE_QUALIFIER: Record<QualifierAi, (value: string) => string> = {
  "22": validateCpv,
  "10": validateLot,
  "21": validateSerial,
};

/**
 * The path and query of a GS1 Digital Link (`/01/…/10/…/21/…?17=…`), validated and
 * percent-encoded. Qualifiers are written in the standard order whatever the input.
 */
export function buildDigitalLinkPath(input: Omit<DigitalLinkInput, "host" | "scheme">): string {
  const referenceYear = input.referenceYear ?? currentYear();
  let path = `/01/${normalizeGtin(input.gtin)}`;
  const qualifiers: Record<QualifierAi, string | undefined> = { "22": input.cpv, "10": input.lot, "21": input.serial };
  for (const ai of QUALIFIER_ORDER) {
    const value = qualifiers[ai];
    if (value !== undefined) path += `/${ai}/${encodeDigitalLinkValue(VALIDATE_QUALIFIER[ai](value))}`;
  }
  const query: string[] = [];
  for (const ai of DATA_ATTRIBUTE_AIS) {
    const value = input.dataAttributes?.[ai];
    if (value === undefined) continue;
    validateDataAttribute(ai, value, referenceYear);
    query.push(`${ai}=${value}`);
  }
  for (const [key, value] of input.params ?? []) {
    // A digits-only key would read back as an AI; a data attribute belongs in dataAttributes.
    if (key.length === 0 || DIGITS.test(key)) throw new AppError("digital_link.misplaced_ai", { key });
    query.push(`${encodeDigitalLinkValue(key)}=${encodeDigitalLinkValue(value)}`);
  }
  return query.length > 0 ? `${path}?${query.join("&")}` : path;
}

/** A complete GS1 Digital Link URI: `https://{host}/01/{gtin14}[/22/…][/10/…][/21/…][?…]`. */
export function buildDigitalLink(input: DigitalLinkInput): string {
  return `${input.scheme ?? "https"}://${validateHost(input.host)}${buildDigitalLinkPath(input)}`;
}

const ABSOLUTE_URI = /^(https?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i;
const PATH_ONLY = /^(\/[^?#]*)(?:\?([^#]*))?(?:#.*)?$/;
const PARSED_HOST = /^(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

interface SplitUri {
  scheme: "https" | "http" | undefined;
  host: string | undefined;
  path: string;
  query: string;
}

function splitUri(input: string): SplitUri {
  if (input.length > 4096 || !URI_CHARACTERS.test(input)) {
    throw new AppError("digital_link.syntax", { reason: "characters a URI cannot carry" });
  }
  const absolute = ABSOLUTE_URI.exec(input);
  if (absolute !== null) {
    const host = absolute[2] ?? "";
    if (!PARSED_HOST.test(host)) throw new AppError("digital_link.syntax", { reason: "host", host });
    return {
      scheme: (absolute[1] ?? "").toLowerCase() === "http" ? "http" : "https",
      host,
      path: absolute[3] ?? "",
      query: absolute[4] ?? "",
    };
  }
  const relative = PATH_ONLY.exec(input);
  if (relative !== null)
    return { scheme: undefined, host: undefined, path: relative[1] ?? "", query: relative[2] ?? "" };
  throw new AppError("digital_link.syntax", { reason: "neither an http(s) URI nor a path" });
}

/** The rightmost "01" that starts a whole number of (AI, value) pairs up to the end of the path. */
function primaryKeyIndex(segments: readonly string[]): number {
  for (let i = segments.length - 2; i >= 0; i -= 2) {
    if (segments[i] === "01") return i;
  }
  if (segments.includes("01")) throw new AppError("digital_link.syntax", { reason: "an AI without a value" });
  throw new AppError("digital_link.no_primary_key", {});
}

/**
 * Parses a GS1 Digital Link URI (`https://host/…/01/…`) or just its path and query
 * (`/01/…?…`), as a resolver receives it. Validates the GTIN's check digit, that key
 * qualifiers are known, unique and in the standard order, the character set and length
 * of every value, and the data attributes in the query string (dates must exist). A
 * fragment is ignored. Every refusal is a `AppError`.
 */
export function parseDigitalLink(input: string, options: { referenceYear?: number } = {}): ParsedDigitalLink {
  const referenceYear = options.referenceYear ?? currentYear();
  const { scheme, host, path, query } = splitUri(input);

  if (!path.startsWith("/") || path === "/") throw new AppError("digital_link.no_primary_key", {});
  const segments = path.slice(1).split("/");
  if (segments.some((segment) => segment.length === 0)) {
    throw new AppError("digital_link.syntax", { reason: "empty path segment" });
  }
  const keyIndex = primaryKeyIndex(segments);
  const gtin = normalizeGtin(decodeComponent(segments[keyIndex + 1] ?? "", false));

  const qualifiers: Partial<Record<QualifierAi, string>> = {};
  let lastRank = -1;
  for (let i = keyIndex + 2; i < segments.length; i += 2) {
    const ai = segments[i] ?? "";
    if (!isQualifierAi(ai)) {
      if (ai === "01") throw new AppError("digital_link.duplicate_ai", { ai });
      if (isDataAttributeAi(ai)) throw new AppError("digital_link.misplaced_ai", { ai });
      throw new AppError("digital_link.unknown_ai", { ai });
    }
    if (qualifiers[ai] !== undefined) throw new AppError("digital_link.duplicate_ai", { ai });
    const rank = QUALIFIER_ORDER.indexOf(ai);
    if (rank < lastRank) throw new AppError("digital_link.order", { ai, after: QUALIFIER_ORDER[lastRank] });
    lastRank = rank;
    qualifiers[ai] = VALIDATE_QUALIFIER[ai](decodeComponent(segments[i + 1] ?? "", false));
  }

  const dataAttributes: Partial<Record<DataAttributeAi, string>> = {};
  const params: Array<[string, string]> = [];
  for (const pair of query.split("&")) {
    if (pair.length === 0) continue;
    const equals = pair.indexOf("=");
    const key = decodeComponent(equals < 0 ? pair : pair.slice(0, equals), true);
    const value = equals < 0 ? "" : decodeComponent(pair.slice(equals + 1), true);
    if (!DIGITS.test(key)) {
      params.push([key, value]);
      continue;
    }
    if (key === "01" || isQualifierAi(key)) throw new AppError("digital_link.misplaced_ai", { ai: key });
    if (!isDataAttributeAi(key)) throw new AppError("digital_link.unknown_ai", { ai: key });
    if (dataAttributes[key] !== undefined) throw new AppError("digital_link.duplicate_ai", { ai: key });
    validateDataAttribute(key, value, referenceYear);
    dataAttributes[key] = value;
  }

  const expiryValue = dataAttributes["17"];
  return {
    scheme,
    host,
    pathPrefix: keyIndex > 0 ? `/${segments.slice(0, keyIndex).join("/")}` : "",
    gtin,
    cpv: qualifiers["22"],
    lot: qualifiers["10"],
    serial: qualifiers["21"],
    dataAttributes,
    expiry: expiryValue === undefined ? undefined : parseGs1Date(expiryValue, { allowDayZero: true, referenceYear }),
    params,
    linkType: params.find(([key]) => key === "linkType")?.[1],
  };
}
