import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { gunzipSync, inflateRawSync } from "node:zlib";

import { firstPiece, followingPiece, gzipMember, storedBlocks } from "./gzip-pieces.ts";

const text = (length: number, seed = "页面"): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => `${seed}${String(i % 97)}`).join(""), "utf8").subarray(0, length);

describe("gzip from pieces of one deflate stream", () => {
  it("decodes (stream, CRC-32 and length checked by zlib) to the pieces' text in order", () => {
    for (const [opening, shared, rest] of [
      [text(4_600), text(17_000, "批次"), text(900, "item")],
      [text(1), text(1), Buffer.alloc(0)],
      [randomBytes(3_000), randomBytes(40_000), randomBytes(70_000)],
    ] as const) {
      const first = firstPiece(opening);
      const second = followingPiece(first, shared);
      const member = gzipMember([first, second], rest);
      assert.deepEqual(gunzipSync(member), Buffer.concat([opening, shared, rest]));
    }
  });

  it("compresses the shared pieces and carries the response's own bytes as they are", () => {
    const first = firstPiece(text(20_000));
    assert.ok(first.deflated.byteLength < 20_000 / 4, "shared text compressed");
    const own = randomBytes(1_000);
    const member = gzipMember([first], own);
    assert.ok(member.includes(own), "own bytes stored, not compressed");
  });

  it("frames stored blocks at their 65,535-byte bound, the last one final", () => {
    for (const length of [0, 1, 65_535, 65_536, 200_000]) {
      const bytes = randomBytes(length);
      const blocks = storedBlocks(bytes, true);
      assert.equal(blocks.byteLength, length + 5 * Math.max(1, Math.ceil(length / 65_535)));
      assert.deepEqual(inflateRawSync(blocks), bytes);
    }
    // Not final: a decoder still waits for the end of the stream.
    assert.throws(() => inflateRawSync(storedBlocks(randomBytes(10), false), { finishFlush: 4 }), /unexpected end/);
  });

  it("is refused by zlib when a byte of the text changes after its CRC was carried", () => {
    const first = firstPiece(text(5_000));
    const member = gzipMember([first], Buffer.from("own"));
    const tampered = Buffer.from(member);
    // The last byte of the stored text, just before the 8-byte trailer.
    const at = tampered.length - 9;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0xff, at);
    assert.throws(() => gunzipSync(tampered));
  });
});
