/** verify-item: the item's Merkle proof against the batch root, checked on chain and here. */
import { isHexString } from "ethers";

import { itemLeaf, verifyProof } from "../../../server/src/verify/merkle.ts";
import { connect, findBatch } from "./chain.ts";
import { UsageError, parseGtin, required, type Options, type Verdict } from "./usage.ts";

export async function verifyItem(values: Options): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const serial = required(values, "serial");
  const proof = required(values, "proof").split(",");
  for (const node of proof) {
    if (!isHexString(node, 32)) throw new UsageError(`--proof has an entry that is not 32 bytes of hex: "${node}"`);
  }
  const { provider, registry } = await connect(values);
  try {
    const found = await findBatch(registry, gtin, lot);
    if (found === null) return false;
    const { batchId, batch } = found;
    const onChain = (await registry.getFunction("verifyItem")(batchId, serial, proof)) as boolean;
    const offChain = verifyProof(batch.itemsRoot, itemLeaf(serial), proof);
    console.log(`batch ${batchId}: ${batch.itemCount} items, status ${batch.status}, root ${batch.itemsRoot}`);
    console.log(`on-chain proof check:  ${onChain ? "valid" : "INVALID"}`);
    console.log(`off-chain proof check: ${offChain ? "valid" : "INVALID"}`);
    const verdict = onChain && offChain ? (batch.status === "recalled" ? "RECALLED" : "VERIFIED") : "NOT IN BATCH";
    console.log(`verdict: ${verdict}`);
    if (verdict === "RECALLED") return "recalled";
    return onChain && offChain;
  } finally {
    provider.destroy();
  }
}
