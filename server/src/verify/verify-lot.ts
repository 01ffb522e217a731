/**
 * Verifying a lot card (`/01/{gtin}/10/{lot}`) without trusting the server that sent it: the
 * batch half of an item's checks (verify-resolution.ts), with no item to prove. The batch
 * attestation's signature, the batch on chain (attester, items root, item count), the metadata
 * document against its signed CID, and the recall status the chain records. The card's other
 * members (remaining quantity, 合格证 list, names) are the platform's display, not verified here.
 * The card's shape is `domain/lot-card.ts`.
 *
 * Browser-safe: the lot page bundles this file.
 */
import type { BatchMetadataDocument } from "../domain/documents.ts";
import type { LotCard } from "../domain/lot-card.ts";
import { batchIdOf } from "./batch-id.ts";
import { parseUint, sameHex } from "./bytes.ts";
import { cidMatchesBytes, cidTextFromHex } from "./cid.ts";
import { DOCUMENT_MAX_BYTES, readMetadataDocument } from "./documents.ts";
import { attestationDigest, recoverSigner, type Eip712Domain } from "./eip712.ts";
import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";

export type { LotCard } from "../domain/lot-card.ts";
import {
  createRpcClient,
  readBatchRecord,
  readOrganisation,
  timeoutSignal,
  type BatchRecordOnChain,
  type FetchLike,
  type RpcClient,
} from "./rpc.ts";

export type LotCheckId =
  | "chain_id"
  | "lot_identity"
  | "attestation_signature"
  | "attester_registered"
  | "items_root_on_chain"
  | "metadata_cid"
  | "item_count"
  | "status_on_chain";

export const LOT_CHECK_IDS: readonly LotCheckId[] = [
  "chain_id",
  "lot_identity",
  "attestation_signature",
  "attester_registered",
  "items_root_on_chain",
  "metadata_cid",
  "item_count",
  "status_on_chain",
];

export interface LotCheckOutcome {
  id: LotCheckId;
  /** true passed, false failed, null not checkable yet (the batch is not on chain). */
  ok: boolean | null;
  detail: string;
}

export type LotVerdict = "verified" | "recalled" | "suspicious" | "not_verified" | "pending";

export interface LotVerification {
  verdict: LotVerdict;
  checks: LotCheckOutcome[];
  /** False when the chain could not be read: offer to try again rather than suggest a fake. */
  chainReachable: boolean;
  /** The metadata document, only when its bytes matched the signed CID. */
  metadata: BatchMetadataDocument | null;
}

export interface VerifyLotDeps {
  baseUrl: string;
  fetch?: FetchLike;
  rpc?: RpcClient;
}

/** Codes that mean the chain could not be read (trustworthily), not that the lot is false: as for an item. */
const UNREACHABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "verify.rpc",
  "verify.quorum_unreachable",
  "verify.quorum_disagreement",
  "verify.block_stale",
]);

type Outcome = [boolean | null, string];
const NOT_YET: Outcome = [null, "the batch is not on chain yet"];

async function metadataBytes(
  card: LotCard,
  cidText: string,
  deps: VerifyLotDeps,
  fetchImpl: FetchLike,
): Promise<Uint8Array | string> {
  const inlined = Object.prototype.hasOwnProperty.call(card.documents, cidText) ? card.documents[cidText] : undefined;
  let bytes: Uint8Array;
  if (typeof inlined === "string") bytes = new TextEncoder().encode(inlined);
  else {
    const response = await fetchImpl(new URL(`${card.ipfsGateway}${cidText}`, deps.baseUrl).href, {
      method: "GET",
      signal: timeoutSignal(20_000),
    });
    if (!response.ok) return `gateway answered ${String(response.status)}`;
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  if (bytes.length > DOCUMENT_MAX_BYTES) return "document too large";
  // Inlined bytes that do not match are refused, never replaced by a fetch.
  if (!(await cidMatchesBytes(cidText, bytes))) return "bytes do not match the CID";
  return bytes;
}

/** Checks what the lot card claims of its batch and reaches a verdict, in the browser or the CLI. */
export async function verifyLotCard(card: LotCard, deps: VerifyLotDeps): Promise<LotVerification> {
  const fetchImpl: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  const rpc = deps.rpc ?? createRpcClient(new URL(card.chain.rpcUrl, deps.baseUrl).href, { fetch: fetchImpl });
  const { attestation } = card.batch;
  const registry = card.chain.registry;
  const version = card.chain.typedDataVersion;
  const domain: Eip712Domain = {
    chainId: card.chain.chainId,
    verifyingContract: registry,
    ...(version === "1" || version === "2" ? { version } : {}),
  };
  const chainIdRead = rpc.chainId();
  const batchRead = readBatchRecord(rpc, registry, card.batch.batchId);
  const attesterRead = readOrganisation(rpc, registry, attestation.attester);
  for (const read of [chainIdRead, batchRead, attesterRead]) read.catch(() => undefined);
  // The signature needs nothing from the chain: recovered while its answer is on the way. After
  // a task, not a microtask: the browser sends the batched read only once this task yields, and
  // on a slow phone the recovery is most of the CPU work.
  await new Promise((resolve) => setTimeout(resolve, 0));
  let signer: string | Error;
  try {
    signer = recoverSigner(attestationDigest(domain, attestation), card.batch.signature);
  } catch (error) {
    signer = error instanceof Error ? error : new Error(String(error));
  }

  let record: BatchRecordOnChain | null = null;
  let chainReachable = true;
  try {
    record = await batchRead;
  } catch (error) {
    chainReachable = !(isAppError(error) && UNREACHABLE_CODES.has(error.code));
  }
  const anchored = record !== null && record.status !== "none" ? record : null;
  let metadata: BatchMetadataDocument | null = null;

  const judge: Record<LotCheckId, () => Promise<Outcome> | Outcome> = {
    chain_id: async () => {
      const chainId = await chainIdRead;
      return chainId === BigInt(card.chain.chainId)
        ? [true, `chain ${String(chainId)}, registry ${registry}`]
        : [false, `the node is chain ${String(chainId)}, the card says ${card.chain.chainId}`];
    },
    lot_identity: () => {
      const gtin = parseUint(attestation.gtin, 64);
      if (gtin !== BigInt(card.gtin) || attestation.lot !== card.lot)
        return [false, "the attestation is of another lot"];
      return sameHex(batchIdOf(gtin, attestation.lot), card.batch.batchId)
        ? [true, `batch ${card.batch.batchId}`]
        : [false, "the batch id is not keccak(gtin, lot)"];
    },
    attestation_signature: () => {
      if (signer instanceof Error) throw signer;
      return sameHex(signer, attestation.attester)
        ? [true, `signed by ${signer}`]
        : [false, `the signature recovers to ${signer}, not ${attestation.attester}`];
    },
    attester_registered: async () => {
      if (anchored === null) return NOT_YET;
      if (!sameHex(anchored.attester, attestation.attester)) return [false, `the chain says ${anchored.attester}`];
      const organisation = await attesterRead;
      return [true, `the chain records ${anchored.attester} as the attester (now ${organisation.kind})`];
    },
    items_root_on_chain: () => {
      if (anchored === null) return NOT_YET;
      return sameHex(anchored.itemsRoot, attestation.itemsRoot)
        ? [true, anchored.itemsRoot]
        : [false, `the chain's root is ${anchored.itemsRoot}`];
    },
    metadata_cid: async () => {
      const cidText = cidTextFromHex(attestation.metadataCid);
      if (cidText !== card.batch.metadataCid) return [false, "the metadata CID is not the signed one"];
      const bytes = await metadataBytes(card, cidText, deps, fetchImpl);
      if (typeof bytes === "string") return [false, `metadata ${cidText}: ${bytes}`];
      const doc = readMetadataDocument(bytes);
      if (doc === null) return [false, "the metadata document is malformed"];
      if (BigInt(doc.gtin) !== BigInt(card.gtin) || doc.lot !== card.lot)
        return [false, "the document is of another lot"];
      if (!sameHex(doc.cooperative.signer, attestation.attester)) return [false, "the document names another key"];
      metadata = doc;
      return [true, cidText];
    },
    item_count: () => {
      const signed = parseUint(attestation.itemCount, 32);
      const documented = metadata === null ? signed : BigInt(metadata.itemCount);
      if (documented !== signed)
        return [false, `the document says ${String(documented)}, the signature ${String(signed)}`];
      if (anchored === null) return NOT_YET;
      return BigInt(anchored.itemCount) === signed
        ? [true, `${String(signed)} items`]
        : [false, `the chain says ${String(anchored.itemCount)} items`];
    },
    status_on_chain: () => {
      if (record === null) return [false, "the chain could not be read"];
      if (record.status === "none") return NOT_YET;
      return [true, record.status];
    },
  };

  const checks: LotCheckOutcome[] = [];
  for (const id of LOT_CHECK_IDS) {
    try {
      const [ok, detail] = await judge[id]();
      checks.push({ id, ok, detail });
    } catch (error) {
      checks.push({ id, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return { verdict: lotVerdict(checks, record, chainReachable), checks, chainReachable, metadata };
}

function lotVerdict(checks: LotCheckOutcome[], record: BatchRecordOnChain | null, reachable: boolean): LotVerdict {
  if (!reachable) return "not_verified";
  if (checks.some((check) => check.ok === false)) return "suspicious";
  if (checks.some((check) => check.ok === null)) return "pending";
  // Only the chain's status counts: the server's `status` is display.
  return record?.status === "recalled" ? "recalled" : "verified";
}
