/** verify-batch: the attestation, every event signature and the event hash chain, from the chain's logs. */
import { readAttestation, readEvents } from "../../../server/src/ledger/chain-reader.ts";
import { verifyBatchLogsAsking, type BatchLogFinding } from "../../../server/src/verify/batch.ts";
import {
  entitlementLine,
  handoverLines,
  providerRpc,
  readBatchAuthority,
} from "../../../server/src/services/audit/authority.ts";
import type { AuthorityFinding } from "../../../server/src/verify/authority.ts";
import { connect, findBatch } from "./chain.ts";
import { fetchReason, readRecall } from "./recall-reason.ts";
import { UsageError, parseGtin, required, type Options, type Verdict } from "./usage.ts";

/** A finding of the verification core, as this command has always printed it. */
function describe(finding: BatchLogFinding, events: readonly { bizStep: string }[]): string {
  switch (finding.code) {
    case "attestation_missing":
      return "no BatchAttested log found";
    case "attestation_signature":
      return "the attestation signature does not match the attester";
    case "items_root":
      return "attested root differs from stored root";
    case "event_signature":
      return `event ${finding.index} (${events[finding.index]?.bizStep ?? "?"}): signature does not match ${finding.actor}`;
    case "event_head":
      return `event hash chain from logs ${finding.recomputed} != head on chain ${finding.onChain}`;
  }
}

/** A finding of who was entitled, in the same terms. */
function describeAuthority(finding: AuthorityFinding): string | null {
  switch (finding.code) {
    case "attestation_missing":
      return null;
    case "not_entitled":
      return `${finding.attester} was not entitled to GTIN ${finding.gtin} (owner ${finding.owner ?? "none"})`;
    case "no_custody":
      return `event ${finding.index} (${finding.step}) by ${finding.actor}: no custody of the batch (${finding.reason})`;
    case "custody_transfers":
      return `the registry logged ${finding.logged} custody transfers; the events make ${finding.recomputed}`;
    case "grant_signature":
      return `a grant of GTIN ${finding.gtin} to ${finding.grantee} is not signed by its owner ${finding.owner}`;
    case "inspection_request_signature":
      return `an inspection request to ${finding.inspector} is not signed by the batch's cooperative`;
    case "inspection_request_not_regulator":
      return `an unsigned inspection request to ${finding.inspector} came from ${finding.requestedBy}, which did not hold the regulator role then`;
  }
}

export async function verifyBatch(
  values: Options,
  _regulators: readonly string[] = [],
  rpcs: readonly string[] = [],
): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const fromBlock = Number(values["from-block"] ?? 0);
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new UsageError("--from-block must be a block number");
  const { provider, registry, domain } = await connect(values, rpcs);
  try {
    const found = await findBatch(registry, gtin, lot);
    if (found === null) return false;
    const { batchId, batch } = found;
    const attestation = await readAttestation(registry, batchId, fromBlock);
    const logs = await readEvents(registry, batchId, fromBlock);
    // A signature recovering to another key is asked of the signer's contract wallet (ERC-1271).
    const verified = await verifyBatchLogsAsking(
      { domain, record: batch, attestation, events: logs },
      providerRpc(provider),
    );
    const { events } = verified;
    const head = verified.eventHead.recomputed;
    const findings = verified.findings.map((finding) => describe(finding, events));
    // Who was entitled: the GTIN's owner or grantee, and each event's say, from the logs alone.
    const authority =
      attestation === null
        ? null
        : await readBatchAuthority(provider, {
            registry: await registry.getAddress(),
            domain,
            batchId,
            gtin: attestation.value.gtin,
            keys: [attestation.value.attester, ...logs.flatMap((e) => [e.value.actor, e.value.counterparty])],
            fromBlock,
          });
    for (const finding of authority?.findings ?? []) {
      const text = describeAuthority(finding);
      if (text !== null) findings.push(text);
    }
    console.log(`batch ${batchId}: status ${batch.status}, ${batch.itemCount} items, ${events.length} events`);
    if (authority !== null) console.log(`  ${entitlementLine(authority)}`);
    for (const [i, e] of events.entries()) {
      const judged = authority?.events[i];
      const say = judged === undefined ? "" : `  say: ${judged.basis ?? `NONE (${judged.refusal ?? "?"})`}`;
      console.log(
        `  ${new Date(Number(e.value.occurredAt) * 1000).toISOString()}  ${e.bizStep.padEnd(18)} by ${e.value.actor}  signature ${e.signatureValid ? "ok" : "BAD"}${say}`,
      );
    }
    for (const line of authority === null ? [] : handoverLines(authority)) console.log(`  ${line}`);
    console.log(`event head on chain ${batch.eventHead}; recomputed from logs ${head}`);
    if (findings.length > 0) {
      console.log(`verdict: FAILED\n  - ${findings.join("\n  - ")}`);
      return false;
    }
    if (batch.status !== "recalled") {
      console.log("verdict: VERIFIED");
      return true;
    }
    // Every signature holds, but the batch was withdrawn: say so, never "VERIFIED".
    console.log("verdict: RECALLED (the records are genuine; the batch has been recalled)");
    const recall = await readRecall(registry, batchId, fromBlock);
    if (recall === null) {
      console.log("  no BatchRecalled log found from the given block");
    } else {
      console.log(`  recalled by ${recall.recalledBy} in block ${String(recall.block)}`);
      console.log(`  reason document ${recall.reasonCid}`);
      const gateway = values.gateway;
      if (gateway === undefined) {
        console.log("  (pass --gateway URL to fetch and check the reason)");
      } else {
        const reason = await fetchReason(gateway, recall.reasonCid);
        if (typeof reason === "string") console.log(`  reason: not shown: ${reason}`);
        else console.log(`  reason: ${reason.zh}${reason.en === null ? "" : `\n          ${reason.en}`}`);
      }
    }
    return "recalled";
  } finally {
    // A fallback provider's destroy is asynchronous (it closes each endpoint's provider).
    await provider.destroy();
  }
}
