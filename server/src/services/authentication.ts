/**
 * Who an API token speaks for. Tokens are looked up by their SHA-256 (storage/credentials.ts),
 * never stored; the HTTP layer compares the operator's admin token itself and asks here
 * for everything else.
 */
import type { Kysely } from "kysely";

import { ROLES, type Role } from "../domain/enumerations.ts";
import { capabilitiesOf } from "../domain/members.ts";
import { findUsableCredential, hashToken, touchCredential, touchDue } from "../storage/credentials.ts";
import { getActiveMember } from "../storage/members.ts";
import type { Database } from "../storage/schema.ts";
import type { Principal } from "./context.ts";

const KNOWN_ROLES: ReadonlySet<string> = new Set<Role>(ROLES);

/** The credential's organisation and roles, or null for a token unknown, expired or revoked. */
export async function principalOfToken(db: Kysely<Database>, token: string): Promise<Principal | null> {
  const credential = await findUsableCredential(db, hashToken(token));
  if (credential === null) return null;
  // A device session speaks for its person only while the person is still in the organisation.
  const member = credential.memberId === null ? null : await getActiveMember(db, credential.memberId);
  if (credential.memberId !== null && member?.organisationId !== credential.organisationId) return null;
  // The row just read tells whether the touch would write: most requests skip the writer.
  const nowMs = Date.now();
  if (touchDue(credential, nowMs)) await touchCredential(db, credential.id, nowMs);
  return {
    organisationId: credential.organisationId,
    credentialId: credential.id,
    roles: credential.roles.filter((role): role is Role => KNOWN_ROLES.has(role)),
    memberId: member?.id ?? null,
    capabilities: member === null ? null : capabilitiesOf(member.role, member.capabilities),
  };
}
