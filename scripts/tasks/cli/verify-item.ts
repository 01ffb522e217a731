/** verify-item: the item's Merkle proof against the batch root, checked on chain and here. */
import { isHexString } from "ethers";

import { readAttestation } from "../../../server/src/ledger/chain-reader.ts";
import { entitlementLine, readBatchAuthority } from "../../../server/src/services/audit/authority.ts";
import { itemLeaf, verifyProof } from "../../../server/src/verify/merkle.ts";
import { connect, findBatch } from "./chain.ts";
import { UsageError, parseGtin, required, type Options, type Verdict } from "./usage.ts";

export async function verifyItem(
  values: Options,
  _regulators: readonly string[] = [],
  rpcs: readonly string[] = [],
): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const serial = required(values, "serial");
  const proof = required(values, "proof").split(",");
  for (const node of proof) {
    if (!isHexString(node, 32)) throw new UsageError(`--proof has an entry that is not 32 bytes of hex: "${node}"`);
  }
  const fromBlock = Number(values["from-block"] ?? 0);
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new UsageError("--from-block must be a block number");
  const { provider, registry, domain } = await connect(values, rpcs);
  try {
    const found = await findBatch(registry, gtin, lot);
    if (found === null) return false;
    const { batchId, batch } = found;
    const onChain = (await registry.getFunction("verifyItem")(batchId, serial, proof)) as boolean;
    const offChain = verifyProof(batch.itemsRoot, itemLeaf(serial), proof);
    console.log(`batch ${batchId}: ${batch.itemCount} items, status ${batch.status}, root ${batch.itemsRoot}`);
    console.log(`on-chain proof check:  ${onChain ? "valid" : "INVALID"}`);
    console.log(`off-chain proof check: ${offChain ? "valid" : "INVALID"}`);
    // Whether whoever registered the batch was entitled to the GTIN, from the registry's logs.
    const attestation = await readAttestation(registry, batchId, fromBlock);
    const authority =
      attestation === null
        ? null
        : await readBatchAuthority(provider, {
            registry: await registry.getAddress(),
            domain,
            batchId,
            gtin: attestation.value.gtin,
            keys: [attestation.value.attester],
            fromBlock,
          });
    const entitled = authority?.entitlement?.basis != null;
    console.log(`entitlement: ${authority === null ? "no attestation log found" : entitlementLine(authority)}`);
    const inBatch = onChain && offChain;
    let verdict = inBatch ? (batch.status === "recalled" ? "RECALLED" : "VERIFIED") : "NOT IN BATCH";
    if (inBatch && !entitled) verdict = "NOT ENTITLED";
    console.log(`verdict: ${verdict}`);
    if (verdict === "RECALLED") return "recalled";
    return verdict === "VERIFIED";
  } finally {
    // A fallback provider's destroy is asynchronous (it closes each endpoint's provider).
    await provider.destroy();
  }
}
