/**
 * What the resolver answers for one item's GS1 Digital Link when a client asks for JSON:
 * everything needed to verify the item without trusting the server. The scan page, the
 * CLI and any third party read this shape; the verification core
 * (`server/src/verify/`) checks it against the chain and the documents' CIDs.
 *
 * Types only: the scan page imports this file without pulling in anything else.
 * Integers that are uint64/uint256 on chain travel as decimal strings; bytes as 0x-hex.
 */
import type { TypedJson } from "./typed-data.ts";

/**
 * The signed `BatchAttestation` value, field for field, in the JSON form of its one codec
 * (`TYPED_CODECS` in typed-data.ts); `metadataCid` is the binary CID in 0x-hex.
 */
export type AttestationValueJson = TypedJson<"BatchAttestation">;

/** The signed `TraceEvent` value, field for field; `bizStep` is the decimal index into BIZ_STEPS. */
export type EventValueJson = TypedJson<"TraceEvent">;

export type LedgerStateJson = "pending" | "submitted" | "anchored" | "failed";

export interface LocalisedText {
  zh: string;
  en: string | null;
}

export interface ResolvedEvent {
  value: EventValueJson;
  signature: string;
  bizStep: string;
  /** Base32 CIDv1 of the payload document (the same CID as `value.payloadCid`). */
  payloadCid: string;
  actor: { name: LocalisedText; kind: string; regionCode: string };
  /**
   * For a shipping event, the organisation it hands the batch to (`value.counterparty` is its
   * signer; its receiving event completes the handover); null for every other step.
   */
  counterparty: ResolvedParty | null;
  /** Whether it is anchored (`pending` until then); which transaction anchored it is the chain's to say. */
  ledgerState: LedgerStateJson;
}

/** An organisation named beside a signed address, as the platform records it (display, not signed). */
export interface ResolvedParty {
  organisationId: string;
  /** The address the signed record names (a signer; on chain, custody is held by its origin). */
  signer: string;
  name: LocalisedText;
  kind: string;
  regionCode: string;
}

/**
 * A request that an inspector inspect or certify the batch: signed by the batch's cooperative
 * (`signature`), or sent by a regulator on its own authority (`signature` null). Only an
 * inspector asked may record inspecting or certifying (besides the cooperative and custodian).
 */
export interface ResolvedInspectionRequest {
  inspector: ResolvedParty;
  requestedBy: "cooperative" | "regulator";
  requester: ResolvedParty;
  nonce: string;
  deadline: string;
  signature: string | null;
  ledgerState: LedgerStateJson;
  txHash: string | null;
}

/**
 * One signed request of a container (docs/aggregation.md): its packing or a later shipping,
 * receiving or unpacking, with the state after it. Left out because a verifier recomputes
 * them: the state's hash, the payload's base32 CID (from `value.payloadCid`), the time (from
 * `value.occurredAt`).
 */
export interface ResolvedContainerStep {
  primaryType: "ContainerPacking" | "ContainerEvent";
  action: "packing" | "unpacking" | "shipping" | "receiving";
  /**
   * The signed value in JSON: integers as decimal strings, bytes as 0x-hex, and the packing's
   * `batchIds` and `childContainers` as arrays of 0x-hex words.
   */
  value: Record<string, string | string[]>;
  signature: string;
  /** The state after this step; the registry stores `keccak256(abi.encode(state))`. */
  state: { childrenRoot: string; custodian: string; pendingReceiver: string; link: string };
  actor: ResolvedParty;
  counterparty: ResolvedParty | null;
  ledgerState: LedgerStateJson;
}

/**
 * A case or pallet the item is (or was) in: from the packing that holds it to the
 * container's latest step. The key is `keccak256(abi.encode(uint64 sscc))`, recomputed.
 */
export interface ResolvedContainer {
  sscc: string;
  /** What `proof` is for: the item itself, or the case (by SSCC) it reaches this pallet through. */
  leaf: { type: "item" } | { type: "container"; sscc: string };
  /** StandardMerkleTree proof of the leaf under the packing's `childrenRoot`. */
  proof: string[];
  steps: ResolvedContainerStep[];
  /** The platform's say that the packing holding it is still the container's current one. */
  live: boolean;
}

/**
 * A 合格证 covering the batch, as the platform lists it (display only: its page `/c/{id}`
 * verifies the signed credential and its lineage).
 */
export interface ResolvedCertificate {
  /** The certificate's id (the digest its issuer signed). */
  id: string;
  issuer: LocalisedText;
  /** The promise's basis, as the document ticks it (`CERTIFICATE_BASES`). */
  basis: string[];
  issuedOn: string;
  /** True when issued from parent certificates (a mixed or repacked lot). */
  mixed: boolean;
}

export interface CloneSignal {
  code: "many_scans_day" | "many_scans_week" | "many_places" | "scanned_after_claim" | "in_two_live_containers";
  en: string;
  zh: string;
}

export interface ItemResolution {
  type: "oioc.item-resolution";
  version: 1;
  /** The canonical Digital Link URI of the item. */
  uri: string;
  item: { gtin: string; lot: string; serial: string; hasHiddenCode: boolean; claimedAtMs: number | null };
  chain: {
    chainId: string;
    registry: string;
    /** JSON-RPC endpoint the page reads the chain from (absolute, or relative to the page). */
    rpcUrl: string;
    typedDataVersion: string;
    /**
     * The block the registry was deployed at (decimal), where a verifier starts reading its
     * logs. A later block than the truth can only hide entitlements, never grant one.
     */
    fromBlock?: string;
  };
  batch: {
    batchId: string;
    attestation: AttestationValueJson;
    signature: string;
    /** Base32 CIDv1 of the metadata document (the same CID as `attestation.metadataCid`). */
    metadataCid: string;
    ledgerState: LedgerStateJson;
    txHash: string | null;
    status: "active" | "recalled";
    recall: { atMs: number; reasonCid: string | null; reason: LocalisedText | null } | null;
    /** In the order they were made. */
    inspectionRequests: ResolvedInspectionRequest[];
  };
  /** Merkle proof of the item's leaf under `attestation.itemsRoot`. */
  proof: string[];
  /** In hash-chain order. */
  events: ResolvedEvent[];
  /** The item's cases (oldest first), then the pallets holding them; absent when none. */
  containers?: ResolvedContainer[];
  /** The batch's 合格证; absent when none. */
  certificates?: ResolvedCertificate[];
  /** Gateway path prefix for documents and media, e.g. "/ipfs/". */
  ipfsGateway: string;
  /**
   * The text of small signed documents (batch metadata, event payloads) by base32 CID, so
   * a phone need not fetch each from the gateway: a verifier hashes the UTF-8 bytes of the
   * text against the signed CID and refuses a mismatch, exactly as for fetched bytes.
   * A document missing here is fetched from `ipfsGateway`.
   */
  documents?: Record<string, string>;
  /** Public display helpers the server adds (names of regions); not part of any signature. */
  display: {
    /**
     * The name of the organisation the platform records as the GTIN's owner, for a batch a
     * grantee registered ("registered by X under Y's grant"). Who was entitled is read from
     * the chain; this only names it.
     */
    gtinOwner?: LocalisedText | null;
    regionName: LocalisedText | null;
    plotRegionName: LocalisedText | null;
    /**
     * The product's cold-chain range as the platform records it. The verifier uses it only
     * for batches whose signed metadata carries no range (version 1), and says so.
     */
    coldChain?: { minC: number; maxC: number } | null;
    /** An independent verifier's page (`VERIFIER_URL`) the scan page links to with `?link=`; absent when none. */
    verifierUrl?: string;
  };
  scans: { count: number; firstAtMs: number | null; signals: CloneSignal[] };
}

/** The answer for a well-formed Digital Link that names no item we issued. */
export interface UnknownItemResolution {
  type: "oioc.item-unknown";
  version: 1;
  uri: string;
  item: { gtin: string; lot: string | null; serial: string | null };
  message: LocalisedText;
}
