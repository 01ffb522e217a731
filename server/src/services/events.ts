/**
 * Critical tracking events and recalls. An event is signed by the organisation that did
 * it (not by the batch's cooperative), published as a payload document on IPFS, stored
 * and queued in one transaction. Cold-chain series are checked against the product's
 * range on the way in, and the excursions are reported back to the caller at once.
 */
import { randomUUID } from "node:crypto";

import { ZeroAddress } from "ethers";
import { z } from "zod";

import { analyseTemperatures, type ColdChainReport } from "../domain/cold-chain.ts";
import { eventData, eventPayloadDocument, type EventData } from "../domain/documents.ts";
import { isoInstant } from "../domain/instants.ts";
import { checkOccurredAt, ledgerSeconds } from "../domain/registry-rules.ts";
import {
  BIZ_STEPS,
  CURRENT_TYPED_DATA_VERSION,
  bizStepIndex,
  type BizStep,
  type RecallValue,
  type TraceEventValue,
} from "../domain/typed-data.ts";
import { OWN_FARM_STEPS, STEP_ACTORS } from "../domain/step-actors.ts";
import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import { getBatch } from "../storage/batches.ts";
import { getProduct } from "../storage/catalogue.ts";
import { inTransaction } from "../storage/transaction.ts";
import { insertEvent, type NewTraceEvent, type TraceEvent } from "../storage/events.ts";
import { lockBatchCustody } from "../storage/inspection-requests.ts";
import { getOrganisation } from "../storage/organisations.ts";
import { getMedia } from "../storage/media.ts";
import { allocateNonces } from "../storage/nonces.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { typedDataDigest } from "../verify/eip712.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import { activeOrganisation } from "./active-organisation.ts";
import { requireBatch } from "./batch-lookup.ts";
import type { ServiceContext } from "./context.ts";
import { requireEventAuthority } from "./custody.ts";
import { storeJsonDocument } from "./documents.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import type { SignatureRequest } from "./signature-requests.ts";

export const eventRequest = z
  .object({
    bizStep: z.enum(BIZ_STEPS).exclude(["recalling"]),
    occurredAt: isoInstant,
    /** For shipping (and only shipping): the organisation the batch is handed to. */
    receiver: z.string().min(1).max(100).optional(),
    data: eventData.default({}),
    attachmentCids: z.array(z.string().max(128)).max(50).default([]),
  })
  .strict();

export type AcceptedEvent = ({ event: TraceEvent } | { awaitingSignature: SignatureRequest }) & {
  coldChain: ColdChainReport | null;
};

/** How long before harvest a planting or input event may lie: a tea bush or an orchard is older than its crop. */
const MAX_SPAN_BEFORE_HARVEST_MS = 5 * 365 * 24 * 3_600_000;
const CLOCK_SKEW_MS = 10 * 60_000;

function checkStepData(step: BizStep, data: EventData): void {
  const needs = (field: keyof EventData, steps: readonly BizStep[]): void => {
    if (steps.includes(step) && data[field] === undefined) {
      throw new AppError("event.data_invalid", {}, { detail: `${step} requires data.${field}` });
    }
  };
  needs("inputs", ["input_application"]);
  needs("tests", ["inspecting"]);
  needs("inputBatches", ["transforming"]);
}

/** The cold-chain report of an event's temperature readings against its product's range, if both exist. */
export async function coldChainOf(ctx: ServiceContext, gtin: string, data: EventData): Promise<ColdChainReport | null> {
  const readings = data.temperatures ?? [];
  if (readings.length === 0) return null;
  const product = await getProduct(ctx.db, gtin);
  if (product?.coldChain == null) return null;
  return analyseTemperatures(
    readings.map((r) => ({ at: Math.floor(Date.parse(r.at) / 1000), celsius: r.celsius })),
    { minCelsius: product.coldChain.minC, maxCelsius: product.coldChain.maxC, toleranceSeconds: 15 * 60 },
  );
}

export async function recordEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  batchId: string,
  input: z.infer<typeof eventRequest>,
): Promise<AcceptedEvent> {
  const step = input.bizStep;
  const actor = await activeOrganisation(ctx, origin.principal.organisationId, STEP_ACTORS[step]);
  const batch = await requireBatch(ctx, batchId);
  if (OWN_FARM_STEPS.has(step) && batch.organisationId !== actor.id) throw new AppError("batch.not_yours");
  // The registry knows no batch whose attestation it refused: an event on it could only fail.
  if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
  if (batch.status === "recalled" && step !== "inspecting") throw new AppError("batch.recalled");
  checkStepData(step, input.data);
  const occurredAtMs = Date.parse(input.occurredAt);
  checkOccurredAt(occurredAtMs);
  const nowMs = ctx.now();
  if (occurredAtMs > nowMs + CLOCK_SKEW_MS || occurredAtMs < batch.harvestedAtMs - MAX_SPAN_BEFORE_HARVEST_MS) {
    throw new AppError("event.before_harvest");
  }
  // Who may say this about the batch, judged as the registry will (after the fields, as it does).
  await requireEventAuthority(ctx.db, {
    batchId: batch.batchId,
    cooperativeId: batch.organisationId,
    actorId: actor.id,
    step,
    receiverId: input.receiver ?? null,
  });
  const receiver = input.receiver === undefined ? null : await getOrganisation(ctx.db, input.receiver);
  for (const cid of input.attachmentCids) {
    if ((await getMedia(ctx.db, cid)) === null) throw new AppError("media.not_found", {}, { detail: cid });
  }

  const coldChain = await coldChainOf(ctx, batch.gtin, input.data);

  const payload = await storeJsonDocument(
    ctx.content,
    eventPayloadDocument.parse({
      type: "oioc.event-payload",
      version: 1,
      batch: { gtin: batch.gtin, lot: batch.lot },
      bizStep: step,
      occurredAt: new Date(occurredAtMs).toISOString(),
      actor: {
        name: { zh: actor.nameZh, en: actor.nameEn },
        regionCode: actor.regionCode,
        signer: actor.signerAddress,
      },
      ...(receiver === null
        ? {}
        : {
            receiver: {
              name: { zh: receiver.nameZh, en: receiver.nameEn },
              regionCode: receiver.regionCode,
              signer: receiver.signerAddress,
            },
          }),
      data: input.data,
      attachmentCids: input.attachmentCids,
    }),
  );
  const deadline = BigInt(Math.floor(nowMs / 1000) + ctx.signatureTtlSeconds);
  const nonce = await allocateNonces(ctx.db, actor.signerAddress, 1, nowMs);
  const value: TraceEventValue = {
    actor: actor.signerAddress,
    batchId: batch.batchId,
    bizStep: BigInt(bizStepIndex(step)),
    occurredAt: ledgerSeconds(occurredAtMs),
    payloadCid: payload.cidHex,
    counterparty: receiver?.signerAddress ?? ZeroAddress,
    nonce,
    deadline,
  };
  const record: UnsignedEvent = {
    id: `evt_${randomUUID()}`,
    batchId: batch.batchId,
    bizStep: step,
    actorOrganisationId: actor.id,
    occurredAtMs,
    payloadCid: payload.cidText,
    data: input.data,
    counterparty: receiver === null ? null : { address: receiver.signerAddress, organisationId: receiver.id },
    createdBy: origin.principal.credentialId ?? "admin",
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    actor,
    { primaryType: "TraceEvent", value },
    { record, deadline },
  );
  if ("awaitingSignature" in signed) return { awaitingSignature: signed.awaitingSignature, coldChain };
  return { event: await commitEvent(ctx, origin, record, value, signed.signature), coldChain };
}

/** An event as stored, before it carries a signature. */
export type UnsignedEvent = Omit<NewTraceEvent, "signed" | "digest">;

/**
 * Stores a signed event and its outbox entry in one transaction, judging custody again in it
 * with the batch held: an event accepted meanwhile (a handover, another signature request
 * completed first) counts.
 */
export async function commitEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  record: UnsignedEvent,
  value: TraceEventValue,
  signature: string,
): Promise<TraceEvent> {
  const nowMs = ctx.now();
  const digest = typedDataDigest(ctx.domain, "TraceEvent", { ...value });
  return inTransaction(ctx.db, async (trx) => {
    await lockBatchCustody(trx, record.batchId);
    const batch = await getBatch(trx, record.batchId);
    if (batch === null) throw new AppError("batch.not_found");
    await requireEventAuthority(trx, {
      batchId: record.batchId,
      cooperativeId: batch.organisationId,
      actorId: record.actorOrganisationId,
      step: record.bizStep,
      receiverId: record.counterparty?.organisationId ?? null,
    });
    const stored = await insertEvent(
      trx,
      {
        ...record,
        signed: {
          signerAddress: value.actor,
          signature,
          nonce: value.nonce,
          deadline: value.deadline,
          typedDataVersion: CURRENT_TYPED_DATA_VERSION,
        },
        digest,
      },
      nowMs,
    );
    await enqueueOutbox(trx, outboxEntry("event", record.id, { value, signature }), nowMs);
    await recordWrite(
      trx,
      origin,
      "event.record",
      record.id,
      { batchId: record.batchId, bizStep: record.bizStep },
      nowMs,
    );
    return stored;
  });
}

export const recallRequest = z
  .object({ reason: z.object({ zh: z.string().trim().min(1).max(2_000), en: z.string().trim().max(2_000).nullish() }) })
  .strict();

/** A cooperative recalls its own batch: a signed `Recall`, anchored through the outbox. */
export async function recallOwnBatch(
  ctx: ServiceContext,
  origin: WriteOrigin,
  batchId: string,
  input: z.infer<typeof recallRequest>,
): Promise<{ batchId: string; reasonCid: string } | { awaitingSignature: SignatureRequest }> {
  const cooperative = await activeOrganisation(ctx, origin.principal.organisationId, ["cooperative"]);
  const batch = await requireBatch(ctx, batchId);
  if (batch.organisationId !== cooperative.id) throw new AppError("batch.not_yours");
  if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
  if (batch.status === "recalled") throw new AppError("batch.recalled");
  const reason = await storeJsonDocument(ctx.content, {
    type: "oioc.recall-reason",
    version: 1,
    batch: { gtin: batch.gtin, lot: batch.lot },
    reason: { zh: input.reason.zh, en: input.reason.en ?? null },
  });
  const nowMs = ctx.now();
  const deadline = BigInt(Math.floor(nowMs / 1000) + ctx.signatureTtlSeconds);
  const nonce = await allocateNonces(ctx.db, cooperative.signerAddress, 1, nowMs);
  const value: RecallValue = {
    attester: cooperative.signerAddress,
    batchId: batch.batchId,
    reasonCid: reason.cidHex,
    nonce,
    deadline,
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    cooperative,
    { primaryType: "Recall", value },
    { record: { batchId: batch.batchId, reasonCid: reason.cidText }, deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  await commitRecall(ctx, origin, value, signed.signature, reason.cidText);
  return { batchId: batch.batchId, reasonCid: reason.cidText };
}

/** Queues a signed recall; a batch is recalled at most once. */
export async function commitRecall(
  ctx: ServiceContext,
  origin: WriteOrigin,
  value: RecallValue,
  signature: string,
  reasonCid: string,
): Promise<void> {
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    const entry = await enqueueOutbox(trx, outboxEntry("recall", value.batchId, { value, signature }), nowMs);
    if (!entry.created) throw new AppError("batch.recalled");
    await recordWrite(trx, origin, "batch.recall", value.batchId, { reasonCid }, nowMs);
  });
}
