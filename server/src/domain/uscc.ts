/**
 * China's unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters,
 * 1 registration authority, 2 organisation category, 3–8 the registering region
 * (GB/T 2260), 9–17 the organisation's body code (GB 11714), 18 a check character.
 *
 * The alphabet is the digits and the capital letters other than I, O, Z, S and V (31
 * characters, valued 0–30 in this order). With weights Wᵢ = 3^(i−1) mod 31, the check
 * character is the one valued (31 − (Σ_{i=1}^{17} value(cᵢ) × Wᵢ) mod 31) mod 31.
 *
 * A farmer cooperative registered with market regulation (农民专业合作社) has the prefix 93.
 */
import { AppError } from "../errors/app-error.ts";

export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
export const USCC_LENGTH = 18;

/** 3^(i−1) mod 31 for positions 1–17. */
const WEIGHTS = Array.from({ length: USCC_LENGTH - 1 }, (_, i) => {
  let weight = 1;
  for (let k = 0; k < i; k++) weight = (weight * 3) % 31;
  return weight;
});

/** The check character of the first 17 characters (which must be in the alphabet). */
export function usccCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < USCC_LENGTH - 1; i++) {
    const value = USCC_ALPHABET.indexOf(first17.charAt(i));
    if (value < 0) throw new AppError("uscc.charset", { position: i + 1, character: first17.charAt(i) });
    sum += value * (WEIGHTS[i] ?? 0);
  }
  return USCC_ALPHABET.charAt((31 - (sum % 31)) % 31);
}

export interface UsccParts {
  code: string;
  /** Position 1: who registered the organisation. */
  registrationAuthority: string;
  /** Position 2: the kind of organisation within that authority. */
  category: string;
  /** Positions 3–8: the GB/T 2260 code of the registering administration. */
  regionCode: string;
  /** Positions 9–17: the organisation body code. */
  organisationCode: string;
  /** Prefix 93: a farmer specialised cooperative. */
  isFarmerCooperative: boolean;
  /** Names of the authority and category where GB 32100 gives them, else undefined. */
  authorityName: { zh: string; en: string } | undefined;
  categoryName: { zh: string; en: string } | undefined;
}

const AUTHORITIES: Record<string, { zh: string; en: string }> = {
  "1": { zh: "机构编制", en: "institutional establishment" },
  "5": { zh: "民政", en: "civil affairs" },
  "9": { zh: "市场监督管理（原工商）", en: "market regulation (formerly industry and commerce)" },
  N: { zh: "农业农村", en: "agriculture and rural affairs" },
  Y: { zh: "其他", en: "other" },
};

const CATEGORIES: Record<string, { zh: string; en: string }> = {
  "11": { zh: "机关", en: "government body" },
  "12": { zh: "事业单位", en: "public institution" },
  "51": { zh: "社会团体", en: "social organisation" },
  "52": { zh: "民办非企业单位", en: "private non-enterprise unit" },
  "53": { zh: "基金会", en: "foundation" },
  "91": { zh: "企业", en: "enterprise" },
  "92": { zh: "个体工商户", en: "individual business" },
  "93": { zh: "农民专业合作社", en: "farmer specialised cooperative" },
};

/**
 * Validates a unified social credit code (upper case, no spaces; normalise input
 * before) and returns its parts. Throws `uscc.length`, `uscc.charset`,
 * `uscc.region_format` or `uscc.check_character`.
 */
export function parseUscc(code: string): UsccParts {
  if (code.length !== USCC_LENGTH) throw new AppError("uscc.length", { length: code.length });
  for (let i = 0; i < USCC_LENGTH; i++) {
    if (!USCC_ALPHABET.includes(code.charAt(i))) {
      throw new AppError("uscc.charset", { position: i + 1, character: code.charAt(i) });
    }
  }
  const regionCode = code.slice(2, 8);
  if (!/^[0-9]{6}$/.test(regionCode)) throw new AppError("uscc.region_format", { regionCode });
  const expected = usccCheckCharacter(code.slice(0, USCC_LENGTH - 1));
  const actual = code.charAt(USCC_LENGTH - 1);
  if (expected !== actual) throw new AppError("uscc.check_character", { expected, actual });
  return {
    code,
    registrationAuthority: code.charAt(0),
    category: code.charAt(1),
    regionCode,
    organisationCode: code.slice(8, 17),
    isFarmerCooperative: code.startsWith("93"),
    authorityName: AUTHORITIES[code.charAt(0)],
    categoryName: CATEGORIES[code.slice(0, 2)],
  };
}

export function isValidUscc(code: string): boolean {
  try {
    parseUscc(code);
    return true;
  } catch {
    return false;
  }
}

/** A code as typed: trimmed, inner spaces removed, upper-cased. Validate the result with `parseUscc`. */
export function normalizeUsccInput(input: string): string {
  return input.replace(/\s/g, "").toUpperCase();
}
