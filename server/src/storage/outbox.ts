/**
 * The durable outbox: every signed write the ledger must receive, stored in the same
 * transaction that accepted it, and drained by the ledger writer. Entry states mirror
 * onto the row the entry anchors (a batch, an event, an organisation), inside the same
 * transaction, so "where does my batch stand" is one read and never disagrees with the
 * outbox.
 */
import type { Kysely, Selectable, Transaction } from "kysely";
import { z } from "zod";

import type { OutboxEntry, OutboxPort, SubmittedTransaction } from "../ledger/writer.ts";
import { fromJson, oneOf, toJson } from "./codec.ts";
import { LEDGER_STATES, type LedgerState } from "../domain/enumerations.ts";
import { engineOf, type Db } from "./database.ts";
import type { Database, OutboxTable } from "./schema.ts";
import { mirrorEntitlementLedger } from "./entitlements.ts";
import { inTransaction } from "./transaction.ts";
import { mirrorContainerLedger } from "./containers.ts";

export interface OutboxRecord {
  id: number;
  kind: string;
  referenceId: string;
  payload: unknown;
  state: LedgerState;
  attempts: number;
  nextAttemptAtMs: number;
  txHash: string | null;
  blockNumber: number | null;
  lastError: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

function toRecord(row: Selectable<OutboxTable>): OutboxRecord {
  return {
    id: row.id,
    kind: row.kind,
    referenceId: row.reference_id,
    payload: fromJson(z.json(), row.payload_json, "outbox.payload_json"),
    state: oneOf(LEDGER_STATES, row.state, "outbox.state"),
    attempts: row.attempts,
    nextAttemptAtMs: row.next_attempt_at_ms,
    txHash: row.tx_hash,
    blockNumber: row.block_number,
    lastError: row.last_error,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/**
 * Adds an entry, or finds the one already there for this kind and reference: enqueueing
 * the same write twice (a retried request) yields one entry.
 */
export async function enqueueOutbox(
  db: Db,
  entry: { kind: string; referenceId: string; payload: unknown },
  nowMs = Date.now(),
): Promise<{ id: number; created: boolean }> {
  const inserted = await db
    .insertInto("outbox")
    .values({
      kind: entry.kind,
      reference_id: entry.referenceId,
      payload_json: toJson(entry.payload),
      state: "pending",
      attempts: 0,
      next_attempt_at_ms: nowMs,
      tx_hash: null,
      block_number: null,
      last_error: null,
      claimed_by: null,
      claimed_until_ms: null,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .onConflict((oc) => oc.columns(["kind", "reference_id"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (inserted !== undefined) return { id: inserted.id, created: true };
  const existing = await db
    .selectFrom("outbox")
    .select("id")
    .where("kind", "=", entry.kind)
    .where("reference_id", "=", entry.referenceId)
    .executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}

export async function getOutboxEntry(db: Db, id: number): Promise<OutboxRecord | null> {
  const row = await db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

export async function getOutboxEntryFor(db: Db, kind: string, referenceId: string): Promise<OutboxRecord | null> {
  const row = await db
    .selectFrom("outbox")
    .selectAll()
    .where("kind", "=", kind)
    .where("reference_id", "=", referenceId)
    .executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

/** The newest entry of one of `kinds` whose reference starts with `referencePrefix`, e.g. an organisation's latest decision. */
export async function newestOutboxEntry(
  db: Db,
  kinds: readonly string[],
  referencePrefix: string,
): Promise<OutboxRecord | null> {
  const row = await db
    .selectFrom("outbox")
    .selectAll()
    .where("kind", "in", kinds)
    .where("reference_id", "like", `${referencePrefix}%`)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

export interface ClaimOptions {
  kind: string;
  /** Identifies the claiming process; it may re-claim its own entries at once. */
  holder: string;
  limit: number;
  nowMs: number;
  /** How long other processes keep off the claimed entries (a crashed holder's claim lapses). */
  claimTtlMs: number;
  /**
   * Kinds that go first: an entry is not claimed while an entry of one of these kinds
   * enqueued before it is still pending (not yet sent).
   */
  after?: readonly string[];
  /** Claim only entries enqueued before this id (the writer's barrier for sent but unmined prerequisites). */
  beforeId?: number;
}

/**
 * Claims up to `limit` due pending entries of a kind, oldest first, in one statement.
 * On PostgreSQL the inner SELECT takes row locks with SKIP LOCKED, so two processes
 * claiming at once each get different rows and neither waits for the other; a row one of
 * them claimed and committed no longer matches the other's WHERE. SQLite runs one write
 * statement at a time, so the single statement is already atomic there.
 */
export async function claimDueOutbox(db: Db, options: ClaimOptions): Promise<OutboxRecord[]> {
  const postgres = engineOf(db) === "postgres";
  const due = db
    .selectFrom("outbox")
    .select("id")
    .where("state", "=", "pending")
    .where("kind", "=", options.kind)
    .where("next_attempt_at_ms", "<=", options.nowMs)
    .$if(options.beforeId !== undefined, (query) => query.where("id", "<", options.beforeId ?? 0))
    .$if((options.after ?? []).length > 0, (query) =>
      query.where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("outbox as earlier")
              .select("earlier.id")
              .where("earlier.kind", "in", options.after ?? [])
              .where("earlier.state", "=", "pending")
              .whereRef("earlier.id", "<", "outbox.id"),
          ),
        ),
      ),
    )
    .where((eb) =>
      eb.or([
        eb("claimed_until_ms", "is", null),
        eb("claimed_until_ms", "<=", options.nowMs),
        eb("claimed_by", "=", options.holder),
      ]),
    )
    .orderBy("id")
    .limit(options.limit)
    .$if(postgres, (query) => query.forUpdate().skipLocked());
  const rows = await db
    .updateTable("outbox")
    .set({ claimed_by: options.holder, claimed_until_ms: options.nowMs + options.claimTtlMs })
    .where("id", "in", due)
    .returningAll()
    .execute();
  // RETURNING gives no order guarantee; the writer needs acceptance order.
  return rows.map(toRecord).sort((a, b) => a.id - b.id);
}

type LedgerChange = {
  state: LedgerState;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
};

/** Carries a state change onto the rows that show their own ledger state, by the entry's kind. */
async function mirrorOntoReferences(
  trx: Transaction<Database>,
  ids: readonly number[],
  change: LedgerChange,
  nowMs: number,
): Promise<void> {
  const refs = await trx.selectFrom("outbox").select(["kind", "reference_id"]).where("id", "in", ids).execute();
  const of = (kind: string) => refs.filter((ref) => ref.kind === kind).map((ref) => ref.reference_id);
  const ledgerColumns = {
    ledger_state: change.state,
    tx_hash: change.txHash,
    block_number: change.blockNumber,
    failure_reason: change.failureReason,
    updated_at_ms: nowMs,
  };
  const batches = of("attestation");
  if (batches.length > 0)
    await trx.updateTable("batches").set(ledgerColumns).where("batch_id", "in", batches).execute();
  const events = of("event");
  if (events.length > 0) await trx.updateTable("events").set(ledgerColumns).where("id", "in", events).execute();
  const inspectionRequests = [...of("inspection_request"), ...of("regulator_inspection_request")];
  if (inspectionRequests.length > 0) {
    await trx.updateTable("inspection_requests").set(ledgerColumns).where("id", "in", inspectionRequests).execute();
  }
  const organisations = of("organisation");
  if (organisations.length > 0) {
    await trx
      .updateTable("organisations")
      .set({ ledger_state: change.state, updated_at_ms: nowMs })
      .where("id", "in", organisations)
      .execute();
  }
  await mirrorEntitlementLedger(trx, refs, change, nowMs);
  await mirrorContainerLedger(trx, [...of("container_packing"), ...of("container_event")], change, nowMs);
}

async function moveEntries(
  db: Db,
  ids: readonly number[],
  change: LedgerChange & { lastError: string | null; delayMs?: number },
  nowMs: number,
): Promise<void> {
  if (ids.length === 0) return;
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("outbox")
      .set((eb) => ({
        state: change.state,
        tx_hash: change.txHash,
        block_number: change.blockNumber,
        last_error: change.lastError,
        claimed_by: null,
        claimed_until_ms: null,
        updated_at_ms: nowMs,
        ...(change.delayMs === undefined
          ? {}
          : { attempts: eb("attempts", "+", 1), next_attempt_at_ms: nowMs + change.delayMs }),
      }))
      .where("id", "in", ids)
      .execute();
    await mirrorOntoReferences(trx, ids, change, nowMs);
  });
}

export interface LedgerTransaction {
  txHash: string;
  rawTx: string;
  sender: string;
  nonce: number;
}

/** Records the signed transaction carrying these entries; called before it is broadcast. */
export async function markOutboxSubmitted(
  db: Db,
  ids: readonly number[],
  tx: LedgerTransaction,
  nowMs = Date.now(),
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto("ledger_transactions")
      .values({
        tx_hash: tx.txHash,
        raw_tx: tx.rawTx,
        sender: tx.sender,
        account_nonce: tx.nonce,
        created_at_ms: nowMs,
      })
      .onConflict((oc) => oc.column("tx_hash").doNothing())
      .execute();
    const change = { state: "submitted", txHash: tx.txHash, blockNumber: null, failureReason: null } as const;
    await moveEntries(trx, ids, { ...change, lastError: null }, nowMs);
  });
}

/** Submitted entries grouped by their transaction, oldest transaction first. */
export async function listSubmittedTransactions(db: Db): Promise<SubmittedTransaction[]> {
  const rows = await db
    .selectFrom("outbox")
    .innerJoin("ledger_transactions", "ledger_transactions.tx_hash", "outbox.tx_hash")
    .select(["outbox.id", "outbox.kind", "ledger_transactions.tx_hash", "ledger_transactions.raw_tx"])
    .where("outbox.state", "=", "submitted")
    .orderBy("outbox.id")
    .execute();
  const byHash = new Map<string, SubmittedTransaction>();
  for (const row of rows) {
    const tx = byHash.get(row.tx_hash) ?? { txHash: row.tx_hash, rawTx: row.raw_tx, entryIds: [], kinds: [] };
    tx.entryIds.push(String(row.id));
    const kinds = tx.kinds ?? [];
    if (!kinds.includes(row.kind)) tx.kinds = [...kinds, row.kind];
    byHash.set(row.tx_hash, tx);
  }
  return [...byHash.values()];
}

export function markOutboxAnchored(
  db: Db,
  ids: readonly number[],
  at: { txHash: string; blockNumber: number },
  nowMs = Date.now(),
): Promise<void> {
  const change = { state: "anchored", txHash: at.txHash, blockNumber: at.blockNumber, failureReason: null } as const;
  return moveEntries(db, ids, { ...change, lastError: null }, nowMs);
}

/** Final: the contract refused the entry (bad signature, expired deadline, ...). */
export function markOutboxFailed(db: Db, id: number, reason: string, nowMs = Date.now()): Promise<void> {
  const change = { state: "failed", txHash: null, blockNumber: null, failureReason: reason } as const;
  return moveEntries(db, [id], { ...change, lastError: reason }, nowMs);
}

/** Back to pending with one more attempt counted, due again `delayMs` from now. */
export function rescheduleOutbox(
  db: Db,
  ids: readonly number[],
  reason: string,
  delayMs: number,
  nowMs = Date.now(),
): Promise<void> {
  const change = { state: "pending", txHash: null, blockNumber: null, failureReason: null } as const;
  return moveEntries(db, ids, { ...change, lastError: reason, delayMs }, nowMs);
}

function entryId(id: string): number {
  const parsed = Number(id);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error(`not an outbox entry id: ${id}`);
  return parsed;
}

/**
 * The ledger writer's view of the outbox. `holder` names this process: with several
 * replicas, what one holder claimed stays invisible to the others for `claimTtlMs`.
 */
export function createOutboxPort(
  db: Kysely<Database>,
  options: { holder: string; claimTtlMs?: number; now?: () => number },
): OutboxPort {
  const now = options.now ?? Date.now;
  const claimTtlMs = options.claimTtlMs ?? 60_000;
  return {
    async duePending(kind, limit, nowMs, order) {
      const records = await claimDueOutbox(db, {
        kind,
        holder: options.holder,
        limit,
        nowMs,
        claimTtlMs,
        after: order?.after,
        beforeId: order?.beforeId,
      });
      return records.map((record): OutboxEntry => ({
        id: String(record.id),
        kind: record.kind,
        payload: record.payload,
        attempts: record.attempts,
        createdAtMs: record.createdAtMs,
      }));
    },
    markSubmitted: (entryIds, tx) => markOutboxSubmitted(db, entryIds.map(entryId), tx, now()),
    listSubmitted: () => listSubmittedTransactions(db),
    markAnchored: (entryIds, at) => markOutboxAnchored(db, entryIds.map(entryId), at, now()),
    markFailed: (id, reason) => markOutboxFailed(db, entryId(id), reason, now()),
    reschedule: (entryIds, reason, delayMs) => rescheduleOutbox(db, entryIds.map(entryId), reason, delayMs, now()),
  };
}
