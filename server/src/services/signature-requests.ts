/**
 * Writes by organisations that hold their own key: the server prepares everything
 * (documents on IPFS, the item tree, a nonce), stores the EIP-712 value it needs signed
 * and answers with it; the organisation signs in its own wallet and posts the signature;
 * the server checks it recovers to the organisation's registered address before storing
 * and anchoring anything (see sign-and-submit.ts).
 */
import { randomUUID } from "node:crypto";

import { domainFor, typesFor, type PrimaryType } from "../domain/typed-data.ts";
import { ProblemError } from "../http/problem.ts";
import type { WriteOrigin } from "./write-log.ts";
import { recordWrite } from "./write-log.ts";
import type { ServiceContext } from "./context.ts";

export type SignatureRequestKind = "attestation" | "event" | "recall";

export const PRIMARY_TYPE_OF: Record<SignatureRequestKind, PrimaryType> = {
  attestation: "BatchAttestation",
  event: "TraceEvent",
  recall: "Recall",
};

export interface SignatureRequest {
  id: string;
  kind: SignatureRequestKind;
  expiresAt: string;
  /** Exactly what `eth_signTypedData_v4` takes. */
  typedData: {
    domain: { name: string; version: string; chainId: string; verifyingContract: string };
    types: Record<string, { name: string; type: string }[]>;
    primaryType: PrimaryType;
    message: Record<string, string>;
  };
  submitUrl: string;
}

/** JSON with bigints as tagged decimal strings, so stored values come back as bigints. */
export function toStoredJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
}

export function fromStoredJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && "$bigint" in v && typeof v.$bigint === "string")
      return BigInt(v.$bigint);
    return v;
  });
}

function messageOf(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, typeof v === "bigint" ? v.toString() : String(v)]),
  );
}

export function describeRequest(
  ctx: ServiceContext,
  row: { id: string; kind: SignatureRequestKind; value: Record<string, unknown>; expiresAtMs: number },
): SignatureRequest {
  const primaryType = PRIMARY_TYPE_OF[row.kind];
  const domain = domainFor(ctx.domain.chainId, ctx.domain.verifyingContract, ctx.domain.version);
  return {
    id: row.id,
    kind: row.kind,
    expiresAt: new Date(row.expiresAtMs).toISOString(),
    typedData: {
      domain: {
        name: String(domain.name),
        version: String(domain.version),
        chainId: ctx.domain.chainId.toString(),
        verifyingContract: ctx.domain.verifyingContract,
      },
      types: typesFor(primaryType, ctx.domain.version),
      primaryType,
      message: messageOf(row.value),
    },
    submitUrl: `/api/v1/signature-requests/${row.id}`,
  };
}

export async function createSignatureRequest(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: {
    kind: SignatureRequestKind;
    organisationId: string;
    signerAddress: string;
    value: object;
    record: object;
    expiresAtMs: number;
  },
): Promise<SignatureRequest> {
  const id = `sigreq_${randomUUID()}`;
  const nowMs = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("signature_requests")
      .values({
        id,
        organisation_id: request.organisationId,
        kind: request.kind,
        signer_address: request.signerAddress,
        value_json: toStoredJson(request.value),
        record_json: toStoredJson(request.record),
        created_at_ms: nowMs,
        expires_at_ms: request.expiresAtMs,
        completed_at_ms: null,
      })
      .execute();
    await recordWrite(trx, origin, "signature_request.create", id, { kind: request.kind }, nowMs);
  });
  return describeRequest(ctx, {
    id,
    kind: request.kind,
    value: request.value as Record<string, unknown>,
    expiresAtMs: request.expiresAtMs,
  });
}

export interface StoredSignatureRequest {
  id: string;
  organisationId: string;
  kind: SignatureRequestKind;
  signerAddress: string;
  value: Record<string, unknown>;
  record: Record<string, unknown>;
  expiresAtMs: number;
  completedAtMs: number | null;
}

export async function getSignatureRequest(
  ctx: ServiceContext,
  id: string,
  organisationId: string | null,
): Promise<StoredSignatureRequest> {
  const row = await ctx.db.selectFrom("signature_requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined || row.organisation_id !== organisationId) throw new ProblemError("draft.not_found");
  const kind = row.kind;
  if (kind !== "attestation" && kind !== "event" && kind !== "recall") throw new Error(`unknown request kind ${kind}`);
  return {
    id: row.id,
    organisationId: row.organisation_id,
    kind,
    signerAddress: row.signer_address,
    value: fromStoredJson(row.value_json) as Record<string, unknown>,
    record: fromStoredJson(row.record_json) as Record<string, unknown>,
    expiresAtMs: row.expires_at_ms,
    completedAtMs: row.completed_at_ms,
  };
}
