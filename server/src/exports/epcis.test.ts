import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import { criticalEvents } from "./critical-events.ts";
import {
  buildEpcisDocument,
  epcisEventId,
  uuidV5,
  writeEpcisDocument,
  type EpcisDocument,
  type EpcisEvent,
  type EpcisOptions,
  type JsonValue,
} from "./epcis.ts";
import { EPCIS_SCHEMA_PATH, formatSchemaErrors, loadEpcisValidator } from "../../../test/support/epcis-schema.ts";
import {
  ORGANISATIONS,
  RAW_LEAF_GTIN,
  TEA_GTIN,
  batchRecord,
  largeExportInput,
  teaFixture,
  traceEvent,
} from "../../../test/support/export-fixtures.ts";
import type { ExportInput } from "./types.ts";
import { AppError } from "../errors/app-error.ts";
import { CASE_SSCC, teaWithCase } from "../../../test/support/container-fixtures.ts";

const ORIGIN = "https://trace.example.cn";
const OPTIONS: EpcisOptions = {
  creationDate: new Date("2026-05-01T00:00:00.000Z"),
  senderName: "一物一码 traceability platform",
  publicOrigin: ORIGIN,
};

const validate = loadEpcisValidator();

/** GS1's official examples, vendored beside the other test data. */
const EXAMPLES_DIR = path.resolve(import.meta.dirname, "../../../test/data/epcis");

function assertValid(document: unknown): void {
  const result = validate(document);
  assert.equal(result.valid, true, `schema errors:\n${formatSchemaErrors(result.errors)}`);
}

function assertInvalid(document: unknown): void {
  assert.equal(validate(document).valid, false, "the schema accepted a document it must reject");
}

function byStep(document: EpcisDocument, step: string): EpcisEvent {
  const event = document.epcisBody.eventList.find((candidate) => candidate["oioc:bizStep"] === step);
  assert.ok(event !== undefined, `no ${step} event`);
  return event;
}

function objectAt(value: JsonValue | undefined, index = 0): Record<string, JsonValue> {
  assert.ok(Array.isArray(value), "expected an array");
  const item = value[index];
  assert.ok(item !== undefined && item !== null && typeof item === "object" && !Array.isArray(item));
  return item;
}

function clone(document: EpcisDocument): EpcisDocument {
  return structuredClone(document);
}

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(highWaterMark = 16_384) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    // Answer later, so a small buffer fills and the writer has to wait for "drain".
    setImmediate(callback);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

describe("the EPCIS 2.0 validator", () => {
  it("accepts every official example shipped with the schema", () => {
    const dir = EXAMPLES_DIR;
    const examples = readdirSync(dir).filter((name) => /^(example-|Example_).*\.(json|jsonld)$/.test(name));
    assert.ok(examples.length >= 5, `expected the official examples in ${dir}, found ${examples.join(", ")}`);
    for (const name of examples) {
      const example: unknown = JSON.parse(readFileSync(path.join(dir, name), "utf8"));
      const result = validate(example);
      assert.equal(result.valid, true, `${name}:\n${formatSchemaErrors(result.errors)}`);
    }
  });

  it("rejects an official example once it is broken", () => {
    const example = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, "example-ObjectEvent.json"), "utf8")) as Record<
      string,
      unknown
    >;
    assertValid(example);
    assertInvalid({ ...example, action: "MOVE" });
  });

  it("loads the schema vendored in the repository", () => {
    assert.ok(
      EPCIS_SCHEMA_PATH.startsWith(path.resolve(import.meta.dirname, "../../..") + path.sep),
      EPCIS_SCHEMA_PATH,
    );
    const schema = JSON.parse(readFileSync(EPCIS_SCHEMA_PATH, "utf8")) as { $schema?: string };
    assert.equal(schema.$schema, "http://json-schema.org/draft-07/schema#");
  });
});

describe("buildEpcisDocument", () => {
  const fixture = teaFixture();
  const document = buildEpcisDocument(fixture.input, OPTIONS);
  const lotClass = `https://id.gs1.org/01/${TEA_GTIN}/10/AJ2026-0401`;

  it("produces a document the official schema accepts", () => {
    assertValid(document);
    assert.equal(document.type, "EPCISDocument");
    assert.equal(document.schemaVersion, "2.0");
    assert.equal(document.creationDate, "2026-05-01T00:00:00.000Z");
    assert.equal(document.sender, OPTIONS.senderName);
    assert.deepEqual(document["@context"][1], { oioc: `${ORIGIN}/ns/epcis#` });
  });

  it("lists every recorded event, then the recall the batch record holds", () => {
    const steps = document.epcisBody.eventList.map((event) => event["oioc:bizStep"]);
    assert.deepEqual(steps, [
      "planting",
      "input_application",
      "harvesting",
      "cooling",
      "transforming",
      "packing",
      "shipping",
      "receiving",
      "inspecting",
      "certifying",
      "retail_selling",
      "recalling",
    ]);
    assert.equal(byStep(document, "recalling")["oioc:record"], "batch_recall");
  });

  it("maps each step to its EPCIS event type, action, CBV 2.0 business step and disposition", () => {
    const expected: Record<string, [string, string | undefined, string, string | undefined]> = {
      planting: ["ObjectEvent", "OBSERVE", `${ORIGIN}/ns/epcis#planting`, undefined],
      input_application: ["ObjectEvent", "OBSERVE", `${ORIGIN}/ns/epcis#input_application`, undefined],
      harvesting: ["ObjectEvent", "ADD", "commissioning", "active"],
      cooling: ["ObjectEvent", "OBSERVE", `${ORIGIN}/ns/epcis#cooling`, "active"],
      transforming: ["TransformationEvent", undefined, "commissioning", "active"],
      packing: ["ObjectEvent", "OBSERVE", "packing", "in_progress"],
      shipping: ["ObjectEvent", "OBSERVE", "shipping", "in_transit"],
      receiving: ["ObjectEvent", "OBSERVE", "receiving", "in_progress"],
      inspecting: ["ObjectEvent", "OBSERVE", "inspecting", "conformant"],
      certifying: ["ObjectEvent", "OBSERVE", `${ORIGIN}/ns/epcis#certifying`, "conformant"],
      retail_selling: ["ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"],
      recalling: ["ObjectEvent", "OBSERVE", "holding", "recalled"],
    };
    for (const [step, [type, action, bizStep, disposition]] of Object.entries(expected)) {
      const event = byStep(document, step);
      assert.deepEqual(
        [event.type, event.action, event.bizStep, event.disposition],
        [type, action, bizStep, disposition],
        step,
      );
      assert.equal(event.eventTimeZoneOffset, "+08:00");
    }
    assert.deepEqual(byStep(document, "recalling").persistentDisposition, { set: ["recalled"] });
  });

  it("identifies the lot class-level with quantities and UN/CEFACT units", () => {
    assert.deepEqual(byStep(document, "harvesting").quantityList, [
      { epcClass: lotClass, quantity: 1250.5, uom: "KGM" },
    ]);
    assert.deepEqual(byStep(document, "packing").quantityList, [{ epcClass: lotClass, quantity: 1000, uom: "XBX" }]);
    // No quantity of its own: the batch's.
    assert.deepEqual(byStep(document, "planting").quantityList, [{ epcClass: lotClass, quantity: 1250.5, uom: "KGM" }]);
  });

  it("links the inbound batch to the outbound one in the transformation", () => {
    const transformation = byStep(document, "transforming");
    assert.deepEqual(transformation.inputQuantityList, [
      { epcClass: `https://id.gs1.org/01/${RAW_LEAF_GTIN}/10/AJ-RAW-0331` },
    ]);
    assert.deepEqual(transformation.outputQuantityList, [{ epcClass: lotClass, quantity: 250, uom: "KGM" }]);
    assert.equal(transformation.quantityList, undefined);
    assert.deepEqual(transformation.bizTransactionList, [
      {
        type: "prodorder",
        bizTransaction: `${ORIGIN}/organisations/org-huzhou-tea/documents/production_order/PO-2026-0402`,
      },
    ]);
  });

  it("carries the shipment's temperature log as sensor reports", () => {
    const shipping = byStep(document, "shipping");
    const readings = fixture.events.shipping.data.temperatures as { at: string; celsius: number }[];
    const element = objectAt(shipping.sensorElementList);
    const reports = element.sensorReport;
    assert.ok(Array.isArray(reports));
    assert.equal(reports.length, 48);
    assert.deepEqual(reports[0], {
      type: "gs1:Temperature",
      value: readings[0]?.celsius,
      uom: "CEL",
      time: readings[0]?.at,
    });
    assert.deepEqual(objectAt(reports, 47).value, readings[47]?.celsius);
    // In transit: no business location; from the carrier to the shop.
    assert.equal(shipping.bizLocation, undefined);
    assert.deepEqual(shipping.readPoint, { id: `${ORIGIN}/locations/330106` });
    assert.deepEqual(shipping.sourceList, [{ type: "owning_party", source: `${ORIGIN}/organisations/org-zj-cold` }]);
    assert.deepEqual(shipping.destinationList, [
      { type: "owning_party", destination: `${ORIGIN}/organisations/org-sh-shop` },
    ]);
    assert.deepEqual(shipping.bizTransactionList, [
      { type: "bol", bizTransaction: `${ORIGIN}/organisations/org-zj-cold/documents/bill_of_lading/ZJCL-88231` },
    ]);
  });

  it("places events at the stated location, the plot, or the actor's region", () => {
    assert.deepEqual(byStep(document, "receiving").readPoint, { id: `${ORIGIN}/locations/310104` });
    assert.equal(byStep(document, "receiving")["oioc:locationName"], "上海名茶超市 徐汇店");
    assert.deepEqual(byStep(document, "harvesting").readPoint, { id: `${ORIGIN}/locations/330523` });
    assert.equal(byStep(document, "harvesting")["oioc:locationName"], "溪龙乡黄杜村3号茶园");
    assert.deepEqual(byStep(document, "inspecting").readPoint, { id: `${ORIGIN}/locations/330500` });
    assert.deepEqual(byStep(document, "inspecting").bizLocation, { id: `${ORIGIN}/organisations/org-hz-lab` });
  });

  it("writes times in China Standard Time", () => {
    assert.equal(byStep(document, "harvesting").eventTime, "2026-04-01T09:30:00.000+08:00");
    assert.equal(Date.parse(byStep(document, "harvesting").eventTime), fixture.events.harvesting.occurredAtMs);
  });

  it("puts the ledger's facts under the oioc extension namespace", () => {
    const harvest = byStep(document, "harvesting");
    assert.equal(harvest["oioc:txHash"], fixture.events.harvesting.ledger.txHash);
    assert.equal(harvest["oioc:digest"], fixture.events.harvesting.digest);
    assert.equal(harvest["oioc:payloadCid"], fixture.events.harvesting.payloadCid);
    assert.equal(harvest["oioc:eventHead"], fixture.events.harvesting.chain?.eventHead);
    const pending = byStep(document, "retail_selling");
    assert.equal(pending["oioc:ledgerState"], "pending");
    assert.equal(pending["oioc:txHash"], undefined);
    const tests = byStep(document, "inspecting")["oioc:residueTests"];
    assert.ok(Array.isArray(tests) && tests.length === 2);
    assert.equal(objectAt(tests).substance, "联苯菊酯 bifenthrin");
  });

  it("derives event IDs as name-based UUIDs of the digest, stable across exports", () => {
    // RFC 9562's own version-5 example: the DNS namespace and "www.example.com".
    assert.equal(
      uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"),
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
    const ids = document.epcisBody.eventList.map((event) => event.eventID);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(byStep(document, "harvesting").eventID, epcisEventId(fixture.events.harvesting.digest));
    assert.deepEqual(
      buildEpcisDocument(fixture.input, { ...OPTIONS, creationDate: new Date() }).epcisBody.eventList.map(
        (e) => e.eventID,
      ),
      ids,
    );
    for (const id of ids)
      assert.match(id, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("marks a failed residue test non-conformant", () => {
    const { input, events } = teaFixture();
    events.inspecting.data = {
      tests: [{ substance: "毒死蜱 chlorpyrifos", resultMgPerKg: 0.3, limitMgPerKg: 0.1, passed: false }],
    };
    const failed = buildEpcisDocument(input, OPTIONS);
    assertValid(failed);
    assert.equal(byStep(failed, "inspecting").disposition, "non_conformant");
  });

  it("lists serials an event names as instance-level EPCs", () => {
    const { input, entry } = teaFixture();
    const withSerials: ExportInput = {
      batches: [
        {
          ...entry,
          events: entry.events.map((item) =>
            item.event.bizStep === "retail_selling" || item.event.bizStep === "transforming"
              ? { ...item, serials: ["Q7XK2M9P4R8T", "Z3N6B1V5C0D2"] }
              : item,
          ),
        },
      ],
    };
    assert.equal(input.batches.length, 1);
    const document = buildEpcisDocument(withSerials, OPTIONS);
    assertValid(document);
    const items = [
      `https://id.gs1.org/01/${TEA_GTIN}/21/Q7XK2M9P4R8T`,
      `https://id.gs1.org/01/${TEA_GTIN}/21/Z3N6B1V5C0D2`,
    ];
    assert.deepEqual(byStep(document, "retail_selling").epcList, items);
    assert.deepEqual(byStep(document, "transforming").outputEPCList, items);
  });

  it("stands the attestation in for a harvest no one recorded, and uses a recorded recall as it is", () => {
    const batch = batchRecord(TEA_GTIN, "AJ2026-0415", { recall: { reasonCid: null, atMs: Date.UTC(2026, 4, 1) } });
    const { cooperative, logistics } = ORGANISATIONS;
    const recall = traceEvent(batch, cooperative, "recalling", Date.UTC(2026, 4, 1), {
      note: { zh: "农残超标召回", en: "recalled for residues" },
    });
    const input: ExportInput = {
      batches: [
        {
          batch,
          product: null,
          plot: null,
          cooperative,
          events: [
            { event: traceEvent(batch, logistics, "shipping", Date.UTC(2026, 3, 20), {}), actor: logistics },
            { event: recall, actor: cooperative },
          ],
        },
      ],
    };
    const document = buildEpcisDocument(input, OPTIONS);
    assertValid(document);
    const records = document.epcisBody.eventList.map((event) => [event["oioc:bizStep"], event["oioc:record"]]);
    assert.deepEqual(records, [
      ["harvesting", "batch_attestation"],
      ["shipping", "event"],
      ["recalling", "event"],
    ]);
    const attestation = byStep(document, "harvesting");
    assert.equal(attestation.action, "ADD");
    assert.equal(attestation["oioc:txHash"], batch.ledger.txHash);
    assert.equal(attestation["oioc:payloadCid"], batch.metadataCid);
    assert.deepEqual(attestation.readPoint, { id: `${ORIGIN}/locations/330523` });
  });

  it("refuses stored event data that does not parse, naming the event", () => {
    const { input, events } = teaFixture();
    events.cooling.data = { temperatures: [{ at: "yesterday", celsius: 4 }] };
    assert.throws(
      () => buildEpcisDocument(input, OPTIONS),
      (error: unknown) =>
        error instanceof AppError &&
        (error.code as string) === "export.event_data_invalid" &&
        error.details.eventId === events.cooling.id,
    );
  });
});

describe("cases and pallets in the EPCIS export", () => {
  const document = buildEpcisDocument(teaWithCase(), OPTIONS);
  const containerEvents = document.epcisBody.eventList.filter((event) => event["oioc:record"] === "container");

  it("adds the case's aggregation, its despatch naming the order, and its receipt, valid against the schema", () => {
    assertValid(document);
    assert.deepEqual(
      containerEvents.map((event) => [event.type, event.bizStep, event["oioc:bizStep"]]),
      [
        ["AggregationEvent", "packing", "packing"],
        ["ObjectEvent", "shipping", "packing"],
        ["ObjectEvent", "receiving", "receiving"],
      ],
    );
    const [aggregation, despatch, receipt] = containerEvents;
    assert.equal(aggregation?.parentID, `https://id.gs1.org/00/${CASE_SSCC}`);
    assert.deepEqual(aggregation.childEPCs, [
      `https://id.gs1.org/01/${TEA_GTIN}/10/AJ2026-0401/21/S0001`,
      `https://id.gs1.org/01/${TEA_GTIN}/10/AJ2026-0401/21/S0002`,
      `https://id.gs1.org/01/${TEA_GTIN}/10/AJ2026-0401/21/S0003`,
    ]);
    assert.equal(aggregation.action, "ADD");
    assert.ok(despatch !== undefined);
    assert.deepEqual(
      (despatch.bizTransactionList as { type: string }[]).map((entry) => entry.type),
      ["po", "desadv"],
    );
    assert.equal(despatch["oioc:txHash"], `0x${"b1".repeat(32)}`);
    // The receipt's document could not be read: the record gives the case, the step and the place.
    assert.deepEqual(receipt?.epcList, [`https://id.gs1.org/00/${CASE_SSCC}`]);
    assert.deepEqual(receipt.bizLocation, { id: `${ORIGIN}/organisations/${ORGANISATIONS.retailer.id}` });
    assert.equal(
      new Set(document.epcisBody.eventList.map((event) => event.eventID)).size,
      document.epcisBody.eventList.length,
    );
  });

  it("lists a case holding two exported lots once", () => {
    const input = teaWithCase();
    const [entry] = input.batches;
    assert.ok(entry !== undefined);
    const twice = buildEpcisDocument({ batches: [entry, { ...entry, events: [] }] }, OPTIONS);
    assert.equal(twice.epcisBody.eventList.filter((event) => event["oioc:record"] === "container").length, 3);
  });

  it("is refused by the schema when an aggregation has no action", () => {
    const broken = structuredClone(document);
    const aggregation = broken.epcisBody.eventList.find((event) => event.type === "AggregationEvent");
    assert.ok(aggregation !== undefined);
    delete aggregation.action;
    assertInvalid(broken);
  });
});

describe("the schema catches a wrong mapping", () => {
  const document = buildEpcisDocument(teaFixture().input, OPTIONS);

  function mutated(change: (event: EpcisEvent) => void, index = 2): EpcisDocument {
    const copy = clone(document);
    const event = copy.epcisBody.eventList[index];
    assert.ok(event !== undefined);
    change(event);
    return copy;
  }

  it("accepts the unmutated document", () => {
    assertValid(document);
  });

  it("rejects a business step that is neither CBV 2.0 nor a URI", () => {
    assertInvalid(mutated((event) => (event.bizStep = "harvesting")));
  });

  it("rejects a CBV 1.x business step URN where CBV 2.0 terms belong", () => {
    assertInvalid(mutated((event) => (event.bizStep = "urn:epcglobal:cbv:bizstep:harvesting")));
  });

  it("rejects a unit that is not a UN/CEFACT code", () => {
    assertInvalid(
      mutated((event) => (event.quantityList = [{ epcClass: "https://id.gs1.org/01/1", quantity: 1, uom: "kg" }])),
    );
  });

  it("rejects an event without its time zone offset", () => {
    assertInvalid(mutated((event) => Reflect.deleteProperty(event, "eventTimeZoneOffset")));
  });

  it("rejects an extension field without a namespace prefix", () => {
    assertInvalid(mutated((event) => (event.txHash = "0x00")));
  });

  it("rejects a transformation with outputs only and no transformation ID", () => {
    assertInvalid(mutated((event) => Reflect.deleteProperty(event, "inputQuantityList"), 4));
  });

  it("rejects an ObjectEvent without an action", () => {
    assertInvalid(mutated((event) => Reflect.deleteProperty(event, "action")));
  });
});

describe("writeEpcisDocument", () => {
  it("streams exactly the document buildEpcisDocument builds", async () => {
    const { input } = teaFixture();
    const out = new Collector(64);
    await writeEpcisDocument(input, OPTIONS, out);
    assert.deepEqual(JSON.parse(out.text()), buildEpcisDocument(input, OPTIONS));
  });

  it("streams an export of 10,000 events that the schema accepts", async () => {
    const input = largeExportInput(100, 100);
    assert.equal([...criticalEvents(input)].length, 10_000);
    const out = new Collector();
    await writeEpcisDocument(input, OPTIONS, out);
    const streamed = JSON.parse(out.text()) as EpcisDocument;
    assert.equal(streamed.epcisBody.eventList.length, 10_000);
    assert.ok(out.chunks.length > 10, "the document was written in many chunks");
    assertValid(streamed);
    assert.deepEqual(streamed, buildEpcisDocument(input, OPTIONS));
  });
});
