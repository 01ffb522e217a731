/**
 * EPCIS 2.0 capture (GS1 EPCIS 2.0 §12 REST bindings, `POST /epcis/capture`): a partner's
 * system sends a document; each event becomes a signed trace event of the partner's
 * organisation, through the very use case `POST /api/v1/batches/:id/events` runs
 * (services/events.ts `recordEvent`), so role, custody, step actors, suspension and
 * entitlement apply unchanged: a partner cannot capture what the API refuses.
 *
 * All or nothing per document (GS1 lets a repository choose; `captureErrorBehaviour:
 * rollback`): every event is judged in order inside one transaction, each seeing the
 * events before it (a receiving then a shipping by the same partner works), and if any is
 * refused the transaction is rolled back, so a refused capture records no event, signs
 * nothing that reaches the chain and leaves the partner a document to fix and resend
 * whole, not a remainder to work out. The capture job keeps each event's outcome either way.
 *
 * Cases and pallets take the same road through their own use cases (services/containers.ts,
 * via epcis-capture-containers.ts): an AggregationEvent ADD is a packing, DELETE an unpacking,
 * an ObjectEvent of SSCCs a shipping or receiving of each. A container's eventID is not kept
 * for later captures' duplicate check (that table names trace events); within one document it is.
 *
 * The job row is written first (state `running`, marking the idempotency key), then judged
 * and finished in the same request: the 202 answer already carries the final state; a
 * server that dies in between leaves the job `running` with nothing of its events stored.
 */
import { createHash, randomUUID } from "node:crypto";

import { ZodError } from "zod";

import { mapCapturedContainerEvent } from "../domain/epcis-container-mapping.ts";
import { isUnmappable, mapCapturedEvent, type CapturedEpcisEvent } from "../domain/epcis-mapping.ts";
import { AppError, isAppError } from "../errors/app-error.ts";
import { getBatchByLot } from "../storage/batches.ts";
import {
  batchesOfItem,
  capturedEventIdsTaken,
  finishCapture,
  getCapture,
  insertCapture,
  insertCapturedEventIds,
  type CaptureOutcome,
  type EpcisCapture,
} from "../storage/epcis-captures.ts";
import type { Db } from "../storage/database.ts";
import { inTransaction } from "../storage/transaction.ts";
import type { ServiceContext } from "./context.ts";
import { recordCapturedContainerEvent } from "./epcis-capture-containers.ts";
import { schemaIssues, type EpcisValidator } from "./epcis-schema.ts";
import { eventRequest, recordEvent } from "./events.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/**
 * Events one capture may hold. The whole document is judged and signed in one transaction,
 * which on SQLite holds the single writer (scans wait behind it): about 0.7 s for 100 events
 * on the development machine, 5 s for 500. Advertised as `GS1-EPCIS-Capture-Limit`.
 */
export const MAX_CAPTURE_EVENTS = 100;

/** Thrown inside the capture's transaction to roll it back when an event was refused. */
class CaptureRefused extends Error {}

interface Refusal {
  code: string;
  detail: string | null;
  details: Record<string, unknown> | null;
}

function refusalOf(error: unknown): Refusal | null {
  if (isAppError(error)) {
    return {
      code: error.code,
      detail: error.detail ?? null,
      details: Object.keys(error.details).length === 0 ? null : { ...error.details },
    };
  }
  if (error instanceof ZodError) {
    return {
      code: "request.invalid",
      detail: error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
      details: null,
    };
  }
  return null;
}

/** The one batch an event's items and lots belong to, or why there is none. */
async function batchOfEvent(
  db: Db,
  items: ReadonlyArray<{ gtin: string; serial: string }>,
  lots: ReadonlyArray<{ gtin: string; lot: string }>,
): Promise<string> {
  const batchIds = new Set<string>();
  const unknown: string[] = [];
  for (const item of items) {
    const found = await batchesOfItem(db, item.gtin, item.serial);
    if (found.length === 0) unknown.push(`(01)${item.gtin}(21)${item.serial}`);
    for (const id of found) batchIds.add(id);
  }
  for (const lot of lots) {
    const batch = await getBatchByLot(db, lot.gtin, lot.lot);
    if (batch === null) unknown.push(`(01)${lot.gtin}(10)${lot.lot}`);
    else batchIds.add(batch.batchId);
  }
  if (unknown.length > 0) {
    throw new AppError("epcis.epc_unknown", { epcs: unknown.slice(0, 20) }, { detail: unknown.slice(0, 5).join(", ") });
  }
  if (batchIds.size !== 1) throw new AppError("epcis.event_several_batches", { batchIds: [...batchIds].slice(0, 20) });
  const [batchId] = batchIds;
  if (batchId === undefined) throw new AppError("epcis.epc_unknown");
  return batchId;
}

interface Judged {
  outcomes: CaptureOutcome[];
  refused: boolean;
}

/** Judges and records every event in order within `db` (the capture's transaction). */
async function recordAll(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  captureId: string,
  events: readonly CapturedEpcisEvent[],
): Promise<Judged> {
  const outcomes: CaptureOutcome[] = [];
  const givenIds = events.map((event) => event.eventID).filter((id): id is string => typeof id === "string");
  const taken = await capturedEventIdsTaken(ctx.db, organisationId, givenIds);
  const seen = new Set<string>();
  const recorded: Array<{ organisationId: string; epcisEventId: string; eventId: string; captureId: string }> = [];

  for (const [index, event] of events.entries()) {
    const eventID = typeof event.eventID === "string" ? event.eventID : null;
    const refuse = (refusal: Refusal): void => {
      outcomes.push({ index, eventID, outcome: "refused", ...refusal });
    };
    if (eventID !== null && (taken.has(eventID) || seen.has(eventID))) {
      refuse({ code: "epcis.event_duplicate", detail: eventID, details: null });
      continue;
    }
    if (eventID !== null) seen.add(eventID);
    // Cases and pallets (AggregationEvents, SSCCs shipped or received) go through the containers service.
    const container = mapCapturedContainerEvent(event);
    if (container !== null) {
      if ("code" in container) {
        refuse({ code: container.code, detail: container.detail, details: null });
        continue;
      }
      try {
        const containerSteps = await recordCapturedContainerEvent(ctx, origin, container);
        outcomes.push({
          index,
          eventID,
          outcome: "accepted",
          eventId: null,
          signatureRequestId: null,
          ignored: container.ignored,
          containerSteps,
        });
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal === null) throw error;
        refuse(refusal);
      }
      continue;
    }
    const mapped = mapCapturedEvent(event);
    if (isUnmappable(mapped)) {
      refuse({ code: mapped.code, detail: mapped.detail, details: null });
      continue;
    }
    try {
      const batchId = await batchOfEvent(ctx.db, mapped.items, mapped.lots);
      const accepted = await recordEvent(ctx, origin, batchId, eventRequest.parse(mapped.request));
      const eventId = "event" in accepted ? accepted.event.id : null;
      if (eventId !== null && eventID !== null) {
        recorded.push({ organisationId, epcisEventId: eventID, eventId, captureId });
      }
      outcomes.push({
        index,
        eventID,
        outcome: "accepted",
        eventId,
        signatureRequestId: "awaitingSignature" in accepted ? accepted.awaitingSignature.id : null,
        ignored: mapped.ignored,
      });
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === null) throw error;
      refuse(refusal);
    }
  }
  const refused = outcomes.some((outcome) => outcome.outcome === "refused");
  if (!refused) await insertCapturedEventIds(ctx.db, recorded);
  return { outcomes, refused };
}

/** What a capture request carries besides its document. */
export interface CaptureRequest {
  document: unknown;
  /** The request body's bytes, hashed to identify the document in the job. */
  documentText: string;
}

/**
 * Validates a document against the official schema (a 400 naming the failing JSON paths,
 * nothing stored), then runs the capture job; answers the finished job.
 */
export async function captureDocument(
  ctx: ServiceContext,
  origin: WriteOrigin,
  validate: EpcisValidator,
  request: CaptureRequest,
): Promise<EpcisCapture> {
  const organisationId = origin.principal.organisationId;
  if (organisationId === null) throw new AppError("organisation.wrong_kind");
  const { valid, errors } = validate(request.document);
  const document = request.document as { type?: unknown; epcisBody?: { eventList?: unknown } };
  const issues = valid ? [] : schemaIssues(errors);
  if (valid && document.type !== "EPCISDocument") {
    issues.push({ path: "/type", message: "a capture takes an EPCISDocument" });
  }
  if (issues.length > 0) {
    throw new AppError(
      "epcis.schema_invalid",
      { issues },
      {
        detail: issues
          .slice(0, 5)
          .map((issue) => `${issue.path}: ${issue.message}`)
          .join("; "),
      },
    );
  }
  const events = Array.isArray(document.epcisBody?.eventList)
    ? (document.epcisBody.eventList as CapturedEpcisEvent[])
    : [];
  if (events.length > MAX_CAPTURE_EVENTS) {
    throw new AppError("epcis.capture_too_large", { events: events.length, limit: MAX_CAPTURE_EVENTS });
  }

  const captureId = randomUUID();
  const startedMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    await insertCapture(
      trx,
      {
        id: captureId,
        organisationId,
        eventCount: events.length,
        documentDigest: createHash("sha256").update(request.documentText).digest("hex"),
        createdBy: origin.principal.credentialId ?? "admin",
      },
      startedMs,
    );
    await recordWrite(trx, origin, "epcis.capture", captureId, { events: events.length }, startedMs);
  });

  let judged: Judged = { outcomes: [], refused: false };
  try {
    await inTransaction(ctx.db, async (trx) => {
      judged = await recordAll({ ...ctx, db: trx }, origin, organisationId, captureId, events);
      if (judged.refused) throw new CaptureRefused();
      await finishCapture(trx, captureId, "success", judged.outcomes, ctx.now());
    });
  } catch (error) {
    if (!(error instanceof CaptureRefused)) {
      await finishCapture(ctx.db, captureId, "failed", judged.outcomes, ctx.now());
      throw error;
    }
    // Rolled back: what would have been accepted was not recorded after all.
    const outcomes = judged.outcomes.map((outcome): CaptureOutcome =>
      outcome.outcome === "accepted"
        ? {
            index: outcome.index,
            eventID: outcome.eventID,
            outcome: "not_recorded",
            code: null,
            detail: null,
            details: null,
          }
        : outcome,
    );
    await finishCapture(ctx.db, captureId, "failed", outcomes, ctx.now());
  }
  const capture = await getCapture(ctx.db, captureId);
  if (capture === null) throw new Error(`capture ${captureId} vanished`);
  return capture;
}

/** A capture job, to the organisation that sent it (and the operator). */
export async function captureOf(ctx: ServiceContext, organisationId: string | null, id: string): Promise<EpcisCapture> {
  const capture = /^[0-9a-f-]{36}$/.test(id) ? await getCapture(ctx.db, id) : null;
  if (capture === null || (organisationId !== null && capture.organisationId !== organisationId)) {
    throw new AppError("epcis.capture_not_found");
  }
  return capture;
}
