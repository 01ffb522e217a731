/**
 * Verifying an item resolution without trusting the server that sent it: every claim the
 * page shows is checked against the chain (read over JSON-RPC), the organisations'
 * signatures and the documents' CIDs. The verdict is computed here, in the browser (or the
 * CLI), never read from the server's answer.
 *
 * What is still trusted: the registry address and chain the resolution names, unless the
 * caller pins them (`VerifyDeps.expected`), and the RPC endpoint the caller reads through.
 */
import type { BatchMetadataDocument } from "../domain/documents.ts";
import type { ItemResolution } from "../domain/resolution.ts";
import { BIZ_STEPS } from "../domain/typed-data.ts";
import { CHECK_IDS, type CheckId, type CheckOutcome, type Verdict } from "./checks.ts";
import { attestationDigest, domainSeparator, recoverSigner, type Eip712Domain } from "./eip712.ts";
import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { safetyFindings, verdictOf, type Finding } from "./findings.ts";
import type { ContainersReport, VerifiedContainer } from "./containers.ts";
import { verifyProof } from "./merkle.ts";
import {
  fetchDocument,
  gatewayUrl,
  inlinedText,
  runCheck,
  verifyEventSignatures,
  type VerifiedEvent,
  type Verification,
  type VerifyDeps,
} from "./resolution-checks.ts";
import { createRpcClient, readBatchRecord, readOrganisation, type BatchRecordOnChain, type FetchLike } from "./rpc.ts";
import { judgeAuthority, type AuthorityReport } from "./authority.ts";
import { readAuthorityLogs, type ChainEvent } from "./authority-read.ts";
import { keccak256, parseUint, sameHex } from "./bytes.ts";
import { eventHeads } from "./hash-chain.ts";
import type { ChainTrustReport } from "./trust-roots.ts";

export { CHECK_IDS, type CheckId, type CheckOutcome, type Verdict } from "./checks.ts";
export type { VerifiedEvent, VerifyDeps } from "./resolution-checks.ts";

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
  /** The item's cases and pallets with each step verified; empty when it has none. */
  containers: VerifiedContainer[];
  /**
   * Who was entitled, from the registry's logs: the attester's entitlement to the GTIN, each
   * anchored event's basis (`VerifiedEvent.authority`), the handovers. Null when it could not
   * be read, or for a version 1 registry, which records none.
   */
  authority: AuthorityReport | null;
  /**
   * What the chain reads rested on, when they went through a client that reports it (the
   * quorum and proof client of an independent verifier); null for a single endpoint.
   */
  chainTrust: ChainTrustReport | null;
}

/** Codes that mean the chain could not be read (trustworthily), not that the item is false. */
const UNREACHABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "verify.rpc",
  "verify.quorum_unreachable",
  "verify.quorum_disagreement",
  "verify.block_stale",
]);

/**
 * Checks everything `resolution` claims and returns each check's outcome with the verdict:
 * the safety findings in what was verified, and the verdict (`verdictOf` in findings.ts).
 */
export async function verifyResolution(resolution: ItemResolution, deps: VerifyDeps): Promise<VerificationReport> {
  const fetchImpl: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  const rpc = deps.rpc ?? createRpcClient(new URL(resolution.chain.rpcUrl, deps.baseUrl).href, { fetch: fetchImpl });
  const { attestation } = resolution.batch;
  const registry = resolution.chain.registry;
  // A pinned version wins: claiming "1" must not skip the checks version 2 has (chain_id fails on the mismatch).
  const version = deps.expected?.typedDataVersion ?? resolution.chain.typedDataVersion;
  const domain: Eip712Domain = {
    chainId: resolution.chain.chainId,
    verifyingContract: registry,
    ...(version === "1" || version === "2" ? { version } : {}),
  };

  // Chain reads first, in parallel; each check judges what it needs of them.
  const chainIdRead = rpc.chainId();
  const batchRead = readBatchRecord(rpc, registry, resolution.batch.batchId);
  const attesterRead = readOrganisation(rpc, registry, attestation.attester);
  // Who was entitled: the registry's logs about this batch, its GTIN and the organisations
  // involved, judged here (a version 1 registry records none of it). The events' digests are
  // computed below; the read asks for them only after its first answers.
  const computed: { digests?: readonly string[] } = {};
  const authority =
    version === "1"
      ? null
      : (async () => {
          const { logs, origins } = await readAuthorityLogs(rpc, {
            registry,
            batchId: resolution.batch.batchId,
            gtin: parseUint(attestation.gtin, 64),
            keys: [
              attestation.attester,
              ...resolution.events.flatMap((e) => [e.value.actor, e.value.counterparty]),
            ].filter((key): key is string => typeof key === "string"),
            // The pinned deployment block, when given: a later one named by the server would hide logs.
            fromBlock: Number(deps.expected?.fromBlock ?? resolution.chain.fromBlock ?? "0"),
            // The batch record read above, not a second copy of it in the same round trip.
            record: batchRead,
            events: () =>
              chainEventsOf(resolution, computed.digests ?? verifyEventSignatures(resolution, domain).digests),
            // By the signed step, not the server's label.
            inspectors: resolution.events
              .filter((e) => INSPECTION_STEPS.has(BIZ_STEPS[Number(e.value.bizStep)] ?? ""))
              .map((e) => e.value.actor),
          });
          // Grants and inspection requests signed by contract wallets are judged so by the CLI and
          // the audit (`judgeAuthorityAsking`); the page's bytes do not stretch to asking them.
          return judgeAuthority({ domain, batchId: resolution.batch.batchId, logs, origins });
        })();
  // The item's cases and pallets, checked beside the rest (their chain reads go out at once).
  const containers =
    (resolution.containers ?? []).length === 0
      ? Promise.resolve(NO_CONTAINERS)
      : loadContainers().then((module) =>
          module.verifyContainers({
            resolution,
            domain,
            crypto: { keccak256, recoverSigner, domainSeparator, verifyProof },
            rpc,
            load: (cid) =>
              fetchDocument(fetchImpl, gatewayUrl({ resolution, deps }, cid), cid, inlinedText({ resolution }, cid)),
          }),
        );
  // Nothing may reject unobserved while the other reads are awaited.
  for (const read of [chainIdRead, batchRead, attesterRead, authority, containers]) read?.catch(() => undefined);
  // The signatures need nothing from the chain: they are recovered while its answer is on the
  // way (after one turn, so the batched read is sent first). On a slow phone this is most of
  // the CPU work, and the round trip hides it.
  await Promise.resolve();
  let attestationSigner: Verification["attestationSigner"];
  let attested = "";
  try {
    attested = attestationDigest(domain, attestation);
    attestationSigner = { signer: recoverSigner(attested, resolution.batch.signature) };
  } catch (error) {
    attestationSigner = { error };
  }
  const { events, digests } = verifyEventSignatures(resolution, domain);
  computed.digests = digests;
  // A signature not its signer's key's may be its contract wallet's (ERC-1271): asked by a script loaded then.
  const wallets =
    "signer" in attestationSigner &&
    sameHex(attestationSigner.signer, attestation.attester) &&
    events.every((e) => e.signatureValid)
      ? null
      : loadContainers()
          .then((m) => m.askWallets(rpc, resolution, attested, attestationSigner, events, digests))
          .catch(() => null);

  let batchOnChain: BatchRecordOnChain | null = null;
  let chainReachable = true;
  try {
    batchOnChain = await batchRead;
  } catch (error) {
    chainReachable = !(isAppError(error) && UNREACHABLE_CODES.has(error.code));
  }

  const v: Verification = {
    resolution,
    deps,
    fetchImpl,
    chainIdRead,
    attesterRead,
    attestationSigner,
    wallets: await wallets,
    digests,
    events,
    batchOnChain,
    metadata: null,
    authority,
    containers,
  };
  const checks: CheckOutcome[] = [];
  for (const id of CHECK_IDS) checks.push(await runCheck(id, v));

  const outcome = (id: CheckId): boolean | null => checks.find((c) => c.id === id)?.ok ?? false;
  const recalledOnChain =
    batchOnChain?.status === "recalled" &&
    outcome("item_identity") === true &&
    outcome("items_root_on_chain") === true &&
    outcome("item_in_batch") === true;
  // A module that did not load failed the `containers` check: nothing of it to show.
  const { containers: verifiedContainers, findings: containerFindings } = await containers.catch(() => NO_CONTAINERS);
  const findings = [
    ...safetyFindings({
      metadata: v.metadata,
      events,
      recalledOnChain,
      platformColdChain: resolution.display.coldChain ?? null,
    }),
    ...containerFindings,
  ];

  const authorityReport = authority === null ? null : await authority.catch(() => null);
  if (authorityReport !== null) attachAuthority(events, digests, authorityReport);

  return {
    verdict: verdictOf(checks, findings, resolution.scans.signals.length),
    checks,
    findings,
    chainReachable,
    batchOnChain,
    metadata: v.metadata,
    videoCid: v.metadata?.videoCid ?? null,
    events,
    containers: verifiedContainers,
    authority: authorityReport,
    chainTrust: hasTrustReport(rpc) ? rpc.trustReport() : null,
  };
}

/** Set by the scan page's build: the checks of containers as their own script, which only packed items load. */
declare const CONTAINERS_CHUNK_URL: string | undefined;

const NO_CONTAINERS: ContainersReport = { containers: [], ok: true, detail: "no cases or pallets", findings: [] };

function loadContainers(): Promise<typeof import("./containers.ts")> {
  // The other bundles and Node load the module itself.
  return typeof CONTAINERS_CHUNK_URL === "string"
    ? (import(CONTAINERS_CHUNK_URL) as Promise<typeof import("./containers.ts")>)
    : import("./containers.ts");
}

function hasTrustReport(rpc: object): rpc is { trustReport(): ChainTrustReport } {
  return typeof (rpc as { trustReport?: unknown }).trustReport === "function";
}

const INSPECTION_STEPS: ReadonlySet<string> = new Set(["inspecting", "certifying"]);

/**
 * The resolution's events as custody reads them, each with the hash chain's head after it
 * (from the digests recomputed from the signed values, never the server's), up to the first
 * one that does not encode: the chain's head decides how many of them it covers.
 */
function chainEventsOf(resolution: ItemResolution, digests: readonly string[]): ChainEvent[] {
  const valid = digests.findIndex((digest) => digest === "");
  const heads = eventHeads(valid === -1 ? digests : digests.slice(0, valid));
  const out: ChainEvent[] = [];
  for (const [index, newHead] of heads.entries()) {
    const value = resolution.events[index]?.value;
    if (value === undefined) break;
    out.push({
      actor: value.actor,
      bizStep: Number(parseUint(value.bizStep, 8)),
      occurredAt: parseUint(value.occurredAt, 64),
      counterparty: value.counterparty,
      newHead,
    });
  }
  return out;
}

/** Gives each anchored event its judged basis: the chain's event with the same head is the same event. */
function attachAuthority(events: VerifiedEvent[], digests: readonly string[], report: AuthorityReport): void {
  // The heads in one pass (each from the one before), up to the first event that does not encode.
  const valid = digests.indexOf("");
  const heads = eventHeads(valid === -1 ? digests : digests.slice(0, valid));
  events.forEach((event, index) => {
    const judged = report.events[index];
    const head = heads[index];
    if (judged === undefined || head === undefined || !event.onChain) return;
    if (!sameHex(head, judged.newHead)) return;
    event.authority = { basis: judged.basis, refusal: judged.refusal, requestedBy: judged.requestedBy };
  });
}
