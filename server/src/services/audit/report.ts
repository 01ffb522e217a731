/**
 * The audit report: findings with their evidence, as JSON and as a printable HTML page a
 * regulator can file. The HTML is self-contained (inline CSS is not needed: plain
 * semantic markup prints well) and escapes everything it shows.
 */
import { chinaIsoTime } from "../../domain/china-time.ts";

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

function batchSection(report: BatchAuditReport, lang: ReportLang): string {
  return `<section><h2>${TEXT.batch[lang]} <code>${escape(report.gtin ?? "")}</code> / <code>${escape(report.lot ?? "")}</code></h2>
<p><code>${escape(report.batchId)}</code></p>
<p>${TEXT.checked[lang]}: ${report.checked.map((c) => `<code>${escape(c)}</code>`).join(TEXT.listSeparator[lang])}</p>
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
      : `<p>${TEXT.sources[lang]}${colon}${TEXT.chain[lang]} <code>${escape(sources.chainId)}</code>${TEXT.clauseSeparator[lang]}${TEXT.registry[lang]} <code>${escape(sources.registry)}</code>${TEXT.clauseSeparator[lang]}${TEXT.via[lang]} <code>${escape(sources.rpc)}</code>${TEXT.clauseSeparator[lang]}${TEXT.content[lang]} <code>${escape(sources.content)}</code></p>`;
  return `<!doctype html><html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8"/><title>${TEXT.title[lang]}</title></head><body>
<h1>${TEXT.title[lang]}${subject}</h1>
<p>${TEXT.generated[lang]}${colon}${escape(generated)}</p>
${sourceLine}
${report.type === "oioc.audit-scope-report" ? `<section><h2>${TEXT.acrossBatches[lang]}</h2>${findingRows(report.findings, lang)}</section>` : ""}
${batches.map((batch) => batchSection(batch, lang)).join("\n")}
</body></html>`;
}
