/**
 * China Standard Time, the one clock the platform's dates are read in: China has a single
 * time zone, UTC+8, with no daylight saving since 1991, so fixed-offset arithmetic is exact
 * and no time-zone database is needed (this module also runs in the scan page and the
 * consoles).
 */

/** The offset as ISO 8601 writes it. */
export const CHINA_OFFSET = "+08:00";
export const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD`: the calendar day in China of an instant (milliseconds since the epoch). */
export function chinaDate(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** `2026-04-01T09:30:00.000+08:00`: an instant written in China's local time, so it sorts and reads as local. */
export function chinaIsoTime(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().replace(/Z$/, CHINA_OFFSET);
}

/** The instant a China calendar day (`YYYY-MM-DD`) begins; NaN for a string that is not a date. */
export function chinaDayStartMs(date: string): number {
  return Date.parse(`${date}T00:00:00${CHINA_OFFSET}`);
}

/** The instant the China calendar day after `date` begins: the exclusive end of `date`. */
export function chinaNextDayStartMs(date: string): number {
  return chinaDayStartMs(date) + DAY_MS;
}

/** The last millisecond of a China calendar day: "valid through" that whole day. */
export function chinaDayLastMs(date: string): number {
  return Date.parse(`${date}T23:59:59.999${CHINA_OFFSET}`);
}
