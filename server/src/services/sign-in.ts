/**
 * Signing in without typing: a person's one-time link (or its QR code) is exchanged, once,
 * for a device session, a credential that names the person, expires in 90 days and is
 * revocable by the person's chair or the operator. The link's token travels in the URL's
 * fragment and then in a POST body, so it never appears in an access log.
 */
import { randomBytes, randomUUID } from "node:crypto";

import { z } from "zod";

import { capabilitiesOf } from "../domain/members.ts";
import { AppError } from "../errors/app-error.ts";
import { hashToken, insertCredential } from "../storage/credentials.ts";
import { attachLinkCredential, consumeSignInLink, getActiveMember } from "../storage/members.ts";
import { getOrganisation } from "../storage/organisations.ts";
import { inTransaction } from "../storage/transaction.ts";
import type { ServiceContext } from "./context.ts";
import { rolesForKind } from "./organisations.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

export const SESSION_TTL_MS = 90 * 86_400_000;

export const signInRequest = z
  .object({
    token: z.string().regex(/^[A-Za-z0-9_-]{22}$/, "the 22 characters after #t= in the link"),
    /** What the phone says it is ("Android phone, Chrome"), shown in the chair's list of sessions. */
    device: z.string().trim().max(120).optional(),
  })
  .strict();

export async function signIn(ctx: ServiceContext, origin: WriteOrigin, request: z.infer<typeof signInRequest>) {
  const nowMs = ctx.now();
  const token = `oioc_${randomBytes(32).toString("base64url")}`;
  return inTransaction(ctx.db, async (trx) => {
    // Unknown, used, revoked and expired links are one answer: a guess learns nothing.
    const link = await consumeSignInLink(trx, hashToken(request.token), nowMs);
    if (link === null) throw new AppError("sign_in.invalid");
    const member = await getActiveMember(trx, link.memberId);
    const organisation = member === null ? null : await getOrganisation(trx, member.organisationId);
    if (member === null || organisation === null) throw new AppError("sign_in.invalid");
    const credential = await insertCredential(
      trx,
      {
        id: `cred_${randomUUID()}`,
        organisationId: organisation.id,
        tokenHash: hashToken(token),
        roles: rolesForKind(organisation.kind),
        label: request.device === undefined || request.device === "" ? "device" : request.device,
        expiresAtMs: nowMs + SESSION_TTL_MS,
        memberId: member.id,
      },
      nowMs,
    );
    await attachLinkCredential(trx, link.id, credential.id);
    await recordWrite(
      trx,
      {
        ...origin,
        principal: {
          organisationId: organisation.id,
          credentialId: credential.id,
          roles: rolesForKind(organisation.kind),
          memberId: member.id,
        },
      },
      "sign_in.exchange",
      credential.id,
      { linkId: link.id, memberId: member.id },
      nowMs,
    );
    return {
      token,
      credential,
      member: { ...member, capabilities: capabilitiesOf(member.role, member.capabilities) },
      organisation,
    };
  });
}
