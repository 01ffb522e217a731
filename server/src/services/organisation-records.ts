/** What the API reads of organisations: one with its plots and certifications, a search, its credentials. */
import { AppError } from "../errors/app-error.ts";
import { listCertifications, listPlots, type Certification, type Plot } from "../storage/catalogue.ts";
import { listCredentials, type Credential } from "../storage/credentials.ts";
import {
  getOrganisation,
  listOrganisations,
  type Organisation,
  type OrganisationFilter,
} from "../storage/organisations.ts";
import type { ServiceContext } from "./context.ts";

export interface OrganisationRecords {
  organisation: Organisation;
  plots: Plot[];
  certifications: Certification[];
}

export async function requireOrganisation(ctx: ServiceContext, id: string): Promise<Organisation> {
  const organisation = await getOrganisation(ctx.db, id);
  if (organisation === null) throw new AppError("organisation.not_found");
  return organisation;
}

/** The organisation with its plots and certifications; null when there is none of that id. */
export async function findOrganisationRecords(ctx: ServiceContext, id: string): Promise<OrganisationRecords | null> {
  const organisation = await getOrganisation(ctx.db, id);
  if (organisation === null) return null;
  return {
    organisation,
    plots: await listPlots(ctx.db, id),
    certifications: await listCertifications(ctx.db, id),
  };
}

export async function requireOrganisationRecords(ctx: ServiceContext, id: string): Promise<OrganisationRecords> {
  const records = await findOrganisationRecords(ctx, id);
  if (records === null) throw new AppError("organisation.not_found");
  return records;
}

export function searchOrganisations(ctx: ServiceContext, filter: OrganisationFilter): Promise<Organisation[]> {
  return listOrganisations(ctx.db, filter);
}

export function organisationCredentials(ctx: ServiceContext, organisationId: string): Promise<Credential[]> {
  return listCredentials(ctx.db, organisationId);
}
