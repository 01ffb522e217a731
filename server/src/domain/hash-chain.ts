/**
 * The per-batch event hash chain. The ledger keeps only its head:
 * `head₀ = 0x00…00`, `headₖ = keccak256(abi.encode(headₖ₋₁, digestₖ))`, where `digestₖ`
 * is the EIP-712 digest of the k-th `TraceEvent` the registry accepted for the batch
 * (`TraceRegistry._recordEvent`). Whoever holds the events recomputes the head and
 * compares it with the one on chain, so an indexer cannot drop, add or reorder events
 * unnoticed.
 *
 * Pure and browser-safe (ethers' hashing and the typed-data table only).
 */
import { AbiCoder, TypedDataEncoder, keccak256 } from "ethers";

import { DomainError } from "./errors.ts";
import { domainFor, typesFor, type TraceEventValue, type TypedDataVersion } from "./typed-data.ts";

/** The head of a batch with no events, as a new `BatchRecord` starts. */
export const ZERO_HEAD = `0x${"0".repeat(64)}`;

const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/;

function requireBytes32(value: string, name: string): string {
  if (!BYTES32_HEX.test(value)) throw new DomainError("hash_chain.bytes32", { name, value });
  return value;
}

/**
 * `keccak256(abi.encode(previousHead, eventDigest))`. Two `bytes32` encode to their 64
 * bytes concatenated, so this is keccak256 over both words; the ABI form is kept here to
 * read exactly like the contract.
 */
export function nextEventHead(previousHead: string, eventDigest: string): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "bytes32"],
      [requireBytes32(previousHead, "previousHead"), requireBytes32(eventDigest, "eventDigest")],
    ),
  );
}

/** The head after `eventDigests`, in the order the ledger accepted them. */
export function recomputeEventHead(eventDigests: readonly string[]): string {
  let head = ZERO_HEAD;
  for (const digest of eventDigests) head = nextEventHead(head, digest);
  return head;
}

/** Whether `eventDigests` lead to `headOnChain` (case-insensitive hex compare). */
export function verifyEventHead(headOnChain: string, eventDigests: readonly string[]): boolean {
  if (!BYTES32_HEX.test(headOnChain)) return false;
  return recomputeEventHead(eventDigests) === headOnChain.toLowerCase();
}

export interface TraceEventDigestInput {
  chainId: bigint;
  /** The TraceRegistry's address, the EIP-712 domain's `verifyingContract`. */
  registry: string;
  event: TraceEventValue;
  /** The typed-data version the event was signed under. */
  version?: TypedDataVersion;
}

/**
 * The EIP-712 digest of a `TraceEvent` (what the actor signs and what the chain links),
 * `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(event))`.
 */
export function traceEventDigest(input: TraceEventDigestInput): string {
  return TypedDataEncoder.hash(
    domainFor(input.chainId, input.registry, input.version),
    typesFor("TraceEvent", input.version),
    input.event,
  );
}
