import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { getBytes, hexlify } from "ethers";
import fc from "fast-check";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

import { cidBytesFromText, cidMatchesBytes, cidTextFromHex } from "./cid.ts";
import { AppError } from "../errors/app-error.ts";

async function rawCid(bytes: Uint8Array): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(bytes));
}

describe("document CIDs", () => {
  it("matches the bytes multiformats hashed, and converts between text and binary as multiformats does", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_000 }), async (bytes) => {
        const cid = await rawCid(bytes);
        assert.equal(await cidMatchesBytes(cid.toString(), bytes), true);
        assert.equal(cidTextFromHex(hexlify(cid.bytes)), cid.toString());
        assert.deepEqual(cidBytesFromText(cid.toString()), cid.bytes);
      }),
      { numRuns: 200 },
    );
  });

  it("does not match changed bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.nat(), async (bytes, at) => {
        const cid = await rawCid(bytes);
        const changed = Uint8Array.from(bytes);
        const index = at % changed.length;
        changed[index] = (changed[index] ?? 0) ^ 1;
        assert.equal(await cidMatchesBytes(cid.toString(), changed), false);
      }),
      { numRuns: 100 },
    );
  });

  it("answers false for CIDs it cannot check: dag-pb, CIDv0, other bases, garbage", async () => {
    const bytes = new TextEncoder().encode("hello");
    const digest = await sha256.digest(bytes);
    assert.equal(await cidMatchesBytes(CID.create(1, 0x70, digest).toString(), bytes), false);
    assert.equal(await cidMatchesBytes(CID.createV0(digest).toString(), bytes), false);
    assert.equal(await cidMatchesBytes((await rawCid(bytes)).toString().toUpperCase(), bytes), false);
    assert.equal(await cidMatchesBytes("bafy!!", bytes), false);
    assert.equal(await cidMatchesBytes("", bytes), false);
  });

  it("names any binary CID in text as multiformats does (CIDv0 as CIDv1 dag-pb), for the server and the CLI", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(raw.code, 0x70, 0x71, 0x0129, 0xb220),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        async (codec, bytes, v0) => {
          const digest = await sha256.digest(bytes);
          const cid = v0 ? CID.createV0(digest) : CID.create(1, codec, digest);
          assert.equal(cidTextFromHex(hexlify(cid.bytes)), cid.toV1().toString());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses bytes that are not one whole CID, as multiformats does", async () => {
    const hex = hexlify((await rawCid(new TextEncoder().encode("hello"))).bytes);
    for (const bad of ["0x", hex.slice(0, -2), `${hex}00`, `0x02${hex.slice(4)}`, "0x0155ff"]) {
      assert.throws(() => cidTextFromHex(bad), AppError, bad);
      assert.throws(() => CID.decode(getBytes(bad)), Error, bad);
    }
    assert.throws(() => cidTextFromHex("nothex"), AppError);
  });
});
