/**
 * Keccak-256 for the Merkle tree's hot loop, from `hash-wasm` (a maintained WebAssembly
 * implementation that runs in Node and in browsers). A 100,000-item tree needs about
 * 300,000 hashes: `@noble/hashes` costs ~6 µs a call here, which alone would spend the
 * tree's 2 s budget; one reused WASM hasher costs under 1 µs. Crypto is never hand-written
 * in this project: this module only moves bytes in and out of the library.
 */
import { createKeccak } from "hash-wasm";

// One hasher for the process (or page): instantiating the WASM module is the slow part.
const hasher = await createKeccak(256);
const pair = new Uint8Array(64);

/** Keccak-256 of `src[offset, offset + length)`, written as 32 bytes to `out` at `outOffset` (may overlap). */
export function keccak256Into(
  src: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  hasher.init();
  hasher.update(src.subarray(offset, offset + length));
  out.set(hasher.digest("binary"), outOffset);
}

/** Keccak-256 of `src[first, first + 32) ‖ src[second, second + 32)`: an inner Merkle node. */
export function keccak256PairInto(
  src: Uint8Array,
  first: number,
  second: number,
  out: Uint8Array,
  outOffset: number,
): void {
  pair.set(src.subarray(first, first + 32), 0);
  pair.set(src.subarray(second, second + 32), 32);
  keccak256Into(pair, 0, 64, out, outOffset);
}
