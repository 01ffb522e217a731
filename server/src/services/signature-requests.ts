/**
 * Writes by organisations that hold their own key: the server prepares everything
 * (documents on IPFS, the item tree, a nonce), stores the EIP-712 value it needs signed
 * and answers with it; the organisation signs in its own wallet and posts the signature;
 * the server checks it recovers to the organisation's registered address before storing
 * and anchoring anything (see sign-and-submit.ts).
 */
import { randomUUID } from "node:crypto";

import type { SignatureRequestKind } from "../domain/enumerations.ts";
import { decodeTyped, domainFor, encodeTyped, typesFor, type SignedType } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import {
  getSignatureRequest as readSignatureRequest,
  insertSignatureRequest,
  type StoredSignatureRequest,
} from "../storage/signature-requests.ts";
import { inTransaction } from "../storage/transaction.ts";
import type { WriteOrigin } from "./write-log.ts";
import { recordWrite } from "./write-log.ts";
import type { ServiceContext } from "./context.ts";

export const PRIMARY_TYPE_OF: Record<SignatureRequestKind, SignedType> = {
  attestation: "BatchAttestation",
  event: "TraceEvent",
  recall: "Recall",
  inspection_request: "InspectionRequest",
  gtin_grant: "GtinGrant",
  container_packing: "ContainerPacking",
  container_event: "ContainerEvent",
  // Off-chain: checked here and kept as the certificate's proof, never sent to the registry.
  quality_certificate: "QualityCertificate",
};

export interface SignatureRequest {
  id: string;
  kind: SignatureRequestKind;
  expiresAt: string;
  /** Exactly what `eth_signTypedData_v4` takes. */
  typedData: {
    domain: { name: string; version: string; chainId: string; verifyingContract: string };
    types: Record<string, { name: string; type: string }[]>;
    primaryType: SignedType;
    message: Record<string, string | string[]>;
  };
  submitUrl: string;
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
      message: encodeTyped(decodeTyped(primaryType, row.value)),
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
  await inTransaction(ctx.db, async (trx) => {
    await insertSignatureRequest(
      trx,
      {
        id,
        organisationId: request.organisationId,
        kind: request.kind,
        signerAddress: request.signerAddress,
        value: request.value,
        record: request.record,
        expiresAtMs: request.expiresAtMs,
      },
      nowMs,
    );
    await recordWrite(trx, origin, "signature_request.create", id, { kind: request.kind }, nowMs);
  });
  return describeRequest(ctx, {
    id,
    kind: request.kind,
    value: request.value as Record<string, unknown>,
    expiresAtMs: request.expiresAtMs,
  });
}

export async function getSignatureRequest(
  ctx: ServiceContext,
  id: string,
  organisationId: string | null,
): Promise<StoredSignatureRequest> {
  const request = await readSignatureRequest(ctx.db, id);
  if (request === null || request.organisationId !== organisationId) throw new AppError("draft.not_found");
  return request;
}
