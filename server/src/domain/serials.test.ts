import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import { CSET82, validateSerial } from "./gs1.ts";
import {
  SERIAL_ALPHABET,
  SERIAL_ENTROPY_BITS,
  SERIAL_LENGTH,
  VERIFICATION_CODE_ENTROPY_BITS,
  deriveVerificationCode,
  generateSerial,
  generateSerials,
  generateVerificationCode,
  isIssuedSerial,
  normalizeSerialInput,
  normalizeVerificationCode,
  verificationCodeDigest,
  verifyVerificationCode,
  type RandomSource,
} from "./serials.ts";

/** A random source that hands out the given bytes in order. */
function fixedBytes(...chunks: number[][]): RandomSource {
  const queue = chunks.flat();
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = queue.shift() ?? 0;
  };
}

/**
 * Chi-square statistic of observed counts against a uniform expectation. Thresholds in
 * the tests are the p = 10⁻⁶ quantiles (31 degrees of freedom: 84; 9: 46), so a correct
 * generator fails about once in a million runs.
 */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

void describe("serials", () => {
  void it("are Crockford base32, 13 characters, 65 bits", () => {
    assert.equal(SERIAL_ALPHABET, "0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    assert.equal(SERIAL_ALPHABET.length, 32);
    assert.equal(SERIAL_LENGTH, 13);
    assert.equal(SERIAL_ENTROPY_BITS, 65);
  });

  void it("are valid AI (21) values and need no escaping in a URL", () => {
    for (const character of SERIAL_ALPHABET) {
      assert.ok(CSET82.includes(character));
      assert.equal(encodeURIComponent(character), character);
    }
    for (let i = 0; i < 100; i++) {
      const serial = generateSerial();
      assert.equal(validateSerial(serial), serial);
      assert.equal(encodeURIComponent(serial), serial);
    }
  });

  void it("take 5 bits per character from the random bytes, most significant first", () => {
    assert.equal(generateSerial(fixedBytes(new Array<number>(9).fill(0))), "0000000000000");
    assert.equal(generateSerial(fixedBytes(new Array<number>(9).fill(0xff))), "ZZZZZZZZZZZZZ");
    // 0x08 0x42 0x10 0x84 0x21 is 00001 repeated eight times.
    assert.equal(generateSerial(fixedBytes([0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84])), "1111111111111");
    // 0xF8 = 11111 000: the first character is Z (31), the rest 0.
    assert.equal(generateSerial(fixedBytes([0xf8, 0, 0, 0, 0, 0, 0, 0, 0])), "Z000000000000");
  });

  void it("do not repeat over 200,000 draws and are uniform in every position", () => {
    const draws = generateSerials(200_000);
    assert.equal(new Set(draws).size, draws.length);
    for (let position = 0; position < SERIAL_LENGTH; position++) {
      const counts = new Array<number>(32).fill(0);
      for (const serial of draws) {
        const value = SERIAL_ALPHABET.indexOf(serial.charAt(position));
        counts[value] = (counts[value] ?? 0) + 1;
      }
      assert.ok(chiSquare(counts) < 84, `position ${position}: χ² = ${chiSquare(counts)}`);
    }
  });

  void it("redraws a repeat instead of issuing it twice", () => {
    const same = new Array<number>(9).fill(7);
    const random = fixedBytes(same, same, new Array<number>(9).fill(8));
    const serials = generateSerials(2, random);
    assert.equal(serials.length, 2);
    assert.notEqual(serials[0], serials[1]);
  });

  void it("read back any issued serial typed in lower case with spaces and hyphens", () => {
    const issued = fc.string({ unit: fc.constantFrom(...Array.from(SERIAL_ALPHABET)), minLength: 13, maxLength: 13 });
    fc.assert(
      fc.property(
        issued,
        fc.array(fc.tuple(fc.nat(13), fc.constantFrom(" ", "-")), { maxLength: 4 }),
        (serial, separators) => {
          let typed = serial.toLowerCase();
          for (const [at, separator] of separators) typed = typed.slice(0, at) + separator + typed.slice(at);
          assert.equal(normalizeSerialInput(typed), serial);
        },
      ),
    );
  });

  void it("read typed input the Crockford way", () => {
    assert.equal(normalizeSerialInput("7k3m-9qx2 d4hjw"), "7K3M9QX2D4HJW");
    assert.equal(normalizeSerialInput("oIL0000000000"), "0110000000000");
    for (const bad of ["", "7K3M9QX2D4HJ", "7K3M9QX2D4HJWX", "7K3M9QX2D4HJU", "7K3M9QX2D4HJ#"]) {
      assert.throws(
        () => normalizeSerialInput(bad),
        (error) => isAppError(error, "serial.format"),
      );
    }
    assert.equal(isIssuedSerial("7K3M9QX2D4HJW"), true);
    assert.equal(isIssuedSerial("7k3m9qx2d4hjw"), false);
  });
});

void describe("verification codes", () => {
  const pepper = new Uint8Array(32).map((_, i) => i + 1);
  const serial = "7K3M9QX2D4HJW";

  void it("are 8 digits, about 26.6 bits", () => {
    assert.ok(Math.abs(VERIFICATION_CODE_ENTROPY_BITS - 26.575) < 0.001);
    for (let i = 0; i < 1000; i++) assert.match(generateVerificationCode(), /^[0-9]{8}$/);
  });

  void it("map random words to codes without bias, rejecting the top of the range", () => {
    assert.equal(generateVerificationCode(fixedBytes([0, 0, 0, 0])), "00000000");
    assert.equal(generateVerificationCode(fixedBytes([0x05, 0xf5, 0xe1, 0x00])), "00000000"); // 10^8
    assert.equal(generateVerificationCode(fixedBytes([0xfa, 0x56, 0xea, 0x00], [0, 0, 0, 42])), "00000042"); // 4.2 × 10^9 is rejected
    assert.equal(generateVerificationCode(fixedBytes([0xfa, 0x56, 0xe9, 0xff])), "99999999"); // 4.2 × 10^9 − 1
  });

  void it("are uniform in every digit and rarely repeat", () => {
    const codes = Array.from({ length: 50_000 }, () => generateVerificationCode());
    for (let position = 0; position < 8; position++) {
      const counts = new Array<number>(10).fill(0);
      for (const code of codes) {
        const digit = Number(code.charAt(position));
        counts[digit] = (counts[digit] ?? 0) + 1;
      }
      assert.ok(chiSquare(counts) < 46, `digit ${position}: χ² = ${chiSquare(counts)}`);
    }
    // Expected repeats among 50,000 draws of 10^8: about 12.5; far more means a weak source.
    assert.ok(codes.length - new Set(codes).size < 60);
  });

  void it("are stored as HMAC-SHA256(pepper, label ‖ 0 ‖ serial ‖ 0 ‖ code), never in clear", () => {
    const expected = createHmac("sha256", pepper)
      .update(`oioc:verification-code:v1\u0000${serial}\u000012345678`)
      .digest("hex");
    const digest = verificationCodeDigest(pepper, serial, "1234 5678");
    assert.equal(digest, expected);
    assert.ok(!digest.includes("12345678"));
  });

  void it("verify the right code only, for its own serial and pepper", () => {
    const digest = verificationCodeDigest(pepper, serial, "12345678");
    assert.equal(verifyVerificationCode(pepper, serial, "12345678", digest), true);
    assert.equal(verifyVerificationCode(pepper, serial, "1234-5678", digest), true);
    assert.equal(verifyVerificationCode(pepper, serial, "１２３４５６７８", digest), true);
    assert.equal(verifyVerificationCode(pepper, serial, "12345678", digest.toUpperCase()), true);
    assert.equal(verifyVerificationCode(pepper, serial, "12345679", digest), false);
    assert.equal(verifyVerificationCode(pepper, "7K3M9QX2D4HJX", "12345678", digest), false);
    assert.equal(
      verifyVerificationCode(
        pepper.map((b) => b ^ 1),
        serial,
        "12345678",
        digest,
      ),
      false,
    );
    assert.equal(verifyVerificationCode(pepper, serial, "1234567", digest), false);
    assert.equal(verifyVerificationCode(pepper, serial, "12345678", digest.slice(2)), false);
    assert.equal(verifyVerificationCode(pepper, serial, "12345678", "zz".repeat(32)), false);
  });

  void it("match only the exact code", () => {
    const code = fc.stringMatching(/^[0-9]{8}$/);
    fc.assert(
      fc.property(code, code, (stored, typed) => {
        const digest = verificationCodeDigest(pepper, serial, stored);
        assert.equal(verifyVerificationCode(pepper, serial, typed, digest), typed === stored);
      }),
      { numRuns: 200 },
    );
  });

  void it("refuse a short pepper and a malformed code", () => {
    const short = new Uint8Array(31);
    assert.throws(
      () => verificationCodeDigest(short, serial, "12345678"),
      (error) => isAppError(error, "serial.pepper_too_short"),
    );
    assert.throws(
      () => verifyVerificationCode(short, serial, "12345678", "00".repeat(32)),
      (error) => isAppError(error, "serial.pepper_too_short"),
    );
    for (const bad of ["", "1234567", "123456789", "1234567a"]) {
      assert.throws(
        () => normalizeVerificationCode(bad),
        (error) => isAppError(error, "serial.verification_code_format"),
      );
    }
  });
});

describe("derived verification codes", () => {
  const pepper = new Uint8Array(32).fill(9);
  const batchId = `0x${"ab".repeat(32)}`;

  it("are 8 digits, stable for an item, different across items, batches and peppers", () => {
    const code = deriveVerificationCode(pepper, batchId, "7KX2M9QPA4RTB");
    assert.match(code, /^[0-9]{8}$/);
    assert.equal(deriveVerificationCode(pepper, batchId.toUpperCase().replace("0X", "0x"), "7KX2M9QPA4RTB"), code);
    assert.notEqual(deriveVerificationCode(pepper, batchId, "7KX2M9QPA4RTC"), code);
    assert.notEqual(deriveVerificationCode(pepper, `0x${"cd".repeat(32)}`, "7KX2M9QPA4RTB"), code);
    assert.notEqual(deriveVerificationCode(new Uint8Array(32).fill(8), batchId, "7KX2M9QPA4RTB"), code);
  });

  it("verify against their stored digest", () => {
    const code = deriveVerificationCode(pepper, batchId, "SERIAL0000001");
    const digest = verificationCodeDigest(pepper, "SERIAL0000001", code);
    assert.equal(verifyVerificationCode(pepper, "SERIAL0000001", code, digest), true);
  });

  it("spread over the digits (no constant output)", () => {
    const firstDigits = new Set<string>();
    for (let i = 0; i < 200; i++) firstDigits.add(deriveVerificationCode(pepper, batchId, `S${i}`).charAt(0));
    assert.equal(firstDigits.size, 10);
  });
});
