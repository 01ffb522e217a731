/**
 * Signature requests: the EIP-712 value the server asked an organisation holding its own
 * key to sign, and the record it stores once the signature is in (services/signature-requests.ts).
 * Both hold protocol integers wider than JSON numbers, kept as tagged decimal strings so
 * they come back as bigints.
 */
import type { Selectable } from "kysely";
import { z } from "zod";

import { SIGNATURE_REQUEST_KINDS, type SignatureRequestKind } from "../domain/enumerations.ts";
import { oneOf } from "./codec.ts";
import type { Db } from "./database.ts";
import type { SignatureRequestsTable } from "./schema.ts";

export interface StoredSignatureRequest {
  id: string;
  organisationId: string;
  kind: SignatureRequestKind;
  signerAddress: string;
  value: Record<string, unknown>;
  record: Record<string, unknown>;
  createdAtMs: number;
  expiresAtMs: number;
  completedAtMs: number | null;
}

export type NewSignatureRequest = Omit<StoredSignatureRequest, "value" | "record" | "createdAtMs" | "completedAtMs"> & {
  value: object;
  record: object;
};

const storedObject = z.record(z.string(), z.unknown());

function toTaggedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
}

function fromTaggedJson(text: string, column: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && "$bigint" in v && typeof v.$bigint === "string")
      return BigInt(v.$bigint);
    return v;
  });
  const checked = storedObject.safeParse(parsed);
  if (!checked.success) throw new Error(`column ${column} does not hold a JSON object`);
  return checked.data;
}

function toRequest(row: Selectable<SignatureRequestsTable>): StoredSignatureRequest {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    kind: oneOf(SIGNATURE_REQUEST_KINDS, row.kind, "signature_requests.kind"),
    signerAddress: row.signer_address,
    value: fromTaggedJson(row.value_json, "signature_requests.value_json"),
    record: fromTaggedJson(row.record_json, "signature_requests.record_json"),
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    completedAtMs: row.completed_at_ms,
  };
}

export async function insertSignatureRequest(db: Db, request: NewSignatureRequest, nowMs = Date.now()): Promise<void> {
  await db
    .insertInto("signature_requests")
    .values({
      id: request.id,
      organisation_id: request.organisationId,
      kind: request.kind,
      signer_address: request.signerAddress,
      value_json: toTaggedJson(request.value),
      record_json: toTaggedJson(request.record),
      created_at_ms: nowMs,
      expires_at_ms: request.expiresAtMs,
      completed_at_ms: null,
    })
    .execute();
}

export async function getSignatureRequest(db: Db, id: string): Promise<StoredSignatureRequest | null> {
  const row = await db.selectFrom("signature_requests").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toRequest(row);
}

/**
 * Marks the request answered, in the transaction that stores its signed write; false when it
 * was answered already. On PostgreSQL a second transaction completing the same request waits
 * for the first's row lock and then finds it answered; SQLite runs writes one at a time.
 */
export async function completeSignatureRequest(db: Db, id: string, nowMs = Date.now()): Promise<boolean> {
  const result = await db
    .updateTable("signature_requests")
    .set({ completed_at_ms: nowMs })
    .where("id", "=", id)
    .where("completed_at_ms", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
