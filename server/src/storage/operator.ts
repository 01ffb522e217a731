/**
 * What the operator console reads across organisations and the outbox: the prefixes and
 * people per organisation, the outbox by kind and state, its last errors, and the relayer's
 * recent transactions. Read-only; counts are grouped in the database, never by loading rows.
 */
import { LEDGER_STATES, type LedgerState } from "../domain/enumerations.ts";
import { oneOf } from "./codec.ts";
import type { Db } from "./database.ts";

export interface PrefixInForce {
  prefix: string;
  origin: "own" | "platform";
  ledgerState: LedgerState;
}

/** Every company prefix not released, by organisation id. */
export async function prefixesInForceByOrganisation(db: Db): Promise<Map<string, PrefixInForce[]>> {
  const rows = await db
    .selectFrom("company_prefix_bindings")
    .select(["organisation_id", "prefix", "origin", "ledger_state"])
    .where("released_at_ms", "is", null)
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  const byOrganisation = new Map<string, PrefixInForce[]>();
  for (const row of rows) {
    const list = byOrganisation.get(row.organisation_id) ?? [];
    list.push({
      prefix: row.prefix,
      origin: row.origin,
      ledgerState: oneOf(LEDGER_STATES, row.ledger_state, "company_prefix_bindings.ledger_state"),
    });
    byOrganisation.set(row.organisation_id, list);
  }
  return byOrganisation;
}

/** People not removed, by organisation id. */
export async function memberCountsByOrganisation(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("members")
    .select((eb) => ["organisation_id", eb.fn.countAll<number | string>().as("n")])
    .where("removed_at_ms", "is", null)
    .groupBy("organisation_id")
    .execute();
  return new Map(rows.map((row) => [row.organisation_id, Number(row.n)]));
}

export interface OutboxCount {
  kind: string;
  state: LedgerState;
  count: number;
}

export async function outboxCountsByKindAndState(db: Db): Promise<OutboxCount[]> {
  const rows = await db
    .selectFrom("outbox")
    .select((eb) => ["kind", "state", eb.fn.countAll<number | string>().as("n")])
    .groupBy(["kind", "state"])
    .orderBy("kind")
    .orderBy("state")
    .execute();
  return rows.map((row) => ({
    kind: row.kind,
    state: oneOf(LEDGER_STATES, row.state, "outbox.state"),
    count: Number(row.n),
  }));
}

/** When the oldest entry still waiting to be sent was accepted; null when none waits. */
export async function oldestPendingOutboxAtMs(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => eb.fn.min<number | string | null>("created_at_ms").as("oldest"))
    .where("state", "=", "pending")
    .executeTakeFirst();
  return row?.oldest == null ? null : Number(row.oldest);
}

export interface OutboxErrorRecord {
  id: number;
  kind: string;
  referenceId: string;
  state: LedgerState;
  attempts: number;
  lastError: string;
  updatedAtMs: number;
}

/** The entries that last recorded an error (failed, or pending again after one), newest first. */
export async function latestOutboxErrors(db: Db, limit: number): Promise<OutboxErrorRecord[]> {
  const rows = await db
    .selectFrom("outbox")
    .select(["id", "kind", "reference_id", "state", "attempts", "last_error", "updated_at_ms"])
    .where("last_error", "is not", null)
    .orderBy("updated_at_ms", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    referenceId: row.reference_id,
    state: oneOf(LEDGER_STATES, row.state, "outbox.state"),
    attempts: row.attempts,
    lastError: row.last_error ?? "",
    updatedAtMs: row.updated_at_ms,
  }));
}

/** The newest transactions `sender` signed since `sinceMs`, at most `limit`. */
export async function transactionsSentSince(
  db: Db,
  sender: string,
  sinceMs: number,
  limit: number,
): Promise<{ txHash: string; createdAtMs: number }[]> {
  const rows = await db
    .selectFrom("ledger_transactions")
    .select(["tx_hash", "created_at_ms"])
    .where("sender", "=", sender)
    .where("created_at_ms", ">=", sinceMs)
    .orderBy("created_at_ms", "desc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ txHash: row.tx_hash, createdAtMs: row.created_at_ms }));
}

/** The newest anchored transactions that carried batch attestations, with how many each carried. */
export async function recentAttestationTransactions(
  db: Db,
  limit: number,
): Promise<{ txHash: string; attestations: number }[]> {
  const rows = await db
    .selectFrom("outbox")
    .select((eb) => ["tx_hash", eb.fn.countAll<number | string>().as("n"), eb.fn.max("id").as("newest")])
    .where("kind", "=", "attestation")
    .where("state", "=", "anchored")
    .where("tx_hash", "is not", null)
    .groupBy("tx_hash")
    .orderBy("newest", "desc")
    .limit(limit)
    .execute();
  return rows.flatMap((row) => (row.tx_hash === null ? [] : [{ txHash: row.tx_hash, attestations: Number(row.n) }]));
}
