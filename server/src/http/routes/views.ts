/** The API's answers for batches and events, shared by the routes that return them (and typed by the consoles). */
import type { Response } from "express";

import { explainLedgerFailure } from "../../domain/ledger-failures.ts";
import { formatQuantityMilli, unitFromCode } from "../../domain/units.ts";
import type { SignatureRequest } from "../../services/signature-requests.ts";
import type { Batch, LedgerPosition } from "../../storage/batches.ts";
import type { TraceEvent } from "../../storage/events.ts";
import type { InspectionRequest } from "../../storage/inspection-requests.ts";

/** Where a record stands, with a refusal explained in plain words beside the contract's error. */
function ledgerView(ledger: LedgerPosition) {
  return { ...ledger, failure: explainLedgerFailure(ledger.failureReason) };
}

export function batchView(batch: Batch) {
  return {
    batchId: batch.batchId,
    gtin: batch.gtin,
    lot: batch.lot,
    organisationId: batch.organisationId,
    plotId: batch.plotId,
    harvestedAt: new Date(batch.harvestedAtMs).toISOString(),
    quantity: { value: formatQuantityMilli(batch.quantityMilli), unit: unitFromCode(batch.unit) },
    itemCount: batch.itemCount,
    itemsRoot: batch.itemsRoot,
    metadataCid: batch.metadataCid,
    videoCid: batch.videoCid,
    photoCids: batch.photoCids,
    complianceCertificateNumber: batch.certificateNumber,
    ledger: ledgerView(batch.ledger),
    status: batch.status,
    recall: batch.recall,
    createdAt: new Date(batch.createdAtMs).toISOString(),
  };
}

export function eventView(event: TraceEvent) {
  return {
    id: event.id,
    batchId: event.batchId,
    bizStep: event.bizStep,
    actorOrganisationId: event.actorOrganisationId,
    occurredAt: new Date(event.occurredAtMs).toISOString(),
    payloadCid: event.payloadCid,
    data: event.data,
    /** A shipping event's receiver: the organisation the batch is handed to, and the signer it names. */
    receiver:
      event.counterparty === null
        ? null
        : { organisationId: event.counterparty.organisationId, signerAddress: event.counterparty.address },
    digest: event.digest,
    signerAddress: event.signed.signerAddress,
    ledger: ledgerView(event.ledger),
    chain: event.chain,
  };
}

export function inspectionRequestView(request: InspectionRequest) {
  return {
    id: request.id,
    batchId: request.batchId,
    inspectorOrganisationId: request.inspectorOrganisationId,
    inspectorAddress: request.inspectorAddress,
    requestedBy: request.requestedBy,
    requesterOrganisationId: request.requesterOrganisationId,
    signature: request.signature,
    ledger: ledgerView(request.ledger),
    createdAt: new Date(request.createdAtMs).toISOString(),
  };
}

/** An organisation with its own key gets the typed data to sign instead of an accepted write. */
export function awaiting(
  res: Response,
  request: SignatureRequest,
  coldChain?: unknown,
): { status: number; body: unknown } {
  res.setHeader("location", request.submitUrl);
  return { status: 201, body: { signatureRequest: request, ...(coldChain === undefined ? {} : { coldChain }) } };
}
