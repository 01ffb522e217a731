/**
 * Reads a batch's commitments straight from the chain and re-verifies them: the
 * attestation signature, every event signature, and the event hash chain recomputed
 * from logs against the head in storage. Trusts nothing but the JSON-RPC endpoint.
 */
import type { Contract, EventLog, Log } from "ethers";

import { BIZ_STEPS, type BatchAttestationValue, type BizStep, type TraceEventValue } from "../domain/typed-data.ts";
export { recomputeEventHead } from "../domain/hash-chain.ts";
import { recoverTypedSigner, typedDigest, type SigningDomain } from "./signing.ts";

export interface OnChainBatch {
  batchId: string;
  itemsRoot: string;
  attester: string;
  itemCount: number;
  status: "none" | "active" | "recalled";
  eventHead: string;
}

const BATCH_STATUS = ["none", "active", "recalled"] as const;

export async function readBatch(registry: Contract, batchId: string): Promise<OnChainBatch> {
  const record = (await registry.getFunction("batch")(batchId)) as {
    itemsRoot: string;
    attester: string;
    itemCount: bigint;
    status: bigint;
    eventHead: string;
  };
  return {
    batchId,
    itemsRoot: record.itemsRoot,
    attester: record.attester,
    itemCount: Number(record.itemCount),
    status: BATCH_STATUS[Number(record.status)] ?? "none",
    eventHead: record.eventHead,
  };
}

export interface AttestationFromLog {
  value: BatchAttestationValue;
  signature: string;
  signatureValid: boolean;
  blockNumber: number;
  transactionHash: string;
}

export interface EventFromLog {
  value: TraceEventValue;
  bizStep: BizStep;
  signature: string;
  digest: string;
  signatureValid: boolean;
  newHead: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

/** Whether the recovered signer is `expected`; a signature that does not even parse is simply not valid. */
function signedBy(recover: () => string, expected: string): boolean {
  try {
    return recover().toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}

function isEventLog(log: Log | EventLog): log is EventLog {
  return "args" in log;
}

export async function readAttestation(
  registry: Contract,
  domain: SigningDomain,
  batchId: string,
  fromBlock = 0,
): Promise<AttestationFromLog | null> {
  const logs = await registry.queryFilter(registry.filters.BatchAttested?.(batchId) ?? "BatchAttested", fromBlock);
  const log = logs.find(isEventLog);
  if (!log) return null;
  const a = log.args;
  const value: BatchAttestationValue = {
    attester: a.getValue("attester") as string,
    gtin: a.getValue("gtin") as bigint,
    lot: a.getValue("lot") as string,
    itemsRoot: a.getValue("itemsRoot") as string,
    itemCount: a.getValue("itemCount") as bigint,
    quantityMilli: a.getValue("quantityMilli") as bigint,
    unit: a.getValue("unit") as string,
    harvestedAt: a.getValue("harvestedAt") as bigint,
    metadataCid: a.getValue("metadataCid") as string,
    nonce: a.getValue("nonce") as bigint,
    deadline: a.getValue("deadline") as bigint,
  };
  const signature = a.getValue("signature") as string;
  const signatureValid = signedBy(
    () => recoverTypedSigner(domain, "BatchAttestation", value, signature),
    value.attester,
  );
  return { value, signature, signatureValid, blockNumber: log.blockNumber, transactionHash: log.transactionHash };
}

export async function readEvents(
  registry: Contract,
  domain: SigningDomain,
  batchId: string,
  fromBlock = 0,
): Promise<EventFromLog[]> {
  const logs = await registry.queryFilter(registry.filters.EventRecorded?.(batchId) ?? "EventRecorded", fromBlock);
  return logs.filter(isEventLog).map((log) => {
    const a = log.args;
    const bizStepIndex = a.getValue("bizStep") as bigint;
    const value: TraceEventValue = {
      actor: a.getValue("actor") as string,
      batchId: a.getValue("batchId") as string,
      bizStep: bizStepIndex,
      occurredAt: a.getValue("occurredAt") as bigint,
      payloadCid: a.getValue("payloadCid") as string,
      nonce: a.getValue("nonce") as bigint,
      deadline: a.getValue("deadline") as bigint,
    };
    const signature = a.getValue("signature") as string;
    const signatureValid = signedBy(() => recoverTypedSigner(domain, "TraceEvent", value, signature), value.actor);
    const bizStep = BIZ_STEPS[Number(bizStepIndex)];
    if (bizStep === undefined) throw new Error(`unknown business step ${bizStepIndex} in log`);
    return {
      value,
      bizStep,
      signature,
      digest: typedDigest(domain, "TraceEvent", value),
      signatureValid,
      newHead: a.getValue("newHead") as string,
      blockNumber: log.blockNumber,
      logIndex: log.index,
      transactionHash: log.transactionHash,
    };
  });
}
