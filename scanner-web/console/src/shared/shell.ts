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

export function topBar(options: TopBarOptions): HTMLElement {
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
