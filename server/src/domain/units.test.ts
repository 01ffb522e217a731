import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { UINT64_MAX, formatQuantityMilli, massMilligrams, quantityMilli, unitCode, unitFromCode } from "./units.ts";

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isAppError(error, code));
}

void describe("unit codes", () => {
  void it("are UN/CEFACT Rec 20 codes, packages as Rec 21 codes with X", () => {
    const expected: Record<string, string> = {
      kg: "KGM",
      g: "GRM",
      t: "TNE",
      piece: "H87",
      bag: "XBG",
      box: "XBX",
      crate: "XCR",
      case: "XCS",
      carton: "XCT",
      sack: "XSA",
      litre: "LTR",
    };
    for (const [name, code] of Object.entries(expected)) {
      assert.equal(unitCode(name), code);
      assert.equal(unitFromCode(code), name);
    }
  });

  void it("refuse units we do not record, including Rec 20's deleted package codes", () => {
    for (const name of ["KG", "pound", "", "toString", "__proto__"])
      throwsCode(() => unitCode(name), "units.unknown_unit");
    for (const code of ["BX", "BG", "CS", "kgm", "EA"]) throwsCode(() => unitFromCode(code), "units.unknown_unit");
  });
});

void describe("quantityMilli", () => {
  void it("reads decimals exactly, without floating point", () => {
    assert.equal(quantityMilli("1234.567"), 1_234_567n);
    assert.equal(quantityMilli("0.001"), 1n);
    assert.equal(quantityMilli("12"), 12_000n);
    assert.equal(quantityMilli("0.1"), 100n);
    assert.equal(quantityMilli("007.50"), 7_500n);
    assert.equal(quantityMilli(" 2.5 "), 2_500n);
    assert.equal(quantityMilli("1.2500"), 1_250n);
    // 0.1 + 0.2 in binary floating point is 0.30000000000000004; the text route is exact.
    assert.equal(quantityMilli("0.3"), quantityMilli("0.1") + quantityMilli("0.2"));
  });

  void it("reaches exactly uint64 and not beyond", () => {
    assert.equal(quantityMilli("18446744073709551.615"), UINT64_MAX);
    throwsCode(() => quantityMilli("18446744073709551.616"), "units.quantity_overflow");
    throwsCode(() => quantityMilli("18446744073709552"), "units.quantity_overflow");
    throwsCode(() => quantityMilli("9".repeat(400)), "units.quantity_overflow");
  });

  void it("refuses more than 3 decimals, negatives, zero and anything but plain decimals", () => {
    throwsCode(() => quantityMilli("1.2345"), "units.quantity_precision");
    throwsCode(() => quantityMilli("0.0001"), "units.quantity_precision");
    throwsCode(() => quantityMilli("-1"), "units.quantity_negative");
    throwsCode(() => quantityMilli("-0.5"), "units.quantity_negative");
    throwsCode(() => quantityMilli("0"), "units.quantity_zero");
    throwsCode(() => quantityMilli("0.000"), "units.quantity_zero");
    assert.equal(quantityMilli("0", { allowZero: true }), 0n);
    for (const bad of ["", "1,5", "1e3", ".5", "5.", "+5", "0x10", "1 000", "NaN", "Infinity", "1.2.3", "１２"]) {
      throwsCode(() => quantityMilli(bad), "units.quantity_format");
    }
  });

  void it("round-trips with formatQuantityMilli", () => {
    assert.equal(formatQuantityMilli(1_234_500n), "1234.5");
    assert.equal(formatQuantityMilli(7n), "0.007");
    assert.equal(formatQuantityMilli(12_000n), "12");
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: UINT64_MAX }), (milli) => {
        assert.equal(quantityMilli(formatQuantityMilli(milli)), milli);
      }),
    );
  });

  void it("adds masses across kg, g and t exactly", () => {
    assert.equal(massMilligrams(quantityMilli("1.5"), "t"), 1_500_000_000n);
    assert.equal(massMilligrams(quantityMilli("2.25"), "kg"), 2_250_000n);
    assert.equal(massMilligrams(quantityMilli("0.001"), "g"), 1n);
    assert.equal(massMilligrams(quantityMilli("3"), "box"), undefined);
  });
});
