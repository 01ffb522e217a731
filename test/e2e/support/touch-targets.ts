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
