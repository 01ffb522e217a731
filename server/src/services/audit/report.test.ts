import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { renderAuditHtml, type AuthoritySummary, type BatchAuditReport } from "./report.ts";

const COOP = "0x1111111111111111111111111111111111111111";
const PACKER = "0x2222222222222222222222222222222222222222";
const CARRIER = "0x3333333333333333333333333333333333333333";

function report(authority: AuthoritySummary | null): BatchAuditReport {
  return {
    type: "oioc.audit-report",
    version: 1,
    batchId: `0x${"ab".repeat(32)}`,
    gtin: "06901234567892",
    lot: "L1",
    generatedAt: "2026-05-01T06:00:00.000Z",
    sources: { chainId: "31337", registry: COOP, rpc: "http://127.0.0.1:8545", content: "server" },
    checked: ["integrity", "authority"],
    findings: [],
    authority,
  };
}

const handover = { from: PACKER, to: CARRIER, shippedAt: null, receivedAt: "2026-04-18T10:00:00.000Z" };

void describe("the audit report says who was entitled", () => {
  void it("names the basis and each handover, in Chinese with China time and in English", () => {
    const summary: AuthoritySummary = {
      entitlement: { attester: PACKER, basis: "grantee", owner: COOP, companyPrefix: "6901234" },
      handovers: [handover],
      events: [],
    };
    const zh = renderAuditHtml(report(summary), "zh");
    assert.match(
      zh,
      new RegExp(`由 <code>${PACKER}</code> 经条码所有者 <code>${COOP}</code> 授权登记（厂商识别代码 6901234）`),
    );
    assert.match(
      zh,
      new RegExp(`交接：<code>${PACKER}</code> → <code>${CARRIER}</code>（收货 2026-04-18 18:00 北京时间）`),
    );
    const en = renderAuditHtml(report(summary), "en");
    assert.match(
      en,
      /Registered by <code>0x2{40}<\/code> under the grant of the GTIN&#39;s owner <code>0x1{40}<\/code> \(company prefix 6901234\)/,
    );
    assert.match(en, /Handed over by <code>0x2{40}<\/code> to <code>0x3{40}<\/code>/);
  });

  void it("says plainly when the registrant was not entitled, and when the batch never left its cooperative", () => {
    const html = renderAuditHtml(
      report({
        entitlement: { attester: PACKER, basis: null, owner: null, companyPrefix: null },
        handovers: [],
        events: [],
      }),
      "en",
    );
    assert.match(html, /<strong>The registrant was not entitled to the GTIN \(owner: nobody\)<\/strong>/);
    assert.match(html, /Not handed over: still with the cooperative/);
    assert.doesNotMatch(renderAuditHtml(report(null), "en"), /Entitlement/);
  });
});
