/**
 * `eth_getProof` answers checked against a state root, on tries built here with the same
 * library a node's proofs are verified with (a secure trie: keys hashed, values RLP), so
 * each way a node can lie about the account or a slot is tried on real proof bytes. The
 * Hardhat test (test/server/trusted-rpc.test.ts) checks the same against a node's own proofs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createMerkleProof, createMPT, type MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";

import { bytesToHex, hexToBytes, keccak256Hex, uintWord } from "./bytes.ts";
import { checkAccountProof, EMPTY_TRIE_ROOT } from "./storage-proof.ts";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CODE_HASH = keccak256Hex(Uint8Array.from([0x60, 0x00]));
const minimal = (value: bigint): Uint8Array => {
  const word = uintWord(value);
  const first = word.findIndex((b) => b !== 0);
  return first === -1 ? new Uint8Array() : word.subarray(first);
};
const slotBytes = (slot: bigint): Uint8Array => uintWord(slot);

interface World {
  stateRoot: string;
  /** The account proof of `address` (of its absence, for an address with no account). */
  accountProof(address: string): Promise<string[]>;
  /** An honest `eth_getProof(REGISTRY, slots)` answer. */
  answer(slots: readonly bigint[]): Promise<{
    balance: string;
    nonce: string;
    codeHash: string;
    storageHash: string;
    accountProof: string[];
    storageProof: { key: string; value: string; proof: string[] }[];
  }>;
}

async function world(words: ReadonlyMap<bigint, bigint>): Promise<World> {
  const storage: MerklePatriciaTrie = await createMPT({ useKeyHashing: true });
  for (const [slot, value] of words) await storage.put(slotBytes(slot), RLP.encode(minimal(value)));
  const storageHash = bytesToHex(storage.root());
  const state = await createMPT({ useKeyHashing: true });
  const account = RLP.encode([minimal(1n), minimal(0n), storage.root(), hexToBytes(CODE_HASH)]);
  await state.put(hexToBytes(REGISTRY), account);
  // Another account, so the account proof has a branch above the registry's leaf.
  await state.put(
    hexToBytes("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    RLP.encode([minimal(0n), minimal(5n), hexToBytes(EMPTY_TRIE_ROOT), hexToBytes(keccak256Hex(new Uint8Array()))]),
  );
  return {
    stateRoot: bytesToHex(state.root()),
    accountProof: async (address) => (await createMerkleProof(state, hexToBytes(address))).map(bytesToHex),
    answer: async (slots) => ({
      balance: "0x0",
      nonce: "0x1",
      codeHash: CODE_HASH,
      storageHash,
      accountProof: (await createMerkleProof(state, hexToBytes(REGISTRY))).map(bytesToHex),
      storageProof: await Promise.all(
        slots.map(async (slot) => ({
          key: `0x${slot.toString(16)}`,
          value: `0x${(words.get(slot) ?? 0n).toString(16)}`,
          proof: (await createMerkleProof(storage, slotBytes(slot))).map(bytesToHex),
        })),
      ),
    }),
  };
}

const describeSlot = (slot: bigint): string => `slot ${slot.toString()}`;
const flipLast = (hex: string): string => `${hex.slice(0, -1)}${hex.endsWith("0") ? "1" : "0"}`;

describe("storage proofs against a state root", () => {
  const words = new Map<bigint, bigint>([
    [1n, 0xdeadbeefn],
    [2n, (1n << 255n) | 7n],
    [0xabcdefn, 42n],
  ]);

  it("returns each proven word, and zero for a slot the trie shows absent", async () => {
    const w = await world(words);
    const slots = [1n, 2n, 0xabcdefn, 99n];
    const check = await checkAccountProof(await w.answer(slots), REGISTRY, w.stateRoot, slots, describeSlot);
    assert.ok(check.ok);
    assert.deepEqual(
      [...check.values],
      [
        [1n, 0xdeadbeefn],
        [2n, (1n << 255n) | 7n],
        [0xabcdefn, 42n],
        [99n, 0n],
      ],
    );
  });

  it("refuses a value that differs from its proof, a tampered proof node, a forged account and another root", async () => {
    const w = await world(words);
    const slots = [1n, 2n];
    const honest = await w.answer(slots);
    const cases: [string, unknown, RegExp][] = [
      [
        "forged value",
        { ...honest, storageProof: [{ ...honest.storageProof[0], value: "0x1" }, honest.storageProof[1]] },
        /different storage value for slot 1 than its proof/,
      ],
      [
        "tampered storage node",
        {
          ...honest,
          storageProof: [
            {
              ...honest.storageProof[0],
              proof: honest.storageProof[0]?.proof.map((n, i, all) => (i === all.length - 1 ? flipLast(n) : n)),
            },
            honest.storageProof[1],
          ],
        },
        /storage proof of slot 1 does not match the account's storage root/,
      ],
      ["forged storage root", { ...honest, storageHash: flipLast(honest.storageHash) }, /different from its proof/],
      ["forged nonce", { ...honest, nonce: "0x2" }, /different from its proof/],
      [
        "tampered account node",
        { ...honest, accountProof: honest.accountProof.map((n, i) => (i === 0 ? flipLast(n) : n)) },
        /account proof does not match the block's state root/,
      ],
      [
        "a proof of another slot",
        { ...honest, storageProof: [honest.storageProof[1], honest.storageProof[0]] },
        /another slot/,
      ],
      ["too few proofs", { ...honest, storageProof: [honest.storageProof[0]] }, /1 storage proofs for 2 slots/],
      [
        "no proof at all",
        { ...honest, storageProof: [{ ...honest.storageProof[0], proof: [] }, honest.storageProof[1]] },
        /does not match/,
      ],
      ["not an answer", { result: "0x" }, /malformed/],
    ];
    for (const [name, answer, reason] of cases) {
      const check = await checkAccountProof(answer, REGISTRY, w.stateRoot, slots, describeSlot);
      assert.ok(!check.ok, name);
      assert.match(check.reason, reason, name);
    }
    const other = await world(new Map([[1n, 0xdeadbeefn]]));
    const check = await checkAccountProof(honest, REGISTRY, other.stateRoot, slots, describeSlot);
    assert.equal(check.ok, false, "an answer for another block's state");
  });

  it("reads every slot of an account that is not there as zero, when the state proves it absent", async () => {
    const w = await world(words);
    const absent = "0x00000000000000000000000000000000000000c3";
    const answer = {
      balance: "0x0",
      nonce: "0x0",
      codeHash: keccak256Hex(new Uint8Array()),
      storageHash: EMPTY_TRIE_ROOT,
      accountProof: await w.accountProof(absent),
      storageProof: [{ key: "0x1", value: "0x0", proof: [] }],
    };
    const check = await checkAccountProof(answer, absent, w.stateRoot, [1n], describeSlot);
    assert.ok(check.ok, check.ok ? "" : check.reason);
    assert.deepEqual([...check.values], [[1n, 0n]]);
    // Nor may a node claim a value in an account the state shows absent.
    const claimed = { ...answer, storageProof: [{ key: "0x1", value: "0x5", proof: [] }] };
    assert.equal((await checkAccountProof(claimed, absent, w.stateRoot, [1n], describeSlot)).ok, false);
  });
});
