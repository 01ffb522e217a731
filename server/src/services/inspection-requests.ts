/**
 * Inspection requests: an inspector records inspecting or certifying about a batch only when
 * the batch's cooperative asked it (a signed `InspectionRequest`, relayed like its other
 * signatures) or a regulator did, inside its region (anchored with the regulator role's key
 * through `requestInspectionAsRegulator`, as other regulator actions are). One request per
 * inspector and batch, as on chain.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import { jurisdictionPrefix } from "../domain/region.ts";
import { CURRENT_TYPED_DATA_VERSION, type InspectionRequestValue } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import {
  getInspectionRequest,
  insertInspectionRequest,
  listInspectionRequests,
  lockBatchCustody,
  type InspectionRequest,
  type NewInspectionRequest,
} from "../storage/inspection-requests.ts";
import { allocateNonces } from "../storage/nonces.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { inTransaction } from "../storage/transaction.ts";
import { activeOrganisation } from "./active-organisation.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import { requireBatchInJurisdiction } from "./regulator.ts";
import type { SignatureRequest } from "./signature-requests.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

export const inspectionRequestBody = z.object({ inspector: z.string().min(1).max(100) }).strict();

/** An unsigned request as a signature request keeps it until the cooperative's wallet signs. */
export type UnsignedInspectionRequest = Omit<NewInspectionRequest, "signature" | "nonce" | "deadline">;

async function requireInspector(ctx: ServiceContext, organisationId: string): Promise<Organisation> {
  const inspector = await getOrganisation(ctx.db, organisationId);
  if (inspector?.kind !== "inspector") throw new AppError("inspection.inspector_invalid");
  return inspector;
}

function alreadyRequested(requests: readonly InspectionRequest[], inspectorId: string): boolean {
  return requests.some((r) => r.inspectorOrganisationId === inspectorId && r.ledger.state !== "failed");
}

export async function requestInspection(
  ctx: ServiceContext,
  origin: WriteOrigin,
  batchId: string,
  input: z.infer<typeof inspectionRequestBody>,
): Promise<{ request: InspectionRequest } | { awaitingSignature: SignatureRequest }> {
  const requester = await activeOrganisation(ctx, origin.principal.organisationId, ["cooperative", "regulator"]);
  const requestedBy = requester.kind === "cooperative" ? "cooperative" : "regulator";
  const batch = await requireBatch(ctx, batchId);
  if (requestedBy === "cooperative") {
    if (batch.organisationId !== requester.id) throw new AppError("batch.not_yours");
  } else {
    await requireBatchInJurisdiction(ctx, jurisdictionPrefix(requester.regionCode), batch);
  }
  // The registry knows no batch whose attestation it refused: a request on it could only fail.
  if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
  const inspector = await requireInspector(ctx, input.inspector);
  if (alreadyRequested(await listInspectionRequests(ctx.db, batch.batchId), inspector.id)) {
    throw new AppError("inspection.already_requested");
  }
  const record: UnsignedInspectionRequest = {
    id: `insp_${randomUUID()}`,
    batchId: batch.batchId,
    inspectorOrganisationId: inspector.id,
    inspectorAddress: inspector.signerAddress,
    requestedBy,
    requesterOrganisationId: requester.id,
    requesterAddress: requester.signerAddress,
    typedDataVersion: requestedBy === "cooperative" ? CURRENT_TYPED_DATA_VERSION : null,
    createdBy: origin.principal.credentialId ?? "admin",
  };
  if (requestedBy === "regulator") {
    return { request: await commitInspectionRequest(ctx, origin, record, null) };
  }
  const nowMs = ctx.now();
  const deadline = BigInt(Math.floor(nowMs / 1000) + ctx.signatureTtlSeconds);
  const value: InspectionRequestValue = {
    requester: requester.signerAddress,
    batchId: batch.batchId,
    inspector: inspector.signerAddress,
    nonce: await allocateNonces(ctx.db, requester.signerAddress, 1, nowMs),
    deadline,
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    requester,
    { primaryType: "InspectionRequest", value },
    { record, deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  return { request: await commitInspectionRequest(ctx, origin, record, { value, signature: signed.signature }) };
}

/**
 * Stores a request and its outbox entry in one transaction, with the batch held: the
 * cooperative's signed one (`signed`), or a regulator's (null), anchored with the regulator key.
 */
export async function commitInspectionRequest(
  ctx: ServiceContext,
  origin: WriteOrigin,
  record: UnsignedInspectionRequest,
  signed: { value: InspectionRequestValue; signature: string } | null,
): Promise<InspectionRequest> {
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    await lockBatchCustody(trx, record.batchId);
    const stored = await insertInspectionRequest(
      trx,
      {
        ...record,
        nonce: signed?.value.nonce ?? 0n,
        deadline: signed?.value.deadline ?? 0n,
        signature: signed?.signature ?? null,
      },
      nowMs,
    );
    if (stored === null) throw new AppError("inspection.already_requested");
    await enqueueOutbox(
      trx,
      signed === null
        ? outboxEntry("regulator_inspection_request", record.id, {
            batchId: record.batchId,
            inspector: record.inspectorAddress,
          })
        : outboxEntry("inspection_request", record.id, signed),
      nowMs,
    );
    await recordWrite(
      trx,
      origin,
      "inspection.request",
      record.id,
      { batchId: record.batchId, inspectorOrganisationId: record.inspectorOrganisationId },
      nowMs,
    );
    return stored;
  });
}

/** One request, for the answer of a write whose handler died after committing it. */
export async function findInspectionRequest(ctx: ServiceContext, id: string): Promise<InspectionRequest | null> {
  return getInspectionRequest(ctx.db, id);
}

/** A batch's inspection requests, in the order they were made. */
export async function inspectionRequestsOf(ctx: ServiceContext, batchId: string): Promise<InspectionRequest[]> {
  const batch = await requireBatch(ctx, batchId);
  return listInspectionRequests(ctx.db, batch.batchId);
}
