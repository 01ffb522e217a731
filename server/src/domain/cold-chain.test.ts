import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { analyseTemperatures, findExcursions, type TemperatureRange } from "./cold-chain.ts";
import { isAppError } from "../errors/app-error.ts";

/** Leafy greens: 0–5 °C, 30 minutes' tolerance. */
const GREENS: TemperatureRange = { minCelsius: 0, maxCelsius: 5, toleranceSeconds: 1800 };
const MINUTE = 60;

/** Readings every `step` seconds from 0. */
function every(step: number, values: number[]): Array<{ at: number; celsius: number }> {
  return values.map((celsius, i) => ({ at: i * step, celsius }));
}

void describe("cold-chain excursions", () => {
  void it("finds none in a series that stays in range, bounds included", () => {
    assert.deepEqual(findExcursions(every(10 * MINUTE, [0, 2.5, 5, 4.9, 0.1]), GREENS), []);
  });

  void it("reports a warm spell longer than the tolerance, with its worst value", () => {
    // Out of range from minute 20 to minute 70, when a reading is back in range: 50 minutes.
    const series = every(10 * MINUTE, [3, 4, 6, 8.5, 7, 6, 5.5, 4, 3]);
    assert.deepEqual(findExcursions(series, GREENS), [
      {
        kind: "too_warm",
        start: 20 * MINUTE,
        end: 70 * MINUTE,
        durationSeconds: 50 * MINUTE,
        worstCelsius: 8.5,
        readings: 5,
        endsAtGap: false,
      },
    ]);
  });

  void it("ignores a short spike within the tolerance and counts exactly-at-tolerance as not longer", () => {
    assert.deepEqual(findExcursions(every(10 * MINUTE, [3, 7, 3]), GREENS), []);
    assert.deepEqual(findExcursions(every(10 * MINUTE, [3, 7, 7, 7, 3]), GREENS), []); // 30 minutes exactly
    assert.equal(findExcursions(every(10 * MINUTE, [3, 7, 7, 7, 7, 3]), GREENS).length, 1); // 40 minutes
  });

  void it("reports too-cold spells, and splits a swing from warm to cold into two", () => {
    const series = every(20 * MINUTE, [2, -1, -3, -2, 9, 11, 10, 2]);
    assert.deepEqual(
      findExcursions(series, GREENS).map(({ kind, start, end, worstCelsius }) => ({ kind, start, end, worstCelsius })),
      [
        { kind: "too_cold", start: 20 * MINUTE, end: 80 * MINUTE, worstCelsius: -3 },
        { kind: "too_warm", start: 80 * MINUTE, end: 140 * MINUTE, worstCelsius: 11 },
      ],
    );
  });

  void it("sorts unsorted readings first", () => {
    const series = every(10 * MINUTE, [3, 4, 6, 8.5, 7, 6, 5.5, 4, 3]);
    const shuffled = [
      series[4],
      series[0],
      series[8],
      series[2],
      series[6],
      series[1],
      series[7],
      series[3],
      series[5],
    ].filter((reading) => reading !== undefined);
    assert.deepEqual(findExcursions(shuffled, GREENS), findExcursions(series, GREENS));
  });

  void it("does not extrapolate across a gap, and reports the gap", () => {
    const series = [
      { at: 0, celsius: 3 },
      { at: 10 * MINUTE, celsius: 9 },
      { at: 50 * MINUTE, celsius: 9 },
      // The logger was off for five hours.
      { at: 350 * MINUTE, celsius: 3 },
    ];
    const report = analyseTemperatures(series, { ...GREENS, maxGapSeconds: 60 * MINUTE });
    assert.deepEqual(report.gaps, [{ start: 50 * MINUTE, end: 350 * MINUTE, durationSeconds: 300 * MINUTE }]);
    assert.deepEqual(report.excursions, [
      {
        kind: "too_warm",
        start: 10 * MINUTE,
        end: 50 * MINUTE,
        durationSeconds: 40 * MINUTE,
        worstCelsius: 9,
        readings: 2,
        endsAtGap: true,
      },
    ]);
    // Without a gap limit the reading holds until the next one: 340 minutes.
    assert.equal(findExcursions(series, GREENS)[0]?.durationSeconds, 340 * MINUTE);
  });

  void it("handles empty series, single points and a series that ends out of range", () => {
    assert.deepEqual(analyseTemperatures([], GREENS), { excursions: [], gaps: [] });
    assert.deepEqual(findExcursions([{ at: 100, celsius: 12 }], GREENS), []);
    assert.deepEqual(findExcursions([{ at: 100, celsius: 12 }], { ...GREENS, toleranceSeconds: 0 }), [
      { kind: "too_warm", start: 100, end: 100, durationSeconds: 0, worstCelsius: 12, readings: 1, endsAtGap: true },
    ]);
    const endsWarm = every(30 * MINUTE, [3, 8, 9, 10]);
    assert.deepEqual(findExcursions(endsWarm, GREENS), [
      {
        kind: "too_warm",
        start: 30 * MINUTE,
        end: 90 * MINUTE,
        durationSeconds: 60 * MINUTE,
        worstCelsius: 10,
        readings: 3,
        endsAtGap: true,
      },
    ]);
  });

  void it("refuses an inverted range, negative tolerance and non-numeric readings", () => {
    const refuses = (fn: () => unknown, code: "cold_chain.range" | "cold_chain.reading"): void => {
      assert.throws(fn, (error) => isAppError(error, code));
    };
    refuses(() => findExcursions([], { minCelsius: 5, maxCelsius: 0, toleranceSeconds: 0 }), "cold_chain.range");
    refuses(() => findExcursions([], { ...GREENS, toleranceSeconds: -1 }), "cold_chain.range");
    refuses(() => findExcursions([], { ...GREENS, maxCelsius: Number.NaN }), "cold_chain.range");
    refuses(() => findExcursions([], { ...GREENS, maxGapSeconds: 0 }), "cold_chain.range");
    refuses(() => findExcursions([{ at: 0, celsius: Number.NaN }], GREENS), "cold_chain.reading");
    refuses(() => findExcursions([{ at: Number.POSITIVE_INFINITY, celsius: 3 }], GREENS), "cold_chain.reading");
  });

  void it("only ever reports counted excursions made of out-of-range readings, in time order", () => {
    const reading = fc.record({
      at: fc.integer({ min: 0, max: 100_000 }),
      celsius: fc.double({ min: -20, max: 30, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(reading, { maxLength: 60 }),
        fc.integer({ min: 0, max: 5000 }),
        (series, toleranceSeconds) => {
          const range = { ...GREENS, toleranceSeconds };
          const excursions = findExcursions(series, range);
          let previousEnd = Number.NEGATIVE_INFINITY;
          for (const excursion of excursions) {
            assert.ok(excursion.durationSeconds > toleranceSeconds || toleranceSeconds === 0);
            assert.equal(excursion.durationSeconds, excursion.end - excursion.start);
            assert.ok(excursion.start >= previousEnd);
            previousEnd = excursion.end;
            if (excursion.kind === "too_warm") assert.ok(excursion.worstCelsius > range.maxCelsius);
            else assert.ok(excursion.worstCelsius < range.minCelsius);
            assert.ok(excursion.readings >= 1);
            assert.ok(
              series.some(
                (r) => r.celsius === excursion.worstCelsius && r.at >= excursion.start && r.at <= excursion.end,
              ),
            );
          }
          if (series.every((r) => r.celsius >= range.minCelsius && r.celsius <= range.maxCelsius))
            assert.deepEqual(excursions, []);
        },
      ),
      { numRuns: 300 },
    );
  });
});
