import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, hexlify } from "ethers";
import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import { CSET82 } from "./gs1.ts";
import { abiEncodeString, buildItemTree } from "./merkle.ts";

/** Serials like ours, reproducible: 13 characters from a seeded generator. */
function serials(count: number, seed: number): string[] {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % alphabet.length;
  };
  const out = new Set<string>();
  while (out.size < count) out.add(Array.from({ length: 13 }, () => alphabet.charAt(next())).join(""));
  return [...out];
}

function openZeppelinTree(values: readonly string[]): StandardMerkleTree<[string]> {
  return StandardMerkleTree.of(
    values.map((value) => [value] as [string]),
    ["string"],
  );
}

function assertSameAsOpenZeppelin(values: readonly string[]): void {
  const theirs = openZeppelinTree(values);
  const ours = buildItemTree(values);
  assert.equal(ours.root, theirs.root);
  assert.equal(ours.size, values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? "";
    assert.deepEqual(ours.proofAt(i), theirs.getProof(i), `proof of item ${i}`);
    assert.deepEqual(ours.proofOf(value), theirs.getProof([value]));
    assert.equal(ours.leafAt(i), theirs.leafHash([value]));
    assert.equal(ours.serialAt(i), value);
    assert.equal(ours.indexOf(value), i);
  }
}

void describe("abiEncodeString", () => {
  void it("equals ethers' AbiCoder on random strings, multi-byte UTF-8 and 32-byte boundaries included", () => {
    const coder = AbiCoder.defaultAbiCoder();
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), fc.string({ unit: "binary", maxLength: 80 })), (value) => {
        assert.equal(hexlify(abiEncodeString(value)), coder.encode(["string"], [value]));
      }),
      { numRuns: 1000 },
    );
    for (const length of [0, 1, 31, 32, 33, 63, 64, 65, 255, 256, 257]) {
      for (const unit of ["a", "é", "中", "🌾"]) {
        const value = unit.repeat(length);
        assert.equal(hexlify(abiEncodeString(value)), coder.encode(["string"], [value]), `${unit} × ${length}`);
      }
    }
  });
});

void describe("item leaves", () => {
  void it("are StandardMerkleTree's leaf hash for type string", () => {
    const values = ["A", "苹果-01", ""];
    const tree = openZeppelinTree(values);
    const ours = buildItemTree(values);
    values.forEach((value, i) => {
      assert.equal(ours.leafAt(i), tree.leafHash([value]));
    });
  });

  void it("refuse a lone surrogate instead of committing to U+FFFD", () => {
    assert.throws(
      () => buildItemTree(["A\uD800"]),
      (error) => isAppError(error, "merkle.serial_encoding"),
    );
  });
});

void describe("buildItemTree", () => {
  for (const size of [1, 2, 3, 7, 100, 1000]) {
    void it(`gives the same root, leaves and proofs as StandardMerkleTree for ${size} items`, () => {
      assertSameAsOpenZeppelin(serials(size, size * 7919));
    });
  }

  void it("gives the same root and proofs as StandardMerkleTree on random serial sets", () => {
    const serial = fc.string({ unit: fc.constantFrom(...Array.from(CSET82)), minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.uniqueArray(serial, { minLength: 1, maxLength: 40 }), (values) => {
        assertSameAsOpenZeppelin(values);
      }),
      { numRuns: 200 },
    );
  });

  void it("handles arbitrary Unicode serials like the library", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: "grapheme", maxLength: 12 }), { minLength: 1, maxLength: 12 }),
        (values) => {
          assertSameAsOpenZeppelin(values);
        },
      ),
      { numRuns: 100 },
    );
  });

  void it("refuses an empty batch and repeated serials", () => {
    assert.throws(
      () => buildItemTree([]),
      (error) => isAppError(error, "merkle.empty"),
    );
    assert.throws(
      () => buildItemTree(["A", "B", "C", "B"]),
      (error) => isAppError(error, "merkle.duplicate_serial") && JSON.stringify(error.details.indices) === "[1,3]",
    );
  });

  void it("refuses unknown serials and positions outside the batch", () => {
    const tree = buildItemTree(["A", "B"]);
    assert.equal(tree.indexOf("C"), -1);
    assert.throws(
      () => tree.proofOf("C"),
      (error) => isAppError(error, "merkle.unknown_serial"),
    );
    assert.throws(
      () => tree.leafOf("C"),
      (error) => isAppError(error, "merkle.unknown_serial"),
    );
    for (const index of [-1, 2, 0.5, Number.NaN]) {
      assert.throws(
        () => tree.proofAt(index),
        (error) => isAppError(error, "merkle.index_range"),
      );
    }
  });
});
