/**
 * GTIN entitlement as stored (migration 0011): company-prefix bindings, single-GTIN
 * bindings and GTIN grants, each with its own ledger write and, once released or
 * withdrawn, the ledger write of that. A binding counts from the moment it is accepted
 * (the ledger writer anchors it before any attestation queued after it) until it is
 * released, or the ledger refused it.
 */
import type { Selectable, Transaction } from "kysely";

import { LEDGER_STATES, type LedgerState } from "../domain/enumerations.ts";
import {
  COMPANY_PREFIX_MAX_DIGITS,
  COMPANY_PREFIX_MIN_DIGITS,
  parseCompanyPrefix,
  type EntitlementBindings,
  type GtinGrant,
} from "../domain/gtin-entitlement.ts";
import { oneOf } from "./codec.ts";
import type { Db } from "./database.ts";
import type { CompanyPrefixBindingsTable, Database, GtinBindingsTable, GtinGrantsTable } from "./schema.ts";

export interface LedgerPlace {
  state: LedgerState;
  failureReason: string | null;
  txHash: string | null;
  blockNumber: number | null;
}

export interface PrefixBindingRecord {
  id: string;
  /** Zero-padded digits. */
  prefix: string;
  organisationId: string;
  origin: "own" | "platform";
  ledger: LedgerPlace;
  releasedAtMs: number | null;
  releaseLedgerState: LedgerState | null;
  createdAtMs: number;
}

export interface GtinBindingRecord {
  id: string;
  gtin: string;
  organisationId: string;
  origin: "operator" | "migration";
  ledger: LedgerPlace;
  releasedAtMs: number | null;
  releaseLedgerState: LedgerState | null;
  createdAtMs: number;
}

export interface GtinGrantRecord {
  id: string;
  gtin: string;
  ownerOrganisationId: string;
  granteeOrganisationId: string;
  ledger: LedgerPlace;
  withdrawnAtMs: number | null;
  withdrawLedgerState: LedgerState | null;
  createdAtMs: number;
}

function state(value: string | null, column: string): LedgerState | null {
  return value === null ? null : oneOf(LEDGER_STATES, value, column);
}

function ledgerOf(
  row: { ledger_state: string; failure_reason: string | null; tx_hash: string | null; block_number: number | null },
  table: string,
): LedgerPlace {
  return {
    state: oneOf(LEDGER_STATES, row.ledger_state, `${table}.ledger_state`),
    failureReason: row.failure_reason,
    txHash: row.tx_hash,
    blockNumber: row.block_number,
  };
}

function toPrefixBinding(row: Selectable<CompanyPrefixBindingsTable>): PrefixBindingRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    organisationId: row.organisation_id,
    origin: oneOf(["own", "platform"], row.origin, "company_prefix_bindings.origin"),
    ledger: ledgerOf(row, "company_prefix_bindings"),
    releasedAtMs: row.released_at_ms,
    releaseLedgerState: state(row.release_ledger_state, "company_prefix_bindings.release_ledger_state"),
    createdAtMs: row.created_at_ms,
  };
}

function toGtinBinding(row: Selectable<GtinBindingsTable>): GtinBindingRecord {
  return {
    id: row.id,
    gtin: row.gtin,
    organisationId: row.organisation_id,
    origin: oneOf(["operator", "migration"], row.origin, "gtin_bindings.origin"),
    ledger: ledgerOf(row, "gtin_bindings"),
    releasedAtMs: row.released_at_ms,
    releaseLedgerState: state(row.release_ledger_state, "gtin_bindings.release_ledger_state"),
    createdAtMs: row.created_at_ms,
  };
}

function toGrant(row: Selectable<GtinGrantsTable>): GtinGrantRecord {
  return {
    id: row.id,
    gtin: row.gtin,
    ownerOrganisationId: row.owner_organisation_id,
    granteeOrganisationId: row.grantee_organisation_id,
    ledger: ledgerOf(row, "gtin_grants"),
    withdrawnAtMs: row.withdrawn_at_ms,
    withdrawLedgerState: state(row.withdraw_ledger_state, "gtin_grants.withdraw_ledger_state"),
    createdAtMs: row.created_at_ms,
  };
}

const NEW_LEDGER = { ledger_state: "pending", failure_reason: null, tx_hash: null, block_number: null } as const;

/** Every company prefix a GTIN-14 could lie under: its 6 to 12 digits after the indicator digit. */
function prefixesOfGtin(gtin14: string): string[] {
  const prefixes: string[] = [];
  for (let digits = COMPANY_PREFIX_MIN_DIGITS; digits <= COMPANY_PREFIX_MAX_DIGITS; digits++) {
    prefixes.push(gtin14.slice(1, 1 + digits));
  }
  return prefixes;
}

/** A prefix and every shorter prefix (of at least 6 digits) it starts with. */
function prefixAndOuter(prefix: string): string[] {
  const prefixes: string[] = [];
  for (let digits = COMPANY_PREFIX_MIN_DIGITS; digits <= prefix.length; digits++)
    prefixes.push(prefix.slice(0, digits));
  return prefixes;
}

// ------------------------------------------------------------------ prefix bindings

export async function insertPrefixBinding(
  db: Db,
  binding: { id: string; prefix: string; organisationId: string; origin: "own" | "platform"; createdBy: string },
  nowMs: number,
): Promise<PrefixBindingRecord> {
  const row = await db
    .insertInto("company_prefix_bindings")
    .values({
      id: binding.id,
      prefix: binding.prefix,
      organisation_id: binding.organisationId,
      origin: binding.origin,
      ...NEW_LEDGER,
      released_at_ms: null,
      release_ledger_state: null,
      release_failure_reason: null,
      created_by: binding.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPrefixBinding(row);
}

/** The bindings in force of `prefix` and of every shorter prefix it lies within. */
export async function prefixBindingsCovering(db: Db, prefix: string): Promise<PrefixBindingRecord[]> {
  const rows = await db
    .selectFrom("company_prefix_bindings")
    .selectAll()
    .where("prefix", "in", prefixAndOuter(prefix))
    .where("released_at_ms", "is", null)
    .execute();
  return rows.map(toPrefixBinding);
}

/** The binding in force of exactly this prefix to this organisation. */
export async function prefixBindingInForce(
  db: Db,
  organisationId: string,
  prefix: string,
): Promise<PrefixBindingRecord | null> {
  const row = await db
    .selectFrom("company_prefix_bindings")
    .selectAll()
    .where("prefix", "=", prefix)
    .where("organisation_id", "=", organisationId)
    .where("released_at_ms", "is", null)
    .executeTakeFirst();
  return row === undefined ? null : toPrefixBinding(row);
}

/** The binding in force of exactly this prefix, whoever holds it. */
export async function prefixBindingOf(db: Db, prefix: string): Promise<PrefixBindingRecord | null> {
  const row = await db
    .selectFrom("company_prefix_bindings")
    .selectAll()
    .where("prefix", "=", prefix)
    .where("released_at_ms", "is", null)
    .executeTakeFirst();
  return row === undefined ? null : toPrefixBinding(row);
}

/** Every prefix ever allocated from the platform's (released ones included), `digits` long. */
export async function platformAllocations(db: Db, platformPrefix: string, digits: number): Promise<string[]> {
  if (!/^[0-9]+$/.test(platformPrefix)) throw new Error(`not a company prefix: ${platformPrefix}`);
  const rows = await db
    .selectFrom("company_prefix_bindings")
    .select("prefix")
    .where("origin", "=", "platform")
    .where("prefix", "like", `${platformPrefix}%`)
    .execute();
  return rows.map((row) => row.prefix).filter((prefix) => prefix.length === digits);
}

export async function organisationPrefixBindings(db: Db, organisationId: string): Promise<PrefixBindingRecord[]> {
  const rows = await db
    .selectFrom("company_prefix_bindings")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toPrefixBinding);
}

/** Marks a binding released (it stops counting now); false when it was not in force. */
export async function releasePrefixBinding(db: Db, id: string, nowMs: number): Promise<boolean> {
  const result = await db
    .updateTable("company_prefix_bindings")
    .set({ released_at_ms: nowMs, release_ledger_state: "pending", updated_at_ms: nowMs })
    .where("id", "=", id)
    .where("released_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ------------------------------------------------------------------ GTIN bindings

export async function insertGtinBinding(
  db: Db,
  binding: { id: string; gtin: string; organisationId: string; origin: "operator" | "migration"; createdBy: string },
  nowMs: number,
): Promise<GtinBindingRecord> {
  const row = await db
    .insertInto("gtin_bindings")
    .values({
      id: binding.id,
      gtin: binding.gtin,
      organisation_id: binding.organisationId,
      origin: binding.origin,
      ...NEW_LEDGER,
      released_at_ms: null,
      release_ledger_state: null,
      release_failure_reason: null,
      created_by: binding.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGtinBinding(row);
}

export async function gtinBindingInForce(db: Db, gtin: string): Promise<GtinBindingRecord | null> {
  const row = await db
    .selectFrom("gtin_bindings")
    .selectAll()
    .where("gtin", "=", gtin)
    .where("released_at_ms", "is", null)
    .executeTakeFirst();
  return row === undefined ? null : toGtinBinding(row);
}

export async function organisationGtinBindings(db: Db, organisationId: string): Promise<GtinBindingRecord[]> {
  const rows = await db
    .selectFrom("gtin_bindings")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toGtinBinding);
}

export async function releaseGtinBinding(db: Db, id: string, nowMs: number): Promise<boolean> {
  const result = await db
    .updateTable("gtin_bindings")
    .set({ released_at_ms: nowMs, release_ledger_state: "pending", updated_at_ms: nowMs })
    .where("id", "=", id)
    .where("released_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Bindings the ledger does not know yet and that have no outbox entry (those migration 0011 made). */
export async function gtinBindingsNotQueued(db: Db, kind: string): Promise<GtinBindingRecord[]> {
  const rows = await db
    .selectFrom("gtin_bindings")
    .selectAll()
    .where("ledger_state", "=", "pending")
    .where("released_at_ms", "is", null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("outbox")
            .select("outbox.id")
            .where("outbox.kind", "=", kind)
            .whereRef("outbox.reference_id", "=", "gtin_bindings.id"),
        ),
      ),
    )
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toGtinBinding);
}

/** Products that no binding covers (neither their GTIN nor a prefix): nobody may attest their batches. */
export async function unboundProducts(db: Db): Promise<{ gtin: string; createdBy: string }[]> {
  const products = await db.selectFrom("products").select(["gtin", "created_by"]).orderBy("gtin").execute();
  const unbound: { gtin: string; createdBy: string }[] = [];
  for (const product of products) {
    const bindings = await entitlementBindingsFor(db, product.gtin);
    if (bindings.gtins.length === 0 && bindings.prefixes.length === 0) {
      unbound.push({ gtin: product.gtin, createdBy: product.created_by });
    }
  }
  return unbound;
}

// ------------------------------------------------------------------ grants

export async function insertGrant(
  db: Db,
  grant: { id: string; gtin: string; ownerOrganisationId: string; granteeOrganisationId: string; createdBy: string },
  nowMs: number,
): Promise<GtinGrantRecord> {
  const row = await db
    .insertInto("gtin_grants")
    .values({
      id: grant.id,
      gtin: grant.gtin,
      owner_organisation_id: grant.ownerOrganisationId,
      grantee_organisation_id: grant.granteeOrganisationId,
      ...NEW_LEDGER,
      withdrawn_at_ms: null,
      withdraw_ledger_state: null,
      withdraw_failure_reason: null,
      created_by: grant.createdBy,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGrant(row);
}

export async function grantInForce(
  db: Db,
  gtin: string,
  granteeOrganisationId: string,
): Promise<GtinGrantRecord | null> {
  const row = await db
    .selectFrom("gtin_grants")
    .selectAll()
    .where("gtin", "=", gtin)
    .where("grantee_organisation_id", "=", granteeOrganisationId)
    .where("withdrawn_at_ms", "is", null)
    .executeTakeFirst();
  return row === undefined ? null : toGrant(row);
}

export async function grantsInForce(db: Db, gtin: string): Promise<GtinGrantRecord[]> {
  const rows = await db
    .selectFrom("gtin_grants")
    .selectAll()
    .where("gtin", "=", gtin)
    .where("withdrawn_at_ms", "is", null)
    .where("ledger_state", "!=", "failed")
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toGrant);
}

/**
 * Ends a former owner's grant without a ledger write: the registry keeps grants per owner,
 * so once the GTIN passed to another owner the old grant counts for nothing there either.
 */
export async function supersedeGrant(db: Db, id: string, nowMs: number): Promise<void> {
  await db
    .updateTable("gtin_grants")
    .set({ withdrawn_at_ms: nowMs, updated_at_ms: nowMs })
    .where("id", "=", id)
    .where("withdrawn_at_ms", "is", null)
    .execute();
}

export async function withdrawGrant(db: Db, id: string, nowMs: number): Promise<boolean> {
  const result = await db
    .updateTable("gtin_grants")
    .set({ withdrawn_at_ms: nowMs, withdraw_ledger_state: "pending", updated_at_ms: nowMs })
    .where("id", "=", id)
    .where("withdrawn_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ------------------------------------------------------------------ what counts

/** The bindings (organisation ids as owners) that can decide who owns `gtin14`, and its grants in force. */
export async function entitlementBindingsFor(db: Db, gtin14: string): Promise<EntitlementBindings<string>> {
  const [prefixRows, gtinRows] = await Promise.all([
    db
      .selectFrom("company_prefix_bindings")
      .select(["prefix", "organisation_id"])
      .where("prefix", "in", prefixesOfGtin(gtin14))
      .where("released_at_ms", "is", null)
      .where("ledger_state", "!=", "failed")
      .execute(),
    db
      .selectFrom("gtin_bindings")
      .select(["gtin", "organisation_id"])
      .where("gtin", "=", gtin14)
      .where("released_at_ms", "is", null)
      .where("ledger_state", "!=", "failed")
      .execute(),
  ]);
  return {
    prefixes: prefixRows.map((row) => ({ prefix: parseCompanyPrefix(row.prefix), owner: row.organisation_id })),
    gtins: gtinRows.map((row) => ({ gtin: row.gtin, owner: row.organisation_id })),
  };
}

export async function grantsFor(db: Db, gtin14: string): Promise<GtinGrant<string>[]> {
  return (await grantsInForce(db, gtin14)).map((grant) => ({
    gtin: grant.gtin,
    grantee: grant.granteeOrganisationId,
    owner: grant.ownerOrganisationId,
  }));
}

/**
 * Whether this server sent the transaction a log comes from (an outbox entry of `kind`
 * carries it): what it reports is in the store already, and may have been changed since
 * (released, bound again), so such a log restores nothing.
 */
export async function sentByThisServer(db: Db, kind: string, txHash: string): Promise<boolean> {
  const row = await db
    .selectFrom("outbox")
    .select("id")
    .where("kind", "=", kind)
    .where("tx_hash", "=", txHash.toLowerCase())
    .executeTakeFirst();
  return row !== undefined;
}

// ------------------------------------------------------------------ ledger places

/** The outbox kinds whose entries anchor these rows (ledger/outbox-kinds.ts). */
export const ENTITLEMENT_KINDS = {
  company_prefix: "company_prefix_bindings",
  gtin_binding: "gtin_bindings",
  gtin_grant: "gtin_grants",
} as const;

/** An entry's reference: the row's id for its binding or grant, with this suffix for its release or withdrawal. */
export const RELEASE_SUFFIX = ":release";

interface LedgerChange {
  state: LedgerState;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
}

/**
 * Carries an outbox entry's state onto its binding or grant (called by storage/outbox.ts in
 * the same transaction). A binding or grant the ledger refused stops counting, and frees
 * its place for another.
 */
export async function mirrorEntitlementLedger(
  trx: Transaction<Database>,
  refs: readonly { kind: string; reference_id: string }[],
  change: LedgerChange,
  nowMs: number,
): Promise<void> {
  for (const ref of refs) {
    if (!Object.hasOwn(ENTITLEMENT_KINDS, ref.kind)) continue;
    const table = ENTITLEMENT_KINDS[ref.kind as keyof typeof ENTITLEMENT_KINDS];
    const release = ref.reference_id.endsWith(RELEASE_SUFFIX);
    const id = release ? ref.reference_id.slice(0, -RELEASE_SUFFIX.length) : ref.reference_id;
    if (table === "gtin_grants") {
      await trx
        .updateTable("gtin_grants")
        .set(
          release
            ? {
                withdraw_ledger_state: change.state,
                withdraw_failure_reason: change.failureReason,
                updated_at_ms: nowMs,
              }
            : {
                ledger_state: change.state,
                failure_reason: change.failureReason,
                tx_hash: change.txHash,
                block_number: change.blockNumber,
                updated_at_ms: nowMs,
                ...(change.state === "failed" ? { withdrawn_at_ms: nowMs } : {}),
              },
        )
        .where("id", "=", id)
        .execute();
      continue;
    }
    await trx
      .updateTable(table)
      .set(
        release
          ? { release_ledger_state: change.state, release_failure_reason: change.failureReason, updated_at_ms: nowMs }
          : {
              ledger_state: change.state,
              failure_reason: change.failureReason,
              tx_hash: change.txHash,
              block_number: change.blockNumber,
              updated_at_ms: nowMs,
              ...(change.state === "failed" ? { released_at_ms: nowMs } : {}),
            },
      )
      .where("id", "=", id)
      .execute();
  }
}
