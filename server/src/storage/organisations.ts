/**
 * Organisations: cooperatives and the other actors of the chain, regulators included.
 */
import type { Selectable } from "kysely";

import {
  LEDGER_STATES,
  ORGANISATION_KINDS,
  ORGANISATION_STATUSES,
  type LedgerState,
  type OrganisationKind,
  type OrganisationStatus,
} from "../domain/enumerations.ts";
import { normaliseAddress, oneOf } from "./codec.ts";
import type { Db } from "./database.ts";
import type { OrganisationsTable } from "./schema.ts";

/** Who holds the signing key: the server (encrypted keystore) or the organisation itself. */
export type KeyCustodyRecord = { kind: "server"; keystoreJson: string } | { kind: "own" };

export interface Organisation {
  id: string;
  kind: OrganisationKind;
  nameZh: string;
  nameEn: string | null;
  uscc: string;
  regionCode: string;
  signerAddress: string;
  custody: KeyCustodyRecord;
  status: OrganisationStatus;
  metadataCid: string | null;
  /** Null for organisations the ledger does not register (regulators hold a role instead). */
  ledgerState: LedgerState | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewOrganisation = Omit<Organisation, "status" | "createdAtMs" | "updatedAtMs">;

function toOrganisation(row: Selectable<OrganisationsTable>): Organisation {
  const custody: KeyCustodyRecord =
    row.key_custody === "server" && row.keystore_json !== null
      ? { kind: "server", keystoreJson: row.keystore_json }
      : { kind: oneOf(["own"], row.key_custody, "organisations.key_custody") };
  return {
    id: row.id,
    kind: oneOf(ORGANISATION_KINDS, row.kind, "organisations.kind"),
    nameZh: row.name_zh,
    nameEn: row.name_en,
    uscc: row.uscc,
    regionCode: row.region_code,
    signerAddress: row.signer_address,
    custody,
    status: oneOf(ORGANISATION_STATUSES, row.status, "organisations.status"),
    metadataCid: row.metadata_cid,
    ledgerState:
      row.ledger_state === null ? null : oneOf(LEDGER_STATES, row.ledger_state, "organisations.ledger_state"),
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export async function insertOrganisation(db: Db, org: NewOrganisation, nowMs = Date.now()): Promise<Organisation> {
  const row = await db
    .insertInto("organisations")
    .values({
      id: org.id,
      kind: org.kind,
      name_zh: org.nameZh,
      name_en: org.nameEn,
      uscc: org.uscc,
      region_code: org.regionCode,
      signer_address: normaliseAddress(org.signerAddress),
      key_custody: org.custody.kind,
      keystore_json: org.custody.kind === "server" ? org.custody.keystoreJson : null,
      status: "active",
      metadata_cid: org.metadataCid,
      ledger_state: org.ledgerState,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOrganisation(row);
}

export async function getOrganisation(db: Db, id: string): Promise<Organisation | null> {
  const row = await db.selectFrom("organisations").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toOrganisation(row);
}

export async function getOrganisationBySigner(db: Db, signerAddress: string): Promise<Organisation | null> {
  const row = await db
    .selectFrom("organisations")
    .selectAll()
    .where("signer_address", "=", normaliseAddress(signerAddress))
    .executeTakeFirst();
  return row === undefined ? null : toOrganisation(row);
}

export interface OrganisationFilter {
  kind?: OrganisationKind;
  status?: OrganisationStatus;
  /** A GB/T 2260 prefix: "33" a province, "3301" a city, "330106" a district. */
  regionPrefix?: string;
}

export async function listOrganisations(db: Db, filter: OrganisationFilter = {}): Promise<Organisation[]> {
  let query = db.selectFrom("organisations").selectAll();
  if (filter.kind !== undefined) query = query.where("kind", "=", filter.kind);
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.regionPrefix !== undefined) {
    if (!/^\d{1,6}$/.test(filter.regionPrefix)) throw new Error(`not a region code prefix: ${filter.regionPrefix}`);
    query = query.where("region_code", "like", `${filter.regionPrefix}%`);
  }
  const rows = await query.orderBy("region_code").orderBy("id").execute();
  return rows.map(toOrganisation);
}

/** Returns false when no organisation has this id. */
export async function setOrganisationStatus(
  db: Db,
  id: string,
  status: OrganisationStatus,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("organisations")
    .set({ status, updated_at_ms: nowMs })
    .where("id", "=", id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
