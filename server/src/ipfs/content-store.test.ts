import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { base36 } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";

import { ContentError, meterSource, parseCid, resolveRange } from "./content-store.ts";

function kindOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof ContentError ? error.kind : `not a ContentError: ${String(error)}`;
  }
  return undefined;
}

void describe("parseCid", () => {
  // One CID (raw, sha2-256 of "hello world\n") in the multibases a URL may carry; the
  // base16 form spells out the CID bytes: 01 (v1) 55 (raw) 12 (sha2-256) 20 (32 bytes) digest.
  const canonical = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

  void it("accepts CIDv1 in any multibase and CIDv0", () => {
    assert.equal(parseCid(canonical).toString(), canonical);
    assert.equal(parseCid(canonical.toUpperCase()).toString(), canonical);
    assert.equal(
      parseCid("f01551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447").toString(),
      canonical,
    );
    // base36 is what subdomain gateways use, base58btc what older tools print.
    assert.equal(parseCid(parseCid(canonical).toString(base36)).toString(), canonical);
    assert.equal(parseCid(parseCid(canonical).toString(base58btc)).toString(), canonical);
    const v0 = parseCid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
    assert.equal(v0.version, 0);
  });

  void it("refuses anything else as cid_malformed", () => {
    for (const text of [
      "",
      "hello",
      "Qm",
      "bafy",
      `b${"a".repeat(300)}`,
      "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0",
      "🚀",
    ]) {
      assert.equal(
        kindOf(() => parseCid(text)),
        "cid_malformed",
        text,
      );
    }
  });
});

void describe("resolveRange", () => {
  void it("defaults to the whole file and clamps the length", () => {
    assert.deepEqual(resolveRange(10, {}), { start: 0, end: 10 });
    assert.deepEqual(resolveRange(10, { offset: 4 }), { start: 4, end: 10 });
    assert.deepEqual(resolveRange(10, { offset: 4, length: 100 }), { start: 4, end: 10 });
    assert.deepEqual(resolveRange(10, { offset: 10 }), { start: 10, end: 10 });
  });

  void it("refuses impossible offsets and lengths", () => {
    assert.equal(
      kindOf(() => resolveRange(10, { offset: 11 })),
      "invalid_argument",
    );
    assert.equal(
      kindOf(() => resolveRange(10, { offset: -1 })),
      "invalid_argument",
    );
    assert.equal(
      kindOf(() => resolveRange(10, { length: -1 })),
      "invalid_argument",
    );
    assert.equal(
      kindOf(() => resolveRange(10, { offset: 0.5 })),
      "invalid_argument",
    );
  });
});

void describe("meterSource", () => {
  void it("counts bytes and stops with too_large once past the limit", async () => {
    const metered = meterSource([new Uint8Array(6), new Uint8Array(0), new Uint8Array(4)], 10, undefined);
    let seen = 0;
    for await (const chunk of metered) seen += chunk.length;
    assert.equal(seen, 10);
    assert.equal(metered.bytesSoFar(), 10);
    const over = meterSource([new Uint8Array(6), new Uint8Array(5)], 10, undefined);
    await assert.rejects(
      async () => {
        for await (const _chunk of over) {
          // drain
        }
      },
      (error: unknown) => error instanceof ContentError && error.kind === "too_large",
    );
  });

  void it("refuses chunks that are not bytes", async () => {
    const metered = meterSource(["text" as unknown as Uint8Array], undefined, undefined);
    await assert.rejects(async () => {
      for await (const _chunk of metered) {
        // drain
      }
    }, TypeError);
  });
});
