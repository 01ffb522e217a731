/** What the consoles' "读出来 / Read aloud" buttons say: codes digit by digit, quantities as numbers, units spoken. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { spokenCode, spokenNumber, utteranceText, zhInteger } from "../../scanner-web/console/src/shared/spoken.ts";

describe("read aloud: the text spoken", () => {
  it("reads a code one character at a time, digits as words, symbols by name", () => {
    assert.equal(spokenCode("FIELD-1", "zh"), "F I E L D 杠 一");
    assert.equal(spokenCode("FIELD-1", "en"), "F I E L D dash one");
    assert.equal(spokenCode("06901234567892", "zh"), "零 六 九 零 一 二 三 四 五 六 七 八 九 二");
    assert.equal(spokenCode("l2.b/7", "en"), "L two dot B slash seven");
    assert.equal(spokenCode("  A1 ", "zh"), "A 一");
  });

  it("says whole numbers in Chinese as they are spoken", () => {
    const cases: [string, string][] = [
      ["0", "零"],
      ["7", "七"],
      ["10", "十"],
      ["12", "十二"],
      ["20", "二十"],
      ["110", "一百一十"],
      ["1005", "一千零五"],
      ["1000", "一千"],
      ["10005", "一万零五"],
      ["20010", "二万零一十"],
      ["120000", "十二万"],
      ["100000", "十万"],
      ["1000000", "一百万"],
      ["100010000", "一亿零一万"],
      ["123456789", "一亿二千三百四十五万六千七百八十九"],
    ];
    for (const [digits, spoken] of cases) assert.equal(zhInteger(digits), spoken, digits);
  });

  it("says decimals and signs; English keeps the numerals a voice reads", () => {
    assert.equal(spokenNumber("12.5", "zh"), "十二点五");
    assert.equal(spokenNumber("0.05", "zh"), "零点零五");
    assert.equal(spokenNumber(-3, "zh"), "负三");
    assert.equal(spokenNumber("-0", "zh"), "零");
    assert.equal(spokenNumber("12.50", "en"), "12.50");
    assert.equal(spokenNumber("-1.5", "en"), "minus 1.5");
    assert.equal(spokenNumber("007", "en"), "7");
    // Not a number (a half-typed field): said as it is written, never invented.
    assert.equal(spokenNumber("1,5", "zh"), "1,5");
    assert.equal(spokenNumber("", "en"), "");
  });

  it("speaks quantities with their unit and temperatures in degrees Celsius", () => {
    assert.equal(utteranceText([{ quantity: "6", unit: "kg" }], "zh"), "六千克");
    assert.equal(utteranceText([{ quantity: "6", unit: "kg" }], "en"), "6 kilograms");
    assert.equal(utteranceText([{ quantity: 24, unit: "items" }], "zh"), "二十四件");
    assert.equal(utteranceText([{ quantity: "0.01", unit: "mg/kg" }], "zh"), "零点零一毫克每千克");
    assert.equal(utteranceText([{ quantity: "3", unit: "筐" }], "zh"), "三筐");
    assert.equal(utteranceText([{ celsius: 4.5 }], "zh"), "四点五摄氏度");
    assert.equal(utteranceText([{ celsius: "-1.5" }], "zh"), "零下一点五摄氏度");
    assert.equal(utteranceText([{ celsius: -1.5 }], "en"), "minus 1.5 degrees Celsius");
  });

  it("joins the parts of one utterance in the page's language", () => {
    const parts = [{ text: "批号" }, { code: "L-7" }, { text: "" }, { quantity: "1000", unit: "items" }];
    assert.equal(utteranceText(parts, "zh"), "批号，L 杠 七，一千件");
    assert.equal(
      utteranceText([{ text: "Lot" }, { code: "L-7" }, { quantity: "1000", unit: "items" }], "en"),
      "Lot, L dash seven, 1000 items",
    );
    assert.equal(utteranceText([{ text: "龙井合作社" }], "zh"), "龙井合作社");
  });
});
