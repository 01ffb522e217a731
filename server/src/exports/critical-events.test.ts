import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { chinaIsoTime } from "../domain/china-time.ts";
import { BIZ_STEPS } from "../domain/typed-data.ts";
import { STEP_MAPPING, cbvStepName, itemUri, lotClassUri, traceabilityLotCode, uomOf } from "./critical-events.ts";
import { TEA_GTIN } from "../../../test/support/export-fixtures.ts";

describe("export values", () => {
  it("writes lots and items as canonical GS1 Digital Link URIs, percent-encoded", () => {
    assert.equal(lotClassUri(TEA_GTIN, "AJ/26&01"), `https://id.gs1.org/01/${TEA_GTIN}/10/AJ%2F26%2601`);
    assert.equal(itemUri("6901234567892", "Q7XK2M9P"), "https://id.gs1.org/01/06901234567892/21/Q7XK2M9P");
    assert.equal(traceabilityLotCode(TEA_GTIN, "AJ2026-0401"), `(01)${TEA_GTIN}(10)AJ2026-0401`);
  });

  it("turns units stored by name or by code into UN/CEFACT codes", () => {
    assert.equal(uomOf("kg"), "KGM");
    assert.equal(uomOf("KGM"), "KGM");
    assert.equal(uomOf("box"), "XBX");
    assert.equal(uomOf("jin"), null);
  });

  it("writes instants in China Standard Time, across the UTC date line", () => {
    assert.equal(chinaIsoTime(Date.UTC(2026, 3, 1, 20, 15)), "2026-04-02T04:15:00.000+08:00");
    assert.equal(Date.parse(chinaIsoTime(Date.UTC(2026, 3, 1, 20, 15))), Date.UTC(2026, 3, 1, 20, 15));
  });

  it("maps every business step, to CBV 2.0 terms where CBV has one", () => {
    for (const step of BIZ_STEPS) assert.ok(Object.hasOwn(STEP_MAPPING, step), step);
    assert.equal(cbvStepName("shipping"), "shipping");
    assert.equal(cbvStepName("harvesting"), "commissioning");
    assert.equal(cbvStepName("planting"), "planting");
    assert.equal(STEP_MAPPING.transforming.eventType, "TransformationEvent");
  });
});
