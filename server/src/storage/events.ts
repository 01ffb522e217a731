/**
 * Critical tracking events of batches. A row holds every signed field, the EIP-712
 * digest (the event's identity on chain and its link in the batch's hash chain), and,
 * once indexed, where the chain put it and the head that resulted.
 */
import type { Selectable } from "kysely";

import { LEDGER_STATES } from "../domain/enumerations.ts";
import { BIZ_STEPS, type BizStep } from "../domain/typed-data.ts";
import type { LedgerPosition, SignedFields } from "./batches.ts";
import { fromJson, jsonObject, normaliseAddress, oneOf, textToUint, toJson, uintToText } from "./codec.ts";
import type { Db } from "./database.ts";
import type { EventsTable } from "./schema.ts";

export interface TraceEvent {
  id: string;
  batchId: string;
  bizStep: BizStep;
  actorOrganisationId: string;
  occurredAtMs: number;
  payloadCid: string;
  /** Structured fields shown and checked without fetching the payload (temperatures, tests done). */
  data: Record<string, unknown>;
  /**
   * The receiver a shipping event hands the batch to: the signed address, and the organisation
   * that held it when the event was recorded (null if none we know). Null for other steps.
   */
  counterparty: { address: string; organisationId: string | null } | null;
  signed: SignedFields;
  digest: string;
  ledger: LedgerPosition;
  /** Filled by the indexer from the `EventRecorded` log. */
  chain: { logIndex: number; eventHead: string } | null;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewTraceEvent = Omit<TraceEvent, "ledger" | "chain" | "createdAtMs" | "updatedAtMs">;

export function toEvent(row: Selectable<EventsTable>): TraceEvent {
  return {
    id: row.id,
    batchId: row.batch_id,
    bizStep: oneOf(BIZ_STEPS, row.biz_step, "events.biz_step"),
    actorOrganisationId: row.actor_organisation_id,
    occurredAtMs: row.occurred_at_ms,
    payloadCid: row.payload_cid,
    data: fromJson(jsonObject, row.data_json, "events.data_json"),
    counterparty:
      row.counterparty_address === null
        ? null
        : { address: row.counterparty_address, organisationId: row.counterparty_organisation_id },
    signed: {
      signerAddress: row.actor_address,
      signature: row.signature,
      nonce: textToUint(row.nonce),
      deadline: textToUint(row.deadline),
      typedDataVersion: row.typed_data_version,
    },
    digest: row.digest,
    ledger: {
      state: oneOf(LEDGER_STATES, row.ledger_state, "events.ledger_state"),
      failureReason: row.failure_reason,
      txHash: row.tx_hash,
      blockNumber: row.block_number,
    },
    chain:
      row.log_index === null || row.event_head === null ? null : { logIndex: row.log_index, eventHead: row.event_head },
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/** Inserts an event in ledger state "pending"; the same digest twice is refused (unique). */
export async function insertEvent(db: Db, event: NewTraceEvent, nowMs = Date.now()): Promise<TraceEvent> {
  const row = await db
    .insertInto("events")
    .values({
      id: event.id,
      batch_id: event.batchId.toLowerCase(),
      biz_step: oneOf(BIZ_STEPS, event.bizStep, "events.biz_step"),
      actor_organisation_id: event.actorOrganisationId,
      actor_address: normaliseAddress(event.signed.signerAddress),
      occurred_at_ms: event.occurredAtMs,
      payload_cid: event.payloadCid,
      data_json: toJson(event.data),
      signature: event.signed.signature,
      nonce: uintToText(event.signed.nonce),
      deadline: uintToText(event.signed.deadline),
      digest: event.digest.toLowerCase(),
      typed_data_version: event.signed.typedDataVersion,
      ledger_state: "pending",
      failure_reason: null,
      tx_hash: null,
      block_number: null,
      log_index: null,
      event_head: null,
      counterparty_address: event.counterparty === null ? null : normaliseAddress(event.counterparty.address),
      counterparty_organisation_id: event.counterparty?.organisationId ?? null,
      created_by: event.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEvent(row);
}

export async function getEvent(db: Db, id: string): Promise<TraceEvent | null> {
  const row = await db.selectFrom("events").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toEvent(row);
}

export async function getEventByDigest(db: Db, digest: string): Promise<TraceEvent | null> {
  const row = await db.selectFrom("events").selectAll().where("digest", "=", digest.toLowerCase()).executeTakeFirst();
  return row === undefined ? null : toEvent(row);
}

/**
 * A batch's events in hash-chain order: anchored ones by their position on chain, then
 * those not yet on chain in the order they were accepted.
 */
export async function listBatchEvents(db: Db, batchId: string): Promise<TraceEvent[]> {
  const rows = await db.selectFrom("events").selectAll().where("batch_id", "=", batchId.toLowerCase()).execute();
  return rows.map(toEvent).sort(chainOrder);
}

function chainOrder(a: TraceEvent, b: TraceEvent): number {
  const blockA = a.chain === null ? null : a.ledger.blockNumber;
  const blockB = b.chain === null ? null : b.ledger.blockNumber;
  if (blockA !== null && blockB !== null) {
    return blockA - blockB || (a.chain?.logIndex ?? 0) - (b.chain?.logIndex ?? 0);
  }
  if (blockA !== null) return -1;
  if (blockB !== null) return 1;
  return a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id);
}

/**
 * A value that changes whenever an event of the batch is added or updated (its ledger
 * state, its chain position): their number and newest update, one indexed query.
 */
export async function batchEventsStamp(db: Db, batchId: string): Promise<string> {
  const row = await db
    .selectFrom("events")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max<number | null>("updated_at_ms").as("updated")])
    .where("batch_id", "=", batchId.toLowerCase())
    .executeTakeFirstOrThrow();
  return `${String(row.n)}:${String(row.updated)}`;
}

/** The indexer's record of an `EventRecorded` log: anchors the event at its chain position. */
export async function recordEventOnChain(
  db: Db,
  digest: string,
  position: { txHash: string; blockNumber: number; logIndex: number; eventHead: string },
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("events")
    .set({
      ledger_state: "anchored",
      failure_reason: null,
      tx_hash: position.txHash,
      block_number: position.blockNumber,
      log_index: position.logIndex,
      event_head: position.eventHead,
      updated_at_ms: nowMs,
    })
    .where("digest", "=", digest.toLowerCase())
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Undoes {@link recordEventOnChain} for events a reorg removed: they are submitted, not anchored. */
export async function unrecordEventsAfter(db: Db, blockNumber: number, nowMs = Date.now()): Promise<void> {
  await db
    .updateTable("events")
    .set({ ledger_state: "submitted", block_number: null, log_index: null, event_head: null, updated_at_ms: nowMs })
    .where("block_number", ">", blockNumber)
    .where("log_index", "is not", null)
    .execute();
}
