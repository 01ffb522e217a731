/**
 * Who was entitled to speak about a batch, judged from the registry's logs alone: whether
 * its cooperative was entitled to the GTIN when it attested (the GTIN's owner, by its own
 * binding or its company prefix, or granted it by the owner), and for each event the basis
 * of its actor's say (the cooperative, the custodian, the receiver a shipping named, an
 * inspector asked) or none, with the handovers it records.
 *
 * The rules are not written here: `domain/gtin-entitlement.ts` and `domain/custody.ts` hold
 * them, as the server and the registry apply them. This replays the logs through them, so a
 * registry that let a squatted attestation or a stranger's event through is caught. Grants
 * and inspection requests are believed only when their signatures verify again; an unsigned
 * inspection request (a regulator's) only when its sender held the registry's regulator role
 * at that point of the chain, replayed from the role's grants and revocations.
 * Pure: reading the logs is the caller's (`registry-logs.ts` decodes them).
 */
import { applyCustody, authorityFor, INITIAL_CUSTODY } from "../domain/custody.ts";
import type { AuthorityBasis, CustodyRefusal, CustodyState, Party } from "../domain/custody.ts";
import type { OrganisationKind } from "../domain/enumerations.ts";
import {
  gtinOwnerOf,
  isEntitled,
  type CompanyPrefix,
  type GtinGrant,
  type PrefixBinding,
  type GtinBinding,
} from "../domain/gtin-entitlement.ts";
import { gtinFromUint64 } from "../domain/gs1.ts";
import { BIZ_STEPS, type BizStep } from "../domain/typed-data.ts";
import { signedBy } from "./batch.ts";
import type { WalletCheck } from "./contract-signatures.ts";
import { typedDataDigest, type Eip712Domain } from "./eip712.ts";
import {
  comparePositions,
  REGULATOR_ROLE,
  type LogPosition,
  type OrgKindName,
  type RegistryLog,
} from "./registry-logs.ts";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export interface AuthorityInput {
  /** The registry's EIP-712 domain (version "2"): grants and inspection requests are re-verified in it. */
  domain: Eip712Domain;
  batchId: string;
  /**
   * The registry's logs: the batch's own (attestation, events, custody transfers, inspection
   * requests), its GTIN's bindings and grants, the registrations and rotations of the
   * organisations involved, and the regulator role's grants and revocations. Logs about other
   * batches or GTINs, and other roles, are ignored.
   */
  logs: readonly RegistryLog[];
  /**
   * Origins known otherwise (the registry's `originOf` view), key → origin; rotations in
   * `logs` are used as well. An origin never changes, so the view read now holds for the past.
   */
  origins?: ReadonlyMap<string, string>;
  /**
   * How grant and inspection request signatures are checked: by their keys (`signedBy`) unless
   * the caller also asked the signers' contract wallets (ERC-1271; `judgeAuthorityAsking`).
   */
  signed?: WalletCheck;
}

export type EntitlementBasis = "gtin_owner" | "prefix_owner" | "grantee";

export interface Entitlement {
  /** The attesting key and its organisation's origin. */
  attester: string;
  attesterOrigin: string;
  gtin: string;
  /** The GTIN's owner (an origin) when it attested; null when the GTIN was bound to nobody. */
  owner: string | null;
  /** The company prefix the owner holds it by; null for a GTIN bound on its own. */
  prefix: CompanyPrefix | null;
  /** Why the attester was entitled; null when it was not. */
  basis: EntitlementBasis | null;
}

export interface JudgedChainEvent {
  /** Index in the batch's hash chain. */
  index: number;
  at: LogPosition;
  actor: string;
  actorOrigin: string;
  step: BizStep | "unknown";
  occurredAt: number;
  /** The receiver a shipping names (origin), else null. */
  counterparty: string | null;
  /** The hash chain's head after this event (matches the event to a resolution's list). */
  newHead: string;
  basis: AuthorityBasis | null;
  refusal: CustodyRefusal | null;
  /** For an asked inspector: who asked. */
  requestedBy: "cooperative" | "regulator" | null;
}

export interface Handover {
  /** Origins: `from` is the cooperative when the batch had not left it. */
  from: string;
  to: string;
  /** The shipping event that named the receiver (its index), and when it happened. */
  shippedIndex: number | null;
  shippedAt: number | null;
  /** The receiving event that completed the handover. */
  receivedIndex: number;
  receivedAt: number;
}

export type AuthorityFinding =
  | { code: "attestation_missing" }
  | { code: "not_entitled"; gtin: string; attester: string; owner: string | null }
  | { code: "no_custody"; index: number; actor: string; step: string; reason: CustodyRefusal }
  | { code: "grant_signature"; gtin: string; owner: string; grantee: string }
  | { code: "inspection_request_signature"; inspector: string; requestedBy: string }
  | { code: "inspection_request_not_regulator"; inspector: string; requestedBy: string }
  | { code: "custody_transfers"; recomputed: number; logged: number };

export interface AuthorityReport {
  /** The batch's cooperative (the attester's origin); null when no attestation was found. */
  cooperative: string | null;
  entitlement: Entitlement | null;
  events: JudgedChainEvent[];
  handovers: Handover[];
  /** Where the batch is after its events. */
  custody: CustodyState;
  /** Empty when every say was entitled. */
  findings: AuthorityFinding[];
}

const lower = (address: string): string => address.toLowerCase();

/** Each key's origin and each origin's kind and keys, from rotations and registrations. */
class Organisations {
  private readonly origins = new Map<string, string>();
  private readonly kinds = new Map<string, OrganisationKind>();
  private readonly keys = new Map<string, Set<string>>();

  constructor(logs: readonly RegistryLog[], known: ReadonlyMap<string, string> | undefined) {
    for (const [key, origin] of known ?? []) this.link(key, origin);
    for (const log of logs) {
      if (log.type === "SignerRotated") this.link(log.newSigner, this.originOf(log.previousSigner));
      else if (log.type === "OrganisationRegistered" && log.kind !== "none") {
        this.kinds.set(this.originOf(log.signer), log.kind satisfies Exclude<OrgKindName, "none">);
      }
    }
  }

  private link(key: string, origin: string): void {
    const o = lower(origin);
    this.origins.set(lower(key), o);
    let keys = this.keys.get(o);
    if (keys === undefined) this.keys.set(o, (keys = new Set([o])));
    keys.add(lower(key));
  }

  /** As the registry's `originOf`: a key never rotated is its own origin. */
  originOf(key: string): string {
    return this.origins.get(lower(key)) ?? lower(key);
  }

  party(key: string): Party {
    const id = this.originOf(key);
    return { id, kind: this.kinds.get(id) ?? null };
  }

  /** Every key known of the organisation `origin` (its origin included). */
  keysOf(origin: string): string[] {
    return [...(this.keys.get(lower(origin)) ?? [lower(origin)])];
  }
}

/**
 * Whether a grant log carries the owner's signature: the log names origins, the owner signed
 * with whichever of its keys was current and named whichever key of the grantee, so each
 * known pair is tried.
 */
function grantSigned(
  domain: Eip712Domain,
  orgs: Organisations,
  log: Extract<RegistryLog, { type: "GtinGrantChanged" }>,
  signed: WalletCheck,
): boolean {
  for (const owner of orgs.keysOf(log.owner)) {
    for (const grantee of orgs.keysOf(log.grantee)) {
      const value = {
        owner,
        gtin: log.gtin,
        grantee,
        granted: log.granted,
        nonce: log.nonce,
        deadline: log.deadline,
      };
      try {
        if (signed(typedDataDigest(domain, "GtinGrant", value), log.signature, owner, log.at.blockNumber)) return true;
      } catch {
        // A value that does not encode is simply not this pair.
      }
    }
  }
  return false;
}

function inspectionRequestSigned(
  domain: Eip712Domain,
  log: Extract<RegistryLog, { type: "InspectionRequested" }>,
  signed: WalletCheck,
): boolean {
  const value = {
    requester: log.requestedBy,
    batchId: log.batchId,
    inspector: log.inspector,
    nonce: log.nonce,
    deadline: log.deadline,
  };
  try {
    return signed(
      typedDataDigest(domain, "InspectionRequest", value),
      log.signature,
      log.requestedBy,
      log.at.blockNumber,
    );
  } catch {
    return false;
  }
}

const prefixKey = (prefix: CompanyPrefix): string => `${prefix.value}/${prefix.digits}`;

/** Replays the GTIN's bindings and grants up to `before`, and judges the attester by them. */
function judgeEntitlement(
  input: AuthorityInput,
  orgs: Organisations,
  attestation: Extract<RegistryLog, { type: "BatchAttested" }>,
  findings: AuthorityFinding[],
): Entitlement {
  const gtin = gtinFromUint64(attestation.gtin);
  const prefixes = new Map<string, PrefixBinding<string>>();
  const gtins = new Map<string, GtinBinding<string>>();
  const grants = new Map<string, GtinGrant<string>>();
  for (const log of input.logs) {
    if (comparePositions(log.at, attestation.at) >= 0) break;
    if (log.type === "CompanyPrefixBound" || log.type === "CompanyPrefixReleased") {
      const prefix = { value: log.prefix, digits: log.digits };
      if (log.type === "CompanyPrefixBound") prefixes.set(prefixKey(prefix), { prefix, owner: lower(log.owner) });
      else prefixes.delete(prefixKey(prefix));
    } else if ((log.type === "GtinBound" || log.type === "GtinReleased") && log.gtin === attestation.gtin) {
      if (log.type === "GtinBound") gtins.set(gtin, { gtin, owner: lower(log.owner) });
      else gtins.delete(gtin);
    } else if (log.type === "GtinGrantChanged" && log.gtin === attestation.gtin) {
      if (!grantSigned(input.domain, orgs, log, input.signed ?? signedBy)) {
        findings.push({ code: "grant_signature", gtin, owner: log.owner, grantee: log.grantee });
      } else if (log.granted) {
        // Kept per owner, as the registry keeps them: a former owner's grants stop counting.
        grants.set(`${lower(log.owner)}/${lower(log.grantee)}`, {
          gtin,
          grantee: lower(log.grantee),
          owner: lower(log.owner),
        });
      } else grants.delete(`${lower(log.owner)}/${lower(log.grantee)}`);
    }
  }
  const bindings = { prefixes: [...prefixes.values()], gtins: [...gtins.values()] };
  const attesterOrigin = orgs.originOf(attestation.attester);
  const ownership = gtinOwnerOf(gtin, bindings);
  const owner = ownership?.owner ?? null;
  let basis: EntitlementBasis | null = null;
  if (isEntitled(attesterOrigin, gtin, bindings, [...grants.values()])) {
    if (owner !== attesterOrigin) basis = "grantee";
    else basis = ownership?.source === "gtin" ? "gtin_owner" : "prefix_owner";
  } else {
    findings.push({ code: "not_entitled", gtin, attester: attestation.attester, owner });
  }
  return {
    attester: attestation.attester,
    attesterOrigin,
    gtin,
    owner,
    prefix: ownership?.source === "company_prefix" ? ownership.prefix : null,
    basis,
  };
}

/** Judges the batch `input.batchId`; see `AuthorityReport`. */
export function judgeAuthority(input: AuthorityInput): AuthorityReport {
  const logs = [...input.logs].sort((a, b) => comparePositions(a.at, b.at));
  const sorted: AuthorityInput = { ...input, logs };
  const orgs = new Organisations(logs, input.origins);
  const batchId = lower(input.batchId);
  const findings: AuthorityFinding[] = [];
  const ofBatch = (log: RegistryLog): boolean => "batchId" in log && lower(log.batchId) === batchId;

  const attestation = logs.find(
    (log): log is Extract<RegistryLog, { type: "BatchAttested" }> => log.type === "BatchAttested" && ofBatch(log),
  );
  if (attestation === undefined) {
    findings.push({ code: "attestation_missing" });
    return { cooperative: null, entitlement: null, events: [], handovers: [], custody: INITIAL_CUSTODY, findings };
  }
  const entitlement = judgeEntitlement(sorted, orgs, attestation, findings);
  const cooperative = orgs.originOf(attestation.attester);

  // Inspectors asked so far: by the cooperative (its signature verified) or by a regulator.
  const requested = new Map<string, "cooperative" | "regulator">();
  let state: CustodyState = INITIAL_CUSTODY;
  let lastShipping: { index: number; at: number } | null = null;
  const events: JudgedChainEvent[] = [];
  const handovers: Handover[] = [];
  let loggedTransfers = 0;
  const regulators = new Set<string>();
  for (const log of logs) {
    if ((log.type === "RoleGranted" || log.type === "RoleRevoked") && lower(log.role) === lower(REGULATOR_ROLE)) {
      if (log.type === "RoleGranted") regulators.add(lower(log.account));
      else regulators.delete(lower(log.account));
    }
    if (!ofBatch(log)) continue;
    if (log.type === "CustodyTransferred") loggedTransfers++;
    if (log.type === "InspectionRequested") {
      if (log.signature === "0x") {
        // The registry lets only the role's holders call this unsigned; a registry that did not is caught here.
        if (regulators.has(lower(log.requestedBy))) requested.set(orgs.originOf(log.inspector), "regulator");
        else {
          findings.push({
            code: "inspection_request_not_regulator",
            inspector: log.inspector,
            requestedBy: log.requestedBy,
          });
        }
      } else if (
        orgs.originOf(log.requestedBy) === cooperative &&
        inspectionRequestSigned(input.domain, log, input.signed ?? signedBy)
      ) {
        requested.set(orgs.originOf(log.inspector), "cooperative");
      } else {
        findings.push({ code: "inspection_request_signature", inspector: log.inspector, requestedBy: log.requestedBy });
      }
    }
    if (log.type !== "EventRecorded") continue;
    const index = events.length;
    const step = BIZ_STEPS[log.bizStep];
    const actor = orgs.party(log.actor);
    const counterparty = sameAddress(log.counterparty, ZERO_ADDRESS) ? null : orgs.party(log.counterparty);
    const occurredAt = Number(log.occurredAt);
    const judged: JudgedChainEvent = {
      index,
      at: log.at,
      actor: log.actor,
      actorOrigin: actor.id,
      step: step ?? "unknown",
      occurredAt,
      counterparty: counterparty?.id ?? null,
      newHead: log.newHead,
      basis: null,
      refusal: null,
      requestedBy: null,
    };
    events.push(judged);
    if (step === undefined) {
      judged.refusal = "step_not_allowed";
      findings.push({ code: "no_custody", index, actor: log.actor, step: "unknown", reason: "step_not_allowed" });
      continue;
    }
    const authority = authorityFor({ actor, step, counterparty }, state, cooperative, requested.keys());
    if ("refused" in authority) {
      judged.refusal = authority.refused;
      findings.push({ code: "no_custody", index, actor: log.actor, step, reason: authority.refused });
      continue;
    }
    judged.basis = authority.basis;
    if (authority.basis === "requested_inspector") judged.requestedBy = requested.get(actor.id) ?? null;
    if (authority.basis === "receiver") {
      handovers.push({
        from: state.custodian ?? cooperative,
        to: actor.id,
        shippedIndex: lastShipping?.index ?? null,
        shippedAt: lastShipping?.at ?? null,
        receivedIndex: index,
        receivedAt: occurredAt,
      });
    }
    if (step === "shipping") lastShipping = { index, at: occurredAt };
    state = applyCustody(state, { actor: actor.id, step, counterparty: counterparty?.id ?? null });
  }
  if (loggedTransfers !== handovers.length) {
    findings.push({ code: "custody_transfers", recomputed: handovers.length, logged: loggedTransfers });
  }
  return { cooperative, entitlement, events, handovers, custody: state, findings };
}

function sameAddress(a: string, b: string): boolean {
  return lower(a) === lower(b);
}
