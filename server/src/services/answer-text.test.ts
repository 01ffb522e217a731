import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { joinText, objectClosing, objectOpening, scriptSafeJson, sharedText } from "./answer-text.ts";

describe("answer text in pieces", () => {
  it("joins an opening and a closing into the text of both objects' members", () => {
    const shared = { type: "t", nested: { a: [1, 2] }, text: "</script><b>" };
    const own = { serial: "0001", proof: ["0x1"], note: null };
    const text = joinText([sharedText(objectOpening(shared)), objectClosing(own)]);
    assert.deepEqual(JSON.parse(text), { ...shared, ...own });
    assert.deepEqual(Object.keys(JSON.parse(text) as object), [...Object.keys(shared), ...Object.keys(own)]);
  });

  it("never lets a value close the script element it is inlined in", () => {
    const value = { text: "</script><script>alert(1)</script>", more: "a<b" };
    const text = scriptSafeJson(value);
    assert.ok(!text.includes("<"));
    assert.deepEqual(JSON.parse(text), value);
    assert.ok(!objectOpening(value).includes("<"));
    assert.ok(!objectClosing(value).includes("<"));
  });

  it("refuses to split an object without members", () => {
    assert.throws(() => objectOpening({}), TypeError);
    assert.throws(() => objectClosing({}), TypeError);
  });
});
