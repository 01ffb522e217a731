/**
 * The verifier's chain reads: several independent endpoints that must agree, with storage
 * proofs checked against the agreed block (or, on a QBFT chain, blocks sealed by the pinned
 * validators). Never the platform's `/rpc`, never the resolution's `rpcUrl`.
 */
import { createTrustedRpcClient, type TrustedRpcClient } from "../../server/src/verify/trusted-rpc.ts";
import type { TrustRoots } from "../../server/src/verify/trust-roots.ts";

export type ChainReads = TrustedRpcClient;

export function createChainReads(pins: TrustRoots): ChainReads {
  return createTrustedRpcClient(pins);
}
