/** The registry on the JSON-RPC endpoints named by --rpc and --registry, for the verify commands. */
import { FallbackProvider, JsonRpcProvider, isAddress, type Contract } from "ethers";

import { readBatch } from "../../../server/src/ledger/chain-reader.ts";
import { traceRegistryAt } from "../../../server/src/ledger/deploy.ts";
import type { SigningDomain } from "../../../server/src/ledger/signing.ts";
import { UsageError, parseQuorum, required, type Options } from "./usage.ts";

/**
 * The provider for `rpcs` (or the single `--rpc`): with several endpoints, ethers' fallback
 * provider, which answers a read only when `--quorum` of them (default: a majority) agree.
 * Reads are compared, not proven: storage proofs are verify-link's.
 */
export function providerFor(values: Options, rpcs: readonly string[]): JsonRpcProvider | FallbackProvider {
  if (rpcs.length <= 1) return new JsonRpcProvider(required(values, "rpc"), undefined, { staticNetwork: true });
  const quorum = parseQuorum(values.quorum, rpcs.length) ?? Math.floor(rpcs.length / 2) + 1;
  const providers = rpcs.map((url) => ({
    provider: new JsonRpcProvider(url, undefined, { staticNetwork: true }),
    weight: 1,
    // Each asked at once rather than one after another: a dead endpoint must not stall the quorum.
    stallTimeout: 400,
  }));
  return new FallbackProvider(providers, undefined, { quorum });
}

export async function connect(values: Options, rpcs: readonly string[] = []) {
  const registryAddress = required(values, "registry");
  const addressValid: boolean = isAddress(registryAddress);
  if (!addressValid) throw new UsageError(`--registry is not an address: "${registryAddress}"`);
  const provider = providerFor(values, rpcs);
  const network = await provider.getNetwork().catch((cause: unknown) => {
    void provider.destroy();
    throw new UsageError(
      `cannot reach the JSON-RPC endpoints ${rpcs.join(", ") || (values.rpc ?? "")}: ${String(cause)}`,
    );
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
