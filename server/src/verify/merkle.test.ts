import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import fc from "fast-check";

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
