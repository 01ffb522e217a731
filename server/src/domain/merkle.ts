/**
 * The Merkle tree of a batch's item serials, identical to `@openzeppelin/merkle-tree`'s
 * `StandardMerkleTree.of(serials.map((s) => [s]), ["string"])`: the same leaves
 * (keccak256(keccak256(abi.encode(serial))), as the contract's `ItemLeaf` library hashes
 * them), sorted by hash the same way, the same array layout, hence the same root and the
 * same proof for every item. Proofs verify with OpenZeppelin's `MerkleProof` on chain and
 * with the verification core's `verifyProof` (`verify/merkle.ts`) everywhere else.
 *
 * Built for 100,000-item batches: hashes go from one flat buffer to another without
 * per-node allocation, and a proof's hex strings are shared between items (each node is
 * turned into hex once, on first use). Pure; the server builds trees with it (on worker
 * threads for large batches), while the scan page checks one proof with `verify/merkle.ts`.
 */
import { AppError } from "../errors/app-error.ts";
import { keccak256Into, keccak256PairInto } from "./keccak.ts";

const HASH_BYTES = 32;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const HEX_DIGITS = "0123456789abcdef";

const utf8 = new TextEncoder();
// Hex is written as ASCII into one buffer and decoded at once: a flat string, where
// appending 32 pairs would leave a rope of 32 small objects per node for the collector.
const hexAscii = new Uint8Array(2 + 2 * 32);
hexAscii[0] = 0x30;
hexAscii[1] = 0x78;
const ascii = new TextDecoder("latin1");

function hexAt(bytes: Uint8Array, offset: number): string {
  for (let i = 0; i < HASH_BYTES; i++) {
    const byte = bytes[offset + i] ?? 0;
    hexAscii[2 + 2 * i] = HEX_DIGITS.charCodeAt(byte >>> 4);
    hexAscii[3 + 2 * i] = HEX_DIGITS.charCodeAt(byte & 15);
  }
  return ascii.decode(hexAscii);
}

/** Lexicographic order of two 32-byte words, as OpenZeppelin compares hashes (as big-endian numbers). */
function compareWords(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): number {
  for (let i = 0; i < HASH_BYTES; i++) {
    const difference = (a[aOffset + i] ?? 0) - (b[bOffset + i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function assertEncodable(serial: string): void {
  // TextEncoder would silently turn a lone surrogate into U+FFFD; the leaf would then
  // commit to a different string than the one the caller holds.
  if (LONE_SURROGATE.test(serial)) throw new AppError("merkle.serial_encoding", { serial });
}

/**
 * Writes `abi.encode(string)` of `serial` into `scratch` and returns its length: the head
 * (offset 0x20), the byte length, then the UTF-8 bytes zero-padded to a multiple of 32.
 * `scratch` must hold 64 + 3 × serial.length + 32 bytes.
 */
function writeAbiString(serial: string, scratch: Uint8Array): number {
  const { written } = utf8.encodeInto(serial, scratch.subarray(2 * HASH_BYTES));
  const padded = Math.ceil(written / HASH_BYTES) * HASH_BYTES;
  scratch.fill(0, 0, 2 * HASH_BYTES);
  scratch[HASH_BYTES - 1] = 0x20;
  // A JS string's UTF-8 encoding is far below 2^53 bytes, so a double holds the length exactly.
  for (let i = 0, length = written; length > 0; i++, length = Math.floor(length / 256)) {
    scratch[2 * HASH_BYTES - 1 - i] = length % 256;
  }
  scratch.fill(0, 2 * HASH_BYTES + written, 2 * HASH_BYTES + padded);
  return 2 * HASH_BYTES + padded;
}

function scratchFor(serial: string): Uint8Array {
  return new Uint8Array(2 * HASH_BYTES + 3 * serial.length + HASH_BYTES);
}

/** `abi.encode(value)` for one `string`, as Solidity and ethers' AbiCoder produce it. */
export function abiEncodeString(value: string): Uint8Array {
  assertEncodable(value);
  const scratch = scratchFor(value);
  return scratch.slice(0, writeAbiString(value, scratch));
}

function leafInto(serial: string, scratch: Uint8Array, out: Uint8Array, outOffset: number): void {
  const length = writeAbiString(serial, scratch);
  keccak256Into(scratch, 0, length, out, outOffset);
  keccak256Into(out, outOffset, HASH_BYTES, out, outOffset);
}

export interface ItemTree {
  /** The root committed on chain, 0x-hex. */
  readonly root: string;
  /** The number of items (leaves). */
  readonly size: number;
  /** The serial at `index` in the order given to `buildItemTree`. */
  serialAt(index: number): string;
  /** The leaf of the item at `index` (input order). */
  leafAt(index: number): string;
  /** The proof of the item at `index` (input order), as `StandardMerkleTree.getProof(index)` returns it. */
  proofAt(index: number): string[];
  /** The input index of `serial`, or -1 when the batch has no such item. */
  indexOf(serial: string): number;
  /** The leaf of `serial`; throws `merkle.unknown_serial`. */
  leafOf(serial: string): string;
  /** The proof of `serial`; throws `merkle.unknown_serial`. */
  proofOf(serial: string): string[];
}

/**
 * The hashed form of a batch's tree, as flat buffers: what a worker thread computes and
 * transfers back without copying, so a 1,000,000-item tree is built off the event loop.
 */
export interface ItemTreeNodes {
  /** 2n - 1 nodes of 32 bytes in OpenZeppelin's layout (root at 0, children of i at 2i + 1 and 2i + 2). */
  nodes: Uint8Array;
  /** The node of the item at each input index. */
  nodeOfInput: Uint32Array;
}

/**
 * Builds the tree of a batch. Throws `merkle.empty` for no serials, `merkle.duplicate_serial`
 * when one repeats (a batch's serials are unique; OpenZeppelin would accept the repeat
 * and give both the same leaf), `merkle.serial_encoding` for a lone UTF-16 surrogate.
 * Serial syntax (AI 21) is the caller's to check, with `validateSerial`.
 */
export function buildItemTree(serials: readonly string[]): ItemTree {
  return itemTreeFromNodes(serials, hashItemTree(serials));
}

/** The hashing half of `buildItemTree`: leaves, their order and every inner node. Same errors. */
export function hashItemTree(serials: readonly string[]): ItemTreeNodes {
  const size = serials.length;
  if (size === 0) throw new AppError("merkle.empty", {});

  const leaves = new Uint8Array(size * HASH_BYTES);
  let scratch: Uint8Array = new Uint8Array(256);
  for (let i = 0; i < size; i++) {
    const serial = serials[i] ?? "";
    assertEncodable(serial);
    if (scratch.length < 3 * serial.length + 3 * HASH_BYTES) scratch = scratchFor(serial);
    leafInto(serial, scratch, leaves, i * HASH_BYTES);
  }

  // Sort input indices by leaf hash; the first four bytes as a number settle almost
  // every comparison without looking at the rest.
  const prefix = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    const o = i * HASH_BYTES;
    prefix[i] =
      (((leaves[o] ?? 0) << 24) | ((leaves[o + 1] ?? 0) << 16) | ((leaves[o + 2] ?? 0) << 8) | (leaves[o + 3] ?? 0)) >>>
      0;
  }
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  order.sort(
    (a, b) =>
      (prefix[a] ?? 0) - (prefix[b] ?? 0) || compareWords(leaves, a * HASH_BYTES, leaves, b * HASH_BYTES) || a - b,
  );
  for (let k = 1; k < size; k++) {
    const previous = order[k - 1] ?? 0;
    const current = order[k] ?? 0;
    if (compareWords(leaves, previous * HASH_BYTES, leaves, current * HASH_BYTES) === 0) {
      throw new AppError("merkle.duplicate_serial", {
        serial: serials[current],
        indices: [Math.min(previous, current), Math.max(previous, current)],
      });
    }
  }

  // OpenZeppelin's layout: an array of 2n - 1 nodes, root at 0, children of i at 2i + 1
  // and 2i + 2, the k-th smallest leaf at 2n - 2 - k.
  const nodeCount = 2 * size - 1;
  const nodes = new Uint8Array(nodeCount * HASH_BYTES);
  const nodeOfInput = new Uint32Array(size);
  for (let k = 0; k < size; k++) {
    const input = order[k] ?? 0;
    const node = nodeCount - 1 - k;
    nodes.set(leaves.subarray(input * HASH_BYTES, (input + 1) * HASH_BYTES), node * HASH_BYTES);
    nodeOfInput[input] = node;
  }
  for (let i = size - 2; i >= 0; i--) {
    const left = (2 * i + 1) * HASH_BYTES;
    const right = left + HASH_BYTES;
    if (compareWords(nodes, left, nodes, right) <= 0) keccak256PairInto(nodes, left, right, nodes, i * HASH_BYTES);
    else keccak256PairInto(nodes, right, left, nodes, i * HASH_BYTES);
  }
  return { nodes, nodeOfInput };
}

/**
 * The tree over `serials` from its hashed form (`hashItemTree` of the same serials, in the
 * same order). Cheap: hex strings and the serial index are made on first use.
 */
export function itemTreeFromNodes(serials: readonly string[], hashed: ItemTreeNodes): ItemTree {
  const { nodes, nodeOfInput } = hashed;
  const size = serials.length;
  const nodeCount = 2 * size - 1;
  if (size === 0) throw new AppError("merkle.empty", {});
  if (nodes.length !== nodeCount * HASH_BYTES || nodeOfInput.length !== size) {
    throw new RangeError(`hashed nodes of ${String(nodeOfInput.length)} items given for ${String(size)} serials`);
  }
  const hexCache: Array<string | undefined> = new Array<string | undefined>(nodeCount);
  const nodeHex = (node: number): string => {
    let hex = hexCache[node];
    if (hex === undefined) {
      hex = hexAt(nodes, node * HASH_BYTES);
      hexCache[node] = hex;
    }
    return hex;
  };
  const nodeAt = (index: number): number => {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new AppError("merkle.index_range", { index, size });
    }
    return nodeOfInput[index] ?? 0;
  };
  let indexBySerial: Map<string, number> | undefined;
  const indexOf = (serial: string): number => {
    if (indexBySerial === undefined) {
      indexBySerial = new Map();
      for (let i = 0; i < size; i++) indexBySerial.set(serials[i] ?? "", i);
    }
    return indexBySerial.get(serial) ?? -1;
  };
  const requireIndex = (serial: string): number => {
    const index = indexOf(serial);
    if (index < 0) throw new AppError("merkle.unknown_serial", { serial });
    return index;
  };
  const proofAt = (index: number): string[] => {
    const proof: string[] = [];
    for (let node = nodeAt(index); node > 0; node = (node - 1) >> 1) {
      proof.push(nodeHex(node % 2 === 1 ? node + 1 : node - 1));
    }
    return proof;
  };
  const serialList = [...serials];

  return {
    root: nodeHex(0),
    size,
    serialAt: (index) => {
      nodeAt(index);
      return serialList[index] ?? "";
    },
    leafAt: (index) => nodeHex(nodeAt(index)),
    proofAt,
    indexOf,
    leafOf: (serial) => nodeHex(nodeAt(requireIndex(serial))),
    proofOf: (serial) => proofAt(requireIndex(serial)),
  };
}
