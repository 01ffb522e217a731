/** People inside organisations and their one-time sign-in links (migration 0017). */
import type { Selectable } from "kysely";
import { z } from "zod";

import { CAPABILITIES, MEMBER_ROLES, type Capability, type MemberRole } from "../domain/members.ts";
import { fromJson, oneOf, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { MembersTable, SignInLinksTable } from "./schema.ts";

export interface Member {
  id: string;
  organisationId: string;
  name: string;
  role: MemberRole;
  capabilities: Capability[];
  createdAtMs: number;
  removedAtMs: number | null;
}

export interface SignInLink {
  id: string;
  memberId: string;
  createdBy: string;
  createdAtMs: number;
  expiresAtMs: number;
  usedAtMs: number | null;
  revokedAtMs: number | null;
  credentialId: string | null;
}

const capabilityList = z.array(z.enum(CAPABILITIES));

function toMember(row: Selectable<MembersTable>): Member {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    role: oneOf(MEMBER_ROLES, row.role, "members.role"),
    capabilities: fromJson(capabilityList, row.capabilities_json, "members.capabilities_json"),
    createdAtMs: row.created_at_ms,
    removedAtMs: row.removed_at_ms === null ? null : row.removed_at_ms,
  };
}

function toLink(row: Selectable<SignInLinksTable>): SignInLink {
  return {
    id: row.id,
    memberId: row.member_id,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    usedAtMs: row.used_at_ms === null ? null : row.used_at_ms,
    revokedAtMs: row.revoked_at_ms === null ? null : row.revoked_at_ms,
    credentialId: row.credential_id,
  };
}

export async function insertMember(
  db: Db,
  member: Omit<Member, "createdAtMs" | "removedAtMs">,
  nowMs: number,
): Promise<Member> {
  const row = await db
    .insertInto("members")
    .values({
      id: member.id,
      organisation_id: member.organisationId,
      name: member.name,
      role: member.role,
      capabilities_json: toJson(member.capabilities),
      created_at_ms: nowMs,
      removed_at_ms: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMember(row);
}

/** A person of the organisation who has not been removed. */
export async function getActiveMember(db: Db, id: string): Promise<Member | null> {
  const row = await db
    .selectFrom("members")
    .selectAll()
    .where("id", "=", id)
    .where("removed_at_ms", "is", null)
    .executeTakeFirst();
  return row === undefined ? null : toMember(row);
}

export async function listMembers(db: Db, organisationId: string): Promise<Member[]> {
  const rows = await db
    .selectFrom("members")
    .selectAll()
    .where("organisation_id", "=", organisationId)
    .where("removed_at_ms", "is", null)
    .orderBy("created_at_ms")
    .orderBy("id")
    .execute();
  return rows.map(toMember);
}

export async function removeMember(db: Db, id: string, nowMs: number): Promise<boolean> {
  const result = await db
    .updateTable("members")
    .set({ removed_at_ms: nowMs })
    .where("id", "=", id)
    .where("removed_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function insertSignInLink(
  db: Db,
  link: { id: string; memberId: string; tokenHash: string; createdBy: string; expiresAtMs: number },
  nowMs: number,
): Promise<SignInLink> {
  const row = await db
    .insertInto("sign_in_links")
    .values({
      id: link.id,
      member_id: link.memberId,
      token_hash: link.tokenHash,
      created_by: link.createdBy,
      created_at_ms: nowMs,
      expires_at_ms: link.expiresAtMs,
      used_at_ms: null,
      revoked_at_ms: null,
      credential_id: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toLink(row);
}

/**
 * Marks the link of `tokenHash` used, if it is unused, unrevoked and unexpired at `nowMs`:
 * one conditional update, so two phones opening the same link at once cannot both win.
 * Returns the link as it was, or null when nothing was usable.
 */
export async function consumeSignInLink(db: Db, tokenHash: string, nowMs: number): Promise<SignInLink | null> {
  const row = await db.selectFrom("sign_in_links").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
  if (row === undefined) return null;
  const result = await db
    .updateTable("sign_in_links")
    .set({ used_at_ms: nowMs })
    .where("id", "=", row.id)
    .where("used_at_ms", "is", null)
    .where("revoked_at_ms", "is", null)
    .where("expires_at_ms", ">", nowMs)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n ? toLink(row) : null;
}

export async function attachLinkCredential(db: Db, linkId: string, credentialId: string): Promise<void> {
  await db.updateTable("sign_in_links").set({ credential_id: credentialId }).where("id", "=", linkId).execute();
}

export async function listSignInLinks(db: Db, memberId: string): Promise<SignInLink[]> {
  const rows = await db
    .selectFrom("sign_in_links")
    .selectAll()
    .where("member_id", "=", memberId)
    .orderBy("created_at_ms", "desc")
    .orderBy("id")
    .execute();
  return rows.map(toLink);
}

/** Revokes a person's links not yet used (when the person is removed or a new link replaces them). */
export async function revokeOpenSignInLinks(db: Db, memberId: string, nowMs: number): Promise<void> {
  await db
    .updateTable("sign_in_links")
    .set({ revoked_at_ms: nowMs })
    .where("member_id", "=", memberId)
    .where("used_at_ms", "is", null)
    .where("revoked_at_ms", "is", null)
    .execute();
}
