/**
 * Units of the quantities we record, as UN/CEFACT Recommendation 20 common codes (what
 * the ledger's `unit` field, EPCIS `uom` and the FSMA 204 spreadsheet carry), and exact
 * decimal quantities as integer thousandths (`quantityMilli`, the ledger's uint64).
 *
 * Package units are Recommendation 21 package codes with the prefix "X": Rec 20 marks its
 * own old package codes (BG bag, BX box, CR crate, CS case, CT carton, SA sack) deleted
 * and says to use Rec 21 instead, which e-invoicing and EPCIS do with the X prefix.
 */
import { AppError } from "../errors/app-error.ts";

export interface UnitDefinition {
  /** UN/CEFACT common code. */
  code: string;
  zh: string;
  en: string;
  /** Milligrams per unit for mass units, so mass balance can add kg and t exactly. */
  milligrams: bigint | undefined;
}

export const UNITS = {
  kg: { code: "KGM", zh: "千克", en: "kilogram", milligrams: 1_000_000n },
  g: { code: "GRM", zh: "克", en: "gram", milligrams: 1_000n },
  t: { code: "TNE", zh: "吨", en: "tonne", milligrams: 1_000_000_000n },
  piece: { code: "H87", zh: "件", en: "piece", milligrams: undefined },
  bag: { code: "XBG", zh: "袋", en: "bag", milligrams: undefined },
  box: { code: "XBX", zh: "箱", en: "box", milligrams: undefined },
  crate: { code: "XCR", zh: "筐", en: "crate", milligrams: undefined },
  case: { code: "XCS", zh: "件箱", en: "case", milligrams: undefined },
  carton: { code: "XCT", zh: "纸箱", en: "carton", milligrams: undefined },
  sack: { code: "XSA", zh: "麻袋", en: "sack", milligrams: undefined },
  basket: { code: "XBK", zh: "篮", en: "basket", milligrams: undefined },
  litre: { code: "LTR", zh: "升", en: "litre", milligrams: undefined },
} as const satisfies Record<string, UnitDefinition>;

export type UnitName = keyof typeof UNITS;
export type UnitCode = (typeof UNITS)[UnitName]["code"];

const BY_CODE: ReadonlyMap<string, UnitName> = new Map(
  (Object.keys(UNITS) as UnitName[]).map((name) => [UNITS[name].code, name]),
);

/** The Rec 20 code of a unit we record; throws `units.unknown_unit`. */
export function unitCode(name: string): UnitCode {
  if (!Object.hasOwn(UNITS, name)) throw new AppError("units.unknown_unit", { unit: name });
  return UNITS[name as UnitName].code;
}

/** The unit of a Rec 20 code we record; throws `units.unknown_unit`. */
export function unitFromCode(code: string): UnitName {
  const name = BY_CODE.get(code);
  if (name === undefined) throw new AppError("units.unknown_unit", { unit: code });
  return name;
}

export const UINT64_MAX = 2n ** 64n - 1n;
const MILLI_DIGITS = 3;

/**
 * "1234.567" → 1234567n: a decimal quantity in thousandths, parsed from text so no binary
 * floating point ever rounds it. Up to 3 decimals; further digits are accepted only
 * when they are zeros ("1.2500"), since they change nothing. Throws
 * `units.quantity_negative`, `units.quantity_format`, `units.quantity_precision`,
 * `units.quantity_overflow` (above uint64) and, unless `allowZero`, `units.quantity_zero`.
 */
export function quantityMilli(text: string, options: { allowZero?: boolean } = {}): bigint {
  const trimmed = text.trim();
  if (/^-/.test(trimmed)) throw new AppError("units.quantity_negative", { value: text });
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(trimmed);
  if (match === null) throw new AppError("units.quantity_format", { value: text });
  const whole = (match[1] ?? "").replace(/^0+(?=[0-9])/, "");
  const fraction = match[2] ?? "";
  if (/[1-9]/.test(fraction.slice(MILLI_DIGITS))) {
    throw new AppError("units.quantity_precision", { value: text, maxDecimals: MILLI_DIGITS });
  }
  // uint64 has 20 digits; checking the length first keeps BigInt away from huge strings.
  if (whole.length > 20) throw new AppError("units.quantity_overflow", { value: text });
  const milli = BigInt(whole + fraction.slice(0, MILLI_DIGITS).padEnd(MILLI_DIGITS, "0"));
  if (milli > UINT64_MAX) throw new AppError("units.quantity_overflow", { value: text });
  if (milli === 0n && options.allowZero !== true) throw new AppError("units.quantity_zero", { value: text });
  return milli;
}

/** 1234500n → "1234.5": the shortest decimal text of a quantity in thousandths. */
export function formatQuantityMilli(milli: bigint): string {
  if (milli < 0n) throw new AppError("units.quantity_negative", { value: milli.toString() });
  const whole = milli / 1000n;
  const fraction = (milli % 1000n).toString().padStart(MILLI_DIGITS, "0").replace(/0+$/, "");
  return fraction.length > 0 ? `${whole.toString()}.${fraction}` : whole.toString();
}

/**
 * The mass of a quantity in milligrams (exact: a thousandth of a gram is a milligram), or
 * undefined when the unit is not a mass. Mass-balance checks add these across units.
 */
export function massMilligrams(milli: bigint, unit: UnitName): bigint | undefined {
  const milligrams: bigint | undefined = UNITS[unit].milligrams;
  return milligrams === undefined ? undefined : (milli * milligrams) / 1000n;
}
