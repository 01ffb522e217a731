/**
 * The regulator's own audit, run from anywhere: the chain read through any JSON-RPC
 * endpoint the regulator chooses, every file fetched from any IPFS gateway and re-hashed
 * here, the item list and scan counts asked of the platform's API (and checked against
 * the chain, not believed). The same gatherer and rules as the server's audit.
 */
import { JsonRpcProvider, type FallbackProvider } from "ethers";

import { gatherBatch, type AuditSources } from "../../server/src/services/audit/gather.ts";
import type { BatchAuditReport } from "../../server/src/services/audit/report.ts";
import { auditBatch, type AuditContext } from "../../server/src/services/audit/rules.ts";
import { buildReport, type ScanFacts } from "../../server/src/services/audit/run.ts";
import { apiClient } from "./api-client.ts";

export interface RemoteAuditOptions {
  rpcUrl: string;
  /** Reads through this instead of `rpcUrl` (several endpoints answering by quorum); destroyed at the end. */
  provider?: JsonRpcProvider | FallbackProvider;
  registry: string;
  fromBlock: number;
  /** Base URL of an IPFS path gateway: `${gateway}/ipfs/{cid}`. */
  gateway: string;
  /** The platform's API and a regulator's token, for the item list and scan counts. */
  server: string;
  token: string;
}

/** The sources named cannot be audited at all (as opposed to an audit with findings). */
export class AuditSourceError extends Error {}

export async function remoteAudit(batchId: string, options: RemoteAuditOptions): Promise<BatchAuditReport> {
  const provider = options.provider ?? new JsonRpcProvider(options.rpcUrl);
  const api = apiClient(options.server, options.token);
  try {
    const chainId = (await provider.getNetwork()).chainId;
    // Reading an empty address returns nothing rather than failing: say so before any rule runs.
    if ((await provider.getCode(options.registry)) === "0x") {
      throw new AuditSourceError(
        `no contract at ${options.registry} on chain ${chainId.toString()} (${options.rpcUrl}): check --registry and --rpc`,
      );
    }
    const sources: AuditSources = {
      provider,
      registryAddress: options.registry,
      domain: { chainId, verifyingContract: options.registry },
      fromBlock: options.fromBlock,
      streamContent: async function* (cid) {
        const response = await fetch(`${options.gateway.replace(/\/$/, "")}/ipfs/${cid}`);
        if (!response.ok || response.body === null) {
          await response.body?.cancel();
          throw new Error(`${options.gateway} answered ${String(response.status)} for ${cid}`);
        }
        // Hashed as it arrives: a gigabyte video is never held whole.
        yield* response.body;
      },
      // A gateway serves what it has; wrong bytes show as a CID that does not match.
      isCorrupt: () => false,
      isPinned: () => Promise.resolve(null),
      itemSerials: async (id) => {
        const serials: string[] = [];
        for (let offset = 0; ; offset += 10_000) {
          const page = await api.get<{ items: { serial: string }[] }>(
            `/api/v1/batches/${id}/items?limit=10000&offset=${String(offset)}`,
          );
          if (page.status !== 200) return null;
          serials.push(...page.body.items.map((item) => item.serial));
          if (page.body.items.length < 10_000) return serials;
        }
      },
    };
    const gathered = await gatherBatch(sources, batchId);
    const gtin = gathered.attestation?.value.gtin.toString().padStart(14, "0");
    const product =
      gtin === undefined
        ? null
        : await api.get<{ product: NonNullable<AuditContext["product"]> }>(`/api/v1/products/${gtin}`);
    const scans = await api.get<ScanFacts>(`/api/v1/batches/${batchId}/scan-facts`);
    const result = auditBatch(gathered, {
      nowMs: Date.now(),
      product: product?.status === 200 ? product.body.product : null,
      scans: scans.status === 200 ? scans.body : { itemsFlagged: 0, worstItem: null, unknownCodes: 0 },
    });
    return buildReport(
      gathered,
      result,
      { chainId: chainId.toString(), registry: options.registry, rpc: options.rpcUrl, content: options.gateway },
      Date.now(),
    );
  } finally {
    // A fallback provider's destroy is asynchronous (it closes each endpoint's provider).
    await provider.destroy();
  }
}
