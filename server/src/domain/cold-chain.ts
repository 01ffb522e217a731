/**
 * Cold-chain excursions in a temperature series, for the regulator's anomaly view and
 * the inspection of shipping events.
 *
 * A reading's value is taken to hold until the next reading, as loggers report samples:
 * an excursion starts at the first out-of-range reading and ends at the next reading that
 * is back in range (or out on the other side). Where the next reading comes only after a
 * gap longer than `maxGapSeconds`, nothing is assumed about the gap: the excursion ends at
 * its last out-of-range reading, is marked `endsAtGap`, and the gap is reported too.
 * An excursion counts when it lasts longer than `toleranceSeconds`; with a tolerance of
 * zero, any out-of-range reading counts, even a lone one.
 */
import {
  analyseValidSeries,
  type ColdChainReport,
  type Excursion,
  type TemperatureRange,
  type TemperatureReading,
} from "./cold-chain-series.ts";
import { AppError } from "../errors/app-error.ts";

export type {
  ColdChainReport,
  Excursion,
  ExcursionKind,
  TemperatureGap,
  TemperatureRange,
  TemperatureReading,
} from "./cold-chain-series.ts";

function validateRange(range: TemperatureRange): void {
  const { minCelsius, maxCelsius, toleranceSeconds, maxGapSeconds } = range;
  const finite = Number.isFinite(minCelsius) && Number.isFinite(maxCelsius) && Number.isFinite(toleranceSeconds);
  const gapValid = maxGapSeconds === undefined || (Number.isFinite(maxGapSeconds) && maxGapSeconds > 0);
  if (!finite || minCelsius > maxCelsius || toleranceSeconds < 0 || !gapValid) {
    throw new AppError("cold_chain.range", { minCelsius, maxCelsius, toleranceSeconds, maxGapSeconds });
  }
}

/** Excursions and gaps of `series` (any order) against `range`. Throws `cold_chain.range` / `cold_chain.reading`. */
export function analyseTemperatures(series: readonly TemperatureReading[], range: TemperatureRange): ColdChainReport {
  validateRange(range);
  series.forEach((reading, index) => {
    if (!Number.isFinite(reading.at) || !Number.isFinite(reading.celsius)) {
      throw new AppError("cold_chain.reading", { index, at: reading.at, celsius: reading.celsius });
    }
  });
  return analyseValidSeries(series, range);
}

/** Just the excursions that count. */
export function findExcursions(series: readonly TemperatureReading[], range: TemperatureRange): Excursion[] {
  return analyseTemperatures(series, range).excursions;
}
