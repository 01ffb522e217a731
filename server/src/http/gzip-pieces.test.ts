import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { gunzipSync, inflateRawSync } from "node:zlib";

import { firstPiece, followingPiece, gzipMember } from "./gzip-pieces.ts";

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

  it("compresses the shared pieces once and the response's own bytes alone, as the stream's end", () => {
    const first = firstPiece(text(20_000));
    assert.ok(first.deflated.byteLength < 20_000 / 4, "shared text compressed");
    // A shared piece ends byte-aligned and not final: a decoder still waits for the end.
    assert.throws(() => inflateRawSync(first.deflated, { finishFlush: 4 }), /unexpected end/);
    const own = Buffer.from(`{"proof":["0x${randomBytes(32).toString("hex")}"],"uri":"${"/01/x".repeat(40)}"}`);
    const member = gzipMember([first], own);
    assert.ok(member.byteLength < first.deflated.byteLength + own.byteLength, "own bytes compressed too");
    assert.deepEqual(gunzipSync(member), Buffer.concat([text(20_000), own]));
  });

  it("is refused by zlib when a byte of the text changes after its CRC was carried", () => {
    const first = firstPiece(text(5_000));
    const member = gzipMember([first], Buffer.from("own"));
    const tampered = Buffer.from(member);
    // The last byte of the compressed own text, just before the 8-byte trailer.
    const at = tampered.length - 9;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0xff, at);
    assert.throws(() => gunzipSync(tampered));
  });
});
