/**
 * Yield ceilings for mass-balance checks: the most a hectare can plausibly give in one
 * season, per product category, in kilograms of the harvested product.
 *
 * How each ceiling is set: the high end of reported yields for good Chinese farms, times
 * 1.5, so only claims no real plot could meet are flagged, never a good harvest. Sources
 * are national averages and agronomy references (named per row); the multiplier is ours.
 * Where a category is missing, no mass-balance finding is made (the audit says the rule
 * could not run), rather than guessing.
 */
export interface YieldCeiling {
  category: string;
  /** kg of harvested product per hectare per season. */
  maxKgPerHa: number;
  /** Seasons (harvests) a plot gives in a year, for the per-year checks of a plot and of a cooperative's land. */
  seasonsPerYear: number;
  source: string;
}

export const YIELD_CEILINGS: readonly YieldCeiling[] = [
  {
    category: "tea",
    // Fresh leaf: China averages about 1,900 kg/ha of made tea (≈ 8,000 kg/ha fresh leaf,
    // 4:1); intensive plantations reach about 12,000 kg/ha fresh leaf a year over 3–4 flushes.
    // Per flush high end ≈ 4,000 kg/ha fresh leaf; × 1.5.
    maxKgPerHa: 6_000,
    seasonsPerYear: 4,
    source: "National Bureau of Statistics, China Statistical Yearbook 2023 (tea output / area); FAO tea profile",
  },
  {
    category: "rice",
    // Paddy: China's average about 7,100 kg/ha; super-rice trials above 12,000; × 1.5 of 12,000.
    maxKgPerHa: 18_000,
    seasonsPerYear: 2,
    source: "NBS China Statistical Yearbook 2023 (grain yields); Yuan Longping super-rice trials",
  },
  {
    category: "apple",
    // Good orchards 45,000–60,000 kg/ha; × 1.5 of 60,000.
    maxKgPerHa: 90_000,
    seasonsPerYear: 1,
    source: "China Agriculture Yearbook (fruit); Shaanxi/Shandong orchard surveys",
  },
  {
    category: "citrus",
    maxKgPerHa: 75_000,
    seasonsPerYear: 1,
    source: "China Agriculture Yearbook (citrus, high-yield orchards ≈ 50,000 kg/ha) × 1.5",
  },
  {
    category: "kiwifruit",
    maxKgPerHa: 52_500,
    seasonsPerYear: 1,
    source: "Shaanxi Zhouzhi kiwifruit surveys (≈ 35,000 kg/ha high end) × 1.5",
  },
  {
    category: "vegetables",
    maxKgPerHa: 120_000,
    seasonsPerYear: 3,
    source: "FAO vegetable yields for protected cultivation (≈ 80,000 kg/ha high end) × 1.5",
  },
];

export function yieldCeiling(category: string): YieldCeiling | null {
  return YIELD_CEILINGS.find((c) => c.category === category.toLowerCase()) ?? null;
}
