/**
 * What the "读出来 / Read aloud" buttons say (issue 15, part 5): a person who reads little
 * checks a number by hearing it. Codes are read one character at a time (a lot or a GTIN is
 * compared digit by digit with the label), quantities as numbers with their unit spoken,
 * temperatures in degrees Celsius, names as they are. Pure: no DOM, so it is tested alone and
 * the utterance's text is the same whichever voice the phone has.
 */
import type { Lang } from "./text.ts";

export type Spoken =
  /** Read character by character: a lot, a GTIN, an SSCC, a serial. */
  | { code: string }
  /** Read as a number, with its unit spoken (a key of UNIT_WORDS, or a word as it is). */
  | { quantity: string | number; unit?: string }
  /** Degrees Celsius; below zero is said as such. */
  | { celsius: string | number }
  /** Said as it is: a name, a label before a number. */
  | { text: string };

const ZH_DIGITS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** Units as said aloud; other unit names are said as written. */
export const UNIT_WORDS: Record<string, readonly [zh: string, en: string]> = {
  kg: ["千克", "kilograms"],
  g: ["克", "grams"],
  t: ["吨", "tonnes"],
  piece: ["件", "pieces"],
  items: ["件", "items"],
  bag: ["袋", "bags"],
  box: ["箱", "boxes"],
  crate: ["筐", "crates"],
  case: ["件箱", "cases"],
  carton: ["纸箱", "cartons"],
  sack: ["麻袋", "sacks"],
  basket: ["篮", "baskets"],
  litre: ["升", "litres"],
  ha: ["公顷", "hectares"],
  "mg/kg": ["毫克每千克", "milligrams per kilogram"],
};

/** Punctuation inside codes, said by name so "L-7" is not heard as "L minus 7". */
const SYMBOL_WORDS: Record<string, readonly [zh: string, en: string]> = {
  "-": ["杠", "dash"],
  ".": ["点", "dot"],
  "/": ["斜杠", "slash"],
  _: ["下划线", "underscore"],
  "#": ["井号", "hash"],
  " ": ["空格", "space"],
};

/** A code one character at a time: digits as words, letters as capitals, symbols by name. */
export function spokenCode(code: string, lang: Lang): string {
  const index = lang === "zh" ? 0 : 1;
  return Array.from(code.trim(), (char) => {
    if (/[0-9]/.test(char)) return (lang === "zh" ? ZH_DIGITS : EN_DIGITS)[Number(char)];
    if (/[a-z]/i.test(char)) return char.toUpperCase();
    return SYMBOL_WORDS[char]?.[index] ?? char;
  }).join(" ");
}

/** Below 10 000: 一千零五, 三百二十, 十二 (a leading 一十 is said 十). */
function zhBelowTenThousand(n: number, leading: boolean): string {
  const units = ["", "十", "百", "千"];
  const digits = String(n).padStart(4, "0").split("").map(Number);
  let text = "";
  let zero = false;
  digits.forEach((d, i) => {
    const place = 3 - i;
    if (d === 0) {
      zero = text !== "";
      return;
    }
    if (zero) text += "零";
    zero = false;
    text += d === 1 && place === 1 && text === "" && leading ? "十" : `${ZH_DIGITS[d] ?? ""}${units[place] ?? ""}`;
  });
  return text;
}

/** A whole number in Chinese: 12 → 十二, 1005 → 一千零五, 120000 → 十二万. */
export function zhInteger(digits: string): string {
  const value = BigInt(digits);
  if (value === 0n) return "零";
  const groups: number[] = [];
  for (let rest = value; rest > 0n; rest /= 10_000n) groups.push(Number(rest % 10_000n));
  const names = ["", "万", "亿", "万亿"];
  let text = "";
  let needZero = false;
  for (let i = groups.length - 1; i >= 0; i -= 1) {
    const group = groups[i] ?? 0;
    if (group === 0) {
      needZero = text !== "";
      continue;
    }
    if (text !== "" && (needZero || group < 1000)) text += "零";
    needZero = false;
    text += zhBelowTenThousand(group, text === "") + (names[i] ?? "");
  }
  return text;
}

/** A decimal as spoken in `lang`: zh 十二点五, 零下三; en keeps the numerals, which every voice reads. */
export function spokenNumber(value: string | number, lang: Lang): string {
  const written = typeof value === "number" ? String(value) : value.trim();
  const match = /^([+-])?(\d+)(?:\.(\d+))?$/.exec(written);
  if (match === null) return written;
  const negative = match[1] === "-" && /[1-9]/.test(`${match[2] ?? ""}${match[3] ?? ""}`);
  const whole = match[2] ?? "0";
  const fraction = match[3];
  if (lang === "en")
    return `${negative ? "minus " : ""}${String(BigInt(whole))}${fraction === undefined ? "" : `.${fraction}`}`;
  const decimals = fraction === undefined ? "" : `点${Array.from(fraction, (d) => ZH_DIGITS[Number(d)] ?? d).join("")}`;
  return `${negative ? "负" : ""}${zhInteger(whole)}${decimals}`;
}

function spokenPart(part: Spoken, lang: Lang): string {
  const index = lang === "zh" ? 0 : 1;
  if ("code" in part) return spokenCode(part.code, lang);
  if ("text" in part) return part.text.trim();
  if ("celsius" in part) {
    const number = spokenNumber(part.celsius, lang);
    if (lang === "en") return `${number} degrees Celsius`;
    // 零下三摄氏度 is how a temperature below zero is said; 负 is for arithmetic.
    return number.startsWith("负") ? `零下${number.slice(1)}摄氏度` : `${number}摄氏度`;
  }
  const number = spokenNumber(part.quantity, lang);
  if (part.unit === undefined) return number;
  const unit = UNIT_WORDS[part.unit]?.[index] ?? part.unit;
  return lang === "zh" ? `${number}${unit}` : `${number} ${unit}`;
}

/** The utterance for a list of parts, in the page's language (zh parts joined with "，"). */
export function utteranceText(parts: readonly Spoken[], lang: Lang): string {
  return parts
    .map((part) => spokenPart(part, lang))
    .filter((text) => text !== "")
    .join(lang === "zh" ? "，" : ", ");
}

/** The voice's language tag for `lang`. */
export function speechLang(lang: Lang): string {
  return lang === "zh" ? "zh-CN" : "en-GB";
}
