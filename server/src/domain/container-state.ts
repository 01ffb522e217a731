/**
 * A container's ledger state (docs/aggregation.md "What the chain holds"): the registry stores
 * `keccak256(abi.encode(state))`; every request names the hash it applies to (`previous`) and
 * every state carries the digest of the request that produced it (`link`).
 */
import { compare } from "@openzeppelin/merkle-tree/dist/bytes.js";
import { makeMerkleTree } from "@openzeppelin/merkle-tree/dist/core.js";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { AbiCoder, keccak256 } from "ethers";

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

export function containerLeafHash(leaf: ContainerLeaf): string {
  return leaf.type === "item"
    ? standardLeafHash([...ITEM_LEAF_ENCODING], [leaf.batchId, leaf.serial])
    : standardLeafHash([...CONTAINER_LEAF_ENCODING], [leaf.containerKey]);
}

/**
 * The tree of a packing, as `StandardMerkleTree.of` builds it (leaves sorted by hash, the same
 * array layout), except that a pallet may mix item leaves and container leaves, which one
 * StandardMerkleTree (one leaf encoding) cannot: the leaves are hashed each with its own
 * encoding, then built with the same core. With one kind of leaf the root equals
 * `StandardMerkleTree.of(values, encoding).root`.
 */
export function buildContainerTree(leaves: readonly ContainerLeaf[]): ContainerTree {
  const hashed = leaves.map((leaf, input) => ({ hash: containerLeafHash(leaf), input }));
  hashed.sort((a, b) => compare(a.hash, b.hash));
  const nodes = makeMerkleTree(hashed.map((entry) => entry.hash));
  const treeIndexes = new Array<number>(leaves.length);
  hashed.forEach((entry, sorted) => {
    treeIndexes[entry.input] = nodes.length - 1 - sorted;
  });
  const root = nodes[0];
  if (root === undefined) throw new RangeError("a container tree needs at least one leaf");
  return { root, nodes, treeIndexes };
}
