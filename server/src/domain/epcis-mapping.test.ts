import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { STEP_MAPPING } from "../exports/critical-events.ts";
import {
  cbvTerm,
  isUnmappable,
  mapCapturedEvent,
  organisationIdOfUri,
  parseEpc,
  stepsOfBizStep,
  stepsOfDisposition,
  type CapturedEpcisEvent,
  type MappedEvent,
} from "./epcis-mapping.ts";
import { BIZ_STEPS } from "./typed-data.ts";

const GTIN = "06901234567892";
const ORIGIN = "https://trace.example.cn";

function mapped(event: CapturedEpcisEvent): MappedEvent {
  const result = mapCapturedEvent(event);
  if (isUnmappable(result)) assert.fail(`${result.code}: ${result.detail}`);
  return result;
}

function refusal(event: CapturedEpcisEvent): string {
  const result = mapCapturedEvent(event);
  if (!isUnmappable(result)) assert.fail(`mapped: ${JSON.stringify(result)}`);
  return result.code;
}

const base: CapturedEpcisEvent = {
  type: "ObjectEvent",
  action: "OBSERVE",
  eventTime: "2026-04-16T08:00:00.116000+08:00",
  eventTimeZoneOffset: "+08:00",
  quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/L1` }],
};

describe("EPCIS mapping", () => {
  it("reads CBV terms written bare, as web URIs and as URNs, and nothing else", () => {
    assert.equal(cbvTerm("shipping", "BizStep"), "shipping");
    assert.equal(cbvTerm("https://ref.gs1.org/cbv/BizStep-shipping", "BizStep"), "shipping");
    assert.equal(cbvTerm("urn:epcglobal:cbv:bizstep:shipping", "BizStep"), "shipping");
    assert.equal(cbvTerm("urn:epcglobal:cbv:disp:in_transit", "Disp"), "in_transit");
    assert.equal(cbvTerm("https://ref.gs1.org/cbv/Disp-in_transit", "BizStep"), null);
    assert.equal(cbvTerm("http://epcis.example.org/hc/bizstep/summarising_discharge", "BizStep"), null);
  });

  it("reads the export's step table backwards: every step we export maps back to itself", () => {
    for (const step of BIZ_STEPS) {
      const { cbvStep } = STEP_MAPPING[step];
      const written = cbvStep ?? `${ORIGIN}/ns/epcis#${step}`;
      assert.ok(stepsOfBizStep(written).includes(step), `${step} from ${written}`);
    }
    assert.deepEqual(stepsOfBizStep("commissioning").sort(), ["harvesting", "transforming"]);
    assert.deepEqual(stepsOfBizStep(`${ORIGIN}/ns/epcis#shipping`), [], "our vocabulary only for steps CBV lacks");
    assert.deepEqual(stepsOfBizStep("storing"), []);
    assert.deepEqual(stepsOfDisposition("non_conformant"), ["inspecting"]);
    assert.deepEqual(stepsOfDisposition("in_transit"), ["shipping"]);
  });

  it("parses SGTINs and LGTINs as Digital Links and URNs, and GTIN patterns only when asked", () => {
    assert.deepEqual(parseEpc(`https://id.gs1.org/01/${GTIN}/21/A1`), { kind: "item", gtin: GTIN, serial: "A1" });
    assert.deepEqual(parseEpc(`https://example.com/01/${GTIN}/10/L1/21/A1`), {
      kind: "item",
      gtin: GTIN,
      serial: "A1",
    });
    assert.deepEqual(parseEpc(`https://id.gs1.org/01/${GTIN}/10/L%2F1`), { kind: "lot", gtin: GTIN, lot: "L/1" });
    // GS1's own example: company prefix 0614141, indicator 1, item reference 07346.
    assert.deepEqual(parseEpc("urn:epc:id:sgtin:0614141.107346.2017"), {
      kind: "item",
      gtin: "10614141073464",
      serial: "2017",
    });
    assert.deepEqual(parseEpc("urn:epc:class:lgtin:6901234.056789.L%2F1"), { kind: "lot", gtin: GTIN, lot: "L/1" });
    assert.equal(parseEpc("urn:epc:idpat:sgtin:6901234.056789.*"), null);
    assert.deepEqual(parseEpc("urn:epc:idpat:sgtin:6901234.056789.*", { allowPatterns: true }), {
      kind: "gtin",
      gtin: GTIN,
    });
    assert.equal(parseEpc("urn:epc:id:sscc:0614141.1234567890"), null);
    assert.equal(parseEpc("urn:epc:id:sgtin:0614141.1073460.2017"), null, "prefix and reference make 13 digits");
    assert.equal(parseEpc(`https://id.gs1.org/01/06901234567893/21/A1`), null, "a wrong check digit");
    assert.equal(parseEpc(`https://id.gs1.org/01/${GTIN}`), null, "a GTIN alone is neither an item nor a lot");
  });

  it("maps a shipping with items, place, receiver, temperatures and a purchase order", () => {
    const result = mapped({
      ...base,
      eventID: "urn:uuid:1",
      bizStep: "shipping",
      disposition: "in_transit",
      epcList: [`https://id.gs1.org/01/${GTIN}/21/A1`, "urn:epc:id:sgtin:6901234.056789.A2"],
      quantityList: undefined,
      readPoint: { id: `${ORIGIN}/locations/330106` },
      destinationList: [{ type: "owning_party", destination: `${ORIGIN}/organisations/org_2` }],
      sensorElementList: [
        {
          sensorMetadata: { time: "2026-04-16T08:30:00+08:00" },
          sensorReport: [
            { type: "gs1:Temperature", value: 41, uom: "FAH" },
            { type: "Temperature", value: 278.15, uom: "KEL", time: "2026-04-16T08:40:00+08:00" },
            { type: "gs1:RelativeHumidity", value: 80, uom: "P1" },
            { type: "gs1:Temperature", minValue: 4, maxValue: 9, uom: "CEL" },
          ],
        },
      ],
      bizTransactionList: [
        { type: "https://ref.gs1.org/cbv/BTT-po", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:PO1" },
        { type: "desadv", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:D1" },
      ],
      "example:myField": "x",
    });
    assert.deepEqual(result, {
      eventID: "urn:uuid:1",
      items: [
        { gtin: GTIN, serial: "A1" },
        { gtin: GTIN, serial: "A2" },
      ],
      lots: [],
      request: {
        bizStep: "shipping",
        occurredAt: "2026-04-16T00:00:00.116Z",
        receiver: "org_2",
        data: {
          location: { regionCode: "330106" },
          counterpartyId: "org_2",
          temperatures: [
            { at: "2026-04-16T00:30:00.000Z", celsius: 5 },
            { at: "2026-04-16T00:40:00.000Z", celsius: 5 },
          ],
          referenceDocument: { type: "po", number: "urn:epcglobal:cbv:bt:0614141073467:PO1" },
        },
      },
      ignored: [
        "sensorElementList/0/sensorReport/2",
        "sensorElementList/0/sensorReport/3",
        "bizTransactionList/1",
        "example:myField",
      ],
    });
  });

  it("maps harvesting (commissioning + ADD) with its quantity, and a receiving's source", () => {
    const harvest = mapped({
      ...base,
      action: "ADD",
      bizStep: "commissioning",
      quantityList: [{ epcClass: "urn:epc:class:lgtin:6901234.056789.L1", quantity: 1250.5, uom: "KGM" }],
      ilmd: { "cbvmda:countryOfOrigin": "CN" },
    });
    assert.equal(harvest.request.bizStep, "harvesting");
    assert.deepEqual(harvest.request.data, { quantity: { value: "1250.5", unit: "kg" } });
    assert.deepEqual(harvest.ignored, ["ilmd"]);
    const receiving = mapped({
      ...base,
      bizStep: "receiving",
      sourceList: [{ type: "owning_party", source: `${ORIGIN}/organisations/coop%201` }],
    });
    assert.deepEqual(receiving.request.data, { counterpartyId: "coop 1" });
    assert.equal(receiving.request.receiver, undefined);
  });

  it("refuses what it cannot represent, by reason", () => {
    assert.equal(refusal({ ...base, type: "AggregationEvent", bizStep: "packing" }), "epcis.event_type_unsupported");
    assert.equal(refusal({ ...base, type: "TransformationEvent" }), "epcis.event_type_unsupported");
    assert.equal(refusal({ ...base }), "epcis.biz_step_unsupported");
    assert.equal(refusal({ ...base, bizStep: "storing" }), "epcis.biz_step_unsupported");
    assert.equal(
      refusal({ ...base, bizStep: "commissioning" }),
      "epcis.biz_step_unsupported",
      "commissioning observed",
    );
    assert.equal(refusal({ ...base, bizStep: "holding" }), "epcis.biz_step_unsupported", "recalls have their endpoint");
    assert.equal(refusal({ ...base, bizStep: "shipping", action: "DELETE" }), "epcis.biz_step_unsupported");
    assert.equal(
      refusal({ ...base, bizStep: "packing", epcList: ["urn:epc:id:sscc:0614141.1234567890"] }),
      "epcis.event_unmappable",
    );
    assert.equal(refusal({ ...base, bizStep: "packing", quantityList: [] }), "epcis.event_unmappable", "no goods");
    assert.equal(
      refusal({
        ...base,
        bizStep: "packing",
        quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/L1`, quantity: 1.2345, uom: "KGM" }],
      }),
      "epcis.event_unmappable",
      "more than three decimals",
    );
    assert.equal(
      refusal({
        ...base,
        bizStep: `${ORIGIN}/ns/epcis#cooling`,
        sensorElementList: [{ sensorReport: [{ type: "gs1:Temperature", value: 20, uom: "KGM" }] }],
      }),
      "epcis.event_unmappable",
      "a temperature in kilograms",
    );
  });

  it("reads our organisation URIs under any origin, and nothing else", () => {
    assert.equal(organisationIdOfUri(`${ORIGIN}/organisations/org_1`), "org_1");
    assert.equal(organisationIdOfUri("urn:epc:id:pgln:0614141.00001"), null);
    assert.equal(organisationIdOfUri(`${ORIGIN}/organisations/org_1/documents/po/1`), null);
  });
});
