import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { regionName, romanisedDivision } from "./region-names.ts";

describe("region names", () => {
  it("names a county in Chinese and in romanised English, smallest first, with no bare code", () => {
    assert.deepEqual(regionName("330106"), { zh: "浙江省 杭州市 西湖区", en: "Xihu District, Hangzhou, Zhejiang" });
    assert.deepEqual(regionName("310101"), { zh: "上海市 黄浦区", en: "Huangpu District, Shanghai" });
    assert.deepEqual(regionName("330100"), { zh: "浙江省 杭州市", en: "Hangzhou, Zhejiang" });
    assert.deepEqual(regionName("330000"), { zh: "浙江省", en: "Zhejiang" });
  });

  it("translates the kind of division and keeps a county-level city's 'City'", () => {
    assert.equal(romanisedDivision("余杭区", "county"), "Yuhang District");
    assert.equal(romanisedDivision("安吉县", "county"), "Anji County");
    assert.equal(romanisedDivision("阿拉善左旗", "county"), "Alashanzuo Banner");
    assert.equal(romanisedDivision("恩施市", "county"), "Enshi City");
    assert.equal(romanisedDivision("恩施市", "prefecture"), "Enshi");
  });

  it("has no name for a code that is not GB/T 2260", () => {
    assert.equal(regionName("999999"), null);
    assert.equal(regionName("33010"), null);
  });
});
