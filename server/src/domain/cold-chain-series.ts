/**
 * The excursion analysis itself, with no dependency beyond the language: the scan page's
 * verification core runs it in the browser on signed readings, and `cold-chain.ts` wraps it
 * with the validation (and typed errors) the server needs.
 *
 * A reading's value is taken to hold until the next reading, as loggers report samples:
 * an excursion starts at the first out-of-range reading and ends at the next reading that
 * is back in range (or out on the other side). Where the next reading comes only after a
 * gap longer than `maxGapSeconds`, nothing is assumed about the gap: the excursion ends at
 * its last out-of-range reading, is marked `endsAtGap`, and the gap is reported too.
 * An excursion counts when it lasts longer than `toleranceSeconds`; with a tolerance of
 * zero, any out-of-range reading counts, even a lone one.
 */
export interface TemperatureReading {
  /** Seconds since the Unix epoch. */
  at: number;
  celsius: number;
}

export interface TemperatureRange {
  minCelsius: number;
  maxCelsius: number;
  /** How long the product may be out of range before it counts, in seconds. */
  toleranceSeconds: number;
  /** Readings further apart than this are a gap in the record. Default: no gap is too long. */
  maxGapSeconds?: number;
}

export type ExcursionKind = "too_warm" | "too_cold";

export interface Excursion {
  kind: ExcursionKind;
  /** Time of the first out-of-range reading. */
  start: number;
  /** Time of the reading that ended it, or of its last reading at a gap or at the series' end. */
  end: number;
  durationSeconds: number;
  /** Highest reading of a too-warm excursion, lowest of a too-cold one. */
  worstCelsius: number;
  /** Number of out-of-range readings in it. */
  readings: number;
  /** True when the record stops (a gap or the series' end) while still out of range. */
  endsAtGap: boolean;
}

export interface TemperatureGap {
  /** Time of the last reading before the gap. */
  start: number;
  /** Time of the first reading after it. */
  end: number;
  durationSeconds: number;
}

export interface ColdChainReport {
  excursions: Excursion[];
  gaps: TemperatureGap[];
}

function kindOf(celsius: number, range: TemperatureRange): ExcursionKind | undefined {
  if (celsius > range.maxCelsius) return "too_warm";
  if (celsius < range.minCelsius) return "too_cold";
  return undefined;
}

interface OpenExcursion {
  kind: ExcursionKind;
  start: number;
  worstCelsius: number;
  readings: number;
  lastAt: number;
}

function close(open: OpenExcursion, end: number, endsAtGap: boolean, range: TemperatureRange, into: Excursion[]): void {
  const durationSeconds = end - open.start;
  if (durationSeconds > range.toleranceSeconds || range.toleranceSeconds === 0) {
    const { kind, start, worstCelsius, readings } = open;
    into.push({ kind, start, end, durationSeconds, worstCelsius, readings, endsAtGap });
  }
}

/** Excursions and gaps of `series` (any order) against a range already known to be valid, readings finite. */
export function analyseValidSeries(series: readonly TemperatureReading[], range: TemperatureRange): ColdChainReport {
  const sorted = [...series].sort((a, b) => a.at - b.at);
  const maxGap = range.maxGapSeconds ?? Number.POSITIVE_INFINITY;

  const excursions: Excursion[] = [];
  const gaps: TemperatureGap[] = [];
  let open: OpenExcursion | undefined;

  for (let i = 0; i < sorted.length; i++) {
    const reading = sorted[i];
    if (reading === undefined) continue;
    const previous = i > 0 ? sorted[i - 1] : undefined;
    if (previous !== undefined && reading.at - previous.at > maxGap) {
      gaps.push({ start: previous.at, end: reading.at, durationSeconds: reading.at - previous.at });
      if (open !== undefined) close(open, open.lastAt, true, range, excursions);
      open = undefined;
    }
    const kind = kindOf(reading.celsius, range);
    if (open !== undefined && kind !== open.kind) {
      close(open, reading.at, false, range, excursions);
      open = undefined;
    }
    if (kind === undefined) continue;
    if (open === undefined) {
      open = { kind, start: reading.at, worstCelsius: reading.celsius, readings: 0, lastAt: reading.at };
    }
    open.readings += 1;
    open.lastAt = reading.at;
    open.worstCelsius =
      kind === "too_warm" ? Math.max(open.worstCelsius, reading.celsius) : Math.min(open.worstCelsius, reading.celsius);
  }
  if (open !== undefined) close(open, open.lastAt, true, range, excursions);
  return { excursions, gaps };
}
