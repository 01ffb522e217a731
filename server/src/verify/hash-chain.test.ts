import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { hexlify } from "ethers";
import fc from "fast-check";

import { recomputeEventHead, ZERO_HEAD } from "../domain/hash-chain.ts";
import { AppError } from "../errors/app-error.ts";
import { eventHead } from "./hash-chain.ts";

const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes));

describe("eventHead", () => {
  it("starts from zero", () => {
    assert.equal(eventHead([]), ZERO_HEAD);
  });

  it("equals the server's ethers-based recomputeEventHead for random chains", () => {
    fc.assert(
      fc.property(fc.array(digest, { maxLength: 30 }), (digests) => {
        assert.equal(eventHead(digests), recomputeEventHead(digests));
      }),
      { numRuns: 200 },
    );
  });

  it("changes when two events swap places", () => {
    fc.assert(
      fc.property(digest, digest, (a, b) => {
        fc.pre(a !== b);
        assert.notEqual(eventHead([a, b]), eventHead([b, a]));
      }),
    );
  });

  it("refuses a digest that is not 32 bytes", () => {
    assert.throws(() => eventHead(["0x1234"]), AppError);
  });
});
