/**
 * The live-stream lot card (`/01/{gtin}/10/{lot}`): verifies the lot's batch in this browser
 * (attestation signature, the batch on chain, the metadata document's CID, recall status, with
 * `verifyLotCard`), then shows what the verified document says (origin, harvest, planting
 * video, certifications), the 合格证 issued for the lot and how much is still unsold. The QR
 * code is drawn by the server into the page. Chinese first, English on a switch; `?embed=1`
 * is the compact card for an iframe.
 */
import { sha256 } from "@noble/hashes/sha2.js";

import type { BatchMetadataDocument } from "../../server/src/domain/documents.ts";
import { hasWebCryptoDigest, useSha256Fallback } from "../../server/src/verify/cid.ts";
import { verifyLotCard, type LotCard, type LotVerification } from "../../server/src/verify/verify-lot.ts";
import { chinaDateTime, h, type Child } from "../src/dom.ts";
import {
  CERT_TEXT,
  CHECK_TEXT,
  UI_TEXT,
  UNIT_TEXT,
  pick,
  pickLocalised,
  storeLang,
  storedLang,
  type Lang,
  type Pair,
} from "../src/i18n.ts";

const TEXT = {
  checking: ["正在核验…", "Checking…"],
  verified: ["已验证：批次已在链上登记，签名与资料一致", "Verified: the lot is on the ledger, signed and unaltered"],
  recalled: ["已召回：请勿购买或食用", "Recalled: do not buy or eat"],
  suspicious: ["未通过验证：资料与链上记录不符", "Not verified: the records do not match the ledger"],
  not_verified: ["暂时无法读取区块链，请稍后再试", "Cannot read the ledger right now; try again"],
  pending: ["已登记，正在上链", "Registered; being anchored on the ledger"],
  remaining: ["剩余 {n} / {total} 件", "{n} of {total} left"],
  soldOut: ["已售罄", "Sold out"],
  certificates: ["承诺达标合格证", "Certificates (合格证)"],
  noCertificate: ["暂无", "None yet"],
  mixed: ["（混合批次）", " (mixed lot)"],
  cooperative: UI_TEXT.cooperative,
  origin: UI_TEXT.origin,
  plot: UI_TEXT.plot,
  harvestDate: UI_TEXT.harvestDate,
  lot: UI_TEXT.lot,
  certifications: UI_TEXT.certifications,
  video: UI_TEXT.video,
  switchTo: UI_TEXT.switchTo,
  howChecked: UI_TEXT.howChecked,
  lotIdentity: ["批号与批次登记一致", "The lot is the one registered"],
} as const satisfies Record<string, Pair>;

const app = document.getElementById("app") as HTMLElement;
const cardRoot = document.getElementById("card") as HTMLElement;
const card = JSON.parse(document.getElementById("lot-card")?.textContent ?? "null") as LotCard;
let lang: Lang = storedLang();
let result: LotVerification | null = null;

const t = (key: keyof typeof TEXT): string => pick(TEXT[key], lang);

function remainingLine(): HTMLElement {
  const balance = card.balance;
  if (balance.soldOut) return h("p", { class: "remaining sold-out", "data-field": "sold-out" }, t("soldOut"));
  const text = t("remaining")
    .replace("{n}", balance.remaining.toLocaleString("en"))
    .replace("{total}", balance.registered.toLocaleString("en"));
  return h("p", { class: "remaining", "data-field": "remaining" }, text);
}

function facts(doc: BatchMetadataDocument): HTMLElement {
  const row = (label: string, value: string, field: string): Child[] => [
    h("dt", {}, label),
    h("dd", { "data-field": field }, value),
  ];
  const region = pickLocalised(card.display.regionName, lang);
  const plot =
    doc.plot === null
      ? null
      : `${lang === "zh" ? doc.plot.name : `${String(doc.plot.areaHa)} ha`} · ${pickLocalised(card.display.plotRegionName, lang)}`;
  return h(
    "dl",
    { class: "full" },
    ...row(t("cooperative"), pickLocalised(doc.cooperative.name, lang), "cooperative"),
    ...row(t("origin"), region, "origin"),
    ...(plot === null ? [] : row(t("plot"), plot, "plot")),
    // The China calendar day: a harvest at 06:00 in Hangzhou is the day before in UTC.
    ...row(t("harvestDate"), chinaDateTime(Date.parse(doc.harvestedAt)).slice(0, 10), "harvest"),
    ...row(t("lot"), card.lot, "lot"),
  );
}

function certifications(doc: BatchMetadataDocument): HTMLElement | null {
  if (doc.certifications.length === 0) return null;
  return h(
    "section",
    { class: "full" },
    h("h2", {}, t("certifications")),
    h(
      "ul",
      {},
      ...doc.certifications.map((c) =>
        h(
          "li",
          { "data-field": "certification" },
          `${pick(CERT_TEXT[c.kind] ?? [c.kind, c.kind], lang)} ${c.number} (${c.validFrom} – ${c.validTo})`,
        ),
      ),
    ),
  );
}

function unitText(unit: string): string {
  const known = UNIT_TEXT[unit];
  return known === undefined ? unit : pick(known, lang);
}

function certificates(doc: BatchMetadataDocument | null): HTMLElement {
  const items = card.certificates.map((c) =>
    h(
      "li",
      { "data-field": "certificate" },
      h(
        "a",
        { href: c.url, title: c.id },
        `${c.quantity.value} ${unitText(c.quantity.unit)} · ${c.issuedOn}${c.mixed ? t("mixed") : ""}`,
      ),
    ),
  );
  const number = doc?.complianceCertificateNumber ?? null;
  return h(
    "section",
    {},
    h("h2", {}, t("certificates")),
    number === null ? null : h("p", { "data-field": "certificate-number" }, `No. ${number}`),
    items.length === 0 && number === null ? h("p", {}, t("noCertificate")) : null,
    items.length === 0 ? null : h("ul", {}, ...items),
  );
}

function video(doc: BatchMetadataDocument): HTMLElement | null {
  if (doc.videoCid === null) return null;
  const poster = doc.photoCids[0];
  const src = `${card.ipfsGateway}${doc.videoCid}`;
  return h(
    "section",
    { class: "full" },
    h("h2", {}, t("video")),
    h("video", {
      controls: "",
      preload: "none",
      playsinline: "",
      src: poster === undefined ? `${src}#t=0.1` : src,
      ...(poster === undefined ? {} : { poster: `${card.ipfsGateway}${poster}` }),
    }),
  );
}

/** What was checked, each with its outcome (the failing ones open it: whoever sees "not verified" sees why). */
function checksSection(report: LotVerification): HTMLElement {
  const items = report.checks.map((check) =>
    h(
      "li",
      { "data-check": check.id, "data-ok": String(check.ok), title: check.detail },
      `${check.ok === true ? "✓" : check.ok === false ? "✗" : "…"} `,
      check.id === "lot_identity" ? t("lotIdentity") : pick(CHECK_TEXT[check.id], lang),
    ),
  );
  const open: Record<string, string> = report.checks.some((check) => check.ok === false) ? { open: "" } : {};
  return h("details", { class: "full checks", ...open }, h("summary", {}, t("howChecked")), h("ul", {}, ...items));
}

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const verdict = result?.verdict ?? "checking";
  app.dataset.verdict = verdict;
  document.body.classList.toggle("recalled", verdict === "recalled");
  const doc = result?.metadata ?? null;
  const switchButton = h("button", { type: "button", id: "lang", class: "full" }, t("switchTo"));
  switchButton.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  cardRoot.replaceChildren(
    h(
      "header",
      {},
      h(
        "div",
        {},
        h("h1", {}, pickLocalised(card.product.name, lang)),
        lang === "zh" && card.product.name.en !== null ? h("p", { class: "en" }, card.product.name.en) : null,
      ),
      switchButton,
    ),
    h("p", { class: `verdict ${verdict}`, "data-field": "verdict", role: "status" }, t(verdict)),
    ...[
      remainingLine(),
      doc === null ? null : facts(doc),
      certificates(doc),
      doc === null ? null : certifications(doc),
      doc === null ? null : video(doc),
      result === null ? null : checksSection(result),
    ].filter((node) => node !== null),
  );
}

async function main(): Promise<void> {
  if (!hasWebCryptoDigest()) useSha256Fallback(sha256);
  // Started before the first paint, so the chain read is on the wire while the card is drawn.
  const verifying = verifyLotCard(card, { baseUrl: location.href });
  // One turn first: the chain read the verifier queued is sent before the card is laid out.
  await Promise.resolve();
  render();
  try {
    result = await verifying;
  } catch {
    // Never left on "checking": a failure to verify is not a verdict of authenticity.
    result = { verdict: "not_verified", checks: [], chainReachable: false, metadata: null };
  }
  render();
}

void main();
