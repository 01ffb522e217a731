/**
 * What a phone sees of the scan page, measured in Chromium the way Lighthouse does: the
 * bytes the network log says were transferred, layout shifts (a `PerformanceObserver` on
 * `layout-shift` installed before the page's own script), and the size of every tap target.
 * The bench prints these; the e2e test asserts the deterministic ones.
 */
import type { CDPSession, Page } from "playwright-core";

export interface TransferLog {
  /** Sum of `encodedDataLength` over finished requests: bytes on the wire, headers included. */
  bytes: () => number;
  /** Per URL path, for reports and to find which request grew. */
  byPath: () => Map<string, number>;
  /** Paths answered 404 (a missing favicon, say). */
  notFound: () => string[];
  /** Each request's path, start and end in ms from the first request, and bytes: where the time goes. */
  timeline: () => { path: string; startMs: number; endMs: number; bytes: number }[];
}

/** Starts recording transfers on `cdp` (Network must be enabled on it). */
export function recordTransfers(cdp: CDPSession): TransferLog {
  const urls = new Map<string, string>();
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  const done = new Map<string, number>();
  const missing: string[] = [];
  cdp.on("Network.requestWillBeSent", (event) => {
    urls.set(event.requestId, event.request.url);
    if (!started.has(event.requestId)) started.set(event.requestId, event.timestamp);
  });
  cdp.on("Network.responseReceived", (event) => {
    if (event.response.status === 404) missing.push(new URL(event.response.url).pathname);
  });
  cdp.on("Network.loadingFinished", (event) => {
    done.set(event.requestId, (done.get(event.requestId) ?? 0) + event.encodedDataLength);
    ended.set(event.requestId, event.timestamp);
  });
  return {
    bytes: () => [...done.values()].reduce((sum, n) => sum + n, 0),
    byPath: () => {
      const paths = new Map<string, number>();
      for (const [id, n] of done) {
        const url = urls.get(id);
        const key = url === undefined ? id : new URL(url).pathname;
        paths.set(key, (paths.get(key) ?? 0) + n);
      }
      return paths;
    },
    notFound: () => [...missing],
    timeline: () => {
      const origin = Math.min(...started.values());
      return [...started]
        .map(([id, start]) => ({
          path: new URL(urls.get(id) ?? "http://unknown/").pathname,
          startMs: Math.round((start - origin) * 1000),
          endMs: Math.round(((ended.get(id) ?? Number.NaN) - origin) * 1000),
          bytes: done.get(id) ?? 0,
        }))
        .sort((a, b) => a.startMs - b.startMs);
    },
  };
}

/** Installs, before any page script, an observer that keeps every layout shift with its time. */
export async function observeLayoutShifts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const shifts: { value: number; startTime: number; hadRecentInput: boolean }[] = [];
    (window as unknown as { __layoutShifts: typeof shifts }).__layoutShifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const shift = entry as PerformanceEntry & { value: number; hadRecentInput: boolean };
        shifts.push({ value: shift.value, startTime: shift.startTime, hadRecentInput: shift.hadRecentInput });
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
}

/**
 * Installs, before any page script, a watch for the first element matching `selector`: its
 * time on the page's clock (from navigation start) is what `appearedAt` returns.
 */
export async function watchFor(page: Page, selector: string): Promise<void> {
  await page.addInitScript((wanted) => {
    const w = window as unknown as { __appeared?: number };
    new MutationObserver((_records, observer) => {
      if (w.__appeared === undefined && document.querySelector(wanted) !== null) {
        w.__appeared = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true, attributes: true });
  }, selector);
}

/** When the element `watchFor` waited for appeared, in ms from navigation start. */
export async function appearedAt(page: Page): Promise<number> {
  const at = await page.evaluate(() => (window as unknown as { __appeared?: number }).__appeared);
  if (at === undefined) throw new Error("the watched element never appeared");
  return at;
}

/** The page clock's "now": compare with `layoutShiftSince`. */
export function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** Cumulative layout shift (without input) after `sinceMs` on the page's clock. */
export function layoutShiftSince(page: Page, sinceMs: number): Promise<number> {
  return page.evaluate((since) => {
    const shifts = (
      window as unknown as { __layoutShifts?: { value: number; startTime: number; hadRecentInput: boolean }[] }
    ).__layoutShifts;
    return (shifts ?? []).filter((s) => s.startTime >= since && !s.hadRecentInput).reduce((sum, s) => sum + s.value, 0);
  }, sinceMs);
}

export interface TapTarget {
  what: string;
  width: number;
  height: number;
}

/** Every visible element a finger can tap, with its box (Lighthouse wants at least 48 × 48 px). */
export function tapTargets(page: Page): Promise<TapTarget[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea, summary, [role=button]")]
      .filter((element) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden")
      .map((element) => {
        const box = element.getBoundingClientRect();
        const label = element.textContent.trim().slice(0, 20) || element.id || element.className;
        return { what: `${element.tagName.toLowerCase()} ${label}`, width: box.width, height: box.height };
      }),
  );
}
