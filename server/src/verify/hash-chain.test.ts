import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, hexlify, keccak256, toUtf8Bytes } from "ethers";
import fc from "fast-check";

import { AppError } from "../errors/app-error.ts";
import { eventHead } from "./hash-chain.ts";

const ZERO_HEAD = `0x${"00".repeat(32)}`;
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes));

/** The registry's link, written as the contract reads: `keccak256(abi.encode(previousHead, eventDigest))`, by ethers. */
function link(previous: string, next: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [previous, next]));
}

describe("eventHead", () => {
  it("starts from the zero hash, as a new BatchRecord does", () => {
    assert.equal(eventHead([]), ZERO_HEAD);
  });

  it("links each digest as keccak256(abi.encode(previous, digest)), as ethers encodes it, for random chains", () => {
    const d1 = keccak256(toUtf8Bytes("first event"));
    const d2 = keccak256(toUtf8Bytes("second event"));
    assert.equal(eventHead([d1, d2]), link(link(ZERO_HEAD, d1), d2));
    fc.assert(
      fc.property(fc.array(digest, { maxLength: 30 }), (digests) => {
        assert.equal(eventHead(digests), digests.reduce(link, ZERO_HEAD));
      }),
      { numRuns: 200 },
    );
  });

  it("changes when an event is dropped, added or two swap places", () => {
    fc.assert(
      fc.property(fc.array(digest, { minLength: 2, maxLength: 8 }), digest, fc.nat(), (digests, extra, at) => {
        const head = eventHead(digests);
        const position = at % digests.length;
        assert.notEqual(eventHead(digests.toSpliced(position, 1)), head);
        assert.notEqual(eventHead(digests.toSpliced(position, 0, extra)), head);
        const swapped = digests.with(0, digests[1] ?? "").with(1, digests[0] ?? "");
        if (digests[0] !== digests[1]) assert.notEqual(eventHead(swapped), head);
      }),
    );
  });

  it("refuses a digest that is not 32 bytes of hex", () => {
    for (const bad of ["0x1234", "deadbeef", `0x${"zz".repeat(32)}`, "00".repeat(32)]) {
      assert.throws(() => eventHead([bad]), AppError, bad);
    }
  });
});
