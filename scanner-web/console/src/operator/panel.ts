/**
 * A panel's read of one admin endpoint: fetched when the panel is first shown and on
 * "Refresh", kept between renders, its failure shown in the server's own words.
 */
import { chinaMinute, failureText, h } from "../shared/ui.ts";
import { render, state, type Loaded } from "./state.ts";
import { t } from "./text.ts";

export interface PanelData<T> {
  current: () => Loaded<T>;
  load: () => Promise<void>;
  /** Forgets the answer (after signing out). */
  reset: () => void;
}

export function panelData<T>(path: string): PanelData<T> {
  let loaded: Loaded<T> = { value: null, error: null, loading: false };
  return {
    current: () => loaded,
    async load() {
      const api = state.api;
      if (api === null) return;
      loaded = { ...loaded, loading: true };
      try {
        loaded = { value: await api.get<T>(path), error: null, loading: false };
      } catch (error) {
        loaded = { value: loaded.value, error: failureText(error, state.lang), loading: false };
      }
      render();
    },
    reset() {
      loaded = { value: null, error: null, loading: false };
    },
  };
}

/** The panel's frame: title, a refresh button, the failure if any, then what `body` draws of the answer. */
export function panelFrame<T>(
  testId: string,
  title: string,
  data: PanelData<T>,
  body: (value: T) => (HTMLElement | null)[],
): HTMLElement {
  const loaded = data.current();
  if (loaded.value === null && loaded.error === null && !loaded.loading) void data.load();
  const refresh = h("button", { type: "button", "data-action": "refresh" }, t("refresh"));
  refresh.addEventListener("click", () => void data.load());
  return h(
    "section",
    { "data-testid": testId, "data-loaded": String(loaded.value !== null) },
    h("div", { class: "card panel-head" }, h("h1", {}, title), refresh),
    loaded.error === null ? null : h("p", { class: "flash flash-error", role: "alert" }, loaded.error),
    ...(loaded.value === null ? [h("p", { role: "status" }, "…")] : body(loaded.value)),
  );
}

/** Wei as the chain's coin with up to six decimals: "1.234567". */
export function coin(wei: string): string {
  const value = BigInt(wei);
  const unit = 10n ** 18n;
  const whole = value / unit;
  const fraction = (value % unit).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole.toString()}.${fraction}`;
}

/** A whole number with thousands separators, from a decimal string of any size. */
export function grouped(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "2 h 05 min" / "2 小时 5 分钟" for a number of seconds. */
export function duration(seconds: number): string {
  const zh = state.lang === "zh";
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  if (days > 0) return zh ? `${String(days)} 天 ${String(hours)} 小时` : `${String(days)} d ${String(hours)} h`;
  if (hours > 0)
    return zh ? `${String(hours)} 小时 ${String(minutes)} 分钟` : `${String(hours)} h ${String(minutes)} min`;
  if (minutes > 0) return zh ? `${String(minutes)} 分钟` : `${String(minutes)} min`;
  return zh ? `${String(seconds)} 秒` : `${String(seconds)} s`;
}

/** A time as the console shows it: minutes, China time, said so. */
export function when(iso: string): string {
  return `${chinaMinute(iso)} ${t("chinaTime")}`;
}

/** A two-column table of label and value, for a panel's few figures. */
export function factsTable(testId: string, rows: [string, HTMLElement | string][]): HTMLElement {
  return h(
    "table",
    { class: "facts-table", "data-testid": testId },
    h("tbody", {}, ...rows.map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, value)))),
  );
}
