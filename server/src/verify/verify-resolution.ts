/**
 * Verifying an item resolution without trusting the server that sent it: every claim the
 * page shows is checked against the chain (read over JSON-RPC), the organisations'
 * signatures and the documents' CIDs. The verdict is computed here, in the browser (or the
 * CLI), never read from the server's answer.
 *
 * What is still trusted: the registry address and chain the resolution names, unless the
 * caller pins them (`VerifyDeps.expected`), and the RPC endpoint the caller reads through.
 */
import { BIZ_STEPS } from "../domain/typed-data.ts";
import type { BatchMetadataDocument, EventPayloadDocument } from "../domain/documents.ts";
import type { ItemResolution, ResolvedEvent } from "../domain/resolution.ts";
import { concatBytes, keccak256Hex, parseUint, sameHex, uintWord } from "./bytes.ts";
import { cidMatchesBytes, cidTextFromHex } from "./cid.ts";
import { DOCUMENT_MAX_BYTES, readEventPayloadDocument, readMetadataDocument } from "./documents.ts";
import { attestationDigest, eventDigest, recoverSigner, type Eip712Domain } from "./eip712.ts";
import { safetyFindings, verdictOf, type Finding } from "./findings.ts";
import { eventHead } from "./hash-chain.ts";
import { AppError } from "../errors/app-error.ts";
import { itemLeaf, verifyProof } from "./merkle.ts";
import {
  createRpcClient,
  readBatchRecord,
  readOrganisation,
  type BatchRecordOnChain,
  type FetchLike,
  type RpcClient,
  timeoutSignal,
} from "./rpc.ts";
import { type CheckId, type CheckOutcome, type Verdict } from "./checks.ts";

export { CHECK_IDS, type CheckId, type CheckOutcome, type Verdict } from "./checks.ts";

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
}

export interface VerificationReport {
  verdict: Verdict;
  checks: CheckOutcome[];
  /** Safety problems in the verified records, most serious first (the recall); empty when none. */
  findings: Finding[];
  /**
   * False when the chain could not be read at all (the node or the network is down): the
   * verdict is then `not_verified`, and a page should offer to try again rather than
   * suggest the item is fake.
   */
  chainReachable: boolean;
  batchOnChain: BatchRecordOnChain | null;
  /** The metadata document, only when its bytes matched the signed CID (null otherwise: show nothing from it). */
  metadata: BatchMetadataDocument | null;
  /** The verified document's video CID: the only one the page may play. */
  videoCid: string | null;
  events: VerifiedEvent[];
}

export interface VerifyDeps {
  /** The page's URL: relative RPC and gateway addresses resolve against it. */
  baseUrl: string;
  fetch?: FetchLike;
  /** Read the chain through this client instead of `resolution.chain.rpcUrl`. */
  rpc?: RpcClient;
  /** Values the caller knows independently of the server (a build-time pin, a CLI flag). */
  expected?: { chainId?: string; registry?: string };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** `keccak256(abi.encode(uint64 gtin, string lot))`, as the registry's `batchIdOf`. */
function batchIdOf(gtin: bigint, lot: string): string {
  const lotBytes = new TextEncoder().encode(lot);
  const padded = new Uint8Array(Math.ceil(lotBytes.length / 32) * 32);
  padded.set(lotBytes);
  return keccak256Hex(concatBytes(uintWord(gtin), uintWord(64n), uintWord(BigInt(lotBytes.length)), padded));
}

/**
 * A document's bytes: the text the resolution inlined (encoded as UTF-8), else fetched from
 * the gateway. Either way they must hash to the signed CID; inlined bytes that do not are
 * refused, not replaced by a fetch.
 */
async function fetchDocument(
  fetchImpl: FetchLike,
  url: string,
  cidText: string,
  inlined: string | undefined,
): Promise<{ bytes: Uint8Array | null; problem: string | null }> {
  if (typeof inlined === "string") {
    const bytes = new TextEncoder().encode(inlined);
    if (bytes.length > DOCUMENT_MAX_BYTES) return { bytes: null, problem: "document too large" };
    if (!cidMatchesBytes(cidText, bytes)) return { bytes: null, problem: "inlined bytes do not match the CID" };
    return { bytes, problem: null };
  }
  try {
    const response = await fetchImpl(url, { method: "GET", signal: timeoutSignal(20_000) });
    if (!response.ok) return { bytes: null, problem: `gateway answered ${response.status}` };
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > DOCUMENT_MAX_BYTES) return { bytes: null, problem: "document too large" };
    if (!cidMatchesBytes(cidText, bytes)) return { bytes: null, problem: "bytes do not match the CID" };
    return { bytes, problem: null };
  } catch (error) {
    return { bytes: null, problem: `unreachable: ${messageOf(error)}` };
  }
}

/** Runs `check`, turning any exception into a failed outcome. */
async function run(id: CheckId, check: () => Promise<[boolean | null, string]> | [boolean | null, string]) {
  try {
    const [ok, detail] = await check();
    return { id, ok, detail };
  } catch (error) {
    return { id, ok: false, detail: messageOf(error) };
  }
}

/**
 * Checks everything `resolution` claims and returns each check's outcome with the verdict:
 * the safety findings in what was verified, and the verdict (`verdictOf` in findings.ts).
 */
export async function verifyResolution(resolution: ItemResolution, deps: VerifyDeps): Promise<VerificationReport> {
  const fetchImpl: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  const rpc = deps.rpc ?? createRpcClient(new URL(resolution.chain.rpcUrl, deps.baseUrl).href, { fetch: fetchImpl });
  const { attestation } = resolution.batch;
  const registry = resolution.chain.registry;
  const domain: Eip712Domain = { chainId: resolution.chain.chainId, verifyingContract: registry };
  const gatewayUrl = (cid: string): string => new URL(`${resolution.ipfsGateway}${cid}`, deps.baseUrl).href;
  // An own property only: a CID named like an Object.prototype member must not find one.
  const inlinedText = (cid: string): string | undefined =>
    resolution.documents !== undefined && Object.prototype.hasOwnProperty.call(resolution.documents, cid)
      ? resolution.documents[cid]
      : undefined;

  // Chain reads first, in parallel; each check below judges what it needs of them.
  const chainIdRead = rpc.chainId();
  const batchRead = readBatchRecord(rpc, registry, resolution.batch.batchId);
  const attesterRead = readOrganisation(rpc, registry, attestation.attester);
  // Nothing may reject unobserved while the other reads are awaited.
  for (const read of [chainIdRead, batchRead, attesterRead]) read.catch(() => undefined);
  // The signatures need nothing from the chain: they are recovered while its answer is on the
  // way (after one turn, so the batched read is sent first). On a slow phone this is most of
  // the CPU work, and the round trip hides it.
  await Promise.resolve();
  let attestationSigner: { signer: string } | { error: unknown };
  try {
    attestationSigner = { signer: recoverSigner(attestationDigest(domain, attestation), resolution.batch.signature) };
  } catch (error) {
    attestationSigner = { error };
  }
  // Events: signatures and digests offline (now), payloads from the gateway, head against the chain.
  const digests: string[] = [];
  const events: VerifiedEvent[] = resolution.events.map((event) => {
    let signatureValid = false;
    let digest = "";
    try {
      digest = eventDigest(domain, event.value);
      signatureValid =
        sameHex(digest, event.digest) &&
        sameHex(event.value.batchId, resolution.batch.batchId) &&
        sameHex(recoverSigner(digest, event.signature), event.value.actor);
    } catch {
      // A malformed value has no digest or signer: the event stays unverified.
    }
    digests.push(digest);
    const step = Number(event.value.bizStep);
    return {
      event,
      bizStep: BIZ_STEPS[step] ?? "unknown",
      occurredAt: Number(event.value.occurredAt),
      signatureValid,
      onChain: false,
      payload: null,
    };
  });

  let batchOnChain: BatchRecordOnChain | null = null;
  let chainReachable = true;
  try {
    batchOnChain = await batchRead;
  } catch (error) {
    batchOnChain = null;
    chainReachable = !(error instanceof AppError && error.code === "verify.rpc");
  }
  const anchored = batchOnChain !== null && batchOnChain.status !== "none";
  const notYet: [null, string] = [null, "the batch is not on chain yet"];

  const checks: CheckOutcome[] = [];
  checks.push(
    await run("chain_id", async () => {
      const chainId = await chainIdRead;
      const claimed = BigInt(resolution.chain.chainId);
      if (chainId !== claimed) return [false, `the node is chain ${chainId}, the resolution says ${claimed}`];
      if (deps.expected?.chainId !== undefined && BigInt(deps.expected.chainId) !== chainId) {
        return [false, `expected chain ${deps.expected.chainId}`];
      }
      if (deps.expected?.registry !== undefined && !sameHex(deps.expected.registry, registry)) {
        return [false, `expected registry ${deps.expected.registry}, the resolution names ${registry}`];
      }
      return [true, `chain ${chainId}, registry ${registry}`];
    }),
  );

  checks.push(
    await run("item_identity", () => {
      const gtin = parseUint(attestation.gtin, 64);
      if (gtin !== BigInt(resolution.item.gtin)) return [false, "the attested GTIN is not the item's"];
      if (attestation.lot !== resolution.item.lot) return [false, "the attested lot is not the item's"];
      const batchId = batchIdOf(gtin, attestation.lot);
      if (!sameHex(batchId, resolution.batch.batchId)) return [false, "the batch id is not keccak(gtin, lot)"];
      return [true, `batch ${batchId}`];
    }),
  );

  checks.push(
    await run("attestation_signature", () => {
      if ("error" in attestationSigner) throw attestationSigner.error;
      const signer = attestationSigner.signer;
      return sameHex(signer, attestation.attester)
        ? [true, `signed by ${signer}`]
        : [false, `the signature recovers to ${signer}, not ${attestation.attester}`];
    }),
  );

  checks.push(
    await run("attester_registered", async () => {
      if (batchOnChain === null || !anchored) return notYet;
      if (!sameHex(batchOnChain.attester, attestation.attester)) {
        return [false, `the chain says ${batchOnChain.attester} attested this batch`];
      }
      // The registry accepted the attestation only from a registered cooperative; the record
      // read now tells whether it is still active (a rotated key reads as zero).
      const organisation = await attesterRead;
      const now =
        organisation.kind === "none" ? "its key was rotated since" : `now ${organisation.kind}, ${organisation.status}`;
      return [true, `the chain records ${batchOnChain.attester} as the attester (${now})`];
    }),
  );

  checks.push(
    await run("items_root_on_chain", () => {
      if (batchOnChain === null || !anchored) return notYet;
      return sameHex(batchOnChain.itemsRoot, attestation.itemsRoot)
        ? [true, batchOnChain.itemsRoot]
        : [false, `the chain's root is ${batchOnChain.itemsRoot}`];
    }),
  );

  checks.push(
    await run("item_in_batch", () =>
      verifyProof(attestation.itemsRoot, itemLeaf(resolution.item.serial), resolution.proof)
        ? [true, `the proof of ${resolution.item.serial} leads to the signed root`]
        : [false, "the Merkle proof does not lead to the signed root"],
    ),
  );

  // The metadata document, fetched by the CID inside the signed attestation.
  // A holder, not a `let`: the checks below assign it inside closures.
  const verified: { metadata: BatchMetadataDocument | null } = { metadata: null };
  checks.push(
    await run("metadata_cid", async () => {
      const cidText = cidTextFromHex(attestation.metadataCid);
      if (cidText !== resolution.batch.metadataCid) return [false, "the metadata CID is not the signed one"];
      const { bytes, problem } = await fetchDocument(fetchImpl, gatewayUrl(cidText), cidText, inlinedText(cidText));
      if (bytes === null) return [false, `metadata ${cidText}: ${problem ?? ""}`];
      const doc = readMetadataDocument(bytes);
      if (doc === null) return [false, "the metadata document is malformed"];
      if (BigInt(doc.gtin) !== BigInt(resolution.item.gtin) || doc.lot !== resolution.item.lot) {
        return [false, "the metadata document describes another batch"];
      }
      if (!sameHex(doc.cooperative.signer, attestation.attester)) {
        return [false, "the metadata document names another cooperative key"];
      }
      verified.metadata = doc;
      return [true, cidText];
    }),
  );

  checks.push(
    await run("item_count", () => {
      const signed = parseUint(attestation.itemCount, 32);
      const documented = verified.metadata === null ? signed : BigInt(verified.metadata.itemCount);
      if (documented !== signed) return [false, `the document says ${documented} items, the signature ${signed}`];
      if (batchOnChain === null || !anchored) return notYet;
      return BigInt(batchOnChain.itemCount) === signed
        ? [true, `${signed} items`]
        : [false, `the chain says ${batchOnChain.itemCount} items, the signature ${signed}`];
    }),
  );

  checks.push(
    await run("event_signatures", () => {
      const bad = events.filter((e) => !e.signatureValid).length;
      return bad === 0
        ? [true, `${events.length} events, each signed by its actor`]
        : [false, `${bad} of ${events.length} events do not match their signatures`];
    }),
  );

  checks.push(
    await run("event_payloads", async () => {
      const problems = await Promise.all(
        events.map(async (verifiedEvent) => {
          const cidText = cidTextFromHex(verifiedEvent.event.value.payloadCid);
          if (cidText !== verifiedEvent.event.payloadCid) return "a payload CID is not the signed one";
          const { bytes, problem } = await fetchDocument(fetchImpl, gatewayUrl(cidText), cidText, inlinedText(cidText));
          if (bytes === null) return `payload ${cidText}: ${problem ?? ""}`;
          verifiedEvent.payload = readEventPayloadDocument(bytes);
          return verifiedEvent.payload === null ? "a payload document is malformed" : null;
        }),
      );
      const failures = problems.filter((p) => p !== null);
      return failures.length === 0
        ? [true, `${events.length} payload documents match their CIDs`]
        : [false, failures.join("; ")];
    }),
  );

  checks.push(
    await run("event_head_on_chain", () => {
      if (batchOnChain === null || !anchored) return notYet;
      // The chain may not have taken the newest events yet: some prefix of the list must
      // lead to the head, and it must cover every event the server calls anchored.
      // (A loop, not findLastIndex: older Android WebViews lack it.)
      let lastAnchored = -1;
      resolution.events.forEach((e, i) => {
        if (e.ledgerState === "anchored") lastAnchored = i;
      });
      for (let k = digests.length; k >= 0; k--) {
        if (sameHex(eventHead(digests.slice(0, k)), batchOnChain.eventHead)) {
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
    }),
  );

  checks.push(
    await run("status_on_chain", () => {
      if (batchOnChain === null) return [false, "the chain could not be read"];
      if (batchOnChain.status === "none") return notYet;
      return [true, batchOnChain.status];
    }),
  );

  const outcome = (id: CheckId): boolean | null => checks.find((c) => c.id === id)?.ok ?? false;
  const recalledOnChain =
    batchOnChain?.status === "recalled" &&
    outcome("item_identity") === true &&
    outcome("items_root_on_chain") === true &&
    outcome("item_in_batch") === true;
  const findings = safetyFindings({
    metadata: verified.metadata,
    events,
    recalledOnChain,
    platformColdChain: resolution.display.coldChain ?? null,
  });

  return {
    verdict: verdictOf(checks, findings, resolution.scans.signals.length),
    checks,
    findings,
    chainReachable,
    batchOnChain,
    metadata: verified.metadata,
    videoCid: verified.metadata?.videoCid ?? null,
    events,
  };
}
