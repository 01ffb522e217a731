/**
 * The independent audit (chain + IPFS, not the platform's database): run for a batch or
 * for every batch a search found, its findings grouped by severity, printed or downloaded.
 */
import type { BatchAuditReport } from "../../../../server/src/services/audit/report.ts";
import { sourceLabel } from "../../../../server/src/domain/audit-sources.ts";
import { SEVERITY_TEXT, pick } from "../shared/text.ts";
import { chinaMinute, failureText, h, saveResponse } from "../shared/ui.ts";
import { download } from "./download.ts";
import { render, state, type AuditReport } from "./state.ts";
import { t, textOf } from "./text.ts";

type Finding = BatchAuditReport["findings"][number];

const SEVERITIES = ["critical", "warning", "info"] as const;

export async function runAudit(path: string): Promise<void> {
  if (state.api === null) return;
  state.report = { path, value: null, error: null };
  state.view = "audit";
  render();
  try {
    state.report = { path, value: await state.api.get<AuditReport>(path), error: null };
  } catch (error) {
    state.report = { path, value: null, error: failureText(error, state.lang) };
  }
  render();
}

function findingsList(findings: readonly Finding[]): HTMLElement {
  if (findings.length === 0) return h("p", { class: "clean", "data-testid": "no-findings" }, t("noFindings"));
  const groups = SEVERITIES.map((severity) => {
    const members = findings.filter((f) => f.severity === severity);
    if (members.length === 0) return null;
    return h(
      "div",
      { class: `severity severity-${severity}`, "data-severity": severity },
      h("h3", {}, `${textOf(SEVERITY_TEXT, severity)} (${String(members.length)})`),
      ...members.map((f) =>
        h(
          "div",
          { class: "finding", "data-code": f.code },
          h("p", {}, h("strong", {}, pick({ zh: f.zh, en: f.en }, state.lang)), " ", h("code", {}, f.code)),
          h("details", {}, h("summary", {}, t("evidence")), h("pre", {}, JSON.stringify(f.evidence, null, 2))),
        ),
      ),
    );
  });
  return h("div", { class: "findings" }, ...groups);
}

/** The lot's items in cases against those it registered, and the orders its despatches name. */
function packingSummary(packing: BatchAuditReport["packing"]): HTMLElement[] {
  if (packing === undefined || packing.containers.length === 0) return [];
  const line = t("packing").replace(
    /\{(\w+)\}/g,
    (_, key: string) =>
      ({
        registered: String(packing.registered),
        live: String(packing.packedLive),
        ever: String(packing.packedEver),
        count: String(packing.containers.length),
      })[key] ?? "",
  );
  return [
    h("p", { "data-testid": "packing" }, line),
    ...(packing.bizTransactions.length === 0
      ? []
      : [
          h(
            "p",
            {},
            `${t("orderReferences")}: `,
            ...packing.bizTransactions.map((b) => h("code", {}, `${b.type} ${b.id} `)),
          ),
        ]),
  ];
}

function batchReport(value: BatchAuditReport): HTMLElement {
  return h(
    "section",
    { class: "card batch-report", "data-batch-id": value.batchId },
    h("h2", {}, `${value.gtin ?? ""} / ${value.lot ?? ""}`),
    h("p", {}, h("code", {}, value.batchId)),
    // Rule families by their identifiers, as the printed report shows them (the same in both languages).
    h(
      "p",
      {},
      `${t("checked")}: `,
      ...value.checked.flatMap((c, i) => [i === 0 ? "" : state.lang === "zh" ? "、" : ", ", h("code", {}, c)]),
    ),
    ...packingSummary(value.packing),
    findingsList(value.findings),
  );
}

export function auditView(): HTMLElement {
  const report = state.report;
  if (report === null) return h("section", { class: "card" }, h("p", {}, t("noReport")));
  if (report.error !== null)
    return h("section", { class: "card" }, h("p", { class: "flash flash-error", role: "alert" }, report.error));
  const value = report.value;
  if (value === null) return h("section", { class: "card" }, h("p", { role: "status" }, t("auditing")));
  const path = report.path;
  const print = h("button", { type: "button" }, t("print"));
  print.addEventListener("click", () => {
    window.print();
  });
  const html = h("button", { type: "button", "data-action": "report-html" }, t("downloadHtml"));
  html.addEventListener(
    "click",
    // The printable report in the console's language (all Chinese with China time, or English).
    () => void download(`${path}${path.includes("?") ? "&" : "?"}format=html&lang=${state.lang}`, "audit.html"),
  );
  const json = h("button", { type: "button" }, t("downloadJson"));
  json.addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(value, null, 2)], { type: "application/json" });
    void saveResponse(new Response(blob), "audit.json");
  });
  const batchReports = value.type === "oioc.audit-report" ? [value] : value.batches;
  const sources = batchReports[0]?.sources;
  return h(
    "section",
    { "data-testid": "audit-report" },
    h(
      "div",
      { class: "card" },
      h("h1", {}, t("audit")),
      h(
        "p",
        {},
        `${t("generatedAt")}: ${state.lang === "zh" ? `${chinaMinute(value.generatedAt)} 北京时间` : `${value.generatedAt.slice(0, 16).replace("T", " ")} UTC (${chinaMinute(value.generatedAt).slice(11)} China time)`}`,
      ),
      sources === undefined
        ? null
        : h(
            "p",
            {},
            `${t("sources")}: ${state.lang === "zh" ? "链 ID" : "chain"} ${sources.chainId} · `,
            // An address does not break like words: as code it wraps within a phone's width.
            h("code", {}, sources.registry),
            ` · ${sourceLabel(sources.rpc, state.lang)} · ${sourceLabel(sources.content, state.lang)}`,
          ),
      value.type === "oioc.audit-scope-report"
        ? h("p", {}, `${t("batchCount")}: ${String(value.batches.length)}`)
        : null,
      h("div", { class: "actions" }, print, html, json),
    ),
    value.type === "oioc.audit-scope-report"
      ? h(
          "section",
          { class: "card", "data-testid": "across-batches" },
          h("h2", {}, t("acrossBatches")),
          findingsList(value.findings),
        )
      : null,
    ...batchReports.map(batchReport),
  );
}
