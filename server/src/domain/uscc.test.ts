import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { USCC_ALPHABET, isValidUscc, normalizeUsccInput, parseUscc, usccCheckCharacter } from "./uscc.ts";

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isAppError(error, code));
}

/**
 * Published codes: GB 32100-2015's own example, and those of Huawei Technologies,
 * Shenzhen Tencent Computer Systems, Alibaba (China) and China Mobile Communications
 * Group as shown on their business licences.
 */
const PUBLISHED = [
  "91350100M000100Y43",
  "914403001922038216",
  "91440300708461136T",
  "91330100799655058B",
  "91110000710925243K",
];

void describe("unified social credit code", () => {
  void it("has the 31-character alphabet without I, O, Z, S, V", () => {
    assert.equal(USCC_ALPHABET.length, 31);
    for (const letter of "IOZSV") assert.ok(!USCC_ALPHABET.includes(letter));
  });

  void it("accepts published codes", () => {
    for (const code of PUBLISHED) assert.equal(isValidUscc(code), true, code);
  });

  void it("computes the standard's example check character as worked by hand", () => {
    // 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M(21)·20 + 0·29 + 0·25 + 0·13
    // + 1·8 + 0·24 + 0·10 + Y(30)·30 + 4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3.
    assert.equal(usccCheckCharacter("91350100M000100Y4"), "3");
  });

  void it("splits a code into its parts", () => {
    const parts = parseUscc("91350100M000100Y43");
    assert.equal(parts.registrationAuthority, "9");
    assert.equal(parts.category, "1");
    assert.equal(parts.regionCode, "350100");
    assert.equal(parts.organisationCode, "M000100Y4");
    assert.equal(parts.isFarmerCooperative, false);
    assert.equal(parts.categoryName?.en, "enterprise");
  });

  void it("recognises a farmer cooperative by its prefix 93", () => {
    const first17 = "93330782MA2EC4XX1";
    const code = first17 + usccCheckCharacter(first17);
    const parts = parseUscc(code);
    assert.equal(parts.isFarmerCooperative, true);
    assert.equal(parts.categoryName?.zh, "农民专业合作社");
  });

  void it("rejects a corrupted code: any changed character, or two swapped neighbours", () => {
    throwsCode(() => parseUscc("91350100M000100Y44"), "uscc.check_character");
    throwsCode(() => parseUscc("91350100M000100Y34"), "uscc.check_character");
    fc.assert(
      fc.property(
        fc.constantFrom(...PUBLISHED),
        fc.nat(17),
        fc.integer({ min: 1, max: 30 }),
        (code, position, shift) => {
          const replaced = USCC_ALPHABET.charAt((USCC_ALPHABET.indexOf(code.charAt(position)) + shift) % 31);
          const changed = code.slice(0, position) + replaced + code.slice(position + 1);
          assert.equal(isValidUscc(changed), false, changed);
        },
      ),
    );
  });

  void it("refuses wrong lengths, characters and region parts with their own codes", () => {
    throwsCode(() => parseUscc("91350100M000100Y4"), "uscc.length");
    throwsCode(() => parseUscc("91350100M000100Y433"), "uscc.length");
    throwsCode(() => parseUscc("91350100M0001O0Y43"), "uscc.charset");
    throwsCode(() => parseUscc("91350100m000100Y43"), "uscc.charset");
    const badRegion = "913501A0M000100Y4";
    throwsCode(() => parseUscc(badRegion + usccCheckCharacter(badRegion)), "uscc.region_format");
  });

  void it("normalises typed input", () => {
    assert.equal(normalizeUsccInput(" 9135 0100m000100y43 "), "91350100M000100Y43");
  });
});
