/**
 * The regulator console, for a desk: find batches and organisations, run the independent
 * audit (chain + IPFS, not the platform's database) and read its findings, download the
 * EPCIS and key-data-element exports, and act: suspend or reinstate an organisation,
 * recall a batch, each with a reason that is signed, anchored and logged under the
 * regulator's name. Every button is one call of the public API.
 */
import type { BatchAuditReport, ScopeAuditReport } from "../../../server/src/services/audit/report.ts";
import type { batchView } from "../../../server/src/http/routes/batches.ts";
import type { organisationView } from "../../../server/src/http/routes/organisations.ts";
import { Api, ProblemFailure, newIdempotencyKey, queryString, storeToken, storedToken } from "./shared/api.ts";
import {
  COMMON,
  LEDGER_TEXT,
  SEVERITY_TEXT,
  STATUS_TEXT,
  pick,
  storeLang,
  storedLang,
  type Lang,
  type Pair,
} from "./shared/text.ts";
import { chinaDay, failureText, flash, h, reasonDialog, saveResponse, signInView } from "./shared/ui.ts";

type BatchView = ReturnType<typeof batchView>;
type OrganisationView = ReturnType<typeof organisationView>;
type AuditReport = BatchAuditReport | ScopeAuditReport;
type Finding = BatchAuditReport["findings"][number];

const T = {
  title: ["监管控制台", "Regulator console"],
  batches: ["批次", "Batches"],
  organisations: ["机构", "Organisations"],
  audit: ["审计报告", "Audit report"],
  region: ["行政区划代码（前缀）", "Region code (prefix)"],
  cooperative: ["合作社", "Cooperative"],
  anyCooperative: ["全部合作社", "All cooperatives"],
  gtin: ["商品条码", "GTIN"],
  status: ["状态", "Status"],
  any: ["全部", "Any"],
  harvestedFrom: ["采收日期起", "Harvested from"],
  harvestedTo: ["采收日期止", "Harvested to"],
  search: ["查询", "Search"],
  results: ["查询结果：{n} 个批次", "{n} batch(es) found"],
  lot: ["批号", "Lot"],
  harvested: ["采收", "Harvested"],
  items: ["件数", "Items"],
  ledger: ["账本", "Ledger"],
  actions: ["操作", "Actions"],
  runAudit: ["审计", "Audit"],
  auditAll: ["审计查询范围内全部批次", "Audit every batch found"],
  needFilter: ["请至少设置一个筛选条件。", "Set at least one filter first."],
  exportEpcis: ["导出 EPCIS 2.0", "Export EPCIS 2.0"],
  exportCsv: ["导出关键数据 CSV", "Key data CSV"],
  exportXlsx: ["导出关键数据 Excel", "Key data Excel"],
  downloaded: ["已下载：", "Downloaded: "],
  recall: ["责令召回", "Recall"],
  recallTitle: ["责令召回该批次？", "Recall this batch?"],
  recallText: [
    "召回将以监管机构名义签名并写入账本，消费者扫码会看到“已召回”。",
    "The recall is signed in the regulator's name and anchored; every scan shows “Recalled”.",
  ],
  recalled: ["召回已提交，写入账本后扫码页即显示。", "Recall accepted; scans show it once it is anchored."],
  suspend: ["暂停", "Suspend"],
  reinstate: ["恢复", "Reinstate"],
  suspendTitle: ["暂停该机构？", "Suspend this organisation?"],
  suspendText: [
    "暂停立即生效：该机构不能再登记批次或记录环节，已有批次的扫码页会显示暂停。",
    "In force at once: it can register and record nothing more, and its batches' scan pages say so.",
  ],
  reinstateTitle: ["恢复该机构？", "Reinstate this organisation?"],
  reinstateText: ["恢复后该机构可继续登记和记录。", "It may register and record again."],
  suspended: ["已暂停。", "Suspended."],
  reinstated: ["已恢复。", "Reinstated."],
  kind: ["类型", "Kind"],
  uscc: ["统一社会信用代码", "USCC"],
  name: ["名称", "Name"],
  regionName: ["地区", "Region"],
  generatedAt: ["生成时间", "Generated"],
  sources: ["证据来源", "Sources"],
  checked: ["已检查", "Checked"],
  noFindings: ["未发现异常。", "No findings."],
  acrossBatches: ["跨批次", "Across batches"],
  print: ["打印", "Print"],
  downloadHtml: ["下载可打印报告（HTML）", "Download printable report (HTML)"],
  downloadJson: ["下载 JSON", "Download JSON"],
  auditing: ["正在从区块链和 IPFS 重新核验…", "Re-verifying from the chain and IPFS…"],
  noReport: ["在“批次”中选择要审计的批次。", "Choose what to audit under “Batches”."],
  evidence: ["证据", "Evidence"],
  notRegulator: ["此令牌不属于监管机构。", "This token does not belong to a regulator."],
  batchCount: ["批次数", "Batches"],
} as const satisfies Record<string, Pair>;

const KIND_TEXT: Record<string, Pair> = {
  cooperative: ["合作社", "Cooperative"],
  processor: ["加工企业", "Processor"],
  logistics: ["物流企业", "Logistics"],
  retailer: ["零售商", "Retailer"],
  inspector: ["检测机构", "Inspector"],
  regulator: ["监管机构", "Regulator"],
};

const SEVERITIES = ["critical", "warning", "info"] as const;

let lang: Lang = storedLang();
let api: Api | null = null;
let signedInAs: OrganisationView | null = null;
let view: "batches" | "organisations" | "audit" = "batches";
let organisations: OrganisationView[] = [];
let batches: BatchView[] | null = null;
let filters: Record<string, string> = {};
let sortKey: "lot" | "gtin" | "cooperative" | "region" | "harvestedAt" | "itemCount" | "status" = "harvestedAt";
let sortDescending = true;
let report: { path: string; value: AuditReport | null; error: string | null } | null = null;

const t = (key: keyof typeof T): string => pick(T[key], lang);
const app = (): HTMLElement => document.getElementById("app") ?? document.body;
const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

function textOf(table: Record<string, Pair>, key: string): string {
  return pick(table[key] ?? [key, key], lang);
}

// ---------------------------------------------------------------------------- shell

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("title")} · 一物一码`;
  if (api === null) {
    app().replaceChildren(topBar(), h("main", {}, flashRegion, signInView(lang, T.title, signIn)));
    return;
  }
  const content = view === "batches" ? batchesView() : view === "organisations" ? organisationsView() : auditView();
  app().replaceChildren(topBar(), tabs(), h("main", {}, flashRegion, content));
}

function topBar(): HTMLElement {
  const switcher = h("button", { type: "button", class: "link" }, pick(COMMON.switchTo, lang));
  switcher.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  const right = h("div", { class: "top-actions" }, switcher);
  if (api !== null) {
    const out = h("button", { type: "button", class: "link" }, pick(COMMON.signOut, lang));
    out.addEventListener("click", () => {
      storeToken("regulator", null);
      api = null;
      signedInAs = null;
      render();
    });
    right.append(out);
  }
  const name = signedInAs === null ? t("title") : `${pick(signedInAs.name, lang)} · ${t("title")}`;
  return h("header", { class: "top" }, h("span", { class: "brand" }, name), right);
}

function tabs(): HTMLElement {
  const tab = (target: typeof view, label: string): HTMLElement => {
    const button = h("button", { type: "button", role: "tab", "aria-selected": String(view === target) }, label);
    button.addEventListener("click", () => {
      view = target;
      render();
      if (target === "organisations") void loadOrganisations();
    });
    return button;
  };
  return h(
    "nav",
    { class: "tabs", role: "tablist" },
    tab("batches", t("batches")),
    tab("organisations", t("organisations")),
    tab("audit", t("audit")),
  );
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const me = await candidate.get<{ organisation: OrganisationView | null; roles: string[] }>("/api/v1/me");
  if (!me.roles.includes("regulator")) {
    throw new ProblemFailure({
      code: "console.wrong_role",
      status: 403,
      message: { zh: T.notRegulator[0], en: T.notRegulator[1] },
    });
  }
  storeToken("regulator", token);
  api = candidate;
  signedInAs = me.organisation;
  await loadOrganisations();
  render();
}

async function loadOrganisations(): Promise<void> {
  if (api === null) return;
  try {
    organisations = (await api.get<{ organisations: OrganisationView[] }>("/api/v1/organisations")).organisations;
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
  if (view === "organisations") render();
}

function organisationName(id: string): string {
  const org = organisations.find((o) => o.id === id);
  return org === undefined ? id : pick(org.name, lang);
}

// ---------------------------------------------------------------------------- batches

function filterForm(): HTMLElement {
  const input = (name: string, attributes: Record<string, string> = {}): HTMLInputElement =>
    h("input", { name, value: filters[name] ?? "", ...attributes });
  const cooperative = h(
    "select",
    { name: "organisationId" },
    h("option", { value: "" }, t("anyCooperative")),
    ...organisations
      .filter((o) => o.kind === "cooperative")
      .map((o) => h("option", { value: o.id }, `${pick(o.name, lang)} (${o.regionCode})`)),
  );
  cooperative.value = filters.organisationId ?? "";
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, t("any")),
    h("option", { value: "active" }, textOf(STATUS_TEXT, "active")),
    h("option", { value: "recalled" }, textOf(STATUS_TEXT, "recalled")),
  );
  status.value = filters.status ?? "";
  const form = h(
    "form",
    { class: "card filters", "data-testid": "filters" },
    h("label", {}, t("region"), input("region", { inputmode: "numeric", pattern: "\\d{1,6}" })),
    h("label", {}, t("cooperative"), cooperative),
    h("label", {}, t("gtin"), input("gtin", { inputmode: "numeric", pattern: "\\d{14}" })),
    h("label", {}, t("status"), status),
    h("label", {}, t("harvestedFrom"), input("harvestedFrom", { type: "date" })),
    h("label", {}, t("harvestedTo"), input("harvestedTo", { type: "date" })),
    h("button", { type: "submit", class: "primary" }, t("search")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = {};
    for (const [name, value] of new FormData(form)) if (typeof value === "string") filters[name] = value;
    void search();
  });
  return form;
}

async function search(): Promise<void> {
  if (api === null) return;
  try {
    batches = (await api.get<{ batches: BatchView[] }>(`/api/v1/batches${queryString({ ...filters, limit: "500" })}`))
      .batches;
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
  render();
}

/** The same filters in the form the audit and export endpoints take. */
function scopeQuery(): string | null {
  const scope = {
    organisationId: filters.organisationId ?? "",
    region: filters.region ?? "",
    gtin: filters.gtin ?? "",
    from: filters.harvestedFrom ?? "",
    to: filters.harvestedTo ?? "",
  };
  const query = queryString(scope);
  return query === "" ? null : query;
}

function sortValue(batch: BatchView): string | number {
  switch (sortKey) {
    case "cooperative":
      return organisationName(batch.organisationId);
    case "region":
      return organisations.find((o) => o.id === batch.organisationId)?.regionCode ?? "";
    case "itemCount":
      return batch.itemCount;
    case "lot":
    case "gtin":
    case "harvestedAt":
    case "status":
      return batch[sortKey];
  }
}

function sortedBatches(list: BatchView[]): BatchView[] {
  return [...list].sort((a, b) => {
    const x = sortValue(a);
    const y = sortValue(b);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return sortDescending ? -order : order;
  });
}

function batchesView(): HTMLElement {
  const section = h("section", {}, filterForm());
  if (batches === null) return section;
  const header = (key: typeof sortKey, label: string): HTMLElement => {
    const mark = sortKey === key ? (sortDescending ? " ▼" : " ▲") : "";
    const button = h("button", { type: "button", class: "sort", "data-sort": key }, `${label}${mark}`);
    button.addEventListener("click", () => {
      sortDescending = sortKey === key ? !sortDescending : false;
      sortKey = key;
      render();
    });
    return h("th", { "aria-sort": sortKey === key ? (sortDescending ? "descending" : "ascending") : "none" }, button);
  };
  const rows = sortedBatches(batches).map((batch) => {
    const org = organisations.find((o) => o.id === batch.organisationId);
    const actions = h("div", { class: "actions" });
    const audit = h("button", { type: "button", "data-action": "audit" }, t("runAudit"));
    audit.addEventListener("click", () => void runAudit(`/api/v1/audits/batches/${batch.batchId}`));
    const epcis = h("button", { type: "button", "data-action": "epcis" }, "EPCIS");
    epcis.addEventListener(
      "click",
      () => void download(`/api/v1/exports/epcis?batchId=${batch.batchId}`, "epcis.jsonld"),
    );
    actions.append(audit, epcis);
    if (batch.status === "active") {
      const recall = h("button", { type: "button", class: "danger", "data-action": "recall" }, t("recall"));
      recall.addEventListener("click", () => void recallBatch(batch));
      actions.append(recall);
    }
    return h(
      "tr",
      { "data-lot": batch.lot, "data-batch-id": batch.batchId },
      h("td", {}, batch.lot),
      h("td", {}, batch.gtin),
      h("td", {}, organisationName(batch.organisationId)),
      h("td", {}, org === undefined ? "" : org.regionName === null ? org.regionCode : pick(org.regionName, lang)),
      h("td", {}, chinaDay(batch.harvestedAt)),
      h("td", {}, String(batch.itemCount)),
      h("td", {}, h("span", { class: `badge ledger-${batch.ledger.state}` }, textOf(LEDGER_TEXT, batch.ledger.state))),
      h(
        "td",
        { "data-testid": "batch-status" },
        h(
          "span",
          { class: `badge${batch.status === "recalled" ? " badge-danger" : ""}` },
          textOf(STATUS_TEXT, batch.status),
        ),
      ),
      h("td", {}, actions),
    );
  });
  const scopeActions = h("div", { class: "actions" });
  const scoped = (label: string, run: (query: string) => void): HTMLElement => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", () => {
      const query = scopeQuery();
      if (query === null) flash(flashRegion, "info", t("needFilter"));
      else run(query);
    });
    return button;
  };
  scopeActions.append(
    scoped(t("auditAll"), (q) => void runAudit(`/api/v1/audits${q}`)),
    scoped(t("exportEpcis"), (q) => void download(`/api/v1/exports/epcis${q}`, "epcis.jsonld")),
    scoped(t("exportCsv"), (q) => void download(`/api/v1/exports/kde.csv${q}`, "kde.csv")),
    scoped(t("exportXlsx"), (q) => void download(`/api/v1/exports/kde.xlsx${q}`, "kde.xlsx")),
  );
  section.append(
    h(
      "div",
      { class: "card" },
      h("h2", { "data-testid": "result-count" }, t("results").replace("{n}", String(batches.length))),
      scopeActions,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-testid": "batches" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              header("lot", t("lot")),
              header("gtin", t("gtin")),
              header("cooperative", t("cooperative")),
              header("region", t("regionName")),
              header("harvestedAt", t("harvested")),
              header("itemCount", t("items")),
              h("th", {}, t("ledger")),
              header("status", t("status")),
              h("th", {}, t("actions")),
            ),
          ),
          h("tbody", {}, ...rows),
        ),
      ),
    ),
  );
  return section;
}

async function download(path: string, fallbackName: string): Promise<void> {
  if (api === null) return;
  try {
    const name = await saveResponse(await api.fetch(path, { accept: "*/*" }), fallbackName);
    flash(flashRegion, "ok", `${t("downloaded")}${name}`);
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
}

async function recallBatch(batch: BatchView): Promise<void> {
  if (api === null) return;
  const reason = await reasonDialog(
    t("recallTitle"),
    `${batch.gtin} / ${batch.lot}. ${t("recallText")}`,
    t("recall"),
    lang,
  );
  if (reason === null) return;
  try {
    await api.json(`/api/v1/batches/${batch.batchId}/regulator-recall`, {
      method: "POST",
      body: { reason },
      idempotencyKey: newIdempotencyKey(),
    });
    flash(flashRegion, "ok", t("recalled"));
    await search();
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
}

// ---------------------------------------------------------------------------- organisations

function organisationsView(): HTMLElement {
  const rows = organisations.map((org) => {
    const suspended = org.status === "suspended";
    const act = h(
      "button",
      { type: "button", class: suspended ? "" : "danger", "data-action": suspended ? "reinstate" : "suspend" },
      suspended ? t("reinstate") : t("suspend"),
    );
    act.addEventListener("click", () => void setSuspended(org, !suspended));
    return h(
      "tr",
      { "data-organisation-id": org.id },
      h("td", {}, pick(org.name, lang)),
      h("td", {}, textOf(KIND_TEXT, org.kind)),
      h("td", {}, org.uscc),
      h("td", {}, org.regionName === null ? org.regionCode : `${pick(org.regionName, lang)} (${org.regionCode})`),
      h("td", {}, textOf(LEDGER_TEXT, org.ledgerState ?? "pending")),
      h(
        "td",
        { "data-testid": "organisation-status" },
        h("span", { class: `badge${suspended ? " badge-danger" : ""}` }, textOf(STATUS_TEXT, org.status)),
      ),
      h("td", {}, org.kind === "regulator" ? null : act),
    );
  });
  return h(
    "section",
    { class: "card" },
    h("h1", {}, t("organisations")),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "data-testid": "organisations" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[t("name"), t("kind"), t("uscc"), t("regionName"), t("ledger"), t("status"), t("actions")].map((label) =>
              h("th", {}, label),
            ),
          ),
        ),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}

async function setSuspended(org: OrganisationView, suspend: boolean): Promise<void> {
  if (api === null) return;
  const reason = await reasonDialog(
    suspend ? t("suspendTitle") : t("reinstateTitle"),
    `${pick(org.name, lang)}: ${suspend ? t("suspendText") : t("reinstateText")}`,
    suspend ? t("suspend") : t("reinstate"),
    lang,
  );
  if (reason === null) return;
  try {
    await api.json(`/api/v1/organisations/${org.id}/${suspend ? "suspend" : "reinstate"}`, {
      method: "POST",
      body: { reason },
      idempotencyKey: newIdempotencyKey(),
    });
    await loadOrganisations();
    flash(flashRegion, "ok", suspend ? t("suspended") : t("reinstated"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
}

// ---------------------------------------------------------------------------- audit

async function runAudit(path: string): Promise<void> {
  if (api === null) return;
  report = { path, value: null, error: null };
  view = "audit";
  render();
  try {
    report = { path, value: await api.get<AuditReport>(path), error: null };
  } catch (error) {
    report = { path, value: null, error: failureText(error, lang) };
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
          h("p", {}, h("strong", {}, pick({ zh: f.zh, en: f.en }, lang)), " ", h("code", {}, f.code)),
          h("details", {}, h("summary", {}, t("evidence")), h("pre", {}, JSON.stringify(f.evidence, null, 2))),
        ),
      ),
    );
  });
  return h("div", { class: "findings" }, ...groups);
}

function batchReport(value: BatchAuditReport): HTMLElement {
  return h(
    "section",
    { class: "card batch-report", "data-batch-id": value.batchId },
    h("h2", {}, `${value.gtin ?? ""} / ${value.lot ?? ""}`),
    h("p", {}, h("code", {}, value.batchId)),
    h("p", {}, `${t("checked")}: ${value.checked.join(", ")}`),
    findingsList(value.findings),
  );
}

function auditView(): HTMLElement {
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
    () => void download(`${path}${path.includes("?") ? "&" : "?"}format=html`, "audit.html"),
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
      h("p", {}, `${t("generatedAt")}: ${value.generatedAt}`),
      sources === undefined
        ? null
        : h(
            "p",
            {},
            `${t("sources")}: chain ${sources.chainId} · ${sources.registry} · ${sources.rpc} · ${sources.content}`,
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

// ---------------------------------------------------------------------------- start

const saved = storedToken("regulator");
render();
if (saved !== null) {
  signIn(saved).catch((error: unknown) => {
    if (error instanceof ProblemFailure) storeToken("regulator", null);
    render();
    flash(flashRegion, "error", failureText(error, lang));
  });
}
