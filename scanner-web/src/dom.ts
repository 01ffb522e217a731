/**
 * A tiny element builder. Text always goes in through text nodes, never innerHTML: every
 * string on the page comes from a server or a document someone else wrote.
 */
import { chinaIsoTime } from "../../server/src/domain/china-time.ts";

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

/** "2026-04-15 14:00" in China time, for milliseconds since the epoch. */
export function chinaDateTime(ms: number): string {
  return chinaIsoTime(ms).slice(0, 16).replace("T", " ");
}
