/**
 * The consumer scan page. It reads the item's resolution (inlined by the server, or
 * fetched as JSON from the same URL), verifies it against the chain with the shared
 * verification core, and only then shows what the verified documents say. The verdict is
 * the core's, never the server's.
 */
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import { verifyResolution, type VerificationReport } from "../../server/src/verify/index.ts";
import { claimHiddenCode, type ClaimOutcome } from "./claim.ts";
import { chinaDate, chinaDateTime, h, type Child } from "./dom.ts";
import {
  BIZ_STEP_TEXT,
  CERT_TEXT,
  CHECK_TEXT,
  UI_TEXT,
  UNIT_TEXT,
  VERDICT_TEXT,
  pick,
  pickLocalised,
  storeLang,
  storedLang,
  type Lang,
  type VerdictKey,
} from "./i18n.ts";

type State =
  | { kind: "loading" }
  | { kind: "error" }
  | { kind: "unknown"; resolution: UnknownItemResolution }
  | { kind: "checking"; resolution: ItemResolution }
  | { kind: "done"; resolution: ItemResolution; report: VerificationReport };

let lang: Lang = storedLang();
let state: State = { kind: "loading" };
let claim: ClaimOutcome | null = null;
// One video element for the page's life, so switching language does not restart playback.
let video: HTMLVideoElement | null = null;

const t = (key: keyof typeof UI_TEXT): string => pick(UI_TEXT[key], lang);

function isResolution(value: unknown): value is ItemResolution | UnknownItemResolution {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "oioc.item-resolution" || type === "oioc.item-unknown";
}

async function loadResolution(): Promise<ItemResolution | UnknownItemResolution> {
  const inline = document.getElementById("resolution");
  const text = inline?.textContent ?? "";
  if (text !== "") {
    const parsed: unknown = JSON.parse(text);
    if (isResolution(parsed)) return parsed;
  }
  const response = await fetch(location.href, { headers: { accept: "application/json" } });
  if (!response.ok && response.status !== 404) throw new Error(`resolver answered ${response.status}`);
  const body: unknown = await response.json();
  if (!isResolution(body)) throw new Error("not a resolution");
  return body;
}

function banner(key: VerdictKey, ...extra: Child[]): HTMLElement {
  const text = VERDICT_TEXT[key];
  return h(
    "section",
    { class: `banner banner-${key}`, role: "status", "aria-live": "polite", "data-verdict": key },
    h("span", { class: "banner-icon", "aria-hidden": "true" }, text.icon),
    h(
      "div",
      { class: "banner-text" },
      h("h1", {}, pick(text.title, lang)),
      h("p", {}, pick(text.sentence, lang)),
      ...extra,
    ),
  );
}

/** UN/CEFACT Rec. 20 codes as people read them; an unlisted code is shown as it is. */
function unitName(code: string): string {
  const name = UNIT_TEXT[code];
  return name === undefined ? code : pick(name, lang);
}

/** "label：value" with the colon each language uses. */
function labelled(label: string, value: string): string {
  return lang === "zh" ? `${label}：${value}` : `${label}: ${value}`;
}

function row(label: string, value: Child): HTMLElement | null {
  if (value === null || value === undefined || value === false || value === "") return null;
  return h("div", { class: "row" }, h("dt", {}, label), h("dd", {}, value));
}

function productSection(resolution: ItemResolution, report: VerificationReport): HTMLElement | null {
  const doc = report.metadata;
  if (doc === null) return null;
  const region = pickLocalised(resolution.display.regionName, lang) || doc.cooperative.regionCode;
  const plotRegion = pickLocalised(resolution.display.plotRegionName, lang);
  let plot = doc.plot?.name ?? "";
  if (plot !== "" && plotRegion !== "") plot = lang === "zh" ? `${plot}（${plotRegion}）` : `${plot} (${plotRegion})`;
  const harvested = Date.parse(doc.harvestedAt);
  return h(
    "section",
    { class: "card", "aria-labelledby": "product-name" },
    h("h2", { id: "product-name", class: "product-name" }, pickLocalised(doc.product.name, lang)),
    doc.description === null ? null : h("p", { class: "description" }, pickLocalised(doc.description, lang)),
    h(
      "dl",
      {},
      row(t("cooperative"), pickLocalised(doc.cooperative.name, lang)),
      row(t("origin"), region),
      row(t("plot"), plot),
      row(t("harvestDate"), Number.isNaN(harvested) ? doc.harvestedAt : chinaDate(harvested / 1000)),
      row(t("quantity"), `${doc.quantity.value} ${unitName(doc.quantity.unit)}`),
      row(t("lot"), doc.lot),
    ),
  );
}

function certificationsSection(report: VerificationReport): HTMLElement | null {
  const doc = report.metadata;
  if (doc === null) return null;
  const today = chinaDate(Date.now() / 1000);
  const items = doc.certifications.map((cert) => {
    const expired = cert.validTo < today;
    const kind = CERT_TEXT[cert.kind];
    return h(
      "li",
      { class: expired ? "cert cert-expired" : "cert" },
      h("strong", {}, kind === undefined ? cert.kind : pick(kind, lang)),
      h("span", {}, ` ${cert.number} · ${cert.issuer}`),
      h("br"),
      h(
        "span",
        { class: "validity" },
        expired ? `${t("expired")} (${cert.validTo})` : `${t("validUntil")} ${cert.validTo}`,
      ),
    );
  });
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("certifications")),
    items.length === 0 ? h("p", {}, t("noCertifications")) : h("ul", { class: "certs" }, ...items),
  );
}

function videoSection(resolution: ItemResolution, report: VerificationReport): HTMLElement | null {
  if (report.videoCid === null) return null;
  const src = `${resolution.ipfsGateway}${report.videoCid}`;
  if (video?.dataset.cid !== report.videoCid) {
    video = h("video", {
      controls: "",
      preload: "metadata",
      playsinline: "",
      "webkit-playsinline": "",
      src,
      "data-cid": report.videoCid,
    });
  }
  video.setAttribute("aria-label", t("video"));
  return h("section", { class: "card" }, h("h2", {}, t("video")), video);
}

function timelineSection(report: VerificationReport): HTMLElement | null {
  if (report.events.length === 0) return null;
  // The chain's order is the order events were anchored; people read a lifecycle by when things happened.
  const byTime = [...report.events].sort((a, b) => a.occurredAt - b.occurredAt);
  const items = byTime.map((verified) => {
    const step = BIZ_STEP_TEXT[verified.bizStep] ?? BIZ_STEP_TEXT.unknown ?? ["", ""];
    const payload = verified.payload;
    const actor =
      payload === null ? pickLocalised(verified.event.actor.name, lang) : pickLocalised(payload.actor.name, lang);
    const place = payload?.data.location?.name ?? "";
    const note = pickLocalised(payload?.data.note, lang);
    return h(
      "li",
      { class: verified.signatureValid ? "event" : "event event-bad" },
      h("time", {}, chinaDate(verified.occurredAt)),
      h("strong", {}, pick(step, lang)),
      h("span", { class: "actor" }, place === "" ? actor : `${actor} · ${place}`),
      note === "" ? null : h("span", { class: "note" }, note),
      verified.signatureValid ? null : h("span", { class: "flag" }, t("badSignature")),
      verified.onChain ? null : h("span", { class: "flag flag-soft" }, t("notOnChain")),
    );
  });
  return h("section", { class: "card" }, h("h2", {}, t("timeline")), h("ol", { class: "timeline" }, ...items));
}

function checksSection(resolution: ItemResolution, report: VerificationReport): HTMLElement {
  const items = report.checks.map((check) => {
    const mark = check.ok === true ? "✓" : check.ok === false ? "✗" : "…";
    const status = check.ok === true ? t("checkPassed") : check.ok === false ? t("checkFailed") : t("checkPending");
    return h(
      "li",
      {
        class: `check check-${String(check.ok)}`,
        "data-check": check.id,
        "data-ok": String(check.ok),
        title: check.detail,
      },
      h("span", { class: "mark", "aria-hidden": "true" }, mark),
      h("span", {}, pick(CHECK_TEXT[check.id], lang)),
      h("span", { class: "sr-only" }, ` (${status})`),
    );
  });
  // Opened when something failed: whoever sees "not verified" should see why at once.
  const open: Record<string, string> = report.verdict === "not_verified" ? { open: "" } : {};
  return h(
    "details",
    { class: "card checks", ...open },
    h("summary", {}, t("howChecked")),
    h("ul", {}, ...items),
    h("p", { class: "code" }, labelled(t("code"), resolution.uri)),
  );
}

function claimSection(resolution: ItemResolution): HTMLElement | null {
  if (!resolution.item.hasHiddenCode) return null;
  const input = h("input", {
    id: "hidden-code",
    name: "code",
    inputmode: "numeric",
    pattern: "[0-9]{8}",
    maxlength: "8",
    autocomplete: "off",
    required: "",
  });
  const form = h(
    "form",
    { class: "claim" },
    h("label", { for: "hidden-code" }, t("hiddenCodeHint")),
    h("div", { class: "claim-row" }, input, h("button", { type: "submit" }, t("submit"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void claimHiddenCode(resolution.item, input.value.trim()).then((outcome) => {
      claim = outcome;
      render();
    });
  });
  let message: string | null = null;
  if (claim !== null) {
    switch (claim.kind) {
      case "first":
        message = t("firstClaim");
        break;
      case "claimed_before":
        message = t("claimedBefore").replace("{time}", chinaDateTime(claim.claimedAtMs));
        break;
      case "wrong_code":
        message = t("wrongCode");
        break;
      case "rate_limited":
        message = t("rateLimited");
        break;
      case "error":
        message = t("claimError");
        break;
    }
  }
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("hiddenCode")),
    form,
    message === null ? null : h("p", { class: `claim-result claim-${claim?.kind ?? ""}`, role: "status" }, message),
  );
}

function doneView(resolution: ItemResolution, report: VerificationReport): Child[] {
  const extra: Child[] = [];
  if (report.verdict === "recalled") {
    const reason = pickLocalised(resolution.batch.recall?.reason, lang);
    if (reason !== "") extra.push(h("p", { class: "reason" }, labelled(t("recallReason"), reason)));
  }
  if (report.verdict === "suspicious") {
    extra.push(
      h("ul", { class: "signals" }, ...resolution.scans.signals.map((s) => h("li", {}, lang === "zh" ? s.zh : s.en))),
    );
  }
  return [
    banner(report.verdict, ...extra),
    productSection(resolution, report),
    claimSection(resolution),
    timelineSection(report),
    videoSection(resolution, report),
    certificationsSection(report),
    checksSection(resolution, report),
    h("p", { class: "scans" }, t("scanCount").replace("{n}", String(resolution.scans.count))),
  ];
}

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const toggle = h("button", { type: "button", class: "lang", "aria-label": "Language / 语言" }, t("switchTo"));
  toggle.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  let body: Child[];
  switch (state.kind) {
    case "loading":
      body = [banner("checking")];
      break;
    case "error":
      body = [banner("error")];
      break;
    case "unknown":
      body = [
        banner(
          "unknown",
          h("p", {}, pickLocalised(state.resolution.message, lang)),
          h("p", { class: "code" }, state.resolution.uri),
        ),
      ];
      break;
    case "checking":
      body = [banner("checking")];
      break;
    case "done":
      body = doneView(state.resolution, state.report);
      break;
  }
  const root = document.getElementById("app") ?? document.body;
  root.replaceChildren(
    h("header", { class: "top" }, h("span", { class: "brand" }, "一物一码 · 溯源"), toggle),
    h("main", {}, ...body),
  );
}

async function start(): Promise<void> {
  render();
  let resolution: ItemResolution | UnknownItemResolution;
  try {
    resolution = await loadResolution();
  } catch {
    state = { kind: "error" };
    render();
    return;
  }
  if (resolution.type === "oioc.item-unknown") {
    state = { kind: "unknown", resolution };
    render();
    return;
  }
  state = { kind: "checking", resolution };
  render();
  const report = await verifyResolution(resolution, { baseUrl: location.href });
  // A chain that cannot be read says nothing about the item: offer a retry, not a verdict.
  state = report.chainReachable ? { kind: "done", resolution, report } : { kind: "error" };
  render();
}

void start();
