/**
 * GB/T 2260 administrative division codes (行政区划代码): six digits, two each for the
 * province-level division, the prefecture-level division within it and the county-level
 * division within that; "00" in a part means the code names the level above. 420000 is
 * Hubei province, 420100 the city of Wuhan, 420111 its Hongshan district.
 *
 * This checks the structure and the province part only: the full table (about 3,200
 * codes, renamed and renumbered every year) belongs in a data package, not here. The
 * public scan page shows a cooperative's region, never its plots' coordinates.
 */
import { AppError } from "../errors/app-error.ts";

export interface RegionName {
  zh: string;
  en: string;
}

/** The province-level divisions and their two-digit GB/T 2260 prefixes. */
export const PROVINCES: Readonly<Record<string, RegionName>> = {
  "11": { zh: "北京市", en: "Beijing" },
  "12": { zh: "天津市", en: "Tianjin" },
  "13": { zh: "河北省", en: "Hebei" },
  "14": { zh: "山西省", en: "Shanxi" },
  "15": { zh: "内蒙古自治区", en: "Inner Mongolia" },
  "21": { zh: "辽宁省", en: "Liaoning" },
  "22": { zh: "吉林省", en: "Jilin" },
  "23": { zh: "黑龙江省", en: "Heilongjiang" },
  "31": { zh: "上海市", en: "Shanghai" },
  "32": { zh: "江苏省", en: "Jiangsu" },
  "33": { zh: "浙江省", en: "Zhejiang" },
  "34": { zh: "安徽省", en: "Anhui" },
  "35": { zh: "福建省", en: "Fujian" },
  "36": { zh: "江西省", en: "Jiangxi" },
  "37": { zh: "山东省", en: "Shandong" },
  "41": { zh: "河南省", en: "Henan" },
  "42": { zh: "湖北省", en: "Hubei" },
  "43": { zh: "湖南省", en: "Hunan" },
  "44": { zh: "广东省", en: "Guangdong" },
  "45": { zh: "广西壮族自治区", en: "Guangxi" },
  "46": { zh: "海南省", en: "Hainan" },
  "50": { zh: "重庆市", en: "Chongqing" },
  "51": { zh: "四川省", en: "Sichuan" },
  "52": { zh: "贵州省", en: "Guizhou" },
  "53": { zh: "云南省", en: "Yunnan" },
  "54": { zh: "西藏自治区", en: "Xizang" },
  "61": { zh: "陕西省", en: "Shaanxi" },
  "62": { zh: "甘肃省", en: "Gansu" },
  "63": { zh: "青海省", en: "Qinghai" },
  "64": { zh: "宁夏回族自治区", en: "Ningxia" },
  "65": { zh: "新疆维吾尔自治区", en: "Xinjiang" },
  "71": { zh: "台湾省", en: "Taiwan" },
  "81": { zh: "香港特别行政区", en: "Hong Kong" },
  "82": { zh: "澳门特别行政区", en: "Macao" },
};

export type RegionLevel = "province" | "prefecture" | "county";

export interface RegionCode {
  /** The six digits. */
  code: string;
  level: RegionLevel;
  /** The province-level code, e.g. 420000. */
  provinceCode: string;
  /** The prefecture-level code, e.g. 420100; null when `code` names a province. */
  prefectureCode: string | null;
  /** The county-level code (`code` itself); null when `code` names a province or prefecture. */
  countyCode: string | null;
  province: RegionName;
}

/**
 * Validates a GB/T 2260 code (a string of six digits, or the ledger's integer) and splits
 * it into its levels. Throws `region.format`, `region.province` or `region.structure`.
 */
export function parseRegionCode(value: string | number): RegionCode {
  const code = typeof value === "number" ? (Number.isSafeInteger(value) ? String(value) : "") : value;
  if (!/^[0-9]{6}$/.test(code)) throw new AppError("region.format", { value: String(value) });
  const provincePart = code.slice(0, 2);
  const prefecturePart = code.slice(2, 4);
  const countyPart = code.slice(4, 6);
  const province = PROVINCES[provincePart];
  if (province === undefined) throw new AppError("region.province", { code, province: provincePart });
  if (prefecturePart === "00" && countyPart !== "00") throw new AppError("region.structure", { code });
  const provinceCode = `${provincePart}0000`;
  if (prefecturePart === "00") {
    return { code, level: "province", provinceCode, prefectureCode: null, countyCode: null, province };
  }
  const prefectureCode = `${provincePart}${prefecturePart}00`;
  if (countyPart === "00")
    return { code, level: "prefecture", provinceCode, prefectureCode, countyCode: null, province };
  return { code, level: "county", provinceCode, prefectureCode, countyCode: code, province };
}

export function isValidRegionCode(value: string | number): boolean {
  try {
    parseRegionCode(value);
    return true;
  } catch {
    return false;
  }
}

/** The code as the ledger's `uint32 regionCode` (GB/T 2260 codes never start with 0). */
export function regionCodeToUint32(value: string): number {
  return Number(parseRegionCode(value).code);
}

/**
 * The code a national regulator is onboarded with: not a GB/T 2260 division (the standard's
 * 100000 names the whole country only in some editions), but the empty jurisdiction prefix
 * it stands for reads naturally as "no digits fixed".
 */
export const NATIONAL_REGION_CODE = "000000";

/**
 * The GB/T 2260 prefix a regulator's region covers: its code without the trailing "00"
 * parts (330000 → "33", 330100 → "3301", 330106 → "330106"); the national code gives "".
 */
export function jurisdictionPrefix(regionCode: string): string {
  if (regionCode === NATIONAL_REGION_CODE) return "";
  const parsed = parseRegionCode(regionCode);
  switch (parsed.level) {
    case "province":
      return parsed.code.slice(0, 2);
    case "prefecture":
      return parsed.code.slice(0, 4);
    case "county":
      return parsed.code;
  }
}

/** Whether a division lies inside a jurisdiction prefix (a prefix of the division's code). */
export function withinJurisdiction(prefix: string, regionCode: string): boolean {
  return regionCode.startsWith(prefix);
}

/**
 * A search's region filter narrowed to a jurisdiction: the narrower of the two prefixes, or
 * null when they are disjoint (nothing is in both).
 */
export function narrowRegionPrefix(jurisdiction: string, requested: string | undefined): string | null {
  if (requested === undefined || jurisdiction.startsWith(requested)) return jurisdiction;
  if (requested.startsWith(jurisdiction)) return requested;
  return null;
}
