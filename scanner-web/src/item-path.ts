/**
 * What only an item packed in cases or pallets, or certified by a 合格证, needs: the checks of
 * its containers (verify/containers.ts) and their lines on the page. Built as a script of its
 * own (`CONTAINERS_CHUNK_URL`), which the page loads only for such items: most items are
 * scanned without either, and every byte of the page is on a phone's wire.
 */
import { chinaDate } from "../../server/src/domain/china-time.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import type { VerificationReport } from "../../server/src/verify/verify-resolution.ts";
import { h } from "./dom.ts";
import { pick, pickLocalised, type Lang, type Pair } from "./i18n.ts";

export { askWallets, verifyContainers } from "../../server/src/verify/containers.ts";

const TEXT = {
  case: ["装箱 SSCC {sscc}", "Packed into case {sscc}"],
  pallet: ["装入托盘 SSCC {sscc}", "Case loaded onto pallet {sscc}"],
  shipping: ["发往 {to}", "Shipped to {to}"],
  receiving: ["{to} 收货", "Received by {to}"],
  unpacking: ["拆箱", "Unpacked"],
  certificates: ["承诺达标合格证", "Quality certificate (合格证)"],
  basis: ["承诺依据", "Basis"],
  issuer: ["开具方", "Issued by"],
  // As i18n.ts words them for events (restated: importing its tables would bring them all).
  bad: ["签名无效", "Invalid signature"],
  pending: ["尚未上链", "Not yet on chain"],
} as const satisfies Record<string, Pair>;

/** domain/certificate.ts's BASIS_NAMES, restated: that module brings zod. */
const BASIS: Record<string, Pair> = {
  entrusted_test: ["委托检测", "entrusted test"],
  self_test: ["自我检测", "self-test"],
  internal_control: ["内部质量控制", "internal quality control"],
  self_promise: ["自我承诺", "self promise"],
};

function labelled(label: Pair, value: string, lang: Lang): string {
  return `${pick(label, lang)}${lang === "zh" ? "：" : ": "}${value}`;
}

/** A link a thumb can hit (48 px), styled through the CSSOM: the page's policy refuses style attributes. */
function link(href: string, text: string): HTMLElement {
  const a = h("a", { href }, text);
  a.style.display = "inline-block";
  a.style.padding = "12px 0";
  return a;
}

/** The item's own cases, pallets and shipments as timeline lines, each step as verified. */
export function containerLines(report: VerificationReport, lang: Lang): { at: number; item: HTMLElement }[] {
  return report.containers.flatMap(({ container, kind, steps }) =>
    steps.map(({ step, action, occurredAt, valid, onChain }) => {
      const to = pickLocalised(step.counterparty?.name ?? step.actor.name, lang);
      const text =
        TEXT[action === "packing" ? kind : action === "shipping" || action === "receiving" ? action : "unpacking"];
      return {
        at: occurredAt,
        item: h(
          "li",
          { class: valid ? "event" : "event event-bad", "data-container-step": action, "data-sscc": container.sscc },
          h("time", {}, chinaDate(occurredAt * 1000)),
          h("strong", {}, pick(text, lang).replace("{sscc}", container.sscc).replace("{to}", to)),
          // A despatch: packed and shipped in one signed request.
          action === "packing" && step.counterparty !== null
            ? h("strong", { "data-despatch": "" }, pick(TEXT.shipping, lang).replace("{to}", to))
            : null,
          h("span", { class: "actor" }, `${pickLocalised(step.actor.name, lang)} · SSCC ${container.sscc}`),
          valid ? null : h("span", { class: "flag" }, pick(TEXT.bad, lang)),
          onChain ? null : h("span", { class: "flag flag-soft" }, pick(TEXT.pending, lang)),
        ),
      };
    }),
  );
}

/** The batch's 合格证 as the platform lists them; each is verified on its own page. */
export function certificatesSection(resolution: ItemResolution, lang: Lang): HTMLElement | null {
  const list = resolution.certificates ?? [];
  if (list.length === 0) return null;
  return h(
    "section",
    { class: "card" },
    h("h2", {}, pick(TEXT.certificates, lang)),
    h(
      "ul",
      { class: "certs" },
      ...list.map((c) =>
        h(
          "li",
          { class: "cert", "data-certificate": c.id },
          link(`/c/${c.id}`, `${c.id.slice(0, 12)}… · ${c.issuedOn}`),
          h("br"),
          h("span", {}, labelled(TEXT.issuer, pickLocalised(c.issuer, lang), lang)),
          h("br"),
          h(
            "span",
            {},
            labelled(
              TEXT.basis,
              c.basis.map((b) => (BASIS[b] === undefined ? b : pick(BASIS[b], lang))).join("、"),
              lang,
            ),
          ),
        ),
      ),
    ),
  );
}
