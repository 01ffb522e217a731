/**
 * Regulators' actions: suspend and reinstate an organisation, recall a batch. Each takes
 * effect in the server at once (a suspended organisation's next write is refused), is
 * anchored on chain with the regulator role's key (so the chain refuses the organisation's
 * signatures too), carries its reason as a document on IPFS, and is logged with who did it.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import { inTransaction } from "../storage/transaction.ts";
import { getOrganisation, setOrganisationStatus } from "../storage/organisations.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";
import { storeJsonDocument } from "./documents.ts";

export const reasonRequest = z
  .object({ reason: z.object({ zh: z.string().trim().min(1).max(2_000), en: z.string().trim().max(2_000).nullish() }) })
  .strict();
export type ReasonRequest = z.infer<typeof reasonRequest>;

async function reasonDocument(
  ctx: ServiceContext,
  origin: WriteOrigin,
  action: string,
  subject: string,
  input: ReasonRequest,
) {
  return storeJsonDocument(ctx.content, {
    type: "oioc.regulator-action",
    version: 1,
    action,
    subject,
    regulatorOrganisationId: origin.principal.organisationId,
    reason: { zh: input.reason.zh, en: input.reason.en ?? null },
  });
}

export async function setOrganisationSuspended(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  suspended: boolean,
  input: ReasonRequest,
): Promise<{ organisationId: string; status: "active" | "suspended"; reasonCid: string }> {
  const organisation = await getOrganisation(ctx.db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  const target = suspended ? "suspended" : "active";
  if (organisation.status === target) throw new AppError("organisation.state_unchanged");
  const action = suspended ? "suspension" : "reinstatement";
  const reason = await reasonDocument(ctx, origin, action, organisation.signerAddress, input);
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    await setOrganisationStatus(trx, organisationId, target, nowMs);
    if (organisation.ledgerState !== null) {
      await enqueueOutbox(
        trx,
        outboxEntry(action, `${organisationId}:${randomUUID()}`, {
          subject: organisation.signerAddress,
          reasonCid: reason.cidHex,
        }),
        nowMs,
      );
    }
    await recordWrite(trx, origin, `organisation.${action}`, organisationId, { reasonCid: reason.cidText }, nowMs);
  });
  return { organisationId, status: target, reasonCid: reason.cidText };
}

export async function recallAsRegulator(
  ctx: ServiceContext,
  origin: WriteOrigin,
  batchId: string,
  input: ReasonRequest,
): Promise<{ batchId: string; reasonCid: string }> {
  const batch = await requireBatch(ctx, batchId);
  if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
  if (batch.status === "recalled") throw new AppError("batch.recalled");
  const reason = await reasonDocument(ctx, origin, "recall", batch.batchId, input);
  const recallReason = await storeJsonDocument(ctx.content, {
    type: "oioc.recall-reason",
    version: 1,
    batch: { gtin: batch.gtin, lot: batch.lot },
    reason: { zh: input.reason.zh, en: input.reason.en ?? null },
    regulatorAction: reason.cidText,
  });
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    const entry = await enqueueOutbox(
      trx,
      outboxEntry("regulator_recall", batch.batchId, { subject: batch.batchId, reasonCid: recallReason.cidHex }),
      nowMs,
    );
    if (!entry.created) throw new AppError("batch.recalled");
    await recordWrite(trx, origin, "batch.regulator_recall", batch.batchId, { reasonCid: recallReason.cidText }, nowMs);
  });
  return { batchId: batch.batchId, reasonCid: recallReason.cidText };
}
