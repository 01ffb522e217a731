/** audit: a regulator's audit of one batch from the chain and a gateway of their choosing. */
import { writeFileSync } from "node:fs";

import { isAddress } from "ethers";

import { renderAuditHtml } from "../../../server/src/services/audit/report.ts";
import { remoteAudit } from "../../lib/remote-audit.ts";
import { providerFor } from "./chain.ts";
import { UsageError, required, requiredBatchId, type Options } from "./usage.ts";

export async function auditCommand(
  values: Options,
  _regulators: readonly string[] = [],
  rpcs: readonly string[] = [],
): Promise<boolean> {
  const token = process.env.REGULATOR_TOKEN;
  if (token === undefined || token === "") throw new UsageError("REGULATOR_TOKEN must hold a regulator's API token");
  const registry = required(values, "registry");
  if (!isAddress(registry)) throw new UsageError("--registry is not an address");
  const batchId = requiredBatchId(values);
  const server = required(values, "server");
  const report = await remoteAudit(batchId, {
    rpcUrl: rpcs.length > 1 ? rpcs.join(", ") : required(values, "rpc"),
    ...(rpcs.length > 1 ? { provider: providerFor(values, rpcs) } : {}),
    registry,
    fromBlock: Number(values["from-block"] ?? "0"),
    gateway: values.gateway ?? server,
    server,
    token,
  });
  if (values.html !== undefined) writeFileSync(values.html, renderAuditHtml(report));
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report, null, 2));
  console.log(`audit of ${report.gtin ?? "?"} / ${report.lot ?? "?"} (${batchId})`);
  console.log(`checked: ${report.checked.join(", ")}`);
  for (const f of report.findings)
    console.log(`  [${f.severity}] ${f.code}: ${f.zh} / ${f.en} ${JSON.stringify(f.evidence)}`);
  console.log(report.findings.length === 0 ? "no findings" : `${report.findings.length} finding(s)`);
  return !report.findings.some((f) => f.severity === "critical");
}
