/**
 * EPCIS 2.0 capture jobs and the event query. A capture job records who sent a document and,
 * once judged, what became of each of its events; the eventIDs partners gave the events we
 * recorded are kept beside them (unique per organisation). The query reads stored events by
 * the filters `GET /epcis/events` supports, in record-time order, one bounded page at a time.
 */
import { z } from "zod";

import type { BizStep } from "../domain/typed-data.ts";
import { fromJson, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import { toEvent, type TraceEvent } from "./events.ts";

export const CAPTURE_STATES = ["running", "success", "failed"] as const;
export type CaptureState = (typeof CAPTURE_STATES)[number];

/** What became of one event of a capture. */
export const captureOutcome = z.discriminatedUnion("outcome", [
  z.object({
    index: z.number().int(),
    eventID: z.string().nullable(),
    outcome: z.literal("accepted"),
    /** Our event's id (`evt_…`), or the signature request's when the organisation signs itself. */
    eventId: z.string().nullable(),
    signatureRequestId: z.string().nullable(),
    ignored: z.array(z.string()),
    /**
     * For an event about cases or pallets: the container steps it stored (one per SSCC), or,
     * for an organisation holding its own key, the signature request each step waits for.
     */
    containerSteps: z
      .array(
        z.union([
          z.object({ sscc: z.string(), stepId: z.string() }),
          z.object({ sscc: z.string(), signatureRequestId: z.string() }),
        ]),
      )
      .optional(),
  }),
  z.object({
    index: z.number().int(),
    eventID: z.string().nullable(),
    /** `refused`: this event was refused; `not_recorded`: it was fine, another one refused the document. */
    outcome: z.enum(["refused", "not_recorded"]),
    code: z.string().nullable(),
    detail: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  }),
]);
export type CaptureOutcome = z.infer<typeof captureOutcome>;

export interface EpcisCapture {
  id: string;
  organisationId: string;
  state: CaptureState;
  eventCount: number;
  documentDigest: string;
  outcomes: CaptureOutcome[] | null;
  createdBy: string;
  createdAtMs: number;
  finishedAtMs: number | null;
}

export async function insertCapture(
  db: Db,
  capture: Pick<EpcisCapture, "id" | "organisationId" | "eventCount" | "documentDigest" | "createdBy">,
  nowMs: number,
): Promise<void> {
  await db
    .insertInto("epcis_captures")
    .values({
      id: capture.id,
      organisation_id: capture.organisationId,
      state: "running",
      event_count: capture.eventCount,
      document_digest: capture.documentDigest,
      outcomes_json: null,
      created_by: capture.createdBy,
      created_at_ms: nowMs,
      finished_at_ms: null,
    })
    .execute();
}

export async function finishCapture(
  db: Db,
  id: string,
  state: Exclude<CaptureState, "running">,
  outcomes: readonly CaptureOutcome[],
  nowMs: number,
): Promise<void> {
  await db
    .updateTable("epcis_captures")
    .set({ state, outcomes_json: toJson(outcomes), finished_at_ms: nowMs })
    .where("id", "=", id)
    .execute();
}

export async function getCapture(db: Db, id: string): Promise<EpcisCapture | null> {
  const row = await db.selectFrom("epcis_captures").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) return null;
  const state = CAPTURE_STATES.find((value) => value === row.state);
  if (state === undefined) throw new Error(`epcis_captures.state holds ${row.state}`);
  return {
    id: row.id,
    organisationId: row.organisation_id,
    state,
    eventCount: row.event_count,
    documentDigest: row.document_digest,
    outcomes:
      row.outcomes_json === null
        ? null
        : fromJson(z.array(captureOutcome), row.outcomes_json, "epcis_captures.outcomes_json"),
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    finishedAtMs: row.finished_at_ms,
  };
}

/** Keeps the eventIDs a partner gave the events recorded from its capture. */
export async function insertCapturedEventIds(
  db: Db,
  rows: ReadonlyArray<{ organisationId: string; epcisEventId: string; eventId: string; captureId: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("epcis_event_ids")
    .values(
      rows.map((row) => ({
        organisation_id: row.organisationId,
        epcis_event_id: row.epcisEventId,
        event_id: row.eventId,
        capture_id: row.captureId,
      })),
    )
    .execute();
}

/** Which of these eventIDs the organisation has already had recorded. */
export async function capturedEventIdsTaken(
  db: Db,
  organisationId: string,
  epcisEventIds: readonly string[],
): Promise<Set<string>> {
  if (epcisEventIds.length === 0) return new Set();
  const rows = await db
    .selectFrom("epcis_event_ids")
    .select("epcis_event_id")
    .where("organisation_id", "=", organisationId)
    .where("epcis_event_id", "in", [...epcisEventIds])
    .execute();
  return new Set(rows.map((row) => row.epcis_event_id));
}

/** The batches holding an item of this GTIN and serial (one, unless serials were reused across lots). */
export async function batchesOfItem(db: Db, gtin: string, serial: string): Promise<string[]> {
  const rows = await db
    .selectFrom("items")
    .innerJoin("batches", "batches.batch_id", "items.batch_id")
    .select("items.batch_id")
    .where("batches.gtin", "=", gtin)
    .where("items.serial", "=", serial)
    .limit(10)
    .execute();
  return rows.map((row) => row.batch_id);
}

/** Batches of a GTIN, at most `limit` (a wildcard EPC pattern names every item of a product). */
export async function batchesOfGtin(db: Db, gtin: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("batches").select("batch_id").where("gtin", "=", gtin).limit(limit).execute();
  return rows.map((row) => row.batch_id);
}

export interface EventQueryFilter {
  /** Null: any step. An empty list matches nothing. */
  steps: readonly BizStep[] | null;
  occurredFromMs?: number;
  occurredBeforeMs?: number;
  recordedFromMs?: number;
  recordedBeforeMs?: number;
  /** Null: any batch. An empty list matches nothing. */
  batchIds: readonly string[] | null;
  /** The organisation that did the step (our bizLocation), shipping excluded (it has none). */
  bizLocationOrganisationIds: readonly string[] | null;
  /** Keyset: events recorded after this one. */
  after?: { createdAtMs: number; id: string };
  limit: number;
}

export interface QueriedEvent {
  event: TraceEvent;
  /** The eventID the capturing partner gave it, if it came in through a capture. */
  epcisEventId: string | null;
}

/** One page of stored events matching the filter, in record-time order. */
export async function queryEvents(db: Db, filter: EventQueryFilter): Promise<QueriedEvent[]> {
  if (filter.steps?.length === 0 || filter.batchIds?.length === 0 || filter.bizLocationOrganisationIds?.length === 0) {
    return [];
  }
  let query = db
    .selectFrom("events")
    .leftJoin("epcis_event_ids", "epcis_event_ids.event_id", "events.id")
    .selectAll("events")
    .select("epcis_event_ids.epcis_event_id");
  if (filter.steps !== null) query = query.where("events.biz_step", "in", [...filter.steps]);
  if (filter.occurredFromMs !== undefined) query = query.where("events.occurred_at_ms", ">=", filter.occurredFromMs);
  if (filter.occurredBeforeMs !== undefined) query = query.where("events.occurred_at_ms", "<", filter.occurredBeforeMs);
  if (filter.recordedFromMs !== undefined) query = query.where("events.created_at_ms", ">=", filter.recordedFromMs);
  if (filter.recordedBeforeMs !== undefined) query = query.where("events.created_at_ms", "<", filter.recordedBeforeMs);
  if (filter.batchIds !== null) {
    query = query.where(
      "events.batch_id",
      "in",
      filter.batchIds.map((id) => id.toLowerCase()),
    );
  }
  if (filter.bizLocationOrganisationIds !== null) {
    query = query
      .where("events.actor_organisation_id", "in", [...filter.bizLocationOrganisationIds])
      .where("events.biz_step", "!=", "shipping");
  }
  const after = filter.after;
  if (after !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb("events.created_at_ms", ">", after.createdAtMs),
        eb.and([eb("events.created_at_ms", "=", after.createdAtMs), eb("events.id", ">", after.id)]),
      ]),
    );
  }
  const rows = await query.orderBy("events.created_at_ms").orderBy("events.id").limit(filter.limit).execute();
  return rows.map(({ epcis_event_id, ...row }) => ({ event: toEvent(row), epcisEventId: epcis_event_id }));
}
