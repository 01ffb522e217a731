/**
 * Who did what: every write through the API appends one entry, in the transaction of
 * the write itself, so there is no write without its entry.
 */
import { fromJson, jsonObject, toJson } from "./codec.ts";
import type { Db } from "./database.ts";

export interface AuditEntry {
  organisationId: string | null;
  credentialId: string | null;
  action: string;
  target: string;
  atMs: number;
  details: Record<string, unknown>;
  requestId: string | null;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export async function appendAudit(db: Db, entry: AuditEntry): Promise<number> {
  const row = await db
    .insertInto("audit_log")
    .values({
      organisation_id: entry.organisationId,
      credential_id: entry.credentialId,
      action: entry.action,
      target: entry.target,
      at_ms: entry.atMs,
      details_json: toJson(entry.details),
      request_id: entry.requestId,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface AuditFilter {
  organisationId?: string;
  target?: string;
  sinceMs?: number;
  limit?: number;
}

/** Newest first. */
export async function listAudit(db: Db, filter: AuditFilter = {}): Promise<StoredAuditEntry[]> {
  let query = db.selectFrom("audit_log").selectAll();
  if (filter.organisationId !== undefined) query = query.where("organisation_id", "=", filter.organisationId);
  if (filter.target !== undefined) query = query.where("target", "=", filter.target);
  if (filter.sinceMs !== undefined) query = query.where("at_ms", ">=", filter.sinceMs);
  const rows = await query
    .orderBy("at_ms", "desc")
    .orderBy("id", "desc")
    .limit(Math.min(filter.limit ?? 100, 1_000))
    .execute();
  return rows.map((row) => ({
    id: row.id,
    organisationId: row.organisation_id,
    credentialId: row.credential_id,
    action: row.action,
    target: row.target,
    atMs: row.at_ms,
    details: fromJson(jsonObject, row.details_json, "audit_log.details_json"),
    requestId: row.request_id,
  }));
}
