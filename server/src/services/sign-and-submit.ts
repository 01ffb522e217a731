/**
 * Completes a signature request: checks that the organisation's own key signed exactly
 * the prepared value (EOA signatures recovered here; the contract checks again, and also
 * accepts ERC-1271 wallets), then stores and queues the write as a custodial one would be.
 */
import { z } from "zod";

import type { BatchAttestationValue, RecallValue, TraceEventValue } from "../domain/typed-data.ts";
import { ProblemError } from "../http/problem.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { recoverTypedSigner } from "../ledger/signing.ts";
import type { Batch } from "../storage/batches.ts";
import type { TraceEvent } from "../storage/events.ts";
import type { WriteOrigin } from "./audit.ts";
import { commitBatch, type UnsignedBatch } from "./batches.ts";
import type { ServiceContext } from "./context.ts";
import { readAll } from "./documents.ts";
import { commitEvent, commitRecall, type UnsignedEvent } from "./events.ts";
import { openItemsArchive } from "./items-archive.ts";
import { getSignatureRequest, PRIMARY_TYPE_OF } from "./signature-requests.ts";

export const signatureSubmission = z
  .object({ signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-hex signature") })
  .strict();

export type Submitted =
  | { kind: "attestation"; batch: Batch }
  | { kind: "event"; event: TraceEvent }
  | { kind: "recall"; batchId: string; reasonCid: string };

export async function submitSignature(
  ctx: ServiceContext,
  origin: WriteOrigin,
  requestId: string,
  signature: string,
): Promise<Submitted> {
  const request = await getSignatureRequest(ctx, requestId, origin.principal.organisationId);
  if (request.completedAtMs !== null) throw new ProblemError("idempotency.conflict", { detail: "already submitted" });
  if (request.expiresAtMs <= ctx.now()) throw new ProblemError("draft.not_found", { detail: "expired" });
  let signer: string;
  try {
    signer = recoverTypedSigner(
      ctx.domain,
      PRIMARY_TYPE_OF[request.kind],
      request.value as unknown as BatchAttestationValue & TraceEventValue & RecallValue,
      signature,
    );
  } catch (error) {
    throw new ProblemError("signature.invalid", { cause: error });
  }
  if (signer.toLowerCase() !== request.signerAddress.toLowerCase()) throw new ProblemError("signature.invalid");

  let result: Submitted;
  switch (request.kind) {
    case "attestation": {
      const { itemsArchiveCid, ...record } = request.record as UnsignedBatch & { itemsArchiveCid: string };
      const sealed = await readAll(ctx.content.cat(parseCid(itemsArchiveCid)));
      const archive = openItemsArchive(ctx.secrets.keystoreSecret, record.batchId, sealed);
      const batch = await commitBatch(
        ctx,
        origin,
        record,
        request.value as unknown as BatchAttestationValue,
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
        request.value as unknown as TraceEventValue,
        signature,
      );
      result = { kind: "event", event };
      break;
    }
    case "recall": {
      const record = request.record as { batchId: string; reasonCid: string };
      await commitRecall(ctx, origin, request.value as unknown as RecallValue, signature, record.reasonCid);
      result = { kind: "recall", ...record };
      break;
    }
  }
  await ctx.db
    .updateTable("signature_requests")
    .set({ completed_at_ms: ctx.now() })
    .where("id", "=", request.id)
    .execute();
  return result;
}
