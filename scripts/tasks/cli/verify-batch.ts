/** verify-batch: the attestation, every event signature and the event hash chain, from the chain's logs. */
import { readAttestation, readEvents } from "../../../server/src/ledger/chain-reader.ts";
import { verifyBatchLogs, type BatchLogFinding } from "../../../server/src/verify/batch.ts";
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

export async function verifyBatch(values: Options): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const fromBlock = Number(values["from-block"] ?? 0);
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new UsageError("--from-block must be a block number");
  const { provider, registry, domain } = await connect(values);
  try {
    const found = await findBatch(registry, gtin, lot);
    if (found === null) return false;
    const { batchId, batch } = found;
    const attestation = await readAttestation(registry, batchId, fromBlock);
    const logs = await readEvents(registry, batchId, fromBlock);
    const verified = verifyBatchLogs({ domain, record: batch, attestation, events: logs });
    const { events } = verified;
    const head = verified.eventHead.recomputed;
    const findings = verified.findings.map((finding) => describe(finding, events));
    console.log(`batch ${batchId}: status ${batch.status}, ${batch.itemCount} items, ${events.length} events`);
    for (const e of events) {
      console.log(
        `  ${new Date(Number(e.value.occurredAt) * 1000).toISOString()}  ${e.bizStep.padEnd(18)} by ${e.value.actor}  signature ${e.signatureValid ? "ok" : "BAD"}`,
      );
    }
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
    provider.destroy();
  }
}
