import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import { blockRandom, verificationCodeHasher } from "./serials-fast.ts";
import { deriveVerificationCode, generateSerials, verificationCodeDigest } from "./serials.ts";

const pepper = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

void describe("serials-fast", () => {
  it("derives the same hidden codes and digests as serials.ts, for any serial and batch", async () => {
    const hasher = await verificationCodeHasher(pepper);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (serial, id) => {
          const batchId = `0x${Buffer.from(id).toString("hex")}`;
          const code = deriveVerificationCode(pepper, batchId, serial);
          assert.equal(hasher.derive(batchId, serial), code);
          assert.equal(hasher.derive(batchId.toUpperCase().replace("0X", "0x"), serial), code);
          assert.equal(hasher.digest(serial, code), verificationCodeDigest(pepper, serial, code));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses a short pepper as serials.ts does", async () => {
    await assert.rejects(verificationCodeHasher(new Uint8Array(31)), (error) =>
      isAppError(error, "serial.pepper_too_short"),
    );
  });

  it("reads randomness in blocks, passing the source's bytes through in order", () => {
    // A seeded stream cipher stands in for the CSPRNG: the block reader must pass its bytes through in order.
    const seeded = (): ((bytes: Uint8Array) => void) => {
      const cipher = createCipheriv("chacha20", Buffer.alloc(32, 3), Buffer.alloc(16));
      return (bytes) => {
        bytes.set(cipher.update(Buffer.alloc(bytes.length)));
      };
    };
    // A 64 KiB block serves 7,281 nine-byte serials; its 7-byte tail is skipped, never reused.
    const perBlock = Math.floor(65_536 / 9);
    const direct = generateSerials(perBlock, seeded());
    const blocked = generateSerials(3 * perBlock, blockRandom(seeded()));
    assert.deepEqual(blocked.slice(0, perBlock), direct);
    assert.equal(new Set(blocked).size, 3 * perBlock);
  });

  it("draws distinct serials from the real CSPRNG in blocks", () => {
    const serials = generateSerials(50_000, blockRandom());
    assert.equal(new Set(serials).size, 50_000);
    assert.ok(serials.every((serial) => /^[0-9A-HJKMNP-TV-Z]{13}$/.test(serial)));
  });
});
