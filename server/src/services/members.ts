/**
 * People inside an organisation: the chair and members, with what each may do, their
 * one-time sign-in links and the device sessions those links became. Managed by the
 * organisation's chair (or a person given `members`), by its API token, or by the operator.
 */
import { randomBytes, randomUUID } from "node:crypto";

import { z } from "zod";

import { CAPABILITIES, capabilitiesOf, type Capability, type MemberRole } from "../domain/members.ts";
import { AppError } from "../errors/app-error.ts";
import {
  getCredential,
  hashToken,
  listMemberCredentials,
  revokeCredential,
  revokeMemberCredentials,
  type Credential,
} from "../storage/credentials.ts";
import type { Db } from "../storage/database.ts";
import {
  getActiveMember,
  insertMember,
  insertSignInLink,
  listMembers,
  listSignInLinks,
  removeMember,
  revokeOpenSignInLinks,
  type Member,
  type SignInLink,
} from "../storage/members.ts";
import { getOrganisation } from "../storage/organisations.ts";
import { inTransaction } from "../storage/transaction.ts";
import type { Principal, ServiceContext } from "./context.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** A sign-in link works for 72 hours: long enough to be printed, handed over and scanned. */
export const SIGN_IN_LINK_TTL_MS = 72 * 3_600_000;

export const memberRequest = z
  .object({
    name: z.string().trim().min(1).max(100),
    capabilities: z.array(z.enum(CAPABILITIES)).max(CAPABILITIES.length).default([]),
  })
  .strict();

export interface IssuedSignInLink {
  link: SignInLink;
  /** `https://{origin}/signin#t={token}`: the fragment never reaches a server log. */
  url: string;
}

/**
 * The organisation a caller manages people of: its own (a person needs `members`, which the
 * HTTP layer has checked) or, for the operator, any. Another organisation's people are "not found".
 */
export async function requireManagedOrganisation(ctx: ServiceContext, principal: Principal, organisationId: string) {
  if (!principal.roles.includes("admin") && principal.organisationId !== organisationId) {
    throw new AppError("organisation.not_found");
  }
  const organisation = await getOrganisation(ctx.db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  return organisation;
}

async function requireMemberOf(db: Db, organisationId: string, memberId: string): Promise<Member> {
  const member = await getActiveMember(db, memberId);
  if (member?.organisationId !== organisationId) throw new AppError("member.not_found");
  return member;
}

/** Inserts a person inside the caller's transaction (approval creates the chair this way). */
export async function insertMemberIn(
  trx: Db,
  organisationId: string,
  person: { name: string; role: MemberRole; capabilities: readonly Capability[] },
  nowMs: number,
): Promise<Member> {
  return insertMember(
    trx,
    {
      id: `mem_${randomUUID()}`,
      organisationId,
      name: person.name,
      role: person.role,
      capabilities: capabilitiesOf(person.role, person.capabilities),
    },
    nowMs,
  );
}

/** A new one-time link for a person, inside the caller's transaction; the token is only in the URL. */
export async function issueSignInLinkIn(
  ctx: ServiceContext,
  trx: Db,
  memberId: string,
  createdBy: string,
  nowMs: number,
): Promise<IssuedSignInLink> {
  // 128 bits: as hard to guess as the API tokens' first half, short enough for a small QR code.
  const token = randomBytes(16).toString("base64url");
  const link = await insertSignInLink(
    trx,
    {
      id: `sil_${randomUUID()}`,
      memberId,
      tokenHash: hashToken(token),
      createdBy,
      expiresAtMs: nowMs + SIGN_IN_LINK_TTL_MS,
    },
    nowMs,
  );
  return { link, url: `${ctx.publicOrigin}/signin#t=${token}` };
}

/** Only the chair herself, the organisation's API token or the operator act on the chair's sign-in. */
async function requireMayActOn(db: Db, principal: Principal, target: Member): Promise<void> {
  if (target.role !== "chair" || principal.memberId == null || principal.memberId === target.id) return;
  const actor = await getActiveMember(db, principal.memberId);
  if (actor?.role !== "chair") throw new AppError("member.chair_kept");
}

export async function peopleOf(ctx: ServiceContext, principal: Principal, organisationId: string) {
  await requireManagedOrganisation(ctx, principal, organisationId);
  const members = await listMembers(ctx.db, organisationId);
  return Promise.all(
    members.map(async (member) => ({
      member,
      sessions: (await listMemberCredentials(ctx.db, member.id)).filter((s) => s.revokedAtMs === null),
      links: (await listSignInLinks(ctx.db, member.id)).filter((l) => l.usedAtMs === null && l.revokedAtMs === null),
    })),
  );
}

export async function addMember(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof memberRequest>,
): Promise<Member> {
  await requireManagedOrganisation(ctx, origin.principal, organisationId);
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const member = await insertMemberIn(
      trx,
      organisationId,
      { name: request.name, role: "member", capabilities: request.capabilities },
      nowMs,
    );
    await recordWrite(
      trx,
      origin,
      "member.add",
      member.id,
      { organisationId, capabilities: member.capabilities },
      nowMs,
    );
    return member;
  });
}

/** Removes a person: their sessions end at once and their unused links stop working. */
export async function deleteMember(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  memberId: string,
): Promise<void> {
  await requireManagedOrganisation(ctx, origin.principal, organisationId);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    const member = await requireMemberOf(trx, organisationId, memberId);
    if (member.role === "chair") throw new AppError("member.chair_kept");
    await removeMember(trx, memberId, nowMs);
    const sessions = await revokeMemberCredentials(trx, memberId, nowMs);
    await revokeOpenSignInLinks(trx, memberId, nowMs);
    await recordWrite(trx, origin, "member.remove", memberId, { organisationId, sessionsRevoked: sessions }, nowMs);
  });
}

/** A new link for a person, with the names its printed sheet shows. */
export async function newSignInLink(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  memberId: string,
): Promise<IssuedSignInLink & { person: string; organisation: string }> {
  const organisation = await requireManagedOrganisation(ctx, origin.principal, organisationId);
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const member = await requireMemberOf(trx, organisationId, memberId);
    await requireMayActOn(trx, origin.principal, member);
    const issued = await issueSignInLinkIn(ctx, trx, memberId, createdByOf(origin.principal), nowMs);
    await recordWrite(trx, origin, "sign_in_link.issue", issued.link.id, { organisationId, memberId }, nowMs);
    return { ...issued, person: member.name, organisation: organisation.nameZh };
  });
}

export async function revokeSession(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  memberId: string,
  credentialId: string,
): Promise<void> {
  await requireManagedOrganisation(ctx, origin.principal, organisationId);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    await requireMayActOn(trx, origin.principal, await requireMemberOf(trx, organisationId, memberId));
    const credential: Credential | null = await getCredential(trx, credentialId);
    if (credential?.memberId !== memberId || !(await revokeCredential(trx, credentialId, nowMs))) {
      throw new AppError("session.not_found");
    }
    await recordWrite(trx, origin, "session.revoke", credentialId, { organisationId, memberId }, nowMs);
  });
}

/** A person signs their own device out. */
export async function signOut(ctx: ServiceContext, origin: WriteOrigin): Promise<void> {
  const { credentialId, memberId } = origin.principal;
  if (credentialId === null || memberId == null) throw new AppError("session.not_found");
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    if (!(await revokeCredential(trx, credentialId, nowMs))) throw new AppError("session.not_found");
    await recordWrite(trx, origin, "session.sign_out", credentialId, { memberId }, nowMs);
  });
}

export function createdByOf(principal: Principal): string {
  return principal.memberId ?? principal.credentialId ?? "admin";
}
