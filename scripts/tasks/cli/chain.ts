/** The registry on a JSON-RPC endpoint named by --rpc and --registry, for the verify commands. */
import { JsonRpcProvider, isAddress, type Contract } from "ethers";

import { readBatch } from "../../../server/src/ledger/chain-reader.ts";
import { traceRegistryAt } from "../../../server/src/ledger/deploy.ts";
import type { SigningDomain } from "../../../server/src/ledger/signing.ts";
import { UsageError, required, type Options } from "./usage.ts";

export async function connect(values: Options) {
  const rpc = required(values, "rpc");
  const registryAddress = required(values, "registry");
  const addressValid: boolean = isAddress(registryAddress);
  if (!addressValid) throw new UsageError(`--registry is not an address: "${registryAddress}"`);
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  const network = await provider.getNetwork().catch((cause: unknown) => {
    throw new UsageError(`cannot reach the JSON-RPC endpoint ${rpc}: ${String(cause)}`);
  });
  const registry = traceRegistryAt(registryAddress, provider);
  const domain: SigningDomain = { chainId: network.chainId, verifyingContract: registryAddress };
  return { provider, registry, domain };
}

/** The batch a GTIN and lot name on the registry, or null (said on stdout) when there is none. */
export async function findBatch(registry: Contract, gtin: bigint, lot: string) {
  const batchId = (await registry.getFunction("batchIdOf")(gtin, lot)) as string;
  const batch = await readBatch(registry, batchId);
  if (batch.status === "none") {
    console.log(`UNKNOWN: no batch GTIN ${gtin.toString().padStart(14, "0")} lot ${lot} on this registry`);
    return null;
  }
  return { batchId, batch };
}
