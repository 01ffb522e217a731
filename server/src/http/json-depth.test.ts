import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { jsonNestingDepth } from "./app.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("JSON nesting depth", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    assert.equal(jsonNestingDepth(bytes("1")), 0);
    assert.equal(jsonNestingDepth(bytes('{"a":[1,{"b":[]}]}')), 4);
    assert.equal(jsonNestingDepth(bytes('{"a":"[[[[{{{{\\"]]]"}')), 1);
    assert.equal(jsonNestingDepth(bytes(`${"[".repeat(10_000)}${"]".repeat(10_000)}`)), 10_000);
  });

  it("equals the depth of any value JSON.stringify writes", () => {
    const depthOf = (value: unknown): number =>
      typeof value === "object" && value !== null
        ? 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf))
        : 0;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        assert.equal(jsonNestingDepth(bytes(JSON.stringify(value))), depthOf(value));
      }),
    );
  });
});
