/**
 * The 合格证 page (`/c/0x…`, what the certificate's QR code holds): verifies the certificate
 * and every certificate it was issued from in this browser, with the same `verifyCertificate`
 * the CLI runs, reading the registry through the platform's `/rpc` (or the endpoint the
 * server names), and shows what it says and how it was checked. Chinese first, English on a
 * switch. A certificate that verifies but covers a batch the registry says is recalled since
 * says so first, in red: the certificate was true when signed, the food is not to be eaten.
 */
import { BASIS_NAMES, type CertificateDocument } from "../../server/src/domain/certificate.ts";
import { formatQuantityMilli } from "../../server/src/domain/units.ts";
import {
  CERTIFICATE_PROBLEM_TEXT,
  loadFromOrigin,
  recalledInLineage,
  verifyCertificate,
  type CertificateCheck,
} from "../../server/src/verify/certificate.ts";
import { createRpcClient } from "../../server/src/verify/rpc.ts";
import { h } from "../src/dom.ts";
import { UNIT_TEXT, pick, pickLocalised, storeLang, storedLang, type Lang, type Pair } from "../src/i18n.ts";

const TEXT = {
  title: ["承诺达标合格证", "Commitment-to-standard certificate (合格证)"],
  checking: ["正在核验签名与来源…", "Checking the signature and lineage…"],
  verified: ["已验证：签名有效，开具方已在链上登记", "Verified: valid signature by an issuer registered on the ledger"],
  verifiedOffline: [
    "签名有效（离线核验：签名者为指定密钥，未与链上登记核对）",
    "Valid signature (offline: signed by the given key, not checked against the ledger)",
  ],
  failed: ["未通过验证：请勿相信此合格证", "Not verified: do not trust this certificate"],
  recalled: [
    "此合格证所涉批次已被召回：请勿食用，可向卖家要求退款",
    "A batch this certificate covers has been recalled: do not eat it; ask the seller for a refund",
  ],
  recalledSince: [
    "合格证签名有效，但开具后该批次已被召回（链上记录）",
    "The certificate's signature is valid, but the batch was recalled after it was issued (on the ledger)",
  ],
  batchRecalled: ["批次 {batch} 已召回", "batch {batch} recalled"],
  notFound: ["找不到此合格证", "No such certificate"],
  product: ["食用农产品名称", "Product"],
  quantity: ["数量（重量）", "Quantity"],
  origin: ["产地", "Origin"],
  issuer: ["开具方", "Issuer"],
  phone: ["联系方式", "Contact"],
  issuedOn: ["开具日期", "Issued on"],
  promise: ["承诺", "Promise"],
  basis: ["承诺依据", "Basis"],
  signedBy: ["签名者 {signer}，已在链上登记", "Signed by {signer}, registered on the ledger"],
  signedByUnchecked: ["签名者 {signer}（未与链上登记核对）", "Signed by {signer} (not checked against the ledger)"],
  lineage: ["来源（上级合格证）", "Lineage (parent certificates)"],
  ok: ["已验证", "verified"],
  bad: ["未通过", "not verified"],
  switchTo: ["English", "中文"],
} as const satisfies Record<string, Pair>;

const id = (location.pathname.split("/").pop() ?? "").toLowerCase();
const rpcMeta = document.querySelector<HTMLMetaElement>('meta[name="oioc-rpc"]')?.content ?? "";
const rpcUrl = new URL(rpcMeta === "" || rpcMeta.includes("{{") ? "/rpc" : rpcMeta, location.href).href;
const app = document.getElementById("app") as HTMLElement;
/** `?issuer=0x…`: verify offline against that key, reading no chain (a buyer with no network to the ledger). */
const offlineIssuer = new URLSearchParams(location.search).get("issuer");
const offline = offlineIssuer !== null && /^0x[0-9a-fA-F]{40}$/.test(offlineIssuer) ? offlineIssuer : null;
let lang: Lang = storedLang();
let result: CertificateCheck | null = null;

function quantityText(doc: CertificateDocument): string {
  const unit = UNIT_TEXT[doc.quantity.unit];
  return `${formatQuantityMilli(BigInt(doc.quantity.milli))} ${unit === undefined ? doc.quantity.unit : pick(unit, lang)}`;
}

/** The place as the issuer wrote it (Chinese), with its GB/T 2260 code. */
function originText(doc: CertificateDocument): string {
  return `${doc.origin.place} (${doc.origin.regionCode})`;
}

function signerLine(check: CertificateCheck): HTMLElement | null {
  if (check.signer === null) return null;
  const text = pick(check.issuer === "registered" ? TEXT.signedBy : TEXT.signedByUnchecked, lang);
  return h("p", { class: "signer" }, text.replace("{signer}", check.signer));
}

function problemList(check: CertificateCheck): HTMLElement | null {
  if (check.problems.length === 0) return null;
  return h(
    "ul",
    { class: "problems" },
    ...check.problems.map((problem) =>
      h("li", {}, pick([CERTIFICATE_PROBLEM_TEXT[problem].zh, CERTIFICATE_PROBLEM_TEXT[problem].en], lang)),
    ),
  );
}

function recalledList(check: CertificateCheck): HTMLElement | null {
  if (check.recalledBatches.length === 0) return null;
  return h(
    "ul",
    { class: "recalled" },
    ...check.recalledBatches.map((batchId) =>
      h(
        "li",
        { "data-batch-id": batchId },
        pick(TEXT.batchRecalled, lang).replace("{batch}", `${batchId.slice(0, 10)}…`),
      ),
    ),
  );
}

function lineageNode(check: CertificateCheck): HTMLElement {
  const doc = check.document;
  const summary =
    doc === null ? check.id : `${pickLocalised(doc.issuer.name, lang)} · ${quantityText(doc)} · ${doc.issuedOn}`;
  return h(
    "li",
    {
      "data-certificate-id": check.id,
      "data-ok": String(check.ok),
      "data-recalled": String(check.recalledBatches.length > 0),
    },
    h("a", { href: `/c/${check.id}` }, summary),
    ` — ${pick(check.ok ? TEXT.ok : TEXT.bad, lang)}`,
    problemList(check),
    recalledList(check),
    check.parents.length === 0 ? null : h("ul", {}, ...check.parents.map(lineageNode)),
  );
}

function render(): void {
  const toggle = h("button", { type: "button", id: "lang" }, pick(TEXT.switchTo, lang));
  toggle.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const header = h("header", {}, h("h1", {}, pick(TEXT.title, lang)), toggle);
  if (result === null) {
    app.dataset.verdict = "checking";
    app.replaceChildren(header, h("p", { class: "verdict checking" }, pick(TEXT.checking, lang)));
    return;
  }
  const check = result;
  const recalled = check.ok && recalledInLineage(check).length > 0;
  app.dataset.verdict = recalled ? "recalled" : check.ok ? "verified" : "failed";
  const doc = check.document;
  const verdict = h(
    "p",
    { class: `verdict ${check.ok && !recalled ? "ok" : "bad"}`, id: "verdict" },
    pick(
      recalled
        ? TEXT.recalled
        : check.ok
          ? offline === null
            ? TEXT.verified
            : TEXT.verifiedOffline
          : check.problems.includes("unreachable")
            ? TEXT.notFound
            : TEXT.failed,
      lang,
    ),
  );
  const fields =
    doc === null
      ? null
      : h(
          "dl",
          {},
          ...(
            [
              [TEXT.product, pickLocalised(doc.product.name, lang)],
              [TEXT.quantity, quantityText(doc)],
              [TEXT.origin, originText(doc)],
              [TEXT.issuer, pickLocalised(doc.issuer.name, lang)],
              [TEXT.phone, doc.issuer.phone],
              [TEXT.issuedOn, doc.issuedOn],
              [TEXT.promise, lang === "zh" ? doc.promise.zh : doc.promise.en],
              [TEXT.basis, doc.basis.map((basis) => BASIS_NAMES[basis][lang]).join("、")],
            ] as const
          ).flatMap(([label, value]) => [h("dt", {}, pick(label, lang)), h("dd", {}, value)]),
        );
  const lineage =
    check.parents.length === 0
      ? null
      : h(
          "section",
          { class: "lineage" },
          h("h2", {}, pick(TEXT.lineage, lang)),
          h("ul", {}, ...check.parents.map(lineageNode)),
        );
  app.replaceChildren(
    header,
    verdict,
    recalled ? h("p", { class: "recalled-since" }, pick(TEXT.recalledSince, lang)) : "",
    problemList(check) ?? "",
    recalledList(check) ?? "",
    fields ?? "",
    signerLine(check) ?? "",
    lineage ?? "",
    h("p", { class: "id" }, check.id),
  );
}

render();
void verifyCertificate(id, {
  load: loadFromOrigin(location.origin),
  issuers:
    offline === null ? { mode: "ledger", rpc: createRpcClient(rpcUrl) } : { mode: "offline", issuers: [offline] },
}).then((check) => {
  result = check;
  render();
});
