/**
 * API credentials of organisations. Only a SHA-256 of each token is stored: tokens are
 * long random strings, so a plain hash (no salt, no slow KDF) cannot be reversed, and it
 * lets a request's token be found with one indexed lookup.
 */
import { createHash } from "node:crypto";

import type { Selectable } from "kysely";

import { fromJson, stringArray, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { CredentialsTable } from "./schema.ts";

export interface Credential {
  id: string;
  organisationId: string;
  roles: string[];
  label: string;
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
  /** The person a device session belongs to; null for an organisation's API token. */
  memberId: string | null;
}

export interface NewCredential {
  id: string;
  organisationId: string;
  /** From {@link hashToken}; the token itself never reaches storage. */
  tokenHash: string;
  roles: string[];
  label: string;
  expiresAtMs: number | null;
  memberId?: string | null;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function toCredential(row: Selectable<CredentialsTable>): Credential {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    roles: fromJson(stringArray, row.roles_json, "credentials.roles_json"),
    label: row.label,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    revokedAtMs: row.revoked_at_ms,
    lastUsedAtMs: row.last_used_at_ms,
    memberId: row.member_id,
  };
}

export async function insertCredential(db: Db, credential: NewCredential, nowMs = Date.now()): Promise<Credential> {
  if (!/^[0-9a-f]{64}$/.test(credential.tokenHash)) throw new Error("a credential stores a SHA-256 hex of its token");
  const row = await db
    .insertInto("credentials")
    .values({
      id: credential.id,
      organisation_id: credential.organisationId,
      token_hash: credential.tokenHash,
      roles_json: toJson(credential.roles),
      label: credential.label,
      created_at_ms: nowMs,
      expires_at_ms: credential.expiresAtMs,
      revoked_at_ms: null,
      last_used_at_ms: null,
      member_id: credential.memberId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCredential(row);
}

/** The credential a token hash belongs to, if it is neither revoked nor expired at `nowMs`. */
export async function findUsableCredential(db: Db, tokenHash: string, nowMs = Date.now()): Promise<Credential | null> {
  const row = await db
    .selectFrom("credentials")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("revoked_at_ms", "is", null)
    .where((eb) => eb.or([eb("expires_at_ms", "is", null), eb("expires_at_ms", ">", nowMs)]))
    .executeTakeFirst();
  return row === undefined ? null : toCredential(row);
}

/** How coarsely use is recorded: so that every request does not write. */
const TOUCH_INTERVAL_MS = 60_000;

/** Whether `touchCredential` would record this use, by the row as read: else the write can be skipped. */
export function touchDue(credential: Pick<Credential, "lastUsedAtMs">, nowMs = Date.now()): boolean {
  return credential.lastUsedAtMs === null || credential.lastUsedAtMs < nowMs - TOUCH_INTERVAL_MS;
}

/** Records use; coarse (once a minute at most) so that every request does not write. */
export async function touchCredential(db: Db, id: string, nowMs = Date.now()): Promise<void> {
  await db
    .updateTable("credentials")
    .set({ last_used_at_ms: nowMs })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("last_used_at_ms", "is", null), eb("last_used_at_ms", "<", nowMs - TOUCH_INTERVAL_MS)]))
    .execute();
}

/** Returns false when there is no such credential or it was already revoked. */
export async function getCredential(db: Db, id: string): Promise<Credential | null> {
  const row = await db.selectFrom("credentials").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toCredential(row);
}

export async function revokeCredential(db: Db, id: string, nowMs = Date.now()): Promise<boolean> {
  const result = await db
    .updateTable("credentials")
    .set({ revoked_at_ms: nowMs })
    .where("id", "=", id)
    .where("revoked_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function listCredentials(db: Db, organisationId: string): Promise<Credential[]> {
  const rows = await db
    .selectFrom("credentials")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toCredential);
}

/** A person's device sessions, newest first. */
export async function listMemberCredentials(db: Db, memberId: string): Promise<Credential[]> {
  const rows = await db
    .selectFrom("credentials")
    .selectAll()
    .where("member_id", "=", memberId)
    .orderBy("created_at_ms", "desc")
    .orderBy("id")
    .execute();
  return rows.map(toCredential);
}

/** Revokes every unrevoked session of a person (when the person is removed); how many. */
export async function revokeMemberCredentials(db: Db, memberId: string, nowMs = Date.now()): Promise<number> {
  const result = await db
    .updateTable("credentials")
    .set({ revoked_at_ms: nowMs })
    .where("member_id", "=", memberId)
    .where("revoked_at_ms", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
