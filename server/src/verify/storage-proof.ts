/**
 * Checking an `eth_getProof` answer (EIP-1186) against a block's state root: the account
 * proof leads from the state root to the contract's account (its storage root), and each
 * storage proof from that storage root to one slot's word. A node that forges a word, a
 * proof node or the account fails here even when it answers. The Merkle-Patricia walk is
 * `@ethereumjs/mpt`'s; this module only says what must match what.
 */
import { verifyMerkleProof } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";

import { bytesEqual, bytesToHex, hexToBytes, sameHex } from "./bytes.ts";

/** keccak256(RLP("")): the root of an empty trie (an account with no storage). */
export const EMPTY_TRIE_ROOT = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";

/**
 * The proven words, or why the answer is refused. `otherRoot`: the account proof leads to
 * another state root, as an honest proof of another block would (every other failure is a
 * lie whatever block the endpoint meant).
 */
export type ProofCheck = { ok: true; values: Map<bigint, bigint> } | { ok: false; reason: string; otherRoot: boolean };

interface StorageProofAnswer {
  key: string;
  value: string;
  proof: string[];
}

interface AccountProofAnswer {
  balance: string;
  nonce: string;
  codeHash: string;
  storageHash: string;
  accountProof: string[];
  storageProof: StorageProofAnswer[];
}

const isHex = (value: unknown): value is string => typeof value === "string" && /^0x[0-9a-fA-F]*$/.test(value);
const isHexList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isHex);

function accountAnswerOf(answer: unknown): AccountProofAnswer | null {
  if (typeof answer !== "object" || answer === null) return null;
  const a = answer as Record<string, unknown>;
  if (![a.balance, a.nonce, a.codeHash, a.storageHash].every(isHex)) return null;
  if (!isHexList(a.accountProof) || !Array.isArray(a.storageProof)) return null;
  for (const entry of a.storageProof as unknown[]) {
    if (typeof entry !== "object" || entry === null) return null;
    const e = entry as Record<string, unknown>;
    if (!isHex(e.key) || !isHex(e.value) || !isHexList(e.proof)) return null;
  }
  return a as unknown as AccountProofAnswer;
}

/** The value at `key` in the trie with root `root`, or null when the proof shows it absent; throws when the proof is bad. */
async function provenValue(root: string, key: Uint8Array, proof: readonly string[]): Promise<Uint8Array | null> {
  if (proof.length === 0) {
    // Only an empty trie has nothing to show; any other root needs at least its own node.
    if (sameHex(root, EMPTY_TRIE_ROOT)) return null;
    throw new Error("empty proof for a non-empty trie");
  }
  return verifyMerkleProof(
    key,
    proof.map((node) => hexToBytes(node)),
    { root: hexToBytes(root), useKeyHashing: true },
  );
}

function uintOf(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(bytesToHex(bytes));
}

/** A trie value that must be RLP of a byte string (a storage word, minimal big-endian). */
function decodedBytes(value: Uint8Array): Uint8Array {
  const decoded = RLP.decode(value);
  if (!(decoded instanceof Uint8Array)) throw new Error("a storage value that is not a byte string");
  return decoded;
}

/**
 * Checks `answer` (an `eth_getProof(address, slots, block)` result) against `stateRoot` and
 * returns each slot's proven word; `describe(slot)` names a slot in a failure's reason.
 */
export async function checkAccountProof(
  answer: unknown,
  address: string,
  stateRoot: string,
  slots: readonly bigint[],
  describe: (slot: bigint) => string,
): Promise<ProofCheck> {
  const a = accountAnswerOf(answer);
  if (a === null) return { ok: false, reason: "answered a malformed eth_getProof result", otherRoot: false };
  let account: Uint8Array | null;
  try {
    account = await provenValue(stateRoot, hexToBytes(address), a.accountProof);
  } catch {
    return { ok: false, reason: "its account proof does not match the block's state root", otherRoot: true };
  }
  // An absent account (no registry at this address on this chain) has an empty storage.
  let storageRoot = EMPTY_TRIE_ROOT;
  if (account !== null) {
    const fields = RLP.decode(account);
    if (!Array.isArray(fields) || fields.length !== 4 || !fields.every((f) => f instanceof Uint8Array)) {
      return { ok: false, reason: "its account proof ends in something that is not an account", otherRoot: false };
    }
    const [nonce, balance, storage, codeHash] = fields as Uint8Array[];
    storageRoot = bytesToHex(storage ?? new Uint8Array());
    const claimed =
      uintOf(nonce ?? new Uint8Array()) === BigInt(a.nonce) &&
      uintOf(balance ?? new Uint8Array()) === BigInt(a.balance) &&
      sameHex(storageRoot, a.storageHash) &&
      bytesEqual(codeHash ?? new Uint8Array(), hexToBytes(a.codeHash));
    if (!claimed)
      return {
        ok: false,
        reason: "answered an account (storage root, nonce or code) different from its proof",
        otherRoot: false,
      };
  } else if (!sameHex(a.storageHash, EMPTY_TRIE_ROOT) && !/^0x0*$/.test(a.storageHash)) {
    return { ok: false, reason: "answered a storage root for an account its proof shows absent", otherRoot: false };
  }
  if (a.storageProof.length !== slots.length) {
    return {
      ok: false,
      reason: `answered ${a.storageProof.length} storage proofs for ${slots.length} slots`,
      otherRoot: false,
    };
  }
  const values = new Map<bigint, bigint>();
  for (const [index, slot] of slots.entries()) {
    const entry = a.storageProof[index];
    if (entry === undefined || BigInt(entry.key) !== slot) {
      return { ok: false, reason: `answered a proof for another slot than ${describe(slot)}`, otherRoot: false };
    }
    let proven: Uint8Array | null;
    try {
      const raw = await provenValue(storageRoot, hexToBytes(`0x${slot.toString(16).padStart(64, "0")}`), entry.proof);
      proven = raw === null ? null : decodedBytes(raw);
    } catch {
      return {
        ok: false,
        reason: `its storage proof of ${describe(slot)} does not match the account's storage root`,
        otherRoot: false,
      };
    }
    const word = proven === null ? 0n : uintOf(proven);
    if (word !== BigInt(entry.value)) {
      return {
        ok: false,
        reason: `answered a different storage value for ${describe(slot)} than its proof`,
        otherRoot: false,
      };
    }
    values.set(slot, word);
  }
  return { ok: true, values };
}
