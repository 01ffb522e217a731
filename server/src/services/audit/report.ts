/**
 * The audit report: findings with their evidence, as JSON and as a printable HTML page a
 * regulator can file. The HTML is self-contained (inline CSS is not needed: plain
 * semantic markup prints well) and escapes everything it shows.
 */
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

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function findingRows(findings: readonly AuditFinding[]): string {
  if (findings.length === 0) return `<p class="clean">无异常 · No findings</p>`;
  return `<table><thead><tr><th>级别 Severity</th><th>代码 Code</th><th>发现 Finding</th><th>证据 Evidence</th></tr></thead><tbody>${[
    ...findings,
  ]
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .map(
      (f) =>
        `<tr><td>${escape(f.severity)}</td><td><code>${escape(f.code)}</code></td><td>${escape(f.zh)}<br/><small>${escape(f.en)}</small></td><td><pre>${escape(JSON.stringify(f.evidence, null, 2))}</pre></td></tr>`,
    )
    .join("")}</tbody></table>`;
}

function batchSection(report: BatchAuditReport): string {
  return `<section><h2>批次 Batch ${escape(report.gtin ?? "")} / ${escape(report.lot ?? "")}</h2>
<p><code>${escape(report.batchId)}</code></p>
<p>已检查 Checked: ${report.checked.map((c) => `<code>${escape(c)}</code>`).join(", ")}</p>
${findingRows(report.findings)}</section>`;
}

export function renderAuditHtml(report: BatchAuditReport | ScopeAuditReport): string {
  const batches = report.type === "oioc.audit-report" ? [report] : report.batches;
  const sources = batches[0]?.sources;
  const title =
    report.type === "oioc.audit-report"
      ? `溯源审计报告 · Audit report ${report.gtin ?? ""}/${report.lot ?? ""}`
      : "溯源审计报告 · Audit report";
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"/><title>${escape(title)}</title></head><body>
<h1>${escape(title)}</h1>
<p>生成时间 Generated: ${escape(report.generatedAt)}</p>
${sources === undefined ? "" : `<p>证据来源 Sources: chain ${escape(sources.chainId)} registry <code>${escape(sources.registry)}</code> via ${escape(sources.rpc)}; content from ${escape(sources.content)}</p>`}
${report.type === "oioc.audit-scope-report" ? `<section><h2>跨批次 Across batches</h2>${findingRows(report.findings)}</section>` : ""}
${batches.map(batchSection).join("\n")}
</body></html>`;
}
