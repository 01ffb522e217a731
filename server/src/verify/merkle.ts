/**
 * Item membership: the leaf of a serial and a sorted-pair Merkle proof, exactly as
 * `@openzeppelin/merkle-tree`'s StandardMerkleTree (leaf type `string`) and OpenZeppelin's
 * `MerkleProof` compute them. The server builds trees with `domain/merkle.ts` (WebAssembly
 * Keccak, for 100,000-item batches); one proof is a few hashes, so the page uses
 * `@noble/hashes` and no WebAssembly.
 */
import { abiStringTail, bytesToHex, concatBytes, fixedBytes, keccak256, uintWord } from "./bytes.ts";

/** `keccak256(keccak256(abi.encode(serial)))` as 0x-hex; `abi.encode(string)` is an offset word, then the tail. */
export function itemLeaf(serial: string): string {
  return bytesToHex(keccak256(keccak256(concatBytes(uintWord(32n), abiStringTail(serial)))));
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Whether `proof` folds `leaf` into `root` with sorted-pair hashing. False, never an
 * exception, for anything malformed.
 */
export function verifyProof(root: string, leaf: string, proof: readonly string[]): boolean {
  try {
    let computed = fixedBytes(leaf, 32);
    for (const element of proof) {
      const sibling = fixedBytes(element, 32);
      computed = keccak256(
        compare(computed, sibling) <= 0 ? concatBytes(computed, sibling) : concatBytes(sibling, computed),
      );
    }
    return compare(computed, fixedBytes(root, 32)) === 0;
  } catch {
    return false;
  }
}
