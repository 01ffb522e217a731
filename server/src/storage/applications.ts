/**
 * Applications to join and the licence photos uploaded for them (migration 0017). The
 * applicant's contact is personal data: it is read here only for the reviewing bureau and
 * the operator, and never leaves through a public answer.
 */
import type { Selectable } from "kysely";
import { z } from "zod";

import { ORGANISATION_KINDS, type OrganisationKind } from "../domain/enumerations.ts";
import { fromJson, oneOf, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { ApplicationsTable } from "./schema.ts";

export const APPLICATION_STATUSES = ["pending", "approved", "refused"] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

const contactSchema = z.object({ name: z.string(), phone: z.string() });
const reasonSchema = z.object({ zh: z.string(), en: z.string().nullable() });

export interface Application {
  id: string;
  kind: OrganisationKind;
  name: { zh: string; en: string | null };
  uscc: string;
  regionCode: string;
  contact: { name: string; phone: string };
  licenceCid: string | null;
  status: ApplicationStatus;
  secretHash: string;
  refusal: { zh: string; en: string | null } | null;
  organisationId: string | null;
  decidedBy: string | null;
  createdAtMs: number;
  decidedAtMs: number | null;
}

export type NewApplication = Omit<
  Application,
  "status" | "refusal" | "organisationId" | "decidedBy" | "decidedAtMs" | "createdAtMs"
>;

function toApplication(row: Selectable<ApplicationsTable>): Application {
  return {
    id: row.id,
    kind: oneOf(ORGANISATION_KINDS, row.kind, "applications.kind"),
    name: { zh: row.name_zh, en: row.name_en },
    uscc: row.uscc,
    regionCode: row.region_code,
    contact: fromJson(contactSchema, row.contact_json, "applications.contact_json"),
    licenceCid: row.licence_cid,
    status: oneOf(APPLICATION_STATUSES, row.status, "applications.status"),
    secretHash: row.secret_hash,
    refusal: row.refusal_json === null ? null : fromJson(reasonSchema, row.refusal_json, "applications.refusal_json"),
    organisationId: row.organisation_id,
    decidedBy: row.decided_by,
    createdAtMs: row.created_at_ms,
    decidedAtMs: row.decided_at_ms === null ? null : row.decided_at_ms,
  };
}

/** Inserts a pending application; the unique index refuses a second pending one for the same code. */
export async function insertApplication(db: Db, application: NewApplication, nowMs: number): Promise<Application> {
  const row = await db
    .insertInto("applications")
    .values({
      id: application.id,
      kind: application.kind,
      name_zh: application.name.zh,
      name_en: application.name.en,
      uscc: application.uscc,
      region_code: application.regionCode,
      contact_json: toJson(application.contact),
      licence_cid: application.licenceCid,
      status: "pending",
      secret_hash: application.secretHash,
      refusal_json: null,
      organisation_id: null,
      decided_by: null,
      created_at_ms: nowMs,
      decided_at_ms: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toApplication(row);
}

export async function getApplication(db: Db, id: string): Promise<Application | null> {
  const row = await db.selectFrom("applications").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toApplication(row);
}

export async function pendingApplicationOf(db: Db, uscc: string): Promise<Application | null> {
  const row = await db
    .selectFrom("applications")
    .selectAll()
    .where("uscc", "=", uscc)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return row === undefined ? null : toApplication(row);
}

/** Applications by status whose region starts with `regionPrefix` ("" for all), oldest first. */
export async function listApplications(
  db: Db,
  filter: { status?: ApplicationStatus; regionPrefix: string; limit: number },
): Promise<Application[]> {
  let query = db.selectFrom("applications").selectAll();
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.regionPrefix !== "") query = query.where("region_code", "like", `${filter.regionPrefix}%`);
  const rows = await query.orderBy("created_at_ms").orderBy("id").limit(filter.limit).execute();
  return rows.map(toApplication);
}

/** Moves a pending application to its decision; false when it was no longer pending (decided by someone else). */
export async function decideApplication(
  db: Db,
  id: string,
  decision:
    | { status: "approved"; organisationId: string; decidedBy: string }
    | { status: "refused"; refusal: { zh: string; en: string | null }; decidedBy: string },
  nowMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable("applications")
    .set({
      status: decision.status,
      organisation_id: decision.status === "approved" ? decision.organisationId : null,
      refusal_json: decision.status === "refused" ? toJson(decision.refusal) : null,
      decided_by: decision.decidedBy,
      decided_at_ms: nowMs,
    })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function recordLicence(
  db: Db,
  licence: { cid: string; contentType: string; sizeBytes: number },
  nowMs: number,
): Promise<void> {
  await db
    .insertInto("application_licences")
    .values({
      cid: licence.cid,
      content_type: licence.contentType,
      size_bytes: licence.sizeBytes,
      created_at_ms: nowMs,
    })
    .onConflict((oc) => oc.column("cid").doNothing())
    .execute();
}

export async function getLicence(db: Db, cid: string): Promise<{ cid: string; contentType: string } | null> {
  const row = await db
    .selectFrom("application_licences")
    .select(["cid", "content_type"])
    .where("cid", "=", cid)
    .executeTakeFirst();
  return row === undefined ? null : { cid: row.cid, contentType: row.content_type };
}

/** The organisation registered under a credit code, if any (codes are unique among organisations). */
export async function organisationIdWithUscc(db: Db, uscc: string): Promise<string | null> {
  const row = await db.selectFrom("organisations").select("id").where("uscc", "=", uscc).executeTakeFirst();
  return row?.id ?? null;
}
