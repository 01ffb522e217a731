import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  CHINA_OFFSET_MS,
  chinaDate,
  chinaDayLastMs,
  chinaDayStartMs,
  chinaIsoTime,
  chinaNextDayStartMs,
} from "./china-time.ts";

describe("China time", () => {
  it("dates an instant by China's calendar, which turns over at 16:00 UTC", () => {
    assert.equal(chinaDate(Date.UTC(2026, 3, 1, 15, 59, 59, 999)), "2026-04-01");
    assert.equal(chinaDate(Date.UTC(2026, 3, 1, 16, 0)), "2026-04-02");
    assert.equal(chinaDate(Date.UTC(2025, 11, 31, 16, 0)), "2026-01-01");
  });

  it("writes an instant in local time with its offset, and reads back as the same instant", () => {
    const ms = Date.UTC(2026, 3, 1, 20, 15);
    assert.equal(chinaIsoTime(ms), "2026-04-02T04:15:00.000+08:00");
    assert.equal(Date.parse(chinaIsoTime(ms)), ms);
  });

  it("bounds a calendar day: its first instant, the next day's first, its last millisecond", () => {
    assert.equal(chinaDayStartMs("2026-04-02"), Date.UTC(2026, 3, 1, 16, 0));
    assert.equal(chinaNextDayStartMs("2026-04-02"), Date.UTC(2026, 3, 2, 16, 0));
    assert.equal(chinaDayLastMs("2026-04-02"), Date.UTC(2026, 3, 2, 15, 59, 59, 999));
    assert.ok(Number.isNaN(chinaDayStartMs("2026-13-01")));
  });

  it("agrees with the time-zone database's Asia/Shanghai, date and wall clock, over a year of instants", () => {
    const format = new Intl.DateTimeFormat("sv-SE", {
      timeZone: "Asia/Shanghai",
      dateStyle: "short",
      timeStyle: "medium",
      hourCycle: "h23",
    });
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 7 * 3_600_000 + 13 * 60_000 + 7_001) {
      const local = format.format(ms);
      assert.equal(chinaDate(ms), local.slice(0, 10), new Date(ms).toISOString());
      assert.equal(chinaIsoTime(ms).slice(0, 19).replace("T", " "), local, new Date(ms).toISOString());
    }
    assert.equal(CHINA_OFFSET_MS, 8 * 3_600_000);
  });
});
