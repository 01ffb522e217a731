import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import fc from "fast-check";

import { buildItemTree } from "../domain/merkle.ts";
import { itemLeaf, verifyProof } from "./merkle.ts";

const serialSets = fc.uniqueArray(fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }), {
  minLength: 1,
  maxLength: 40,
});

describe("item Merkle proofs", () => {
  it("itemLeaf equals StandardMerkleTree.leafHash for random strings (multi-byte UTF-8 included)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (serial) => {
        const tree = StandardMerkleTree.of([[serial]], ["string"]);
        assert.equal(itemLeaf(serial), tree.leafHash([serial]));
      }),
      { numRuns: 300 },
    );
  });

  it("every OpenZeppelin proof of random batches verifies under their root", () => {
    fc.assert(
      fc.property(serialSets, (serials) => {
        const tree = StandardMerkleTree.of(
          serials.map((s) => [s]),
          ["string"],
        );
        for (const serial of serials) assert.ok(verifyProof(tree.root, itemLeaf(serial), tree.getProof([serial])));
      }),
      { numRuns: 100 },
    );
  });

  it("a serial not in the batch, a changed proof element or another root does not verify", () => {
    fc.assert(
      fc.property(serialSets, fc.string({ minLength: 1, maxLength: 24 }), (serials, outsider) => {
        fc.pre(!serials.includes(outsider));
        const tree = StandardMerkleTree.of(
          serials.map((s) => [s]),
          ["string"],
        );
        const first = serials[0] ?? "";
        const proof = tree.getProof([first]);
        assert.equal(verifyProof(tree.root, itemLeaf(outsider), proof), false);
        if (proof.length > 0) {
          const changed = [...proof];
          changed[0] = itemLeaf(outsider);
          assert.equal(verifyProof(tree.root, itemLeaf(first), changed), false);
        }
        assert.equal(verifyProof(itemLeaf(outsider), itemLeaf(first), proof), false);
      }),
      { numRuns: 100 },
    );
  });

  it("answers false, not an exception, for malformed input", () => {
    const leaf = itemLeaf("A");
    assert.equal(verifyProof("0x12", leaf, []), false);
    assert.equal(verifyProof(leaf, "nothex", []), false);
    assert.equal(verifyProof(leaf, leaf, ["0x00"]), false);
    assert.equal(verifyProof(leaf, leaf, []), true);
  });
});

describe("verifyProof of the server's trees (domain/merkle.ts)", () => {
  const values = Array.from({ length: 50 }, (_, i) => `SN${String(i * 7919).padStart(9, "0")}`);
  const tree = buildItemTree(values);

  it("accepts every item's proof, as OpenZeppelin's own verifier does", () => {
    for (let i = 0; i < values.length; i++) {
      const value = values[i] ?? "";
      assert.equal(verifyProof(tree.root, itemLeaf(value), tree.proofAt(i)), true);
      assert.equal(StandardMerkleTree.verify(tree.root, ["string"], [value], tree.proofAt(i)), true);
      assert.equal(itemLeaf(value), tree.leafAt(i));
    }
  });

  it("accepts upper-case hex", () => {
    const upper = (hex: string): string => `0x${hex.slice(2).toUpperCase()}`;
    assert.equal(verifyProof(upper(tree.root), itemLeaf(values[3] ?? ""), tree.proofAt(3).map(upper)), true);
  });

  it("rejects another item's serial, a tampered proof element, a dropped or reordered element", () => {
    fc.assert(
      fc.property(fc.nat(values.length - 1), fc.nat(values.length - 1), fc.nat(), fc.nat(255), (i, j, at, flip) => {
        const proof = tree.proofAt(i);
        const leaf = itemLeaf(values[i] ?? "");
        if (i !== j) assert.equal(verifyProof(tree.root, itemLeaf(values[j] ?? ""), proof), false);
        const position = at % proof.length;
        const element = proof[position] ?? "";
        const nibble = 2 + (flip % 64);
        const changed = `${element.slice(0, nibble)}${element.charAt(nibble) === "0" ? "1" : "0"}${element.slice(nibble + 1)}`;
        assert.equal(verifyProof(tree.root, leaf, proof.with(position, changed)), false);
        assert.equal(verifyProof(tree.root, leaf, proof.toSpliced(position, 1)), false);
        if (proof.length > 1) assert.equal(verifyProof(tree.root, leaf, proof.toReversed()), false);
      }),
    );
  });

  it("rejects a changed serial, and a lone surrogate does not pass for U+FFFD", () => {
    const proof = tree.proofAt(0);
    const serial = values[0] ?? "";
    assert.equal(verifyProof(tree.root, itemLeaf(`${serial}X`), proof), false);
    assert.equal(verifyProof(tree.root, itemLeaf(serial.toLowerCase()), proof), false);
    assert.equal(verifyProof(tree.root, itemLeaf(serial), ["not hex", ...proof]), false);
    assert.equal(verifyProof(tree.root, itemLeaf("\uDC00"), proof), false);
  });
});
