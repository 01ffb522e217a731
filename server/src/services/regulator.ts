/**
 * Regulators' actions: suspend and reinstate an organisation, recall a batch. Each takes
 * effect in the server at once (a suspended organisation's next write is refused), is
 * anchored on chain with the regulator role's key (so the chain refuses the organisation's
 * signatures too), carries its reason as a document on IPFS, and is logged with who did it.
 *
 * Who may: an active regulator (a suspended one does nothing), never on its own
 * organisation (nobody reinstates themselves), and only inside its region: the GB/T 2260
 * prefix of its own region code (domain/region.ts `jurisdictionPrefix`; a national
 * regulator, 000000, has the empty prefix). A batch's region is its cooperative's, as in
 * the batch search. The same prefix scopes the regulator's searches and audits
 * (`jurisdictionOf`); a direct request for something outside it is refused with 403
 * `organisation.outside_jurisdiction` rather than pretending it does not exist: batch
 * ids and organisations are public on chain, so a 404 would hide nothing.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import { jurisdictionPrefix, withinJurisdiction } from "../domain/region.ts";
import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import { inTransaction } from "../storage/transaction.ts";
import { getOrganisation, setOrganisationStatus, type Organisation } from "../storage/organisations.ts";
import type { Batch } from "../storage/batches.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import { requireBatch } from "./batch-lookup.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { Principal, ServiceContext } from "./context.ts";
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

/**
 * The region prefix a principal's reads are limited to: its regulator's jurisdiction, or
 * null (no limit) for the operator and for the other roles, whose routes limit them otherwise.
 */
export async function jurisdictionOf(ctx: ServiceContext, principal: Principal): Promise<string | null> {
  if (principal.roles.includes("admin") || !principal.roles.includes("regulator")) return null;
  if (principal.organisationId === null) return null;
  const regulator = await getOrganisation(ctx.db, principal.organisationId);
  if (regulator === null) throw new AppError("organisation.not_found");
  return jurisdictionPrefix(regulator.regionCode);
}

async function regionOfBatch(ctx: ServiceContext, batch: Batch): Promise<string> {
  const cooperative = await getOrganisation(ctx.db, batch.organisationId);
  if (cooperative === null) throw new Error(`organisation ${batch.organisationId} referenced but not stored`);
  return cooperative.regionCode;
}

/** Refuses a batch outside `jurisdiction` (null: no limit). */
export async function requireBatchInJurisdiction(
  ctx: ServiceContext,
  jurisdiction: string | null,
  batch: Batch,
): Promise<void> {
  if (jurisdiction === null || jurisdiction === "") return;
  if (!withinJurisdiction(jurisdiction, await regionOfBatch(ctx, batch))) {
    throw new AppError("organisation.outside_jurisdiction");
  }
}

/**
 * The regulator acting: active, and its jurisdiction prefix. The operator's admin token
 * (the operator console, issue 15 part 6) acts for every region and in no organisation's
 * name: its reason document names no regulator, and the audit log names the admin.
 */
async function actingRegulator(
  ctx: ServiceContext,
  origin: WriteOrigin,
): Promise<{ regulator: Organisation | null; prefix: string }> {
  if (origin.principal.roles.includes("admin")) return { regulator: null, prefix: "" };
  const regulator = await activeOrganisation(ctx, origin.principal.organisationId, ["regulator"]);
  return { regulator, prefix: jurisdictionPrefix(regulator.regionCode) };
}

export async function setOrganisationSuspended(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  suspended: boolean,
  input: ReasonRequest,
): Promise<{ organisationId: string; status: "active" | "suspended"; reasonCid: string }> {
  const { regulator, prefix } = await actingRegulator(ctx, origin);
  const organisation = await getOrganisation(ctx.db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  if (organisation.id === regulator?.id) throw new AppError("organisation.own_status");
  if (!withinJurisdiction(prefix, organisation.regionCode)) throw new AppError("organisation.outside_jurisdiction");
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
  const { prefix } = await actingRegulator(ctx, origin);
  const batch = await requireBatch(ctx, batchId);
  await requireBatchInJurisdiction(ctx, prefix, batch);
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
