/**
 * The audit report: findings with their evidence, as JSON and as a printable HTML page a
 * regulator can file. The HTML is self-contained (inline CSS is not needed: plain
 * semantic markup prints well) and escapes everything it shows.
 */
import { chinaIsoTime } from "../../domain/china-time.ts";
import { sourceLabel } from "../../domain/audit-sources.ts";
import type { LotPacking } from "./container-rules.ts";

export interface AuditFinding {
  code: string;
  severity: "critical" | "warning" | "info";
  en: string;
  zh: string;
  evidence: Record<string, unknown>;
}

export interface BatchAuditReport {
  type: "oioc.audit-report";
  version: 1;
  batchId: string;
  gtin: string | null;
  lot: string | null;
  generatedAt: string;
  /** Where the evidence came from: the chain endpoint and registry, the content sources. */
  sources: { chainId: string; registry: string; rpc: string; content: string };
  /** Rule families that ran (so "no findings" says what was checked). */
  checked: string[];
  findings: AuditFinding[];
  /** Who was entitled, from the registry's logs: who registered the batch and on what basis, and its custody chain. */
  authority?: AuthoritySummary | null;
  /** Cases and pallets holding the lot's items: packed against registered, and the orders despatches name. */
  packing?: LotPacking;
}

/** The audit's account of who was entitled (addresses are organisations' origins). */
export interface AuthoritySummary {
  entitlement: {
    attester: string;
    basis: "gtin_owner" | "prefix_owner" | "grantee" | null;
    owner: string | null;
    companyPrefix: string | null;
  } | null;
  handovers: { from: string; to: string; shippedAt: string | null; receivedAt: string }[];
  events: { index: number; bizStep: string; actor: string; basis: string | null; refusal: string | null }[];
}

export interface ScopeAuditReport {
  type: "oioc.audit-scope-report";
  version: 1;
  generatedAt: string;
  scope: Record<string, string>;
  batches: BatchAuditReport[];
  /** Findings across batches (a cooperative's season over its plots' capacity). */
  findings: AuditFinding[];
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

export type ReportLang = "zh" | "en";

/** Every word the page says, in each language: the zh report is Chinese throughout, the en one English. */
const TEXT = {
  title: { zh: "溯源审计报告", en: "Audit report" },
  generated: { zh: "生成时间", en: "Generated" },
  sources: { zh: "证据来源", en: "Sources" },
  chain: { zh: "链 ID", en: "chain" },
  registry: { zh: "注册合约", en: "registry" },
  via: { zh: "经由", en: "via" },
  content: { zh: "内容来自", en: "content from" },
  acrossBatches: { zh: "跨批次", en: "Across batches" },
  batch: { zh: "批次", en: "Batch" },
  checked: { zh: "已检查", en: "Checked" },
  noFindings: { zh: "无异常", en: "No findings" },
  severity: { zh: "级别", en: "Severity" },
  code: { zh: "代码", en: "Code" },
  finding: { zh: "发现", en: "Finding" },
  evidence: { zh: "证据", en: "Evidence" },
  listSeparator: { zh: "、", en: ", " },
  clauseSeparator: { zh: "；", en: "; " },
  entitlement: { zh: "登记资格", en: "Entitlement" },
  custody: { zh: "保管交接", en: "Custody" },
  byOwner: { zh: "由商品条码所有者登记", en: "Registered by the GTIN's owner" },
  byPrefix: { zh: "（厂商识别代码 {prefix}）", en: " (company prefix {prefix})" },
  byGrantee: {
    zh: "由 {who} 经条码所有者 {owner} 授权登记",
    en: "Registered by {who} under the grant of the GTIN's owner {owner}",
  },
  notEntitled: {
    zh: "登记者无权使用该商品条码（所有者：{owner}）",
    en: "The registrant was not entitled to the GTIN (owner: {owner})",
  },
  nobody: { zh: "无", en: "nobody" },
  noHandover: { zh: "未交接，仍由合作社保管", en: "Not handed over: still with the cooperative" },
  handover: { zh: "交接：{from} → {to}（收货 {at}）", en: "Handed over by {from} to {to} (received {at})" },
  packing: {
    zh: "装箱：登记 {registered} 件，现在箱中 {live} 件（累计装箱 {ever} 件），共 {count} 个箱或托盘",
    en: "Packing: {registered} items registered, {live} in cases now ({ever} ever packed), in {count} cases or pallets",
  },
  orders: { zh: "订单与发货通知：{refs}", en: "Orders and despatch advice: {refs}" },
} as const;

const SEVERITY_TEXT = {
  critical: { zh: "严重", en: "Critical" },
  warning: { zh: "警告", en: "Warning" },
  info: { zh: "提示", en: "Info" },
} as const;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `2026-05-01 14:30:05 北京时间`: China Standard Time (UTC+8, no daylight saving). */
export function chinaTime(iso: string, withSeconds = false): string {
  const text = chinaIsoTime(Date.parse(iso)).replace("T", " ");
  return `${text.slice(0, withSeconds ? 19 : 16)} 北京时间`;
}

/** `2026-05-01 06:30 UTC (14:30 China time)`. */
function englishTime(iso: string): string {
  const utc = new Date(iso).toISOString();
  return `${utc.slice(0, 10)} ${utc.slice(11, 16)} UTC (${chinaIsoTime(Date.parse(iso)).slice(11, 16)} China time)`;
}

/** Evidence for the zh page: every instant in China time (the JSON export keeps ISO 8601). */
function chinaEvidence(value: unknown): unknown {
  if (typeof value === "string")
    return ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value)) ? chinaTime(value, true) : value;
  if (Array.isArray(value)) return value.map(chinaEvidence);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, chinaEvidence(item)]));
  }
  return value;
}

function findingRows(findings: readonly AuditFinding[], lang: ReportLang): string {
  if (findings.length === 0) return `<p class="clean">${TEXT.noFindings[lang]}</p>`;
  const head = [TEXT.severity, TEXT.code, TEXT.finding, TEXT.evidence].map((t) => `<th>${t[lang]}</th>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${[...findings]
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .map((f) => {
      const evidence = lang === "zh" ? chinaEvidence(f.evidence) : f.evidence;
      return `<tr><td>${SEVERITY_TEXT[f.severity][lang]}</td><td><code>${escape(f.code)}</code></td><td>${escape(f[lang])}</td><td><pre>${escape(JSON.stringify(evidence, null, 2))}</pre></td></tr>`;
    })
    .join("")}</tbody></table>`;
}

const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? "");

/** Who registered the batch and on what basis, and each handover, in the report's language. */
function authorityRows(summary: AuthoritySummary | null | undefined, lang: ReportLang): string {
  if (summary === null || summary === undefined) return "";
  const code = (text: string): string => `<code>${escape(text)}</code>`;
  const colon = lang === "zh" ? "：" : ": ";
  const e = summary.entitlement;
  let entitlement = "";
  if (e !== null) {
    const prefix = e.companyPrefix === null ? "" : escape(fill(TEXT.byPrefix[lang], { prefix: e.companyPrefix }));
    const owner = e.owner === null ? TEXT.nobody[lang] : code(e.owner);
    if (e.basis === null) entitlement = `<strong>${fill(escape(TEXT.notEntitled[lang]), { owner })}</strong>`;
    else if (e.basis === "grantee")
      entitlement = fill(escape(TEXT.byGrantee[lang]), { who: code(e.attester), owner }) + prefix;
    else entitlement = escape(TEXT.byOwner[lang]) + prefix;
  }
  const handovers =
    summary.handovers.length === 0
      ? `<li>${TEXT.noHandover[lang]}</li>`
      : summary.handovers
          .map((h) => {
            const at = lang === "zh" ? chinaTime(h.receivedAt) : englishTime(h.receivedAt);
            return `<li>${fill(escape(TEXT.handover[lang]), { from: code(h.from), to: code(h.to), at: escape(at) })}</li>`;
          })
          .join("");
  return `<p>${TEXT.entitlement[lang]}${colon}${entitlement}</p>
<p>${TEXT.custody[lang]}${colon}</p><ul>${handovers}</ul>`;
}

/** The lot's items packed against those registered, and the po/desadv its despatches name. */
function packingRows(packing: LotPacking | undefined, lang: ReportLang): string {
  if (packing === undefined || packing.containers.length === 0) return "";
  const line = fill(TEXT.packing[lang], {
    registered: String(packing.registered),
    live: String(packing.packedLive),
    ever: String(packing.packedEver),
    count: String(packing.containers.length),
  });
  // References are identifiers, shown as they are (in <code>), like hashes and CIDs.
  const refs = packing.bizTransactions
    .map((b) => `<code>${escape(`${b.type} ${b.id}`)}</code>`)
    .join(TEXT.listSeparator[lang]);
  return `<p>${escape(line)}</p>${refs === "" ? "" : `<p>${fill(escape(TEXT.orders[lang]), { refs })}</p>`}`;
}

function batchSection(report: BatchAuditReport, lang: ReportLang): string {
  return `<section><h2>${TEXT.batch[lang]} <code>${escape(report.gtin ?? "")}</code> / <code>${escape(report.lot ?? "")}</code></h2>
<p><code>${escape(report.batchId)}</code></p>
<p>${TEXT.checked[lang]}: ${report.checked.map((c) => `<code>${escape(c)}</code>`).join(TEXT.listSeparator[lang])}</p>
${authorityRows(report.authority, lang)}
${packingRows(report.packing, lang)}
${findingRows(report.findings, lang)}</section>`;
}

/**
 * The printable report in one language (zh by default, as the consoles): Chinese words and
 * China time throughout, or English with UTC and China time; codes, hashes, addresses,
 * CIDs and GTINs appear as they are, in `<code>`.
 */
export function renderAuditHtml(report: BatchAuditReport | ScopeAuditReport, lang: ReportLang = "zh"): string {
  const batches = report.type === "oioc.audit-report" ? [report] : report.batches;
  const sources = batches[0]?.sources;
  const subject =
    report.type === "oioc.audit-report" ? ` <code>${escape(report.gtin ?? "")}/${escape(report.lot ?? "")}</code>` : "";
  const generated = lang === "zh" ? chinaTime(report.generatedAt) : englishTime(report.generatedAt);
  const colon = lang === "zh" ? "：" : ": ";
  const sourceLine =
    sources === undefined
      ? ""
      : `<p>${TEXT.sources[lang]}${colon}${TEXT.chain[lang]} <code>${escape(sources.chainId)}</code>${TEXT.clauseSeparator[lang]}${TEXT.registry[lang]} <code>${escape(sources.registry)}</code>${TEXT.clauseSeparator[lang]}${TEXT.via[lang]} <code>${escape(sourceLabel(sources.rpc, lang))}</code>${TEXT.clauseSeparator[lang]}${TEXT.content[lang]} <code>${escape(sourceLabel(sources.content, lang))}</code></p>`;
  return `<!doctype html><html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8"/><title>${TEXT.title[lang]}</title></head><body>
<h1>${TEXT.title[lang]}${subject}</h1>
<p>${TEXT.generated[lang]}${colon}${escape(generated)}</p>
${sourceLine}
${report.type === "oioc.audit-scope-report" ? `<section><h2>${TEXT.acrossBatches[lang]}</h2>${findingRows(report.findings, lang)}</section>` : ""}
${batches.map((batch) => batchSection(batch, lang)).join("\n")}
</body></html>`;
}
