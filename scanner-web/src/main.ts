/**
 * The consumer scan page. It reads the item's resolution (inlined by the server, or
 * fetched as JSON from the same URL), verifies it against the chain with the shared
 * verification core, and only then shows what the verified documents say. The verdict is
 * the core's, never the server's.
 */
import { chinaDate } from "../../server/src/domain/china-time.ts";
import { formatCompanyPrefix } from "../../server/src/domain/gtin-entitlement.ts";
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
// The modules the page uses, not the core's index: the index also carries what only the CLI
// and the independent verifier need (chain trust, storage proofs), which would triple the bundle.
import { hasWebCryptoDigest, useSha256Fallback, type Sha256 } from "../../server/src/verify/cid.ts";
import { coldChainRangeOf, readingsOf, testFailed } from "../../server/src/verify/findings.ts";
import { verifyResolution, type VerificationReport } from "../../server/src/verify/verify-resolution.ts";
import type { ClaimOutcome } from "./claim.ts";
import { h, type Child } from "./dom.ts";
import {
  BIZ_STEP_TEXT,
  CERT_TEXT,
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

/** Why the page has no verdict: each gets its own message. */
type Failure =
  | { kind: "bad_code"; code: string; message: { zh: string; en: string } | null }
  | { kind: "network" }
  | { kind: "server"; status: number }
  | { kind: "chain_down" };

type State =
  | { kind: "loading" }
  | { kind: "error"; failure: Failure }
  | { kind: "unknown"; resolution: UnknownItemResolution }
  | { kind: "checking"; resolution: ItemResolution }
  | { kind: "done"; resolution: ItemResolution; report: VerificationReport };

let lang: Lang = storedLang();
let state: State = { kind: "loading" };
let claim: ClaimOutcome | null = null;
/** The script an item packed in cases, or certified by a 合格证, loads (item-path.ts); null for others. */
let itemPath: typeof import("./item-path.ts") | null = null;
type OnDemand = typeof import("./on-demand.ts");
/** The script of what is shown only when asked (on-demand.ts): the checks' names, the claim; null until loaded. */
let onDemand: OnDemand | null = null;
let onDemandLoading: Promise<OnDemand | null> | null = null;
/** Whether "how we checked" is open, so that a redraw (a language switch, a claim's answer) keeps it open. */
let checksOpen = false;
// One video element for the page's life, so switching language does not restart playback.
let video: HTMLVideoElement | null = null;

const t = (key: keyof typeof UI_TEXT): string => pick(UI_TEXT[key], lang);

function isResolution(value: unknown): value is ItemResolution | UnknownItemResolution {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "oioc.item-resolution" || type === "oioc.item-unknown";
}

/** The resolver's 400 (a problem+json, inlined or fetched): what is wrong with the code. */
function badCode(value: unknown): Failure | null {
  if (typeof value !== "object" || value === null) return null;
  const { code, message } = value as { code?: unknown; message?: { zh?: unknown; en?: unknown } };
  if (typeof code !== "string") return null;
  const text =
    typeof message?.zh === "string" && typeof message.en === "string" ? { zh: message.zh, en: message.en } : null;
  return { kind: "bad_code", code, message: text };
}

function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function loadResolution(): Promise<ItemResolution | UnknownItemResolution | Failure> {
  const inline = document.getElementById("resolution");
  const text = inline?.textContent ?? "";
  if (text !== "") {
    const parsed = parsedOrNull(text);
    if (isResolution(parsed)) return parsed;
    const failure = badCode(parsed);
    if (failure !== null) return failure;
  }
  let response: Response;
  try {
    response = await fetch(location.href, { headers: { accept: "application/json" } });
  } catch {
    return { kind: "network" };
  }
  const body = parsedOrNull(await response.text().catch(() => ""));
  if (isResolution(body)) return body;
  if (response.status === 400) return badCode(body) ?? { kind: "bad_code", code: "", message: null };
  return { kind: "server", status: response.status };
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

function failureView(failure: Failure): HTMLElement {
  switch (failure.kind) {
    case "bad_code":
      return banner(
        "bad_code",
        failure.message === null
          ? null
          : h("p", { class: "reason" }, pick([failure.message.zh, failure.message.en], lang)),
        failure.code === "" ? null : h("p", { class: "code", "data-problem": failure.code }, failure.code),
      );
    case "server":
      return banner("error", h("p", { class: "code" }, `HTTP ${String(failure.status)}`));
    case "network":
      return banner("error");
    case "chain_down":
      return banner("chain_down");
  }
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

/**
 * The plot as people read it: its name in Chinese; in English, where plots have only a
 * Chinese name, its area under the neutral "Plot" label (a transliterated field name means
 * nothing to an English reader).
 */
function plotText(resolution: ItemResolution, plot: NonNullable<VerificationReport["metadata"]>["plot"]): string {
  if (plot === null) return "";
  const region = pickLocalised(resolution.display.plotRegionName, lang);
  const name = lang === "zh" ? plot.name : `${String(plot.areaHa)} ha`;
  if (region === "") return name;
  return lang === "zh" ? `${name}（${region}）` : `${name}, ${region}`;
}

function productSection(resolution: ItemResolution, report: VerificationReport): HTMLElement | null {
  const doc = report.metadata;
  if (doc === null) return null;
  const region = pickLocalised(resolution.display.regionName, lang) || doc.cooperative.regionCode;
  const plot = plotText(resolution, doc.plot);
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
      row(t("harvestDate"), Number.isNaN(harvested) ? doc.harvestedAt : chinaDate(harvested)),
      row(t("quantity"), `${doc.quantity.value} ${unitName(doc.quantity.unit)}`),
      row(t("lot"), doc.lot),
      row(t("complianceCertificate"), doc.complianceCertificateNumber ?? ""),
      row(t("registeredBy"), entitlementText(resolution, report)),
    ),
  );
}

/** Organisation names by origin, from what the page shows beside verified records (display only). */
function namesByOrigin(resolution: ItemResolution, report: VerificationReport): Map<string, string> {
  const names = new Map<string, string>();
  const authority = report.authority;
  if (authority === null) return names;
  const cooperative = report.metadata?.cooperative.name;
  if (authority.cooperative !== null && cooperative !== undefined) {
    names.set(authority.cooperative, pickLocalised(cooperative, lang));
  }
  authority.events.forEach((judged, index) => {
    const event = resolution.events[index];
    if (event === undefined) return;
    names.set(judged.actorOrigin, pickLocalised(event.actor.name, lang));
    if (judged.counterparty !== null && event.counterparty !== null) {
      names.set(judged.counterparty, pickLocalised(event.counterparty.name, lang));
    }
  });
  return names;
}

/** "Registered by the GTIN's owner", "… under X's grant", or that the registrant was not entitled. */
function entitlementText(resolution: ItemResolution, report: VerificationReport): Child {
  const entitlement = report.authority?.entitlement ?? null;
  if (entitlement === null) return null;
  if (entitlement.basis === null) {
    return h("span", { class: "flag", "data-entitlement": "none" }, t("notEntitled"));
  }
  if (entitlement.basis !== "grantee") {
    return h("span", { "data-entitlement": entitlement.basis }, t("byGtinOwner"));
  }
  // The owner by the name the platform records, else by what the chain says: its company prefix.
  const named = pickLocalised(resolution.display.gtinOwner, lang);
  const owner =
    named !== ""
      ? named
      : entitlement.prefix === null
        ? t("theOwner")
        : t("prefixOwner").replace("{prefix}", formatCompanyPrefix(entitlement.prefix));
  const text = t("byGrantee")
    .replace("{who}", pickLocalised(report.metadata?.cooperative.name, lang))
    .replace("{owner}", owner);
  return h("span", { "data-entitlement": "grantee" }, text);
}

/** What the signed inspection records say, passed or failed. */
function testsSection(report: VerificationReport): HTMLElement | null {
  const rows: HTMLElement[] = [];
  for (const verified of report.events) {
    if (!verified.signatureValid || verified.payload === null) continue;
    const lab = pickLocalised(verified.payload.actor.name, lang);
    for (const test of verified.payload.data.tests ?? []) {
      const failed = testFailed(test);
      const value = test.resultMgPerKg === undefined ? "" : `${String(test.resultMgPerKg)} mg/kg`;
      const limit = test.limitMgPerKg === undefined ? "" : `≤ ${String(test.limitMgPerKg)} mg/kg`;
      const how = [test.method, test.standard].filter((s) => s !== undefined && s !== "").join("; ");
      rows.push(
        h(
          "li",
          { class: failed ? "test test-failed" : "test", "data-test": failed ? "failed" : "passed" },
          h("strong", {}, `${test.substance}: ${t(failed ? "testFailed" : "testPassed")}`),
          h("br"),
          h("span", {}, [value, limit].filter((s) => s !== "").join(" · ")),
          how === "" ? null : h("span", { class: "note" }, how),
          h("span", { class: "note" }, `${test.laboratory ?? lab} · ${chinaDate(verified.occurredAt * 1000)}`),
        ),
      );
    }
  }
  if (rows.length === 0) return null;
  return h("section", { class: "card" }, h("h2", {}, t("tests")), h("ul", { class: "tests" }, ...rows));
}

/** Each shipment's lowest and highest reading against the range the product must be kept in. */
function temperaturesSection(resolution: ItemResolution, report: VerificationReport): HTMLElement | null {
  const judged = coldChainRangeOf(report.metadata, resolution.display.coldChain ?? null);
  const rows: HTMLElement[] = [];
  for (const verified of [...report.events].sort((a, b) => a.occurredAt - b.occurredAt)) {
    if (!verified.signatureValid || verified.payload === null) continue;
    const readings = readingsOf(verified.payload);
    if (readings.length === 0) continue;
    const values = readings.map((r) => r.celsius);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const out = judged !== null && (min < judged.range.minC || max > judged.range.maxC);
    const step = BIZ_STEP_TEXT[verified.bizStep] ?? BIZ_STEP_TEXT.unknown ?? ["", ""];
    rows.push(
      h(
        "li",
        { class: out ? "temps temps-out" : "temps" },
        h("strong", {}, `${chinaDate(verified.occurredAt * 1000)} ${pick(step, lang)}`),
        h("span", {}, ` ${String(min)} – ${String(max)} °C`),
      ),
    );
  }
  if (rows.length === 0) return null;
  const range =
    judged === null
      ? null
      : h(
          "p",
          { class: "note" },
          labelled(
            t(judged.basis === "signed" ? "keepAt" : "keepAtPlatform"),
            `${String(judged.range.minC)} – ${String(judged.range.maxC)} °C`,
          ),
        );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("temperatures")),
    range,
    h("ul", { class: "temps-list" }, ...rows),
  );
}

function certificationsSection(report: VerificationReport): HTMLElement | null {
  const doc = report.metadata;
  if (doc === null) return null;
  // What matters is whether the certificate covered the harvest, not whether it is valid today.
  const harvestMs = Date.parse(doc.harvestedAt);
  const harvest = Number.isNaN(harvestMs) ? chinaDate(Date.now()) : chinaDate(harvestMs);
  const items = doc.certifications.map((cert) => {
    const covered = cert.validFrom <= harvest && harvest <= cert.validTo;
    const kind = CERT_TEXT[cert.kind];
    return h(
      "li",
      { class: covered ? "cert" : "cert cert-expired" },
      h("strong", {}, kind === undefined ? cert.kind : pick(kind, lang)),
      h("span", {}, ` ${cert.number} · ${cert.issuer}`),
      h("br"),
      h(
        "span",
        { class: "validity" },
        `${t("validity")} ${cert.validFrom} – ${cert.validTo}${covered ? "" : ` · ${t("notAtHarvest")}`}`,
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
    // Never a black box: the batch's signed photo as the poster, else the first frame
    // (a media fragment just past 0, which browsers paint once the metadata is in).
    const poster = report.metadata?.photoCids[0];
    video = h("video", {
      controls: "",
      preload: "metadata",
      playsinline: "",
      "webkit-playsinline": "",
      src: poster === undefined ? `${src}#t=0.1` : src,
      ...(poster === undefined ? {} : { poster: `${resolution.ipfsGateway}${poster}` }),
      "data-cid": report.videoCid,
    });
  }
  video.setAttribute("aria-label", t("video"));
  return h("section", { class: "card" }, h("h2", {}, t("video")), video);
}

function timelineSection(resolution: ItemResolution, report: VerificationReport): HTMLElement | null {
  const own = itemPath?.containerLines(report, lang) ?? [];
  if (report.events.length === 0 && own.length === 0) return null;
  const names = namesByOrigin(resolution, report);
  const nameOf = (origin: string): string => names.get(origin) ?? origin;
  // Each handover is shown at the receiving event that completed it.
  const handoverAt = new Map<VerificationReport["events"][number], string>();
  for (const handover of report.authority?.handovers ?? []) {
    const received = report.events[handover.receivedIndex];
    if (received === undefined) continue;
    handoverAt.set(
      received,
      t("handover").replace("{from}", nameOf(handover.from)).replace("{to}", nameOf(handover.to)),
    );
  }
  // The chain's order is the order events were anchored; people read a lifecycle by when things happened.
  const items = report.events.map((verified) => {
    const handover = handoverAt.get(verified);
    const noCustody = verified.authority !== undefined && verified.authority.basis === null;
    const step = BIZ_STEP_TEXT[verified.bizStep] ?? BIZ_STEP_TEXT.unknown ?? ["", ""];
    const payload = verified.payload;
    const actor =
      payload === null ? pickLocalised(verified.event.actor.name, lang) : pickLocalised(payload.actor.name, lang);
    const place = payload?.data.location?.name ?? "";
    const note = pickLocalised(payload?.data.note, lang);
    return h(
      "li",
      { class: verified.signatureValid && !noCustody ? "event" : "event event-bad" },
      h("time", {}, chinaDate(verified.occurredAt * 1000)),
      h("strong", {}, pick(step, lang)),
      h("span", { class: "actor" }, place === "" ? actor : `${actor} · ${place}`),
      handover === undefined ? null : h("span", { class: "handover", "data-handover": "" }, handover),
      note === "" ? null : h("span", { class: "note" }, note),
      noCustody ? h("span", { class: "flag", "data-no-custody": "" }, t("noCustody")) : null,
      verified.signatureValid ? null : h("span", { class: "flag" }, t("badSignature")),
      verified.onChain ? null : h("span", { class: "flag flag-soft" }, t("notOnChain")),
    );
  });
  // One path: the batch's events and the item's own cases, by when they happened.
  const byTime = [...report.events.map((e, i) => ({ at: e.occurredAt, item: items[i] as HTMLElement })), ...own].sort(
    (a, b) => a.at - b.at,
  );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("timeline")),
    h("ol", { class: "timeline" }, ...byTime.map((e) => e.item)),
  );
}

/** The script of what is shown only when asked, loaded once; null when it cannot be (offline). */
function loadOnDemand(): Promise<OnDemand | null> {
  const url: string = ON_DEMAND_CHUNK_URL;
  onDemandLoading ??= (import(url) as Promise<OnDemand>).then(
    (module) => (onDemand = module),
    () => {
      // Asked for again next time: the network may be back.
      onDemandLoading = null;
      return null;
    },
  );
  return onDemandLoading;
}

/** Opened when something failed: whoever sees "not verified" should see why at once. */
const opensChecks = (report: VerificationReport): boolean => report.verdict === "not_verified";

/**
 * Each check's line carries its outcome (`data-check`, `data-ok`, the detail as its title)
 * and mark from the start; its name and spoken outcome come with on-demand.ts, which a
 * closed list does not need until it is opened.
 */
function checksSection(resolution: ItemResolution, report: VerificationReport): HTMLElement {
  const list = h(
    "ul",
    {},
    ...report.checks.map((check) =>
      h(
        "li",
        {
          class: `check check-${String(check.ok)}`,
          "data-check": check.id,
          "data-ok": String(check.ok),
          title: check.detail,
        },
        h("span", { class: "mark", "aria-hidden": "true" }, check.ok === true ? "✓" : check.ok === false ? "✗" : "…"),
      ),
    ),
  );
  const shownIn = lang;
  const complete = (module: OnDemand | null): void => {
    for (const line of list.children) module?.completeCheck(line as HTMLElement, shownIn);
  };
  complete(onDemand);
  const details = h(
    "details",
    { class: "card checks", ...(checksOpen || opensChecks(report) ? { open: "" } : {}) },
    h("summary", {}, t("howChecked")),
    list,
    h("p", { class: "code" }, labelled(t("code"), resolution.uri)),
  );
  details.addEventListener("toggle", () => {
    checksOpen = details.open;
    if (details.open) void loadOnDemand().then(complete);
  });
  return details;
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
    const code = input.value.trim();
    // The claim and its answers come with on-demand.ts: few scans submit one.
    void loadOnDemand()
      .then((module): Promise<ClaimOutcome> | ClaimOutcome =>
        module === null ? { kind: "error" } : module.claimHiddenCode(resolution.item, code),
      )
      .then((outcome) => {
        claim = outcome;
        render();
      });
  });
  const message = claim === null ? null : (onDemand?.claimMessage(claim, lang) ?? t("claimError"));
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("hiddenCode")),
    form,
    message === null ? null : h("p", { class: `claim-result claim-${claim?.kind ?? ""}`, role: "status" }, message),
  );
}

/** A verifier on another origin that trusts none of this platform's answer (`VERIFIER_URL`). */
function independentLink(resolution: ItemResolution): HTMLElement | null {
  const base = resolution.display.verifierUrl;
  if (base === undefined) return null;
  const url = new URL(base);
  url.searchParams.set("link", resolution.uri);
  return h("p", { class: "independent" }, h("a", { href: url.href, "data-verifier": "" }, t("independent")));
}

function doneView(resolution: ItemResolution, report: VerificationReport): Child[] {
  const extra: Child[] = [];
  // Who had no right to speak comes first: a record made without custody, a batch
  // registered under a GTIN its registrant was not entitled to.
  const problems: HTMLElement[] = [];
  if (report.authority?.entitlement?.basis === null) {
    problems.push(h("li", { "data-authority": "not_entitled" }, t("notEntitled")));
  }
  for (const verified of report.events) {
    if (verified.authority === undefined || verified.authority.basis !== null) continue;
    const step = BIZ_STEP_TEXT[verified.bizStep] ?? BIZ_STEP_TEXT.unknown ?? ["", ""];
    const text = t("noCustodyFinding")
      .replace("{actor}", pickLocalised(verified.event.actor.name, lang))
      .replace("{step}", pick(step, lang));
    problems.push(h("li", { "data-authority": "no_custody" }, text));
  }
  if (problems.length > 0) extra.push(h("ul", { class: "findings authority" }, ...problems));
  // The problem first, in plain words, before any fact about the product (a recall is
  // already the banner's own sentence).
  const findings = report.findings.filter((f) => f.code !== "recalled");
  if (findings.length > 0) {
    extra.push(
      h(
        "ul",
        { class: "findings" },
        ...findings.map((f) => h("li", { "data-finding": f.code }, lang === "zh" ? f.zh : f.en)),
      ),
    );
  }
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
    testsSection(report),
    temperaturesSection(resolution, report),
    certificationsSection(report),
    itemPath?.certificatesSection(resolution, lang),
    claimSection(resolution),
    timelineSection(resolution, report),
    videoSection(resolution, report),
    checksSection(resolution, report),
    independentLink(resolution),
    h("p", { class: "scans" }, t("scanCount").replace("{n}", String(resolution.scans.count))),
  ];
}

function switchLanguage(): void {
  lang = lang === "zh" ? "en" : "zh";
  storeLang(lang);
  render();
}

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const toggle = h("button", { type: "button", class: "lang", "aria-label": "Language / 语言" }, t("switchTo"));
  toggle.addEventListener("click", switchLanguage);
  let body: Child[];
  switch (state.kind) {
    case "loading":
      body = [banner("checking")];
      break;
    case "error":
      body = [failureView(state.failure)];
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

/** The content-named SHA-256 module the build writes beside the page (`scripts/tasks/build-web.ts`). */
declare const SHA256_FALLBACK_URL: string;
/** The content-named item-path.ts bundle (same build); verify-resolution.ts loads it too, the browser once. */
declare const CONTAINERS_CHUNK_URL: string;
/** The content-named on-demand.ts bundle (same build). */
declare const ON_DEMAND_CHUNK_URL: string;

/**
 * Browsers give Web Crypto only to secure origins; the demo on a phone is opened over plain
 * HTTP on the LAN. There, and only there, the page loads a SHA-256 of its own to check
 * documents against their CIDs. Without one no document matches, which the verdict says.
 */
async function loadSha256Fallback(): Promise<void> {
  if (hasWebCryptoDigest()) return;
  const url: string = SHA256_FALLBACK_URL;
  try {
    const module = (await import(url)) as { sha256: Sha256 };
    useSha256Fallback(module.sha256);
  } catch {
    // Left unchecked: documents then fail their CID check rather than pass unhashed.
  }
}

/** Whether the page still shows what scan.html painted: the Chinese "checking" banner. */
function showsStaticChecking(): boolean {
  return lang === "zh" && document.querySelector('#app [data-verdict="checking"]') !== null;
}

async function start(): Promise<void> {
  // scan.html already shows the checking banner in Chinese, painted while this script was on
  // its way; rendering it again would only cost a slow phone a layout before the verdict.
  if (showsStaticChecking()) document.querySelector("#app .lang")?.addEventListener("click", switchLanguage);
  else render();
  const fallback = loadSha256Fallback();
  const resolution = await loadResolution().catch((): Failure => ({ kind: "network" }));
  if (!isResolution(resolution)) {
    state = { kind: "error", failure: resolution };
    render();
    return;
  }
  if (resolution.type === "oioc.item-unknown") {
    state = { kind: "unknown", resolution };
    render();
    return;
  }
  state = { kind: "checking", resolution };
  if (!showsStaticChecking()) render();
  await fallback;
  const pathScript =
    (resolution.containers?.length ?? 0) + (resolution.certificates?.length ?? 0) === 0
      ? null
      : (import(CONTAINERS_CHUNK_URL) as Promise<typeof import("./item-path.ts")>);
  const report = await verifyResolution(resolution, { baseUrl: location.href });
  // The failed checks' names are shown with the verdict: the list opens by itself. Not
  // loaded, the list shows the marks alone.
  if (report.chainReachable && opensChecks(report)) await loadOnDemand();
  // Not loaded: the containers check failed already, and the certificates are not shown.
  itemPath = (await pathScript?.catch(() => null)) ?? null;
  // A chain that cannot be read says nothing about the item: offer a retry, not a verdict.
  state = report.chainReachable
    ? { kind: "done", resolution, report }
    : { kind: "error", failure: { kind: "chain_down" } };
  render();
}

void start();
