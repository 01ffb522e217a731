/**
 * The frame both consoles draw their views in: a top bar (who is signed in, the language
 * switch, sign out, and the offline badge where it matters) and a row of tabs; and the
 * render hook a console's modules call to redraw without importing its entry module.
 */
import { COMMON, pick, type Lang } from "./text.ts";
import { h } from "./ui.ts";

export interface TopBarOptions {
  title: string;
  lang: Lang;
  /** Shown while the browser reports no connection. */
  showOffline: boolean;
  onSwitchLang: () => void;
  /** Absent before sign-in. */
  onSignOut?: () => void;
}

let stackingTables = false;

/**
 * On a phone a wide table's last columns (where a row's actions are) sit beyond a sideways
 * scroll nobody sees; `.stack-on-phone` tables are drawn as one card per row there (CSS), each
 * cell labelled with its column's heading. The labels are set here, once for every table any
 * view draws, so no view has to remember to.
 */
function labelCells(table: HTMLTableElement): void {
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.replace(/[▲▼]/g, "").trim());
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.children].forEach((cell, column) => {
      const label = headings[column];
      if (label !== undefined && label !== "") cell.setAttribute("data-label", label);
    });
  }
}

/** The stacked tables a newly drawn node is part of or holds. */
function stackedTablesOf(node: Element): HTMLTableElement[] {
  const enclosing = node.closest<HTMLTableElement>(".stack-on-phone table");
  return enclosing === null ? [...node.querySelectorAll<HTMLTableElement>(".stack-on-phone table")] : [enclosing];
}

function stackTablesOnPhone(): void {
  if (stackingTables) return;
  stackingTables = true;
  for (const table of stackedTablesOf(document.documentElement)) labelCells(table);
  // Only what a redraw adds is labelled, each table once per redraw, not the whole page again.
  new MutationObserver((mutations) => {
    const drawn = new Set<HTMLTableElement>();
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node instanceof Element) for (const table of stackedTablesOf(node)) drawn.add(table);
      }
    }
    for (const table of drawn) labelCells(table);
  }).observe(document.body, { childList: true, subtree: true });
}

export function topBar(options: TopBarOptions): HTMLElement {
  stackTablesOnPhone();
  const switcher = h(
    "button",
    { type: "button", class: "link", "data-action": "lang" },
    pick(COMMON.switchTo, options.lang),
  );
  switcher.addEventListener("click", options.onSwitchLang);
  const right = h("div", { class: "top-actions" });
  if (options.showOffline && !navigator.onLine) {
    right.append(
      h("span", { class: "badge badge-warn", "data-testid": "offline" }, pick(COMMON.offline, options.lang)),
    );
  }
  right.append(switcher);
  if (options.onSignOut !== undefined) {
    const out = h("button", { type: "button", class: "link" }, pick(COMMON.signOut, options.lang));
    out.addEventListener("click", options.onSignOut);
    right.append(out);
  }
  return h("header", { class: "top" }, h("span", { class: "brand" }, options.title), right);
}

export function tabBar<V extends string>(
  current: V,
  tabs: readonly (readonly [V, string])[],
  onSelect: (view: V) => void,
): HTMLElement {
  return h(
    "nav",
    { class: "tabs", role: "tablist" },
    ...tabs.map(([view, label]) => {
      const button = h("button", { type: "button", role: "tab", "aria-selected": String(view === current) }, label);
      button.addEventListener("click", () => {
        onSelect(view);
      });
      return button;
    }),
  );
}

/** Sets the page's language and title for the console in use. */
export function documentFor(lang: Lang, title: string): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${title} · 一物一码`;
}

/** A console's redraw, registered by its entry module; the other modules call `render`. */
export function renderHook(): { register: (draw: () => void) => void; render: () => void } {
  let draw: () => void = () => undefined;
  return {
    register: (next) => {
      draw = next;
    },
    render: () => {
      draw();
    },
  };
}
