import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, keccak256 } from "ethers";

import { AppError } from "../errors/app-error.ts";
import { containerKeyOf, normalizeSscc, ssccCheckDigit, ssccFor, ssccUri } from "./sscc.ts";

const code = (error: unknown): string => (error instanceof AppError ? String(error.code) : String(error));

describe("SSCC", () => {
  it("takes GS1's published example 106141411234567897, with or without its AI or as a Digital Link", () => {
    // Check digit by hand (GS1 General Specifications 7.9): the 17 digits 1 0 6 1 4 1 4 1 1 2 3 4 5 6 7 8 9
    // weighted 3, 1, 3, ... from the right: 27+8+21+6+15+4+9+2+3+1+12+1+12+1+18+0+3 = 143; 150 - 143 = 7.
    assert.equal(ssccCheckDigit("10614141123456789"), 7);
    for (const written of [
      "106141411234567897",
      "00106141411234567897",
      "(00)106141411234567897",
      "https://id.gs1.org/00/106141411234567897",
    ]) {
      assert.equal(normalizeSscc(written), "106141411234567897", written);
    }
    assert.equal(ssccUri("106141411234567897"), "https://id.gs1.org/00/106141411234567897");
  });

  it("refuses a wrong check digit and anything that is not 18 digits", () => {
    assert.throws(
      () => normalizeSscc("106141411234567898"),
      (error) => code(error) === "gs1.check_digit",
    );
    for (const bad of ["10614141123456789", "1061414112345678970", "10614141123456789X", "", "01/106141411234567897"]) {
      assert.throws(
        () => normalizeSscc(bad),
        (error) => code(error) === "container.sscc_invalid",
        bad,
      );
    }
  });

  it("keys a container as the registry does: keccak256(abi.encode(uint64 sscc))", () => {
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(["uint64"], [106141411234567897n]));
    assert.equal(containerKeyOf("106141411234567897"), expected);
    assert.notEqual(containerKeyOf("006141411234567891"), expected);
  });

  it("numbers SSCCs under a company prefix with their check digit, and runs out loudly", () => {
    assert.equal(ssccFor(1, "0614141", 123456789n), "106141411234567897");
    assert.equal(normalizeSscc(ssccFor(3, "6901234", 42n)), ssccFor(3, "6901234", 42n));
    assert.throws(
      () => ssccFor(0, "6901234", 10n ** 9n),
      (error) => code(error) === "container.sscc_exhausted",
    );
  });
});
