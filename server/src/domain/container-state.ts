/**
 * A container's ledger state (docs/aggregation.md "What the chain holds"): the registry stores
 * `keccak256(abi.encode(state))`; every request names the hash it applies to (`previous`) and
 * every state carries the digest of the request that produced it (`link`).
 */
import { AbiCoder, keccak256 } from "ethers";

import { keccak256Into, keccak256PairInto } from "./keccak.ts";
import { abiEncodeString } from "./merkle.ts";

export interface ContainerStateFields {
  childrenRoot: string;
  custodian: string;
  pendingReceiver: string;
  link: string;
}

export const ZERO_BYTES32 = `0x${"0".repeat(64)}`;
export const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

/** The state of a container never packed: its stored hash is zero, not the hash of this. */
export const EMPTY_CONTAINER_STATE: ContainerStateFields = {
  childrenRoot: ZERO_BYTES32,
  custodian: ZERO_ADDRESS,
  pendingReceiver: ZERO_ADDRESS,
  link: ZERO_BYTES32,
};

/** The Solidity tuple type of `ContainerState`, for ABI encoding. */
export const CONTAINER_STATE_TUPLE =
  "tuple(bytes32 childrenRoot,address custodian,address pendingReceiver,bytes32 link)";

export function containerStateHash(state: ContainerStateFields): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "address", "address", "bytes32"],
      [state.childrenRoot, state.custodian, state.pendingReceiver, state.link],
    ),
  );
}

/** Lowercase hex throughout, so states compare as strings. */
export function normaliseState(state: ContainerStateFields): ContainerStateFields {
  return {
    childrenRoot: state.childrenRoot.toLowerCase(),
    custodian: state.custodian.toLowerCase(),
    pendingReceiver: state.pendingReceiver.toLowerCase(),
    link: state.link.toLowerCase(),
  };
}

/** Item leaves and child-container leaves, as the registry's `containsItem` / `containsContainer` hash them. */
export const ITEM_LEAF_ENCODING = ["bytes32", "string"] as const;
export const CONTAINER_LEAF_ENCODING = ["bytes32"] as const;

export type ContainerLeaf =
  { type: "item"; batchId: string; serial: string } | { type: "container"; containerKey: string };

/** A packing's tree: OpenZeppelin's node array (root first) and the node index of each leaf, in input order. */
export interface ContainerTree {
  root: string;
  nodes: string[];
  treeIndexes: number[];
}

const WORD = 32;

/** `abi.encode(bytes32)` / `abi.encode(bytes32, string)` of a leaf, as OpenZeppelin's `standardLeafHash` encodes it. */
function leafEncoding(leaf: ContainerLeaf): Uint8Array {
  if (leaf.type === "container") return hexBytes(leaf.containerKey);
  const tail = abiEncodeString(leaf.serial).subarray(WORD); // the string's length word and its padded bytes
  const encoded = new Uint8Array(2 * WORD + tail.length);
  encoded.set(hexBytes(leaf.batchId), 0);
  encoded[2 * WORD - 1] = 0x40; // the string's offset: two words in
  encoded.set(tail, 2 * WORD);
  return encoded;
}

function hexBytes(hex: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError(`not a bytes32: ${hex}`);
  return Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
}

function wordHex(bytes: Uint8Array, offset: number): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + offset, WORD).toString("hex")}`;
}

function compareWords(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): number {
  for (let i = 0; i < WORD; i++) {
    const difference = (a[aOffset + i] ?? 0) - (b[bOffset + i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** A leaf's hash: keccak256(keccak256(abi.encode(...))), OpenZeppelin's `standardLeafHash`. */
export function containerLeafHash(leaf: ContainerLeaf): string {
  const out = new Uint8Array(WORD);
  const encoded = leafEncoding(leaf);
  keccak256Into(encoded, 0, encoded.length, out, 0);
  keccak256Into(out, 0, WORD, out, 0);
  return wordHex(out, 0);
}

/**
 * The tree of a packing, as `StandardMerkleTree.of` builds it (leaves sorted by hash, inner
 * nodes the hash of their sorted children, OpenZeppelin's array layout), except that a pallet
 * may mix item leaves and container leaves, which one StandardMerkleTree (one leaf encoding)
 * cannot: each leaf is hashed with its own encoding. With one kind of leaf the root equals
 * `StandardMerkleTree.of(values, encoding).root` (the tests compare them). Hashed with the
 * WebAssembly Keccak the batch trees use: a 10,000-item case takes tens of milliseconds, where
 * the package's own hashing takes seconds.
 */
export function buildContainerTree(leaves: readonly ContainerLeaf[]): ContainerTree {
  const size = leaves.length;
  if (size === 0) throw new RangeError("a container tree needs at least one leaf");
  const hashed = new Uint8Array(size * WORD);
  leaves.forEach((leaf, index) => {
    const encoded = leafEncoding(leaf);
    keccak256Into(encoded, 0, encoded.length, hashed, index * WORD);
    keccak256Into(hashed, index * WORD, WORD, hashed, index * WORD);
  });
  const order = Array.from({ length: size }, (_, index) => index);
  order.sort((a, b) => compareWords(hashed, a * WORD, hashed, b * WORD) || a - b);
  const count = 2 * size - 1;
  const nodes = new Uint8Array(count * WORD);
  const treeIndexes = new Array<number>(size);
  order.forEach((input, sorted) => {
    const node = count - 1 - sorted;
    nodes.set(hashed.subarray(input * WORD, (input + 1) * WORD), node * WORD);
    treeIndexes[input] = node;
  });
  for (let i = size - 2; i >= 0; i--) {
    const left = (2 * i + 1) * WORD;
    const right = left + WORD;
    if (compareWords(nodes, left, nodes, right) <= 0) keccak256PairInto(nodes, left, right, nodes, i * WORD);
    else keccak256PairInto(nodes, right, left, nodes, i * WORD);
  }
  const hexNodes = Array.from({ length: count }, (_, index) => wordHex(nodes, index * WORD));
  return { root: hexNodes[0] ?? "", nodes: hexNodes, treeIndexes };
}
