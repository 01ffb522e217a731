import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import {
  NATIONAL_REGION_CODE,
  PROVINCES,
  isValidRegionCode,
  jurisdictionPrefix,
  narrowRegionPrefix,
  parseRegionCode,
  regionCodeToUint32,
  withinJurisdiction,
} from "./region.ts";

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isAppError(error, code));
}

void describe("GB/T 2260 region codes", () => {
  void it("know the 34 province-level divisions", () => {
    const expected = [
      11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62,
      63, 64, 65, 71, 81, 82,
    ];
    assert.deepEqual(Object.keys(PROVINCES).map(Number), expected);
    assert.equal(PROVINCES["42"]?.zh, "湖北省");
  });

  void it("split a county code into its province and prefecture (420111 Hongshan, Wuhan, Hubei)", () => {
    assert.deepEqual(parseRegionCode("420111"), {
      code: "420111",
      level: "county",
      provinceCode: "420000",
      prefectureCode: "420100",
      countyCode: "420111",
      province: { zh: "湖北省", en: "Hubei" },
    });
  });

  void it("recognise prefecture and province codes, and the ledger's integer form", () => {
    const wuhan = parseRegionCode("420100");
    assert.equal(wuhan.level, "prefecture");
    assert.equal(wuhan.countyCode, null);
    const hubei = parseRegionCode(420000);
    assert.equal(hubei.level, "province");
    assert.equal(hubei.prefectureCode, null);
    assert.equal(parseRegionCode("429004").prefectureCode, "429000"); // Xiantao, a county-level city under the province
    assert.equal(regionCodeToUint32("330782"), 330782);
  });

  void it("refuse malformed codes, unknown provinces and counties without a prefecture", () => {
    for (const bad of ["", "42011", "4201111", "42011a", " 420111", "４２０１１１"])
      throwsCode(() => parseRegionCode(bad), "region.format");
    throwsCode(() => parseRegionCode(42011), "region.format");
    throwsCode(() => parseRegionCode(4.2e5 + 0.5), "region.format");
    for (const bad of ["100000", "160100", "900000", "000000", "720000", "830000"])
      throwsCode(() => parseRegionCode(bad), "region.province");
    throwsCode(() => parseRegionCode("420011"), "region.structure");
    assert.equal(isValidRegionCode("110101"), true);
    assert.equal(isValidRegionCode("110001"), false);
  });

  void it("give a regulator's jurisdiction as the prefix its code fixes; national (000000) fixes none", () => {
    assert.equal(jurisdictionPrefix("330000"), "33");
    assert.equal(jurisdictionPrefix("330100"), "3301");
    assert.equal(jurisdictionPrefix("330106"), "330106");
    assert.equal(jurisdictionPrefix(NATIONAL_REGION_CODE), "");
    throwsCode(() => jurisdictionPrefix("990000"), "region.province");
    assert.equal(withinJurisdiction("3301", "330106"), true);
    assert.equal(withinJurisdiction("330106", "330110"), false);
    assert.equal(withinJurisdiction("330106", "530802"), false);
    assert.equal(withinJurisdiction("", "530802"), true);
  });

  void it("narrow a search's region to a jurisdiction, or to nothing when they are disjoint", () => {
    assert.equal(narrowRegionPrefix("3301", undefined), "3301");
    assert.equal(narrowRegionPrefix("3301", "33"), "3301", "a wider request is narrowed");
    assert.equal(narrowRegionPrefix("3301", "330106"), "330106", "a narrower request is kept");
    assert.equal(narrowRegionPrefix("3301", "53"), null);
    assert.equal(narrowRegionPrefix("", "53"), "53");
    assert.equal(narrowRegionPrefix("", undefined), "");
  });
});
