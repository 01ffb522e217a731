/**
 * Gathers an audit's evidence from the sources themselves, not from the platform's
 * query store: the batch record, logs and status from the chain over JSON-RPC; every
 * signature recovered again; every document and media file fetched by CID and hashed
 * again with the same UnixFS parameters; the item root rebuilt from the item list; the
 * event hash chain recomputed from the logs. The query store is used only for what the
 * chain cannot know (the item list to check against the root, and scan counts).
 *
 * The same gatherer runs in the server (sources: its provider and content store) and in
 * the regulator's CLI (sources: any JSON-RPC endpoint and any IPFS gateway).
 */
import { Contract, getAddress, type FallbackProvider, type JsonRpcProvider } from "ethers";

import {
  batchMetadataDocument,
  eventPayloadDocument,
  type BatchMetadataDocument,
  type EventPayloadDocument,
} from "../../domain/documents.ts";
import {
  readVerifiedBatch,
  type OnChainBatch,
  type VerifiedAttestationLog,
  type VerifiedEventLog,
} from "../../ledger/chain-reader.ts";
import { traceRegistryArtifact } from "../../ledger/registry-artifact.ts";
import type { SigningDomain } from "../../ledger/signing.ts";
import { cidTextFromHex } from "../../verify/cid.ts";
import { buildItemTreeOffLoop } from "../../workers/heavy.ts";
import type { AuthorityReport } from "../../verify/authority.ts";
import { readBatchAuthority } from "./authority.ts";
import { checkContent, type ContentCheck, type ContentSource } from "./content-check.ts";
import { gatherContainers, type GatheredContainers } from "./containers.ts";

export interface AuditSources extends ContentSource {
  /** The chain (the CLI's several `--rpc` make a fallback provider answering by quorum). */
  provider: JsonRpcProvider | FallbackProvider;
  registryAddress: string;
  domain: SigningDomain;
  fromBlock: number;
  /** The batch's item serials in leaf order, as the platform holds them (checked against the root here). */
  itemSerials: (batchId: string) => Promise<string[] | null>;
}

export type { ContentCheck, ContentRole } from "./content-check.ts";

export interface GatheredEvent {
  log: VerifiedEventLog;
  payload: EventPayloadDocument | null;
}

export interface GatheredBatch {
  batchId: string;
  onChain: OnChainBatch;
  attestation: VerifiedAttestationLog | null;
  /** The attester as the registry knows it now, and whether it was registered before it attested. */
  attester: { registered: boolean; registeredBeforeAttesting: boolean; regionCode: number | null; suspended: boolean };
  events: GatheredEvent[];
  recalls: { blockNumber: number; atSeconds: number; recalledBy: string; reasonCid: string }[];
  metadata: BatchMetadataDocument | null;
  contents: ContentCheck[];
  items: { recomputedRoot: string | null; count: number | null };
  eventHead: { onChain: string; recomputed: string };
  /**
   * Who was entitled (the attester to the GTIN, each event's actor to the batch), judged from
   * the registry's logs as the scan page judges it; null when there is no attestation.
   */
  authority?: AuthorityReport | null;
  /** The cases and pallets holding its items, from the registry's container logs (absent: not gathered). */
  containers?: GatheredContainers;
}

function parseJson<T>(bytes: Uint8Array | null, parse: (value: unknown) => T): T | null {
  if (bytes === null) return null;
  try {
    return parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return null;
  }
}

export async function gatherBatch(sources: AuditSources, batchId: string): Promise<GatheredBatch> {
  const registry = new Contract(sources.registryAddress, traceRegistryArtifact().abi, sources.provider);
  // Every signature recovered again and the hash chain recomputed, by the verification core.
  const {
    onChain,
    attestation,
    events: logs,
    eventHead,
  } = await readVerifiedBatch(registry, sources.domain, batchId, sources.fromBlock);

  const attesterAddress = attestation?.value.attester ?? onChain.attester;
  const organisation = (await registry.getFunction("organisation")(attesterAddress)) as {
    status: bigint;
    regionCode: bigint;
  };
  const registrations = await registry.queryFilter(
    registry.filters.OrganisationRegistered?.(attesterAddress) ?? "OrganisationRegistered",
    sources.fromBlock,
  );
  const registeredAt = registrations[0]?.blockNumber ?? null;
  const recallLogs = await registry.queryFilter(
    registry.filters.BatchRecalled?.(batchId) ?? "BatchRecalled",
    sources.fromBlock,
  );

  const contents: ContentCheck[] = [];
  let metadata: BatchMetadataDocument | null = null;
  if (attestation !== null) {
    const metadataCid = cidTextFromHex(attestation.value.metadataCid);
    const { check, bytes } = await checkContent(sources, metadataCid, "metadata", true);
    contents.push(check);
    metadata = parseJson(bytes, (value) => batchMetadataDocument.parse(value));
    if (metadata !== null) {
      if (metadata.videoCid !== null) contents.push((await checkContent(sources, metadata.videoCid, "video")).check);
      for (const photo of metadata.photoCids) contents.push((await checkContent(sources, photo, "photo")).check);
      contents.push((await checkContent(sources, metadata.itemsArchiveCid, "items_archive")).check);
    }
  }
  const events: GatheredEvent[] = [];
  for (const log of logs) {
    const { check, bytes } = await checkContent(sources, cidTextFromHex(log.value.payloadCid), "event_payload", true);
    contents.push(check);
    events.push({ log, payload: parseJson(bytes, (value) => eventPayloadDocument.parse(value)) });
  }
  const recalls = [];
  for (const log of recallLogs) {
    if (!("args" in log)) continue;
    const reasonCid = cidTextFromHex(log.args.getValue("reasonCid") as string);
    contents.push((await checkContent(sources, reasonCid, "recall_reason")).check);
    const block = await sources.provider.getBlock(log.blockNumber);
    recalls.push({
      blockNumber: log.blockNumber,
      atSeconds: block?.timestamp ?? Number.POSITIVE_INFINITY,
      recalledBy: getAddress(log.args.getValue("recalledBy") as string),
      reasonCid,
    });
  }

  const authority =
    attestation === null
      ? null
      : await readBatchAuthority(sources.provider, {
          registry: sources.registryAddress,
          domain: sources.domain,
          batchId,
          gtin: attestation.value.gtin,
          keys: [attestation.value.attester, ...logs.flatMap((log) => [log.value.actor, log.value.counterparty])],
          fromBlock: sources.fromBlock,
        });

  const containers = await gatherContainers(sources, [batchId]);
  contents.push(...containers.contents);

  const serials = await sources.itemSerials(batchId).catch(() => null);
  let recomputedRoot: string | null = null;
  if (serials !== null && serials.length > 0) {
    try {
      // On a worker thread: a million-item batch's tree is seconds of hashing.
      recomputedRoot = (await buildItemTreeOffLoop(serials)).root;
    } catch {
      recomputedRoot = null;
    }
  }
  return {
    batchId,
    onChain,
    attestation,
    attester: {
      registered: organisation.status !== 0n,
      registeredBeforeAttesting:
        registeredAt !== null && attestation !== null && registeredAt <= attestation.blockNumber,
      regionCode: organisation.status === 0n ? null : Number(organisation.regionCode),
      suspended: organisation.status === 2n,
    },
    events,
    recalls,
    metadata,
    contents,
    items: { recomputedRoot, count: serials?.length ?? null },
    eventHead,
    authority,
    containers,
  };
}
