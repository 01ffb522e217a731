import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { getAddress, hexlify } from "ethers";
import fc from "fast-check";

import { checksumAddress } from "./bytes.ts";

describe("checksumAddress", () => {
  it("prints each address as ethers does, the first time and from memory, in any letter case", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean(), (bytes, upper) => {
        const hex = hexlify(bytes);
        const given = upper ? `0x${hex.slice(2).toUpperCase()}` : hex;
        const expected = getAddress(hex);
        assert.equal(checksumAddress(given), expected);
        assert.equal(checksumAddress(hex), expected);
        assert.equal(checksumAddress(expected), expected);
      }),
      // More than the remembered forms, so the memory is emptied and refilled on the way.
      { numRuns: 1_500 },
    );
  });

  it("refuses what is not an address", () => {
    for (const bad of ["", "0x", "0x1234", `0x${"g".repeat(40)}`, "a".repeat(42), `0x${"a".repeat(41)}`]) {
      assert.throws(() => checksumAddress(bad), { code: "verify.address" });
    }
  });
});
