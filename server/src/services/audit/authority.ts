/**
 * Who was entitled to speak about a batch, for the audit and the CLI: the same reads and
 * the same judgement as the scan page (`verify/authority-read.ts`, `verify/authority.ts`),
 * over the caller's own JSON-RPC connection, and the same in words for a report.
 */
import { FallbackProvider, type JsonRpcProvider } from "ethers";

import { formatCompanyPrefix } from "../../domain/gtin-entitlement.ts";
import type { SigningDomain } from "../../ledger/signing.ts";
import type { AuthorityReport } from "../../verify/authority.ts";
import { judgeAuthorityAsking, readAuthorityLogs } from "../../verify/authority-read.ts";
import { askContractSigners } from "../../verify/contract-signatures.ts";
import type { RawLog } from "../../verify/registry-logs.ts";
import type { RpcClient } from "../../verify/rpc.ts";

/**
 * The verification core's JSON-RPC client over an ethers provider (the server's node, or the
 * CLI's `--rpc`; several `--rpc` make a fallback provider, whose quorum answers each read).
 */
export function providerRpc(provider: JsonRpcProvider | FallbackProvider): RpcClient {
  if (provider instanceof FallbackProvider) {
    return {
      chainId: async () => (await provider.getNetwork()).chainId,
      ethCall: (to, data, block) => provider.call({ to, data, ...(block === undefined ? {} : { blockTag: block }) }),
      getLogs: async (filter) =>
        (
          await provider.getLogs({
            ...filter,
            topics: filter.topics.map((t) => (t === null || typeof t === "string" ? t : [...t])),
          })
        ).map((log) => ({
          topics: log.topics,
          data: log.data,
          blockNumber: log.blockNumber,
          index: log.index,
          removed: log.removed,
        })),
    };
  }
  return {
    chainId: async () => BigInt((await provider.send("eth_chainId", [])) as string),
    ethCall: (to, data, block) => provider.call({ to, data, ...(block === undefined ? {} : { blockTag: block }) }),
    getLogs: async (filter) => (await provider.send("eth_getLogs", [filter])) as RawLog[],
  };
}

export interface BatchAuthorityRequest {
  registry: string;
  domain: SigningDomain;
  batchId: string;
  gtin: bigint;
  /** Keys already known to be involved (the attester, the events' actors and receivers). */
  keys: readonly string[];
  fromBlock: number;
}

/** Reads the registry's logs about the batch and judges who was entitled. */
export async function readBatchAuthority(
  provider: JsonRpcProvider | FallbackProvider,
  request: BatchAuthorityRequest,
): Promise<AuthorityReport> {
  const rpc = providerRpc(provider);
  const { logs, origins } = await readAuthorityLogs(rpc, request);
  const domain = { chainId: request.domain.chainId, verifyingContract: request.registry, version: "2" as const };
  return judgeAuthorityAsking((queries) => askContractSigners(rpc, queries), {
    domain,
    batchId: request.batchId,
    logs,
    origins,
  });
}

/** One line saying who registered the batch, in English (the CLI's and the report's evidence). */
export function entitlementLine(report: AuthorityReport): string {
  const e = report.entitlement;
  if (e === null) return "no attestation log found";
  const prefix = e.prefix === null ? "" : ` (company prefix ${formatCompanyPrefix(e.prefix)})`;
  switch (e.basis) {
    case "gtin_owner":
      return `registered by the GTIN's owner ${e.attesterOrigin} (the GTIN is bound to it)`;
    case "prefix_owner":
      return `registered by the GTIN's owner ${e.attesterOrigin}${prefix}`;
    case "grantee":
      return `registered by ${e.attesterOrigin} under the grant of the GTIN's owner ${e.owner ?? "?"}${prefix}`;
    case null:
      return `NOT ENTITLED: ${e.attester} attested GTIN ${e.gtin}, owned by ${e.owner ?? "nobody"}${prefix}`;
  }
}

/** One line per handover: "handed over by A to B" with the shipping and receiving times. */
export function handoverLines(report: AuthorityReport): string[] {
  const iso = (seconds: number | null): string => (seconds === null ? "?" : new Date(seconds * 1000).toISOString());
  return report.handovers.map(
    (h) => `handed over by ${h.from} to ${h.to}: shipped ${iso(h.shippedAt)}, received ${iso(h.receivedAt)}`,
  );
}
