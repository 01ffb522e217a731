/**
 * The registry's custody rules (`domain/custody.ts`) applied by the server first, to the
 * batch's records as this store holds them: every event accepted and not refused by the
 * ledger counts, anchored or not yet, so two writes in flight are judged one after the other.
 * Organisations are named by their ids here (the registry names them by their origins: the
 * same organisations, as an id keeps its organisation across key rotations).
 */
import {
  authorityFor,
  foldCustody,
  type Authority,
  type AuthorityBasis,
  type CustodyRefusal,
  type CustodyState,
  type Party,
} from "../domain/custody.ts";
import type { BizStep } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import type { Db } from "../storage/database.ts";
import { listBatchEvents } from "../storage/events.ts";
import { listInspectionRequests } from "../storage/inspection-requests.ts";
import { getOrganisation } from "../storage/organisations.ts";

const REFUSAL_CODES: Record<CustodyRefusal, ErrorCode> = {
  step_not_allowed: "organisation.wrong_kind",
  receiver_required: "event.receiver_required",
  receiver_invalid: "event.receiver_invalid",
  counterparty_unexpected: "event.counterparty_unexpected",
  no_custody: "event.no_custody",
};

/** Where the batch is, after its events the ledger has not refused, in hash-chain order. */
export async function custodyOfBatch(db: Db, batchId: string): Promise<CustodyState> {
  const events = await listBatchEvents(db, batchId);
  return foldCustody(
    events
      .filter((event) => event.ledger.state !== "failed")
      .map((event) => ({
        actor: event.actorOrganisationId,
        step: event.bizStep,
        counterparty:
          event.counterparty === null ? null : (event.counterparty.organisationId ?? event.counterparty.address),
      })),
  );
}

/** The inspectors asked to inspect the batch, by a request the ledger has not refused. */
export async function requestedInspectors(db: Db, batchId: string): Promise<Set<string>> {
  const requests = await listInspectionRequests(db, batchId);
  return new Set(requests.filter((request) => request.ledger.state !== "failed").map((r) => r.inspectorOrganisationId));
}

/** An organisation id as the rules take it: with its kind, or none for an id nobody holds. */
async function partyOf(db: Db, organisationId: string): Promise<Party> {
  const organisation = await getOrganisation(db, organisationId);
  return { id: organisationId, kind: organisation?.kind ?? null };
}

export interface EventAuthorityClaim {
  batchId: string;
  /** The batch's cooperative. */
  cooperativeId: string;
  actorId: string;
  step: BizStep;
  /** The receiver's organisation id a shipping event names (any id: an unknown one is refused). */
  receiverId: string | null;
}

/** Why the actor may record the step, or the problem that refuses it (nothing is changed). */
export async function requireEventAuthority(db: Db, claim: EventAuthorityClaim): Promise<AuthorityBasis> {
  const authority: Authority = authorityFor(
    {
      actor: await partyOf(db, claim.actorId),
      step: claim.step,
      counterparty: claim.receiverId === null ? null : await partyOf(db, claim.receiverId),
    },
    await custodyOfBatch(db, claim.batchId),
    claim.cooperativeId,
    await requestedInspectors(db, claim.batchId),
  );
  if ("refused" in authority) throw new AppError(REFUSAL_CODES[authority.refused]);
  return authority.basis;
}
