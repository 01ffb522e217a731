/**
 * Completes a signature request: checks that the organisation's own key signed exactly
 * the prepared value (an EOA's signature recovered here, a smart-contract wallet asked on
 * chain through ERC-1271, as the registry will ask it), then stores and queues the write
 * as a custodial one would be.
 */
import { z } from "zod";

import { ORGANISATION_KINDS } from "../domain/enumerations.ts";
import { OFF_CHAIN_TYPES, TYPED_CODECS, decodeTyped } from "../domain/typed-data.ts";
import { AppError, isAppError } from "../errors/app-error.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { recoverSigner, structDigest, typedDataDigest } from "../verify/eip712.ts";
import type { Batch } from "../storage/batches.ts";
import type { StoredCertificate } from "../storage/certificates.ts";
import type { TraceEvent } from "../storage/events.ts";
import type { InspectionRequest } from "../storage/inspection-requests.ts";
import {
  getSignatureRequest as readSignatureRequest,
  type StoredSignatureRequest,
} from "../storage/signature-requests.ts";
import { openItemsArchiveOffLoop } from "../workers/heavy.ts";
import { completing, type WriteOrigin } from "./write-log.ts";
import { commitBatch, type UnsignedBatch } from "./batch-registration.ts";
import { submitCertificate } from "./certificates.ts";
import { digestOf, submitContainerEvent, submitContainerPacking, type AcceptedContainerStep } from "./containers.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { ServiceContext } from "./context.ts";
import { readAll } from "./documents.ts";
import { commitEvent, commitRecall, type UnsignedEvent } from "./events.ts";
import { commitInspectionRequest, type UnsignedInspectionRequest } from "./inspection-requests.ts";
import { commitGrantChange, type UnsignedGrantChange } from "./entitlement.ts";
import type { GtinGrantRecord } from "../storage/entitlements.ts";
import { getSignatureRequest, PRIMARY_TYPE_OF } from "./signature-requests.ts";

export const signatureSubmission = z
  .object({
    // 65 bytes from a key; a contract wallet's may be longer (a Safe concatenates its owners').
    signature: z.string().regex(/^0x(?:[0-9a-fA-F]{2}){65,2048}$/, "a 0x-hex signature of 65 to 2,048 bytes"),
  })
  .strict();

export type Submitted =
  | { kind: "attestation"; batch: Batch }
  | { kind: "event"; event: TraceEvent }
  | { kind: "recall"; batchId: string; reasonCid: string }
  | { kind: "inspection_request"; request: InspectionRequest }
  | { kind: "gtin_grant"; grant: GtinGrantRecord }
  | { kind: "container"; accepted: AcceptedContainerStep }
  | { kind: "certificate"; certificate: StoredCertificate };

/** The organisation's key made `signature` over the prepared value: an EOA's, or its contract wallet's by ERC-1271. */
async function requireOrganisationSignature(
  ctx: ServiceContext,
  request: { kind: keyof typeof PRIMARY_TYPE_OF; value: Record<string, unknown>; signerAddress: string },
  signature: string,
): Promise<void> {
  // Decoded by its type's codec: what storage gives back is checked, not cast.
  const typed = decodeTyped(PRIMARY_TYPE_OF[request.kind], request.value);
  const digest =
    typed.primaryType === "ContainerPacking" || typed.primaryType === "ContainerEvent"
      ? digestOf(ctx, typed.primaryType, typed.value)
      : typed.primaryType === "QualityCertificate"
        ? // The certificate's id: what a verifier recomputes and checks the signature against.
          structDigest(ctx.domain, "QualityCertificate", OFF_CHAIN_TYPES.QualityCertificate, { ...typed.value })
        : typedDataDigest(ctx.domain, typed.primaryType, { ...typed.value });
  let recovered: string | null = null;
  try {
    recovered = recoverSigner(digest, signature);
  } catch {
    // Not a 65-byte ECDSA signature: a contract wallet's, perhaps.
  }
  if (recovered?.toLowerCase() === request.signerAddress.toLowerCase()) return;
  let verdict;
  try {
    verdict = await ctx.contractSignatures(request.signerAddress, digest, signature);
  } catch (error) {
    throw new AppError("chain.unavailable", {}, { cause: error });
  }
  if (verdict !== "valid") throw new AppError("signature.invalid");
}

export async function submitSignature(
  ctx: ServiceContext,
  origin: WriteOrigin,
  requestId: string,
  signature: string,
): Promise<Submitted> {
  const request = await getSignatureRequest(ctx, requestId, origin.principal.organisationId);
  if (request.completedAtMs !== null) throw new AppError("idempotency.conflict", {}, { detail: "already submitted" });
  if (request.expiresAtMs <= ctx.now()) throw new AppError("draft.not_found", {}, { detail: "expired" });
  // Prepared while active, perhaps suspended since: the registry would refuse the signer, so
  // nothing is stored or queued (the lot stays free for the cooperative once reinstated).
  await activeOrganisation(ctx, request.organisationId, ORGANISATION_KINDS);
  await requireOrganisationSignature(ctx, request, signature);
  try {
    // The request is completed in the transaction that stores its write (write-log.ts).
    return await commitSigned(ctx, completing(origin, request.id), request, signature);
  } catch (error) {
    // The same signature posted twice at once: the other submission stored the write first, and
    // this one met its unique keys (a batch, an event id) or its completion. Said as what it is.
    const now = await readSignatureRequest(ctx.db, request.id);
    if (now !== null && now.completedAtMs !== null && !isAppError(error, "idempotency.conflict")) {
      throw new AppError("idempotency.conflict", {}, { detail: "already submitted", cause: error });
    }
    throw error;
  }
}

async function commitSigned(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: StoredSignatureRequest,
  signature: string,
): Promise<Submitted> {
  let result: Submitted;
  switch (request.kind) {
    case "attestation": {
      const { itemsArchiveCid, ...record } = request.record as UnsignedBatch & { itemsArchiveCid: string };
      const sealed = await readAll(ctx.content.cat(parseCid(itemsArchiveCid)));
      // Decrypted and parsed on a worker thread: a million items are 83 MB.
      const archive = await openItemsArchiveOffLoop(ctx.secrets.keystoreSecret, record.batchId, sealed);
      const batch = await commitBatch(
        ctx,
        origin,
        record,
        TYPED_CODECS.BatchAttestation.decode(request.value),
        signature,
        archive.serials,
        archive.hiddenCodeHmacs,
      );
      result = { kind: "attestation", batch };
      break;
    }
    case "event": {
      const event = await commitEvent(
        ctx,
        origin,
        request.record as unknown as UnsignedEvent,
        TYPED_CODECS.TraceEvent.decode(request.value),
        signature,
      );
      result = { kind: "event", event };
      break;
    }
    case "inspection_request": {
      const stored = await commitInspectionRequest(
        ctx,
        origin,
        request.record as unknown as UnsignedInspectionRequest,
        { value: TYPED_CODECS.InspectionRequest.decode(request.value), signature },
      );
      result = { kind: "inspection_request", request: stored };
      break;
    }
    case "gtin_grant": {
      const grant = await commitGrantChange(
        ctx,
        origin,
        request.record as unknown as UnsignedGrantChange,
        TYPED_CODECS.GtinGrant.decode(request.value),
        signature,
      );
      result = { kind: "gtin_grant", grant };
      break;
    }
    case "recall": {
      const record = request.record as { batchId: string; reasonCid: string };
      await commitRecall(ctx, origin, TYPED_CODECS.Recall.decode(request.value), signature, record.reasonCid);
      result = { kind: "recall", ...record };
      break;
    }
    // Signed over the container's state when prepared: judged again as it is now (containers.ts).
    case "container_packing": {
      const accepted = await submitContainerPacking(
        ctx,
        origin,
        request.organisationId,
        request.record,
        TYPED_CODECS.ContainerPacking.decode(request.value),
        signature,
      );
      result = { kind: "container", accepted };
      break;
    }
    case "container_event": {
      const accepted = await submitContainerEvent(
        ctx,
        origin,
        request.organisationId,
        request.record,
        TYPED_CODECS.ContainerEvent.decode(request.value),
        signature,
      );
      result = { kind: "container", accepted };
      break;
    }
    // Prepared against the batches' custody and mass balance then: judged again as they are now.
    case "quality_certificate": {
      const certificate = await submitCertificate(
        ctx,
        origin,
        request,
        TYPED_CODECS.QualityCertificate.decode(request.value),
        signature,
      );
      result = { kind: "certificate", certificate };
      break;
    }
  }
  return result;
}
