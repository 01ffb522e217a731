/** What the field console reads from a scanned or typed code and from a temperature logger's CSV. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { readCode } from "../../scanner-web/console/src/field/codes.ts";
import { parseReadings } from "../../scanner-web/console/src/field/temperatures.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { batchIdOf } from "../../server/src/verify/batch-id.ts";

describe("field console: codes", () => {
  it("reads an item's and a lot's Digital Link as their batch", () => {
    const batchId = batchIdOf(DEMO_GTIN, "L-7");
    assert.deepEqual(readCode(`https://id.example.cn/01/${DEMO_GTIN}/10/L-7/21/ABC123`), {
      kind: "batch",
      batchId,
      gtin: DEMO_GTIN,
      lot: "L-7",
      serial: "ABC123",
    });
    assert.deepEqual(readCode(` /01/${DEMO_GTIN}/10/L-7 `), {
      kind: "batch",
      batchId,
      gtin: DEMO_GTIN,
      lot: "L-7",
      serial: null,
    });
    assert.equal(readCode(batchId.toUpperCase().replace("0X", "0x"))?.kind, "batch");
  });

  it("reads an SSCC bare, with its AI, or as a Digital Link", () => {
    for (const text of [
      "069012345000000017",
      "(00)069012345000000017",
      "https://id.example.cn/00/069012345000000017",
    ]) {
      assert.deepEqual(readCode(text), { kind: "container", sscc: "069012345000000017" }, text);
    }
  });

  it("refuses what names nothing: a GTIN without its lot, text, a bad check digit", () => {
    for (const text of [`/01/${DEMO_GTIN}`, "hello", "/01/06901234567893/10/L-7", ""]) {
      assert.equal(readCode(text), null, text);
    }
  });
});

describe("field console: temperature readings", () => {
  it("reads a logger's CSV with its header, China time unless a zone is written", () => {
    const parsed = parseReadings("time,temperature_c\n2026-04-18 08:00,4.5\n2026-04-18T01:30:00Z;5 °C\n\n");
    assert.deepEqual(parsed, {
      readings: [
        { at: "2026-04-18T00:00:00.000Z", celsius: 4.5 },
        { at: "2026-04-18T01:30:00.000Z", celsius: 5 },
      ],
    });
  });

  it("names the first line it cannot read", () => {
    assert.deepEqual(parseReadings("2026-04-18 08:00,4.5\n2026-04-18 09:00,warm"), { badLine: 2 });
    assert.deepEqual(parseReadings("2026-04-18 08:00,4.5\nnot a time,3"), { badLine: 2 });
  });
});
