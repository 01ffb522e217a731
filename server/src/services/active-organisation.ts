/** The organisation a write acts for: the check every write by an organisation starts with. */
import { AppError } from "../errors/app-error.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import type { Principal, ServiceContext } from "./context.ts";

/** The organisation behind a write, if it exists, is active and is of one of `kinds`. */
export async function activeOrganisation(
  ctx: ServiceContext,
  organisationId: string | null,
  kinds: readonly Organisation["kind"][],
): Promise<Organisation> {
  if (organisationId === null) throw new AppError("organisation.wrong_kind");
  const organisation = await getOrganisation(ctx.db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  if (!kinds.includes(organisation.kind)) throw new AppError("organisation.wrong_kind");
  if (organisation.status !== "active") throw new AppError("organisation.suspended");
  return organisation;
}

/**
 * Refuses any write by a suspended organisation's credential, whatever the route: the
 * catch-all in front of every write, so a route added later cannot forget it. The
 * operator's token (no organisation) passes. Each use case still checks its actor itself
 * (`activeOrganisation`), at the moment it acts.
 */
export async function requireActiveWriter(ctx: ServiceContext, principal: Principal): Promise<void> {
  if (principal.organisationId === null) return;
  const organisation = await getOrganisation(ctx.db, principal.organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  if (organisation.status !== "active") throw new AppError("organisation.suspended");
}
