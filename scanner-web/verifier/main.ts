/**
 * The independent verifier: a static page anyone can host on their own origin. It takes an
 * item's Digital Link, fetches the platform's resolution (CORS), and verifies it with the
 * shared core, trusting none of the platform's answer beyond what it re-checks: the chain
 * and registry are the ones pinned into this build, the chain is read from several
 * independent endpoints that must agree (or blocks the pinned validators sealed), never
 * through the platform's `/rpc` or the resolution's `rpcUrl`.
 */
import { sha256 } from "@noble/hashes/sha2.js";

import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import {
  hasWebCryptoDigest,
  useSha256Fallback,
  verifyResolution,
  type VerificationReport,
} from "../../server/src/verify/index.ts";
import type { ChainTrustReport, EndpointOutcome, TrustRoots } from "../../server/src/verify/trust-roots.ts";
import { h, type Child } from "../src/dom.ts";
import { CHECK_TEXT, VERDICT_TEXT, pick, storeLang, storedLang, type Lang, type Pair } from "../src/i18n.ts";
import { createChainReads } from "./chain-reads.ts";
import { VERIFIER_TEXT, VERIFIER_VERDICT_TEXT } from "./text.ts";

/** The roots pinned by `scripts/tasks/build-verifier.ts`: part of the bundle, so part of its hash. */
declare const VERIFIER_PINS: TrustRoots;
const pins: TrustRoots = VERIFIER_PINS;

type PageVerdict = keyof typeof VERDICT_TEXT | keyof typeof VERIFIER_VERDICT_TEXT;

/** A root the platform's answer contradicts: each is named on the page. */
interface PinProblem {
  pin: "registry" | "chain" | "version";
  claimed: string;
  pinned: string;
}

type State =
  | { kind: "idle" }
  | { kind: "checking"; link: string }
  | { kind: "failed"; link: string; verdict: PageVerdict; detail?: string }
  | {
      kind: "done";
      link: string;
      report: VerificationReport;
      trust: ChainTrustReport;
      pinProblems: PinProblem[];
      verdict: PageVerdict;
    };

let lang: Lang = storedLang();
let state: State = { kind: "idle" };

const t = (key: keyof typeof VERIFIER_TEXT): string => pick(VERIFIER_TEXT[key], lang);
const fill = (text: string, values: Record<string, string>): string =>
  text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);

function verdictText(key: PageVerdict): { icon: string; title: Pair; sentence: Pair } {
  return key in VERIFIER_VERDICT_TEXT
    ? VERIFIER_VERDICT_TEXT[key as keyof typeof VERIFIER_VERDICT_TEXT]
    : VERDICT_TEXT[key as keyof typeof VERDICT_TEXT];
}

function isResolution(value: unknown): value is ItemResolution | UnknownItemResolution {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "oioc.item-resolution" || type === "oioc.item-unknown";
}

/** An absolute http(s) link, or null. */
function linkOf(text: string): string | null {
  try {
    const url = new URL(text.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** What in the platform's answer contradicts the pinned roots. */
function pinProblemsOf(resolution: ItemResolution): PinProblem[] {
  const problems: PinProblem[] = [];
  const { chain } = resolution;
  if (!sameAddress(chain.registry, pins.registry)) {
    problems.push({ pin: "registry", claimed: chain.registry, pinned: pins.registry });
  }
  if (chain.chainId !== pins.chainId) problems.push({ pin: "chain", claimed: chain.chainId, pinned: pins.chainId });
  if (chain.typedDataVersion !== pins.typedDataVersion) {
    problems.push({ pin: "version", claimed: chain.typedDataVersion, pinned: pins.typedDataVersion });
  }
  return problems;
}

/** Whether the chain reads rested on enough: a trusted block, agreed by a quorum or sealed. */
function quorumReached(trust: ChainTrustReport, report: VerificationReport): boolean {
  if (!report.chainReachable || trust.block === null) return false;
  if (trust.mode === "seals") return (trust.sealedBy ?? []).length > 0;
  return trust.endpoints.filter((e) => e.status === "agreed").length >= pins.quorum;
}

async function verify(link: string): Promise<State> {
  let body: unknown;
  try {
    const response = await fetch(link, { headers: { accept: "application/json" } });
    body = await response.json().catch(() => null);
    if (!isResolution(body))
      return { kind: "failed", link, verdict: "error", detail: `HTTP ${String(response.status)}` };
  } catch {
    return { kind: "failed", link, verdict: "error" };
  }
  if (body.type === "oioc.item-unknown") return { kind: "failed", link, verdict: "unknown" };
  const pinProblems = pinProblemsOf(body);
  const rpc = createChainReads(pins);
  // The pinned version and deployment block, whatever the answer claims: a claimed "1" must
  // not skip the checks version 2 has, nor a later block hide an entitlement's logs.
  const report = await verifyResolution(body, {
    baseUrl: link,
    rpc,
    expected: {
      chainId: pins.chainId,
      registry: pins.registry,
      typedDataVersion: pins.typedDataVersion,
      fromBlock: pins.deploymentBlock,
    },
  });
  const trust = report.chainTrust ?? rpc.trustReport();
  const verdict: PageVerdict =
    pinProblems.length > 0 ? "pin_mismatch" : !quorumReached(trust, report) ? "no_quorum" : report.verdict;
  return { kind: "done", link, report, trust, pinProblems, verdict };
}

function banner(key: PageVerdict, ...extra: Child[]): HTMLElement {
  const text = verdictText(key);
  return h(
    "section",
    { class: `banner banner-${key}`, role: "status", "aria-live": "polite", "data-verdict": key },
    h("span", { class: "banner-icon", "aria-hidden": "true" }, text.icon),
    h(
      "div",
      { class: "banner-text" },
      h("h1", {}, pick(text.title, lang)),
      h("p", {}, fill(pick(text.sentence, lang), { quorum: String(pins.quorum) })),
      ...extra,
    ),
  );
}

function pinProblemText(problem: PinProblem): string {
  const key = problem.pin === "registry" ? "pinRegistry" : problem.pin === "chain" ? "pinChain" : "pinVersion";
  return fill(t(key), { claimed: problem.claimed, pinned: problem.pinned });
}

function statusText(outcome: EndpointOutcome): string {
  return t(outcome.status);
}

function row(label: string, value: Child, attributes: Record<string, string> = {}): HTMLElement {
  return h("div", { class: "row", ...attributes }, h("dt", {}, label), h("dd", {}, value));
}

/** The pinned roots, the block read at, and how each endpoint fared. */
function restedOn(trust: ChainTrustReport | null): HTMLElement {
  const outcomes =
    trust?.endpoints ?? pins.endpoints.map((endpoint): EndpointOutcome => ({ endpoint, status: "agreed" }));
  const rule =
    pins.validators === undefined
      ? fill(t("quorumOf"), { quorum: String(pins.quorum), n: String(pins.endpoints.length) })
      : t("sealsRule");
  return h(
    "section",
    { class: "card rested", "data-rested-on": "" },
    h("h2", {}, t("restedOn")),
    h(
      "dl",
      {},
      row(t("pinnedChain"), pins.chainId),
      row(t("pinnedRegistry"), h("code", {}, pins.registry)),
      pins.validators === undefined ? null : row(t("pinnedValidators"), h("code", {}, pins.validators.join(", "))),
      row(t("quorumRule"), rule),
      trust === null
        ? null
        : row(
            t("block"),
            trust.block === null ? t("noBlock") : h("code", {}, `#${trust.block.number} ${trust.block.hash}`),
            { "data-block": trust.block?.number ?? "" },
          ),
      trust?.sealedBy === undefined ? null : row(t("sealedBy"), h("code", {}, trust.sealedBy.join(", "))),
    ),
    h("h3", {}, t("endpoints")),
    h(
      "ul",
      { class: "endpoints" },
      ...outcomes.map((outcome) =>
        h(
          "li",
          {
            class: `endpoint endpoint-${trust === null ? "pending" : outcome.status}`,
            "data-endpoint": outcome.endpoint,
            "data-status": trust === null ? "pending" : outcome.status,
          },
          h("code", {}, outcome.endpoint),
          trust === null ? null : h("strong", {}, ` ${statusText(outcome)}`),
          outcome.detail === undefined || trust === null ? null : h("span", { class: "note" }, outcome.detail),
        ),
      ),
    ),
  );
}

function checksSection(report: VerificationReport): HTMLElement {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("checks")),
    h(
      "ul",
      { class: "checks" },
      ...report.checks.map((check) =>
        h(
          "li",
          { class: `check check-${String(check.ok)}`, "data-check": check.id, "data-ok": String(check.ok) },
          h("span", { class: "mark", "aria-hidden": "true" }, check.ok === true ? "✓" : check.ok === false ? "✗" : "…"),
          h("span", {}, pick(CHECK_TEXT[check.id], lang)),
          h(
            "span",
            { class: "sr-only" },
            ` (${t(check.ok === true ? "checkPassed" : check.ok === false ? "checkFailed" : "checkPending")})`,
          ),
          check.ok === false ? h("span", { class: "note" }, check.detail) : null,
        ),
      ),
    ),
  );
}

function doneView(done: Extract<State, { kind: "done" }>): Child[] {
  const extra: Child[] = [];
  if (done.pinProblems.length > 0) {
    extra.push(
      h("ul", { class: "findings" }, ...done.pinProblems.map((p) => h("li", { "data-pin": p.pin }, pinProblemText(p)))),
    );
  }
  const findings = done.report.findings.filter((f) => f.code !== "recalled");
  if (findings.length > 0) {
    extra.push(
      h(
        "ul",
        { class: "findings" },
        ...findings.map((f) => h("li", { "data-finding": f.code }, lang === "zh" ? f.zh : f.en)),
      ),
    );
  }
  return [
    banner(done.verdict, ...extra),
    restedOn(done.trust),
    checksSection(done.report),
    h("p", { class: "note" }, `${t("platform")}: ${new URL(done.link).origin}`),
  ];
}

function form(link: string): HTMLElement {
  const input = h("input", {
    id: "link",
    name: "link",
    // Text, not "url": a bad link then gets this page's own zh/en message, not the browser's.
    type: "text",
    inputmode: "url",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://…/01/…/10/…/21/…",
    value: link,
    required: "",
  });
  const element = h(
    "form",
    { class: "card link-form" },
    h("label", { for: "link" }, t("linkHint")),
    h("div", { class: "link-row" }, input, h("button", { type: "submit" }, t("verify"))),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(input.value);
  });
  return element;
}

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const toggle = h(
    "button",
    { type: "button", class: "lang", "aria-label": "Language / 语言" },
    lang === "zh" ? "English" : "中文",
  );
  toggle.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  let body: Child[];
  switch (state.kind) {
    case "idle":
      body = [h("p", { class: "intro" }, t("intro")), form(""), restedOn(null)];
      break;
    case "checking":
      body = [form(state.link), banner("checking"), restedOn(null)];
      break;
    case "failed":
      body = [
        form(state.link),
        banner(
          state.verdict,
          state.verdict === "error" ? h("p", {}, t("loadFailed")) : null,
          state.detail === undefined ? null : h("p", { class: "code" }, state.detail),
        ),
        restedOn(null),
      ];
      break;
    case "done":
      body = [form(state.link), ...doneView(state)];
      break;
  }
  const root = document.getElementById("app") ?? document.body;
  root.replaceChildren(
    h("header", { class: "top" }, h("span", { class: "brand" }, `一物一码 · ${t("brand")}`), toggle),
    h("main", {}, ...body),
  );
}

async function run(text: string): Promise<void> {
  const link = linkOf(text);
  if (link === null) {
    state = { kind: "failed", link: text, verdict: "bad_link" };
    render();
    return;
  }
  // The link in the address, so the verdict can be shared and reloaded.
  history.replaceState(null, "", `?link=${encodeURIComponent(link)}`);
  state = { kind: "checking", link };
  render();
  state = await verify(link).catch((): State => ({ kind: "failed", link, verdict: "error" }));
  render();
}

// Any origin may host this page, plain HTTP on a LAN included, where browsers give no Web Crypto.
if (!hasWebCryptoDigest()) useSha256Fallback(sha256);

const given = new URLSearchParams(location.search).get("link");
if (given === null || given === "") render();
else void run(given);
