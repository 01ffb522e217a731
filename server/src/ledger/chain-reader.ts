/**
 * Reads a batch's commitments straight from the chain: its record, its attestation and
 * its events from the registry's logs. `readVerifiedBatch` has them checked by the
 * verification core (`verify/batch.ts`): every signature recovered again and the event hash
 * chain recomputed from the logs against the head on chain. Trusts nothing but the
 * JSON-RPC endpoint.
 */
import type { Contract, EventLog, Log } from "ethers";

import { BIZ_STEPS, type BatchAttestationValue, type BizStep, type TraceEventValue } from "../domain/typed-data.ts";
import { verifyBatchLogsAsking, type BatchLogsVerification } from "../verify/batch.ts";
import type { RpcClient } from "../verify/rpc.ts";
import type { Eip712Domain } from "../verify/eip712.ts";
import { BATCH_STATUS, type BatchRecordOnChain } from "../verify/rpc.ts";

export interface OnChainBatch extends BatchRecordOnChain {
  batchId: string;
  /** Origins; zero while the batch is with its cooperative, or no receiver is pending. */
  custodian: string;
  pendingReceiver: string;
}

export async function readBatch(registry: Contract, batchId: string): Promise<OnChainBatch> {
  const record = (await registry.getFunction("batch")(batchId)) as {
    itemsRoot: string;
    attester: string;
    itemCount: bigint;
    status: bigint;
    eventHead: string;
    custodian: string;
    pendingReceiver: string;
  };
  return {
    batchId,
    itemsRoot: record.itemsRoot,
    attester: record.attester,
    itemCount: Number(record.itemCount),
    status: BATCH_STATUS[Number(record.status)] ?? "none",
    eventHead: record.eventHead,
    custodian: record.custodian,
    pendingReceiver: record.pendingReceiver,
  };
}

export interface AttestationFromLog {
  value: BatchAttestationValue;
  signature: string;
  blockNumber: number;
  transactionHash: string;
}

export interface EventFromLog {
  value: TraceEventValue;
  bizStep: BizStep;
  signature: string;
  newHead: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

function isEventLog(log: Log | EventLog): log is EventLog {
  return "args" in log;
}

export async function readAttestation(
  registry: Contract,
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
  return { value, signature, blockNumber: log.blockNumber, transactionHash: log.transactionHash };
}

export async function readEvents(registry: Contract, batchId: string, fromBlock = 0): Promise<EventFromLog[]> {
  const logs = await registry.queryFilter(registry.filters.EventRecorded?.(batchId) ?? "EventRecorded", fromBlock);
  return logs.filter(isEventLog).map((log) => {
    const a = log.args;
    const bizStepIndex = a.getValue("bizStep") as bigint;
    const bizStep = BIZ_STEPS[Number(bizStepIndex)];
    if (bizStep === undefined) throw new Error(`unknown business step ${bizStepIndex} in log`);
    return {
      value: {
        actor: a.getValue("actor") as string,
        batchId: a.getValue("batchId") as string,
        bizStep: bizStepIndex,
        occurredAt: a.getValue("occurredAt") as bigint,
        payloadCid: a.getValue("payloadCid") as string,
        counterparty: a.getValue("counterparty") as string,
        nonce: a.getValue("nonce") as bigint,
        deadline: a.getValue("deadline") as bigint,
      },
      bizStep,
      signature: a.getValue("signature") as string,
      newHead: a.getValue("newHead") as string,
      blockNumber: log.blockNumber,
      logIndex: log.index,
      transactionHash: log.transactionHash,
    };
  });
}

export interface VerifiedBatch extends BatchLogsVerification<AttestationFromLog, EventFromLog> {
  onChain: OnChainBatch;
}

export type VerifiedAttestationLog = NonNullable<VerifiedBatch["attestation"]>;
export type VerifiedEventLog = VerifiedBatch["events"][number];

/** A batch's record and logs from `fromBlock` on, checked by the verification core. */
export async function readVerifiedBatch(
  registry: Contract,
  domain: Eip712Domain,
  batchId: string,
  fromBlock = 0,
): Promise<VerifiedBatch> {
  const onChain = await readBatch(registry, batchId);
  const attestation = await readAttestation(registry, batchId, fromBlock);
  const events = await readEvents(registry, batchId, fromBlock);
  // A signature recovering to another key is asked of the signer's contract wallet (ERC-1271).
  const provider = registry.runner?.provider ?? null;
  const rpc: RpcClient | undefined =
    provider === null
      ? undefined
      : {
          chainId: async () => (await provider.getNetwork()).chainId,
          ethCall: (to, data, block) =>
            provider.call({ to, data, ...(block === undefined ? {} : { blockTag: block }) }),
        };
  return { onChain, ...(await verifyBatchLogsAsking({ domain, record: onChain, attestation, events }, rpc)) };
}
