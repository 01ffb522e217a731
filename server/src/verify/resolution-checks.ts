/**
 * The checks of an item resolution, one function each, and the table that names them by
 * `CheckId`. Each judges one claim against the chain's answers, the signatures or the
 * documents' CIDs; `verifyResolution` runs them in order and reaches the verdict.
 */
import { BIZ_STEPS } from "../domain/typed-data.ts";
import type { BatchMetadataDocument, EventPayloadDocument } from "../domain/documents.ts";
import type { ItemResolution, ResolvedEvent } from "../domain/resolution.ts";
import type { AuthorityFinding, AuthorityReport, JudgedChainEvent } from "./authority.ts";
import { batchIdOf } from "./batch-id.ts";
import { parseUint, sameHex } from "./bytes.ts";
import type { CheckId, CheckOutcome } from "./checks.ts";
import { cidMatchesBytes, cidTextFromHex } from "./cid.ts";
import { DOCUMENT_MAX_BYTES, readEventPayloadDocument, readMetadataDocument } from "./documents.ts";
import { eventDigest, recoverSigner, type Eip712Domain } from "./eip712.ts";
import type { ContainersReport } from "./containers.ts";
import type { ResolutionWallets } from "./contract-signatures.ts";
import { eventHead } from "./hash-chain.ts";
import { itemLeaf, verifyProof } from "./merkle.ts";
import {
  timeoutSignal,
  type BatchRecordOnChain,
  type FetchLike,
  type OrganisationOnChain,
  type RpcClient,
} from "./rpc.ts";

export interface VerifiedEvent {
  event: ResolvedEvent;
  /** The business step from the signed value (not the server's label). */
  bizStep: string;
  /** Seconds since the epoch, from the signed value. */
  occurredAt: number;
  signatureValid: boolean;
  /** Whether the event is covered by the head on chain. */
  onChain: boolean;
  /** The payload document, only when its bytes matched the signed CID. */
  payload: EventPayloadDocument | null;
  /** Its actor's say about the batch, judged from the registry's logs; absent until anchored and judged. */
  authority?: Pick<JudgedChainEvent, "basis" | "refusal" | "requestedBy">;
}

export interface VerifyDeps {
  /** The page's URL: relative RPC and gateway addresses resolve against it. */
  baseUrl: string;
  fetch?: FetchLike;
  /** Read the chain through this client instead of `resolution.chain.rpcUrl`. */
  rpc?: RpcClient;
  /**
   * Values the caller knows independently of the server (a build-time pin, a CLI flag): the
   * chain, the registry, its typed-data version, and its deployment block (logs are read from it).
   */
  expected?: { chainId?: string; registry?: string; typedDataVersion?: string; fromBlock?: string };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A document's bytes: the text the resolution inlined (encoded as UTF-8), else fetched from
 * the gateway. Either way they must hash to the signed CID; inlined bytes that do not are
 * refused, not replaced by a fetch.
 */
export async function fetchDocument(
  fetchImpl: FetchLike,
  url: string,
  cidText: string,
  inlined: string | undefined,
): Promise<{ bytes: Uint8Array | null; problem: string | null }> {
  if (typeof inlined === "string") {
    const bytes = new TextEncoder().encode(inlined);
    if (bytes.length > DOCUMENT_MAX_BYTES) return { bytes: null, problem: "document too large" };
    if (!(await cidMatchesBytes(cidText, bytes))) return { bytes: null, problem: "inlined bytes do not match the CID" };
    return { bytes, problem: null };
  }
  try {
    const response = await fetchImpl(url, { method: "GET", signal: timeoutSignal(20_000) });
    if (!response.ok) return { bytes: null, problem: `gateway answered ${response.status}` };
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > DOCUMENT_MAX_BYTES) return { bytes: null, problem: "document too large" };
    if (!(await cidMatchesBytes(cidText, bytes))) return { bytes: null, problem: "bytes do not match the CID" };
    return { bytes, problem: null };
  } catch (error) {
    return { bytes: null, problem: `unreachable: ${messageOf(error)}` };
  }
}

/** What the checks judge: the resolution, the chain's answers, and what earlier checks verified. */
export interface Verification {
  resolution: ItemResolution;
  deps: VerifyDeps;
  fetchImpl: FetchLike;
  chainIdRead: Promise<bigint>;
  attesterRead: Promise<OrganisationOnChain>;
  /** The attestation's signer, recovered while the chain's answer was on the way. */
  attestationSigner: { signer: string } | { error: unknown };
  /** The contract wallets' answers (ERC-1271) about the signatures recovering to another key; null when none was asked. */
  wallets: ResolutionWallets | null;
  /** Each event's digest ("" when its value is malformed), in the resolution's order. */
  digests: string[];
  events: VerifiedEvent[];
  /** The batch as the chain records it, or null when the chain could not be read. */
  batchOnChain: BatchRecordOnChain | null;
  /** Set by `metadata_cid` once the document matched its signed CID; `item_count` reads it. */
  metadata: BatchMetadataDocument | null;
  /** Who was entitled, judged from the registry's logs; null for a version 1 registry, which records no entitlement. */
  authority: Promise<AuthorityReport> | null;
  /** The item's cases and pallets, verified (verify/containers.ts). */
  containers: Promise<ContainersReport>;
}

type CheckResult = [boolean | null, string];
type Check = (v: Verification) => Promise<CheckResult> | CheckResult;

const NOT_YET: CheckResult = [null, "the batch is not on chain yet"];

/** The batch record when the registry has the batch, else null (its checks wait for the chain). */
function anchoredRecord(v: Verification): BatchRecordOnChain | null {
  return v.batchOnChain !== null && v.batchOnChain.status !== "none" ? v.batchOnChain : null;
}

export function gatewayUrl(v: Pick<Verification, "resolution" | "deps">, cid: string): string {
  return new URL(`${v.resolution.ipfsGateway}${cid}`, v.deps.baseUrl).href;
}

/** The document the resolution inlined for `cid`: an own property only, so a CID named like an Object.prototype member finds none. */
export function inlinedText(v: Pick<Verification, "resolution">, cid: string): string | undefined {
  const { documents } = v.resolution;
  return documents !== undefined && Object.prototype.hasOwnProperty.call(documents, cid) ? documents[cid] : undefined;
}

async function chainIdCheck(v: Verification): Promise<CheckResult> {
  const chainId = await v.chainIdRead;
  const { registry } = v.resolution.chain;
  const claimed = BigInt(v.resolution.chain.chainId);
  const expected = v.deps.expected;
  if (chainId !== claimed) return [false, `the node is chain ${chainId}, the resolution says ${claimed}`];
  if (expected?.chainId !== undefined && BigInt(expected.chainId) !== chainId) {
    return [false, `expected chain ${expected.chainId}`];
  }
  if (expected?.registry !== undefined && !sameHex(expected.registry, registry)) {
    return [false, `expected registry ${expected.registry}, the resolution names ${registry}`];
  }
  const version = v.resolution.chain.typedDataVersion;
  if (expected?.typedDataVersion !== undefined && expected.typedDataVersion !== version) {
    return [false, `expected typed-data version ${expected.typedDataVersion}, the resolution claims ${version}`];
  }
  return [true, `chain ${chainId}, registry ${registry}`];
}

function itemIdentityCheck({ resolution }: Verification): CheckResult {
  const { attestation } = resolution.batch;
  const gtin = parseUint(attestation.gtin, 64);
  if (gtin !== BigInt(resolution.item.gtin)) return [false, "the attested GTIN is not the item's"];
  if (attestation.lot !== resolution.item.lot) return [false, "the attested lot is not the item's"];
  const batchId = batchIdOf(gtin, attestation.lot);
  if (!sameHex(batchId, resolution.batch.batchId)) return [false, "the batch id is not keccak(gtin, lot)"];
  return [true, `batch ${batchId}`];
}

function attestationSignatureCheck(v: Verification): CheckResult {
  const wallet = v.wallets?.attestation;
  if (wallet) return wallet;
  if ("error" in v.attestationSigner) throw v.attestationSigner.error;
  const { signer } = v.attestationSigner;
  const { attester } = v.resolution.batch.attestation;
  return sameHex(signer, attester)
    ? [true, `signed by ${signer}`]
    : [false, `the signature recovers to ${signer}, not ${attester}`];
}

async function attesterRegisteredCheck(v: Verification): Promise<CheckResult> {
  const record = anchoredRecord(v);
  if (record === null) return NOT_YET;
  if (!sameHex(record.attester, v.resolution.batch.attestation.attester)) {
    return [false, `the chain says ${record.attester} attested this batch`];
  }
  // The registry accepted the attestation only from a registered cooperative; the record
  // read now tells whether it is still active (a rotated key reads as zero).
  const organisation = await v.attesterRead;
  const now =
    organisation.kind === "none" ? "its key was rotated since" : `now ${organisation.kind}, ${organisation.status}`;
  return [true, `the chain records ${record.attester} as the attester (${now})`];
}

function itemsRootCheck(v: Verification): CheckResult {
  const record = anchoredRecord(v);
  if (record === null) return NOT_YET;
  return sameHex(record.itemsRoot, v.resolution.batch.attestation.itemsRoot)
    ? [true, record.itemsRoot]
    : [false, `the chain's root is ${record.itemsRoot}`];
}

function itemInBatchCheck({ resolution }: Verification): CheckResult {
  return verifyProof(resolution.batch.attestation.itemsRoot, itemLeaf(resolution.item.serial), resolution.proof)
    ? [true, `the proof of ${resolution.item.serial} leads to the signed root`]
    : [false, "the Merkle proof does not lead to the signed root"];
}

/** The metadata document, fetched by the CID inside the signed attestation. */
async function metadataCidCheck(v: Verification): Promise<CheckResult> {
  const { resolution } = v;
  const { attestation } = resolution.batch;
  const cidText = cidTextFromHex(attestation.metadataCid);
  if (cidText !== resolution.batch.metadataCid) return [false, "the metadata CID is not the signed one"];
  const { bytes, problem } = await fetchDocument(v.fetchImpl, gatewayUrl(v, cidText), cidText, inlinedText(v, cidText));
  if (bytes === null) return [false, `metadata ${cidText}: ${problem ?? ""}`];
  const doc = readMetadataDocument(bytes);
  if (doc === null) return [false, "the metadata document is malformed"];
  if (BigInt(doc.gtin) !== BigInt(resolution.item.gtin) || doc.lot !== resolution.item.lot) {
    return [false, "the metadata document describes another batch"];
  }
  if (!sameHex(doc.cooperative.signer, attestation.attester)) {
    return [false, "the metadata document names another cooperative key"];
  }
  v.metadata = doc;
  return [true, cidText];
}

function itemCountCheck(v: Verification): CheckResult {
  const signed = parseUint(v.resolution.batch.attestation.itemCount, 32);
  const documented = v.metadata === null ? signed : BigInt(v.metadata.itemCount);
  if (documented !== signed) return [false, `the document says ${documented} items, the signature ${signed}`];
  const record = anchoredRecord(v);
  if (record === null) return NOT_YET;
  return BigInt(record.itemCount) === signed
    ? [true, `${signed} items`]
    : [false, `the chain says ${record.itemCount} items, the signature ${signed}`];
}

function eventSignaturesCheck({ events, wallets }: Verification): CheckResult {
  const bad = events.filter((e) => !e.signatureValid).length;
  const more = wallets?.note ?? "";
  return bad === 0
    ? [true, `${events.length} events, each signed by its actor${more}`]
    : [false, `${bad} of ${events.length} events do not match their signatures${more}`];
}

async function eventPayloadsCheck(v: Verification): Promise<CheckResult> {
  const problems = await Promise.all(
    v.events.map(async (verifiedEvent) => {
      const cidText = cidTextFromHex(verifiedEvent.event.value.payloadCid);
      if (cidText !== verifiedEvent.event.payloadCid) return "a payload CID is not the signed one";
      const url = gatewayUrl(v, cidText);
      const { bytes, problem } = await fetchDocument(v.fetchImpl, url, cidText, inlinedText(v, cidText));
      if (bytes === null) return `payload ${cidText}: ${problem ?? ""}`;
      verifiedEvent.payload = readEventPayloadDocument(bytes);
      return verifiedEvent.payload === null ? "a payload document is malformed" : null;
    }),
  );
  const failures = problems.filter((p) => p !== null);
  return failures.length === 0
    ? [true, `${v.events.length} payload documents match their CIDs`]
    : [false, failures.join("; ")];
}

function eventHeadCheck(v: Verification): CheckResult {
  const record = anchoredRecord(v);
  if (record === null) return NOT_YET;
  const { digests, events } = v;
  // The chain may not have taken the newest events yet: some prefix of the list must
  // lead to the head, and it must cover every event the server calls anchored.
  // (A loop, not findLastIndex: older Android WebViews lack it.)
  let lastAnchored = -1;
  v.resolution.events.forEach((e, i) => {
    if (e.ledgerState === "anchored") lastAnchored = i;
  });
  for (let k = digests.length; k >= 0; k--) {
    if (sameHex(eventHead(digests.slice(0, k)), record.eventHead)) {
      if (k < lastAnchored + 1) return [false, "the chain has fewer events than the server says are anchored"];
      for (let i = 0; i < k; i++) {
        const covered = events[i];
        if (covered !== undefined) covered.onChain = true;
      }
      return [
        true,
        `${k} events lead to the head on chain${k < digests.length ? `; ${digests.length - k} pending` : ""}`,
      ];
    }
  }
  return [false, "the events do not lead to the head on chain (changed, missing or reordered)"];
}

const VERSION_1: CheckResult = [true, "a version 1 registry records no entitlement or custody"];

const ENTITLEMENT_BASIS_TEXT = {
  gtin_owner: "the GTIN's owner (the GTIN is bound to it)",
  prefix_owner: "the GTIN's owner (by its company prefix)",
  grantee: "granted the GTIN by its owner",
} as const;

async function entitlementCheck(v: Verification): Promise<CheckResult> {
  if (anchoredRecord(v) === null) return NOT_YET;
  if (v.authority === null) return VERSION_1;
  const { entitlement } = await v.authority;
  if (entitlement === null) return [false, "the chain has no attestation log of this batch"];
  const owner = entitlement.owner === null ? "bound to nobody" : `owned by ${entitlement.owner}`;
  return entitlement.basis === null
    ? [false, `${entitlement.attester} was not entitled to GTIN ${entitlement.gtin} (${owner}) when it attested`]
    : [true, `attested by ${ENTITLEMENT_BASIS_TEXT[entitlement.basis]}, ${owner}`];
}

function custodyProblem(finding: AuthorityFinding): string | null {
  if (finding.code === "no_custody") {
    return `event ${String(finding.index + 1)} (${finding.step}) by ${finding.actor}: ${finding.reason}`;
  }
  if (finding.code === "custody_transfers") {
    return `the registry logged ${String(finding.logged)} custody transfers, the events make ${String(finding.recomputed)}`;
  }
  return null;
}

const orNull = (address: string | undefined): string | null =>
  address === undefined || /^0x0{40}$/.test(address) ? null : address.toLowerCase();

async function custodyCheck(v: Verification): Promise<CheckResult> {
  const record = anchoredRecord(v);
  if (record === null) return NOT_YET;
  if (v.authority === null) return VERSION_1;
  const report = await v.authority;
  const problems = report.findings.map(custodyProblem).filter((p) => p !== null);
  if (record.custodian !== undefined) {
    if (orNull(record.custodian) !== report.custody.custodian) {
      problems.push(
        `the chain's custodian is ${record.custodian}, the events make ${String(report.custody.custodian)}`,
      );
    }
    if (orNull(record.pendingReceiver) !== report.custody.pendingReceiver) {
      problems.push(`the chain's pending receiver differs from the events'`);
    }
  }
  if (problems.length > 0) return [false, problems.join("; ")];
  return [
    true,
    `${String(report.events.length)} events, each by an organisation entitled to record it; ${String(report.handovers.length)} handovers`,
  ];
}

async function containersCheck(v: Verification): Promise<CheckResult> {
  const report = await v.containers;
  return [report.ok, report.detail];
}

function statusCheck({ batchOnChain }: Verification): CheckResult {
  if (batchOnChain === null) return [false, "the chain could not be read"];
  if (batchOnChain.status === "none") return NOT_YET;
  return [true, batchOnChain.status];
}

/** One check per id; they run one after another in `CHECK_IDS` order, as later ones read what earlier ones verified. */
const CHECKS: Readonly<Record<CheckId, Check>> = {
  chain_id: chainIdCheck,
  item_identity: itemIdentityCheck,
  attestation_signature: attestationSignatureCheck,
  attester_registered: attesterRegisteredCheck,
  items_root_on_chain: itemsRootCheck,
  item_in_batch: itemInBatchCheck,
  metadata_cid: metadataCidCheck,
  item_count: itemCountCheck,
  event_signatures: eventSignaturesCheck,
  event_payloads: eventPayloadsCheck,
  event_head_on_chain: eventHeadCheck,
  entitlement: entitlementCheck,
  custody: custodyCheck,
  status_on_chain: statusCheck,
  containers: containersCheck,
};

/** Runs one check, turning any exception into a failed outcome. */
export async function runCheck(id: CheckId, v: Verification): Promise<CheckOutcome> {
  try {
    const [ok, detail] = await CHECKS[id](v);
    return { id, ok, detail };
  } catch (error) {
    return { id, ok: false, detail: messageOf(error) };
  }
}

/** Each event with its signature checked offline (the digest computed from its value must recover to the actor). */
export function verifyEventSignatures(
  resolution: ItemResolution,
  domain: Eip712Domain,
): { events: VerifiedEvent[]; digests: string[] } {
  const digests: string[] = [];
  const events = resolution.events.map((event): VerifiedEvent => {
    let signatureValid = false;
    let digest = "";
    try {
      digest = eventDigest(domain, event.value);
      signatureValid =
        sameHex(event.value.batchId, resolution.batch.batchId) &&
        sameHex(recoverSigner(digest, event.signature), event.value.actor);
    } catch {
      // A malformed value has no digest or signer: the event stays unverified.
    }
    digests.push(digest);
    return {
      event,
      bizStep: BIZ_STEPS[Number(event.value.bizStep)] ?? "unknown",
      occurredAt: Number(event.value.occurredAt),
      signatureValid,
      onChain: false,
      payload: null,
    };
  });
  return { events, digests };
}
