/**
 * Checks a page as a thumb on a small phone meets it (issue 15, part 5): every visible thing a
 * finger can tap is at least 48 × 48 CSS px, body text is at least 16 px, and nothing pushes
 * the page wider than the screen. A checkbox, radio or file input wrapped in a label is judged
 * by its label, which is what the finger hits. Shared by the console tests; run a check after
 * the page has drawn what it shows.
 */
import type { Page } from "playwright-core";

export interface SmallTarget {
  /** A CSS path to the element, short enough to read in a failure message. */
  selector: string;
  width: number;
  height: number;
  /** The element's text (or its aria-label, name or type), first 40 characters. */
  text: string;
}

export interface SmallText {
  selector: string;
  fontSize: number;
  text: string;
}

/** The minimum side of a tap target, CSS px (WCAG 2.5.5, Lighthouse, Android's 48 dp). */
export const MIN_TARGET_PX = 48;

interface PageChecks {
  visible: (element: Element) => boolean;
  pathOf: (element: Element) => string;
}

/** Puts the helpers both checks use on the page (functions given to `evaluate` cannot share code). */
async function install(page: Page): Promise<void> {
  await page.evaluate(() => {
    const holder = globalThis as unknown as { __touchChecks?: PageChecks };
    if (holder.__touchChecks !== undefined) return;
    const visible = (element: Element): boolean => {
      if (element.getClientRects().length === 0) return false;
      const style = getComputedStyle(element);
      if (style.visibility === "hidden" || Number(style.opacity) === 0) return false;
      if (element.closest("[inert]") !== null) return false;
      // Chromium still gives boxes to the content of a closed <details>; only its summary shows.
      for (let d = element.closest("details"); d !== null; d = d.parentElement?.closest("details") ?? null) {
        if (d.open) continue;
        const summary = d.querySelector(":scope > summary");
        if (summary === null || !summary.contains(element)) return false;
      }
      return true;
    };
    const pathOf = (element: Element): string => {
      const parts: string[] = [];
      let current: Element | null = element;
      while (current !== null && current !== document.body && parts.length < 5) {
        const tag = current.tagName.toLowerCase();
        const id = current.getAttribute("id");
        const testId = current.getAttribute("data-testid");
        if (id !== null && id !== "") {
          parts.unshift(`${tag}#${id}`);
          break;
        }
        if (testId !== null) {
          parts.unshift(`${tag}[data-testid="${testId}"]`);
          break;
        }
        let part = tag;
        for (const attribute of ["data-action", "data-step", "name", "role"]) {
          const value = current.getAttribute(attribute);
          if (value !== null) {
            part += `[${attribute}="${value}"]`;
            break;
          }
        }
        const parent: Element | null = current.parentElement;
        if (parent !== null) {
          const same = [...parent.children].filter((child) => child.tagName === current?.tagName);
          if (same.length > 1) part += `:nth-of-type(${String(same.indexOf(current) + 1)})`;
        }
        parts.unshift(part);
        current = parent;
      }
      return parts.join(" > ");
    };
    holder.__touchChecks = { visible, pathOf };
  });
}

/** Every visible interactive element smaller than 48 × 48 CSS px (or `minimum`). */
export async function smallTapTargets(page: Page, minimum: number = MIN_TARGET_PX): Promise<SmallTarget[]> {
  await install(page);
  return page.evaluate((min) => {
    const { visible, pathOf } = (globalThis as unknown as { __touchChecks: PageChecks }).__touchChecks;
    const interactive = [
      "a[href]",
      "button",
      "input:not([type=hidden])",
      "select",
      "textarea",
      "summary",
      "[role=button]",
      "[role=tab]",
      "[role=link]",
      "[tabindex]:not([tabindex='-1'])",
    ].join(", ");
    const targets = new Set<Element>();
    for (const element of document.querySelectorAll(interactive)) {
      // What the finger hits for a checkbox, radio or file input wrapped in a label is the label.
      const label =
        element instanceof HTMLInputElement && ["checkbox", "radio", "file"].includes(element.type)
          ? element.closest("label")
          : null;
      const target = label ?? element;
      if (visible(target)) targets.add(target);
    }
    const small: SmallTarget[] = [];
    for (const target of targets) {
      const box = target.getBoundingClientRect();
      if (box.width >= min - 0.5 && box.height >= min - 0.5) continue;
      const named =
        [target.textContent.trim(), ...["aria-label", "name", "type"].map((a) => target.getAttribute(a) ?? "")].find(
          (value) => value !== "",
        ) ?? "";
      small.push({
        selector: pathOf(target),
        width: Math.round(box.width * 10) / 10,
        height: Math.round(box.height * 10) / 10,
        text: named.replace(/\s+/g, " ").slice(0, 40),
      });
    }
    return small;
  }, minimum);
}

/** How many CSS px the page reaches beyond the viewport's width (0 when it fits). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const viewport = document.documentElement.clientWidth;
    const widest = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    return Math.max(0, widest - viewport);
  });
}

/** Visible text set smaller than `minimum` px: each element with text of its own, by its computed size. */
export async function smallText(page: Page, minimum = 16): Promise<SmallText[]> {
  await install(page);
  return page.evaluate((min) => {
    const { visible, pathOf } = (globalThis as unknown as { __touchChecks: PageChecks }).__touchChecks;
    const found: SmallText[] = [];
    for (const element of document.body.querySelectorAll("*")) {
      if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(element.tagName)) continue;
      const own = [...element.childNodes]
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? "")
        .join("")
        .trim();
      if (own === "" || !visible(element)) continue;
      const size = Number.parseFloat(getComputedStyle(element).fontSize);
      if (size + 0.01 >= min) continue;
      found.push({ selector: pathOf(element), fontSize: size, text: own.slice(0, 40) });
    }
    return found;
  }, minimum);
}

export interface LowContrast {
  selector: string;
  ratio: number;
  /** What the ratio had to reach: 4.5, or 3 for large text (WCAG 2.x AA). */
  required: number;
  text: string;
}

/**
 * Visible text whose colour against its background is under WCAG AA (4.5:1, or 3:1 for text
 * from 24 px, or from 18.66 px bold). The background is the nearest opaque one behind the
 * element's box (images are not looked at); text of disabled controls is exempt, as in WCAG.
 */
export async function lowContrast(page: Page): Promise<LowContrast[]> {
  await install(page);
  return page.evaluate(() => {
    const { visible, pathOf } = (globalThis as unknown as { __touchChecks: PageChecks }).__touchChecks;
    const parse = (colour: string): [number, number, number, number] | null => {
      const match = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(colour);
      if (match === null) return null;
      return [Number(match[1]), Number(match[2]), Number(match[3]), match[4] === undefined ? 1 : Number(match[4])];
    };
    const luminance = ([r, g, b]: readonly number[]): number => {
      const channel = (value = 0): number => {
        const c = value / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    /** The colour behind `element`: its own and its ancestors' backgrounds blended up to an opaque one. */
    const backgroundOf = (element: Element): [number, number, number] => {
      const layers: [number, number, number, number][] = [];
      for (let current: Element | null = element; current !== null; current = current.parentElement) {
        const colour = parse(getComputedStyle(current).backgroundColor);
        if (colour !== null && colour[3] > 0) layers.push(colour);
        if (colour !== null && colour[3] >= 1) break;
      }
      let blended: [number, number, number] = [255, 255, 255];
      for (const [r, g, b, a] of layers.reverse()) {
        blended = [r * a + blended[0] * (1 - a), g * a + blended[1] * (1 - a), b * a + blended[2] * (1 - a)];
      }
      return blended;
    };
    const found: LowContrast[] = [];
    for (const element of document.body.querySelectorAll("*")) {
      if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(element.tagName)) continue;
      const own = [...element.childNodes]
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? "")
        .join("")
        .trim();
      if (own === "" || !visible(element) || element.closest(":disabled") !== null) continue;
      const style = getComputedStyle(element);
      const text = parse(style.color);
      if (text === null) continue;
      const behind = backgroundOf(element);
      const foreground: [number, number, number] = [
        text[0] * text[3] + behind[0] * (1 - text[3]),
        text[1] * text[3] + behind[1] * (1 - text[3]),
        text[2] * text[3] + behind[2] * (1 - text[3]),
      ];
      const [light, dark] = [luminance(foreground), luminance(behind)].sort((a, b) => b - a);
      const ratio = ((light ?? 0) + 0.05) / ((dark ?? 0) + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const required = large ? 3 : 4.5;
      if (ratio + 0.005 >= required) continue;
      found.push({ selector: pathOf(element), ratio: Math.round(ratio * 100) / 100, required, text: own.slice(0, 40) });
    }
    return found;
  });
}
