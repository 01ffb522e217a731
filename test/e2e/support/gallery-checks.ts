/**
 * What the console gallery checks on each page besides its size and targets: that the UI's
 * own words are in the page's language. Text the user or the data brings (a plot's Chinese
 * name, a lot number, an identifier, a problem's code) is no finding; the caller names the
 * data strings, and codes, identifiers and numbers are recognised here.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import type { Page } from "playwright-core";

import type { Lang } from "../../../scanner-web/src/i18n.ts";

/**
 * Words an English-reading or a Chinese-reading user meets untranslated on purpose: the
 * language switch names the other language in its own, and standard identifiers stay Latin.
 */
const LATIN_IN_CHINESE = [
  "English",
  "Excel",
  "GTIN",
  "SSCC",
  "EPCIS",
  "CSV",
  "XLSX",
  // Longer names first: each is blanked out in turn.
  "JSON-RPC",
  "JSON",
  "IPFS",
  "HTML",
  "GB/T",
  "QR",
  "ID",
  "kg",
  "Android",
  "Chrome",
  "Linux",
  // The chain's own terms, untranslated in Chinese too (Gas 费, wei).
  "Gas",
  "wei",
];

/** The switch to Chinese, named in Chinese on an English page. */
const CHINESE_IN_ENGLISH = ["中文"];

/**
 * The visible text of the page, one string per text node, outside places that show data as
 * it is (codes, preformatted evidence, form values and the choices of a select, which hold
 * organisations' and plots' names).
 */
async function visibleTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const skipped = "code, pre, script, style, option, textarea, noscript, .mono, [hidden]";
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const text = node.textContent?.trim() ?? "";
      const parent = node.parentElement;
      if (text === "" || parent === null || parent.closest(skipped) !== null) continue;
      const style = getComputedStyle(parent);
      if (style.visibility === "hidden" || style.display === "none" || parent.getClientRects().length === 0) continue;
      out.push(text);
    }
    // What a field asks for before anything is typed is UI text too.
    for (const input of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>(
      "input[placeholder], textarea[placeholder]",
    )) {
      if (input.getClientRects().length > 0) out.push(input.placeholder);
    }
    return out;
  });
}

/** Identifiers, codes and numbers: the same in both languages. */
function withoutCodes(text: string): string {
  return text
    .replace(/https?:\/\/\S+/g, " ")
    .replace(/\[[a-z0-9_]+(?:\.[a-z0-9_]+)+\]/g, " ") // a problem's code, shown beside its message
    .replace(/\b[a-z]+_[0-9A-Za-z-]{6,}/g, " ") // an organisation's, order's or member's id
    .replace(/\b0x[0-9a-fA-F]+\b/g, " ")
    .replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g, " ") // a contract's role names (RELAYER_ROLE)
    .replace(/\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b/g, " "); // lots, certificate and order numbers
}

/**
 * Text nodes that are in the wrong language for `lang`, after taking out `data` (strings the
 * seeded records carry, shown as they are) and codes: Chinese characters on an English page,
 * Latin words of three letters or more on a Chinese page.
 */
export async function wrongLanguage(page: Page, lang: Lang, data: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const text of await visibleTexts(page)) {
    let rest = text;
    for (const value of data) rest = rest.split(value).join(" ");
    rest = withoutCodes(rest);
    if (lang === "en") {
      for (const word of CHINESE_IN_ENGLISH) rest = rest.split(word).join(" ");
      if (/\p{Script=Han}/u.test(rest)) found.push(text);
    } else {
      for (const word of LATIN_IN_CHINESE) rest = rest.split(word).join(" ");
      if (/[A-Za-z]{3,}/.test(rest)) found.push(text);
    }
  }
  return [...new Set(found)];
}

/** Errors the page reported: uncaught exceptions and console errors. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const url = message.location().url;
    // A refusal the page shows (a 4xx from the API or a public form) is logged by Chromium as a
    // failed load, as are requests while the phone is offline: those are what the page is shown doing.
    if (/Failed to load resource/.test(message.text()) && /\/api\/v1\//.test(url)) return;
    if (/ERR_INTERNET_DISCONNECTED/.test(message.text())) return;
    errors.push(`${page.url()}: ${message.text()} ${url}`);
  });
  return errors;
}

export interface GalleryEntry {
  file: string;
  console: string;
  page: string;
  lang: Lang;
  findings: string[];
}

/** An HTML page listing every screenshot under its name, with what was found on it. */
export function writeGalleryIndex(dir: string, entries: readonly GalleryEntry[]): void {
  const escape = (s: string): string =>
    s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
  const byPage = new Map<string, GalleryEntry[]>();
  for (const entry of entries) {
    const key = `${entry.console} · ${entry.page}`;
    byPage.set(key, [...(byPage.get(key) ?? []), entry]);
  }
  const sections = [...byPage].map(([title, shots]) => {
    const figures = shots.map(
      (shot) =>
        `<figure><figcaption>${escape(shot.lang)}${
          shot.findings.length === 0
            ? ""
            : `<ul class="findings">${shot.findings.map((f) => `<li>${escape(f)}</li>`).join("")}</ul>`
        }</figcaption><a href="${escape(shot.file)}"><img src="${escape(shot.file)}" alt="${escape(`${title} ${shot.lang}`)}" loading="lazy"></a></figure>`,
    );
    return `<section id="${escape(title.replace(/\W+/g, "-"))}"><h2>${escape(title)}</h2><div class="row">${figures.join("")}</div></section>`;
  });
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console gallery: every console page at 360×740, zh and en</title>
<style>body{font-family:sans-serif;margin:16px;background:#f4f4f4}h2{font-size:1rem;margin:24px 0 8px}
.row{display:flex;gap:16px;align-items:flex-start}figure{margin:0;background:#fff;padding:8px;border:1px solid #ccc}
img{width:360px;height:auto;display:block}.findings{color:#a4161a;max-width:360px}</style></head>
<body><h1>Console gallery</h1><p>${String(entries.length)} screenshots, 360×740 CSS pixels, device scale factor 1, full page.</p>
<nav>${[...byPage.keys()].map((t) => `<a href="#${escape(t.replace(/\W+/g, "-"))}">${escape(t)}</a>`).join(" · ")}</nav>
${sections.join("\n")}
</body></html>
`;
  writeFileSync(path.join(dir, "index.html"), html);
}
