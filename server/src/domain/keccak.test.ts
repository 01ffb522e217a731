import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import fc from "fast-check";

import { keccak256Into, keccak256PairInto } from "./keccak.ts";

const hex = (bytes: Uint8Array): string => bytesToHex(bytes);

/** The whole of `input` through the in-place API the tree uses. */
function keccak256(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  keccak256Into(input, 0, input.length, out, 0);
  return out;
}

void describe("keccak256", () => {
  void it("matches the well-known Ethereum digests of '' and 'abc'", () => {
    assert.equal(hex(keccak256(new Uint8Array())), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert.equal(
      hex(keccak256(new TextEncoder().encode("abc"))),
      "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    );
  });

  void it("equals @noble/hashes keccak_256 at every length around the 136-byte rate boundaries", () => {
    for (let length = 0; length <= 420; length++) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 131 + length * 7) & 0xff);
      assert.equal(hex(keccak256(input)), hex(keccak_256(input)), `length ${length}`);
    }
  });

  void it("equals @noble/hashes keccak_256 on random inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (input) => {
        assert.equal(hex(keccak256(input)), hex(keccak_256(input)));
      }),
      { numRuns: 500 },
    );
  });

  void it("hashes a slice in place into the same buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 300 }), fc.nat(), (buffer, seed) => {
        const offset = seed % (buffer.length - 32);
        const expected = keccak_256(buffer.slice(offset, offset + 32));
        keccak256Into(buffer, offset, 32, buffer, offset);
        assert.equal(hex(buffer.subarray(offset, offset + 32)), hex(expected));
      }),
    );
  });

  void it("hashes two 32-byte words from anywhere in a buffer as their concatenation", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 128 }), fc.boolean(), (buffer, swap) => {
        const [first, second] = swap ? [96, 0] : [0, 64];
        const out = new Uint8Array(40);
        keccak256PairInto(buffer, first, second, out, 8);
        const concatenated = new Uint8Array([
          ...buffer.subarray(first, first + 32),
          ...buffer.subarray(second, second + 32),
        ]);
        assert.equal(hex(out.subarray(8)), hex(keccak_256(concatenated)));
      }),
    );
  });
});
