/**
 * Requests that an inspector inspect or certify a batch: signed by the batch's cooperative,
 * or sent by a regulator on its own authority. One per inspector and batch, as on chain; a
 * request the ledger refused is replaced by the next one.
 */
import type { Selectable } from "kysely";

import { LEDGER_STATES } from "../domain/enumerations.ts";
import type { LedgerPosition } from "./batches.ts";
import { normaliseAddress, oneOf, textToUint, uintToText } from "./codec.ts";
import { engineOf, type Db } from "./database.ts";
import type { InspectionRequestsTable } from "./schema.ts";

export const INSPECTION_REQUESTERS = ["cooperative", "regulator"] as const;

export interface InspectionRequest {
  id: string;
  batchId: string;
  inspectorOrganisationId: string;
  inspectorAddress: string;
  requestedBy: (typeof INSPECTION_REQUESTERS)[number];
  /** Null when restored from the chain for a regulator (the chain knows its role's account only). */
  requesterOrganisationId: string | null;
  requesterAddress: string;
  nonce: bigint;
  deadline: bigint;
  /** The cooperative's signature; null when a regulator asked. */
  signature: string | null;
  typedDataVersion: string | null;
  ledger: LedgerPosition;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewInspectionRequest = Omit<InspectionRequest, "ledger" | "createdAtMs" | "updatedAtMs">;

function toRequest(row: Selectable<InspectionRequestsTable>): InspectionRequest {
  return {
    id: row.id,
    batchId: row.batch_id,
    inspectorOrganisationId: row.inspector_organisation_id,
    inspectorAddress: row.inspector_address,
    requestedBy: oneOf(INSPECTION_REQUESTERS, row.requested_by, "inspection_requests.requested_by"),
    requesterOrganisationId: row.requester_organisation_id,
    requesterAddress: row.requester_address,
    nonce: textToUint(row.nonce),
    deadline: textToUint(row.deadline),
    signature: row.signature,
    typedDataVersion: row.typed_data_version,
    ledger: {
      state: oneOf(LEDGER_STATES, row.ledger_state, "inspection_requests.ledger_state"),
      failureReason: row.failure_reason,
      txHash: row.tx_hash,
      blockNumber: row.block_number,
    },
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/**
 * Inserts a request in ledger state "pending", first removing one the ledger refused for the
 * same inspector and batch. A live request for them already is left alone: returns null.
 */
export async function insertInspectionRequest(
  db: Db,
  request: NewInspectionRequest,
  nowMs = Date.now(),
): Promise<InspectionRequest | null> {
  const batchId = request.batchId.toLowerCase();
  await db
    .deleteFrom("inspection_requests")
    .where("batch_id", "=", batchId)
    .where("inspector_organisation_id", "=", request.inspectorOrganisationId)
    .where("ledger_state", "=", "failed")
    .execute();
  const row = await db
    .insertInto("inspection_requests")
    .values({
      id: request.id,
      batch_id: batchId,
      inspector_organisation_id: request.inspectorOrganisationId,
      inspector_address: normaliseAddress(request.inspectorAddress),
      requested_by: request.requestedBy,
      requester_organisation_id: request.requesterOrganisationId,
      requester_address: normaliseAddress(request.requesterAddress),
      nonce: uintToText(request.nonce),
      deadline: uintToText(request.deadline),
      signature: request.signature,
      typed_data_version: request.typedDataVersion,
      ledger_state: "pending",
      failure_reason: null,
      tx_hash: null,
      block_number: null,
      created_by: request.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .onConflict((oc) => oc.columns(["batch_id", "inspector_organisation_id"]).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toRequest(row);
}

export async function getInspectionRequest(db: Db, id: string): Promise<InspectionRequest | null> {
  const row = await db.selectFrom("inspection_requests").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toRequest(row);
}

/** A batch's requests in the order they were made, the failed ones included. */
export async function listInspectionRequests(db: Db, batchId: string): Promise<InspectionRequest[]> {
  const rows = await db
    .selectFrom("inspection_requests")
    .selectAll()
    .where("batch_id", "=", batchId.toLowerCase())
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toRequest);
}

/** The indexer's record of an `InspectionRequested` log, for a request this store holds. */
export async function recordInspectionRequestOnChain(
  db: Db,
  batchId: string,
  inspectorAddress: string,
  position: { txHash: string; blockNumber: number },
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("inspection_requests")
    .set({
      ledger_state: "anchored",
      failure_reason: null,
      tx_hash: position.txHash,
      block_number: position.blockNumber,
      updated_at_ms: nowMs,
    })
    .where("batch_id", "=", batchId.toLowerCase())
    .where("inspector_address", "=", normaliseAddress(inspectorAddress))
    .where("ledger_state", "!=", "failed")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Undoes {@link recordInspectionRequestOnChain} for requests a reorg removed: they are submitted, not anchored. */
export async function unrecordInspectionRequestsAfter(db: Db, blockNumber: number, nowMs = Date.now()): Promise<void> {
  await db
    .updateTable("inspection_requests")
    .set({ ledger_state: "submitted", block_number: null, updated_at_ms: nowMs })
    .where("block_number", ">", blockNumber)
    .where("ledger_state", "=", "anchored")
    .execute();
}

/**
 * Holds the batch's row until the transaction ends (PostgreSQL), so two writes that judge the
 * batch's custody from its events are judged one after the other; SQLite has one writer.
 */
export async function lockBatchCustody(db: Db, batchId: string): Promise<void> {
  if (engineOf(db) !== "postgres") return;
  await db.selectFrom("batches").select("batch_id").where("batch_id", "=", batchId.toLowerCase()).forUpdate().execute();
}
