/**
 * The head of a batch's event hash chain: `head₀ = 0`, `headₖ = keccak256(abi.encode(headₖ₋₁,
 * digestₖ))`. Two bytes32 encode to their 64 bytes side by side. See `domain/hash-chain.ts`.
 */
import { bytesToHex, concatBytes, fixedBytes, keccak256 } from "./bytes.ts";

/** The head after `digests` (EIP-712 digests, 0x-hex), in the order the ledger accepted them. */
export function eventHead(digests: readonly string[]): string {
  let head: Uint8Array = new Uint8Array(32);
  for (const digest of digests) head = keccak256(concatBytes(head, fixedBytes(digest, 32)));
  return bytesToHex(head);
}

/** The head after each of `digests` in turn (`eventHeads(d)[k]` is `eventHead(d.slice(0, k + 1))`). */
export function eventHeads(digests: readonly string[]): string[] {
  let head: Uint8Array = new Uint8Array(32);
  return digests.map((digest) => bytesToHex((head = keccak256(concatBytes(head, fixedBytes(digest, 32))))));
}
