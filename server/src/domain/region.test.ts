import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { PROVINCES, isValidRegionCode, parseRegionCode, regionCodeToUint32 } from "./region.ts";

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
});
