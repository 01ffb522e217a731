/**
 * Who may record a step about a batch: the registry's custody rules (ITraceRegistry
 * `recordEvents`), once, for the server (which refuses first) and the verifier (which marks
 * an event whose actor had no say as a failed check).
 *
 * Organisations are named by generic identities: organisation ids on the server, origin
 * addresses (lower-case) in the verifier. Equal strings are the same organisation, so a caller
 * must name an organisation the same way everywhere (on chain, by its origin, so that a key
 * rotation keeps its custody).
 *
 * Pure and dependency-free (the scan page bundles it).
 */
import type { OrganisationKind } from "./enumerations.ts";
import { STEP_ACTORS } from "./step-actors.ts";
import type { BizStep } from "./typed-data.ts";

/** Where a batch is: a null custodian means it is still with its cooperative. */
export interface CustodyState {
  custodian: string | null;
  /** The receiver the latest shipping named, until it records receiving. */
  pendingReceiver: string | null;
}

export const INITIAL_CUSTODY: CustodyState = Object.freeze({ custodian: null, pendingReceiver: null });

/** An event as custody sees it: who recorded which step, and whom a shipping named. */
export interface CustodyEvent {
  actor: string;
  step: BizStep;
  /** The receiver a shipping event names; null for every other step. */
  counterparty: string | null;
}

/** An organisation as the rules need it; `kind: null` is an identity no registered organisation holds. */
export interface Party {
  id: string;
  kind: OrganisationKind | null;
}

/** The event being judged, with the kinds of its actor and of the receiver it names. */
export interface EventClaim {
  actor: Party;
  step: BizStep;
  counterparty: Party | null;
}

/** Why the actor may record the step: the contract's four cases. */
export type AuthorityBasis = "cooperative" | "custodian" | "receiver" | "requested_inspector";

export type CustodyRefusal =
  "step_not_allowed" | "receiver_required" | "receiver_invalid" | "counterparty_unexpected" | "no_custody";

export type Authority = { basis: AuthorityBasis } | { refused: CustodyRefusal };

const INSPECTION_STEPS: ReadonlySet<BizStep> = new Set(["inspecting", "certifying"]);

/** Whether an organisation of `kind` ever records `step` (STEP_ACTORS; recalling is never an event). */
export function stepAllowed(kind: OrganisationKind | null, step: BizStep): boolean {
  if (kind === null || step === "recalling") return false;
  return STEP_ACTORS[step].includes(kind);
}

/**
 * Whether `claim` may be recorded on a batch in `state` whose cooperative is `cooperative`,
 * given the inspectors the cooperative or a regulator asked. Checked in the registry's order:
 * the step for the actor's kind, the counterparty, then the actor's say about the batch.
 */
export function authorityFor(
  claim: EventClaim,
  state: CustodyState,
  cooperative: string,
  requestedInspectors: Iterable<string>,
): Authority {
  const { actor, step, counterparty } = claim;
  if (!stepAllowed(actor.kind, step)) return { refused: "step_not_allowed" };
  if (step === "shipping") {
    if (counterparty === null) return { refused: "receiver_required" };
    if (counterparty.id === actor.id || !stepAllowed(counterparty.kind, "receiving")) {
      return { refused: "receiver_invalid" };
    }
  } else if (counterparty !== null) {
    return { refused: "counterparty_unexpected" };
  }
  if (actor.id === cooperative) return { basis: "cooperative" };
  // Before the custodian: the named receiver's receiving is what hands the batch over.
  if (step === "receiving" && state.pendingReceiver === actor.id) return { basis: "receiver" };
  if (state.custodian === actor.id) return { basis: "custodian" };
  if (INSPECTION_STEPS.has(step) && new Set(requestedInspectors).has(actor.id)) {
    return { basis: "requested_inspector" };
  }
  return { refused: "no_custody" };
}

/**
 * The state after an accepted event: a shipping names the pending receiver (replacing any
 * earlier one); the pending receiver's receiving makes it the custodian.
 */
export function applyCustody(state: CustodyState, event: CustodyEvent): CustodyState {
  if (event.step === "shipping") return { custodian: state.custodian, pendingReceiver: event.counterparty };
  if (event.step === "receiving" && state.pendingReceiver !== null && state.pendingReceiver === event.actor) {
    return { custodian: event.actor, pendingReceiver: null };
  }
  return state;
}

/** Where a batch is after its accepted events, in hash-chain order. */
export function foldCustody(events: Iterable<CustodyEvent>): CustodyState {
  let state = INITIAL_CUSTODY;
  for (const event of events) state = applyCustody(state, event);
  return state;
}

/** One event of a replay: its authority, and the handover it completed, if any. */
export interface JudgedEvent {
  authority: Authority;
  handover: { from: string | null; to: string } | null;
}

/**
 * Replays a batch's events in hash-chain order, judging each against the state the events
 * before it left, as the registry did when it recorded them. A refused event changes nothing
 * (the registry would have reverted it). `from: null` in a handover is the cooperative.
 */
export function judgeEvents(
  events: Iterable<EventClaim>,
  cooperative: string,
  requestedInspectors: Iterable<string>,
): { judged: JudgedEvent[]; state: CustodyState } {
  const inspectors = [...requestedInspectors];
  let state = INITIAL_CUSTODY;
  const judged: JudgedEvent[] = [];
  for (const claim of events) {
    const authority = authorityFor(claim, state, cooperative, inspectors);
    let handover: JudgedEvent["handover"] = null;
    if ("basis" in authority) {
      const next = applyCustody(state, {
        actor: claim.actor.id,
        step: claim.step,
        counterparty: claim.counterparty?.id ?? null,
      });
      if (authority.basis === "receiver") handover = { from: state.custodian, to: claim.actor.id };
      state = next;
    }
    judged.push({ authority, handover });
  }
  return { judged, state };
}
