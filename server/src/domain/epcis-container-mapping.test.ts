import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { mapCapturedContainerEvent, ssccOfEpc, type MappedContainerEvent } from "./epcis-container-mapping.ts";
import type { CapturedEpcisEvent } from "./epcis-mapping.ts";
import { normalizeSscc, ssccFor } from "./sscc.ts";

const GTIN = "06901234567892";
const ORIGIN = "https://trace.example.cn";
const SSCC = ssccFor(3, "6901234", 123_456_789n);
const SSCC_URN = `urn:epc:id:sscc:6901234.3${SSCC.slice(8, 17)}`;

const base: CapturedEpcisEvent = {
  type: "AggregationEvent",
  action: "ADD",
  parentID: `https://id.gs1.org/00/${SSCC}`,
  childEPCs: [`https://id.gs1.org/01/${GTIN}/10/L1/21/A1`, "urn:epc:id:sgtin:6901234.056789.A2", SSCC_URN],
  eventTime: "2026-04-15T10:00:00.000+08:00",
  eventTimeZoneOffset: "+08:00",
};

function mapped(event: CapturedEpcisEvent): MappedContainerEvent {
  const result = mapCapturedContainerEvent(event);
  if (result === null || "code" in result) assert.fail(JSON.stringify(result));
  return result;
}

function refusal(event: CapturedEpcisEvent): string | null {
  const result = mapCapturedContainerEvent(event);
  return result !== null && "code" in result ? result.code : null;
}

describe("captured container events", () => {
  it("reads an SSCC URN to the 18 digits, its check digit computed, and passes Digital Links on", () => {
    assert.equal(normalizeSscc(ssccOfEpc(SSCC_URN) ?? ""), SSCC);
    assert.equal(ssccOfEpc(`https://example.com/00/${SSCC}`), `https://example.com/00/${SSCC}`);
    assert.equal(ssccOfEpc("urn:epc:id:sscc:6901234.12"), null, "17 digits or nothing");
    assert.equal(ssccOfEpc(`https://id.gs1.org/01/${GTIN}/21/A1`), null);
  });

  it("maps ADD to a packing of items (URNs as Digital Links) and cases, keeping known business transactions", () => {
    const packing = mapped({
      ...base,
      bizStep: "packing",
      bizTransactionList: [
        { type: "urn:epcglobal:cbv:btt:po", bizTransaction: "urn:epcglobal:cbv:bt:6901234000004:PO-1" },
        { type: "bol", bizTransaction: "urn:epcglobal:cbv:bt:6901234000004:B-1" },
      ],
      readPoint: { id: `${ORIGIN}/locations/330106` },
    });
    assert.equal(packing.kind, "packing");
    assert.equal(packing.sscc, `https://id.gs1.org/00/${SSCC}`);
    assert.deepEqual(
      packing.children.map((child) => (child.kind === "item" ? child.link : child.sscc)),
      [`https://id.gs1.org/01/${GTIN}/10/L1/21/A1`, `https://id.gs1.org/01/${GTIN}/21/A2`, SSCC],
    );
    assert.deepEqual(packing.bizTransactions, [{ type: "po", id: "urn:epcglobal:cbv:bt:6901234000004:PO-1" }]);
    assert.deepEqual(packing.ignored, ["bizTransactionList/1", "readPoint"]);
    assert.equal(packing.occurredAt, "2026-04-15T02:00:00.000Z");
  });

  it("maps DELETE to an unpacking, with or without its children", () => {
    const whole = mapped({ ...base, action: "DELETE", childEPCs: undefined });
    assert.equal(whole.kind === "unpacking" ? whole.children : "not an unpacking", null);
    const named = mapped({ ...base, action: "DELETE", bizStep: "unpacking" });
    assert.equal(named.kind === "unpacking" ? named.children?.length : 0, 3);
  });

  it("maps ObjectEvents of SSCCs to shipping (receiver from destinationList) and receiving", () => {
    const shipping = mapped({
      type: "ObjectEvent",
      action: "OBSERVE",
      bizStep: "https://ref.gs1.org/cbv/BizStep-shipping",
      epcList: [SSCC_URN],
      eventTime: base.eventTime,
      destinationList: [{ type: "owning_party", destination: `${ORIGIN}/organisations/shop-1` }],
    });
    assert.deepEqual(shipping.kind === "shipping" ? [shipping.ssccs, shipping.receiver] : null, [
      [normalizeSscc(ssccOfEpc(SSCC_URN) ?? "")],
      "shop-1",
    ]);
    const receiving = mapped({
      type: "ObjectEvent",
      action: "OBSERVE",
      bizStep: "receiving",
      epcList: [`https://id.gs1.org/00/${SSCC}`],
      eventTime: base.eventTime,
    });
    assert.equal(receiving.kind, "receiving");
  });

  it("leaves ObjectEvents of items to the batch mapping and refuses what a container cannot say", () => {
    assert.equal(
      mapCapturedContainerEvent({ type: "ObjectEvent", epcList: [`https://id.gs1.org/01/${GTIN}/21/A1`] }),
      null,
    );
    assert.equal(mapCapturedContainerEvent({ type: "TransformationEvent" }), null);
    const refusals: Array<[CapturedEpcisEvent, string]> = [
      [{ ...base, parentID: `https://id.gs1.org/01/${GTIN}/21/A1` }, "epcis.event_unmappable"],
      [{ ...base, childQuantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/L1` }] }, "epcis.event_unmappable"],
      [{ ...base, childEPCs: ["urn:epc:id:grai:6901234.12345.1"] }, "epcis.event_unmappable"],
      [{ ...base, action: "OBSERVE" }, "epcis.biz_step_unsupported"],
      [{ ...base, bizStep: "shipping" }, "epcis.biz_step_unsupported"],
      [{ ...base, bizStep: "https://example.com/steps/boxing" }, "epcis.biz_step_unsupported"],
      [
        {
          type: "ObjectEvent",
          action: "OBSERVE",
          bizStep: "shipping",
          epcList: [SSCC_URN, `https://id.gs1.org/01/${GTIN}/21/A1`],
          eventTime: base.eventTime,
        },
        "epcis.event_unmappable",
      ],
      [
        { type: "ObjectEvent", action: "ADD", bizStep: "shipping", epcList: [SSCC_URN], eventTime: base.eventTime },
        "epcis.biz_step_unsupported",
      ],
      [{ ...base, eventTime: "yesterday" }, "epcis.event_unmappable"],
    ];
    for (const [event, code] of refusals) assert.equal(refusal(event), code, JSON.stringify(event));
  });
});
