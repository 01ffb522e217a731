/**
 * Verifying a whole batch from what the chain holds: its record (root, event head) and its
 * logs (the attestation and every event, each with its signature). The signatures are
 * recovered again and the event hash chain is recomputed from the logs, so a regulator's
 * audit, the CLI's `verify-batch` and the demo trust nothing but the chain they read.
 * Reading the logs is the caller's (ethers in the server and the CLI); this stays pure.
 */
import type { PrimaryType, TypedJson } from "../domain/typed-data.ts";
import { sameHex } from "./bytes.ts";
import { recoverSigner, typedDataDigest, type Eip712Domain } from "./eip712.ts";
import { askContractSigners, judgeAsking, type ContractSignature, type WalletCheck } from "./contract-signatures.ts";
import { eventHead } from "./hash-chain.ts";
import type { RpcClient } from "./rpc.ts";

/** A value of a primary type as read from a log or carried in JSON: integers as bigint or decimal strings. */
export type SignedFields<P extends PrimaryType> = {
  readonly [F in keyof TypedJson<P>]: string | bigint | boolean;
};

export interface SignedLog<P extends PrimaryType> {
  value: SignedFields<P>;
  signature: string;
  /** The block the log is in: a contract wallet signer is asked at it (ERC-1271). */
  blockNumber?: string | number | bigint | null;
}

export interface BatchLogs<
  A extends SignedLog<"BatchAttestation"> = SignedLog<"BatchAttestation">,
  E extends SignedLog<"TraceEvent"> = SignedLog<"TraceEvent">,
> {
  domain: Eip712Domain;
  /** The batch's record on chain. */
  record: { itemsRoot: string; eventHead: string };
  /** The `BatchAttested` log, or null when none was found. */
  attestation: A | null;
  /** The `EventRecorded` logs in the order the registry accepted them. */
  events: readonly E[];
  /** Whether a signer's contract wallet agreed with a signature not its key's (see `verifyBatchLogsAsking`). */
  wallet?: WalletCheck;
}

export type BatchLogFinding =
  | { code: "attestation_missing" }
  | { code: "attestation_signature"; attester: string }
  | { code: "items_root"; attested: string; onChain: string }
  | { code: "event_signature"; index: number; actor: string }
  | { code: "event_head"; onChain: string; recomputed: string };

/** The logs given, each with what was found of it, and the batch's findings. */
export interface BatchLogsVerification<
  A extends SignedLog<"BatchAttestation"> = SignedLog<"BatchAttestation">,
  E extends SignedLog<"TraceEvent"> = SignedLog<"TraceEvent">,
> {
  /** The attestation, with whether its attester signed it; null when there is none. */
  attestation: (A & { signatureValid: boolean }) | null;
  /** Each event with its EIP-712 digest (the hash chain's link) and whether its actor signed it, in log order. */
  events: (E & { digest: string; signatureValid: boolean })[];
  eventHead: { onChain: string; recomputed: string };
  /** Empty when the batch verifies: its attestation and every event are signed, and the logs lead to the head. */
  findings: BatchLogFinding[];
}

/** Whether `signature` over `digest` recovers to `expected`; a signature that does not even parse is simply not valid. */
export function signedBy(digest: string, signature: string, expected: string): boolean {
  try {
    return sameHex(recoverSigner(digest, signature), expected);
  } catch {
    return false;
  }
}

/** Checks a batch's logs against its record; see `BatchLogsVerification`. */
export function verifyBatchLogs<A extends SignedLog<"BatchAttestation">, E extends SignedLog<"TraceEvent">>(
  logs: BatchLogs<A, E>,
): BatchLogsVerification<A, E> {
  const findings: BatchLogFinding[] = [];
  let attestation: (A & { signatureValid: boolean }) | null = null;
  if (logs.attestation === null) {
    findings.push({ code: "attestation_missing" });
  } else {
    const { value } = logs.attestation;
    const attester = String(value.attester);
    const digest = typedDataDigest(logs.domain, "BatchAttestation", { ...value });
    const { signature, blockNumber } = logs.attestation;
    const signatureValid =
      signedBy(digest, signature, attester) || logs.wallet?.(digest, signature, attester, blockNumber) === true;
    attestation = { ...logs.attestation, signatureValid };
    const attested = String(value.itemsRoot);
    if (!attestation.signatureValid) findings.push({ code: "attestation_signature", attester });
    else if (!sameHex(attested, logs.record.itemsRoot)) {
      findings.push({ code: "items_root", attested, onChain: logs.record.itemsRoot });
    }
  }
  const events = logs.events.map((event, index) => {
    const digest = typedDataDigest(logs.domain, "TraceEvent", { ...event.value });
    const actor = String(event.value.actor);
    const signatureValid =
      signedBy(digest, event.signature, actor) ||
      logs.wallet?.(digest, event.signature, actor, event.blockNumber) === true;
    if (!signatureValid) findings.push({ code: "event_signature", index, actor });
    return { ...event, digest, signatureValid };
  });
  const recomputed = eventHead(events.map((event) => event.digest));
  if (!sameHex(recomputed, logs.record.eventHead)) {
    findings.push({ code: "event_head", onChain: logs.record.eventHead, recomputed });
  }
  return { attestation, events, eventHead: { onChain: logs.record.eventHead, recomputed }, findings };
}

/**
 * `verifyBatchLogs`, with the signatures that recover to another key asked of their signers
 * as contract wallets (ERC-1271) at the block of their log, through `rpc`.
 */
export async function verifyBatchLogsAsking<A extends SignedLog<"BatchAttestation">, E extends SignedLog<"TraceEvent">>(
  logs: BatchLogs<A, E>,
  rpc: RpcClient | undefined,
): Promise<BatchLogsVerification<A, E>> {
  const ask = (queries: ContractSignature[]) => askContractSigners(rpc, queries);
  return judgeAsking(
    ask,
    (input: BatchLogs<A, E>) => verifyBatchLogs(input),
    logs,
    (first) => first.findings.length > 0,
  );
}
