import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import ExcelJS from "exceljs";

import { ORGANISATIONS, TEA_GTIN, largeExportInput, teaFixture } from "../../../test/support/export-fixtures.ts";
import { CASE_SSCC, teaWithCase } from "../../../test/support/container-fixtures.ts";
import { KDE_COLUMNS, kdeRows, neutraliseFormula, writeKdeCsv, writeKdeXlsx, type KdeRow } from "./kde-spreadsheet.ts";

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    setImmediate(callback);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes; throws on anything else. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error("unterminated quoted field");
        field += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
    } else {
      const end = text.slice(i).search(/[,\r\n"]/);
      const stop = end < 0 ? text.length : i + end;
      if (text[stop] === '"') throw new Error(`a quote inside an unquoted field at ${stop}`);
      field = text.slice(i, stop);
      i = stop;
    }
    record.push(field);
    if (text[i] === ",") {
      i += 1;
      continue;
    }
    if (text.startsWith("\r\n", i)) {
      records.push(record);
      record = [];
      i += 2;
      if (i === text.length) return records;
      continue;
    }
    throw new Error(`expected a comma or CRLF at ${i}`);
  }
}

function row(overrides: Partial<KdeRow>): KdeRow {
  const [first] = kdeRows(teaFixture().input);
  assert.ok(first !== undefined);
  return { ...first, ...overrides };
}

describe("kdeRows", () => {
  const fixture = teaFixture();
  const rows = kdeRows(fixture.input);

  it("has one row per critical tracking event, the recall included", () => {
    assert.deepEqual(
      rows.map((r) => r.bizStep),
      [
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
      ],
    );
  });

  it("fills the key data elements of a harvest", () => {
    const harvest = rows.find((r) => r.bizStep === "harvesting");
    assert.deepEqual(harvest, {
      traceabilityLotCode: `(01)${TEA_GTIN}(10)AJ2026-0401`,
      productDescription: "安吉白茶 明前特级 250 克罐装",
      quantity: "1250.5",
      unit: "KGM",
      locationRegionCode: "330523",
      locationName: "溪龙乡黄杜村3号茶园",
      eventTimeMs: fixture.events.harvesting.occurredAtMs,
      eventDate: "2026-04-01T09:30:00.000+08:00",
      eventType: "commissioning",
      bizStep: "harvesting",
      organisation: "安吉县白茶专业合作社 / Anji White Tea Cooperative",
      referenceDocument: "",
      txHash: fixture.events.harvesting.ledger.txHash,
      anchoredState: "anchored",
      logisticUnit: "",
    });
  });

  it("names the region where the event names no place, and shows what is not yet anchored", () => {
    const inspection = rows.find((r) => r.bizStep === "inspecting");
    assert.ok(inspection !== undefined);
    assert.equal(inspection.locationRegionCode, ORGANISATIONS.inspector.regionCode);
    assert.match(inspection.locationName, /^浙江省 湖州市/);
    assert.equal(inspection.referenceDocument, "inspection_report HZQT-2026-0417");
    const sale = rows.find((r) => r.bizStep === "retail_selling");
    assert.ok(sale !== undefined);
    assert.deepEqual([sale.txHash, sale.anchoredState, sale.quantity, sale.unit], ["", "pending", "40", "XBX"]);
    const named = kdeRows(fixture.input, { regionName: (code) => `region ${code}` });
    assert.equal(named.find((r) => r.bizStep === "inspecting")?.locationName, "region 330500");
  });

  it("sorts by event date as text in time order", () => {
    const dates = rows.map((r) => r.eventDate);
    assert.deepEqual([...dates].sort(), dates);
  });
});

describe("kdeRows of cases", () => {
  it("adds the case's shipping and receiving per lot, with the despatch advice and the SSCC", () => {
    const rows = kdeRows(teaWithCase(["S0001", "S0002", "S0003"])).filter((row) => row.logisticUnit !== "");
    assert.deepEqual(
      rows.map((row) => [row.bizStep, row.traceabilityLotCode, row.quantity, row.unit, row.logisticUnit]),
      [
        ["shipping", `(01)${TEA_GTIN}(10)AJ2026-0401`, "3", "H87", `(00)${CASE_SSCC}`],
        ["receiving", `(01)${TEA_GTIN}(10)AJ2026-0401`, "3", "H87", `(00)${CASE_SSCC}`],
      ],
    );
    assert.equal(
      rows[0]?.referenceDocument,
      "po https://trace.example.cn/orders/ord-1/po/SH-0001; desadv https://trace.example.cn/orders/ord-1/desadv/1",
    );
    assert.equal(rows[0].txHash, `0x${"b1".repeat(32)}`);
    assert.equal(rows[1]?.anchoredState, "pending");
    assert.equal(rows[1].organisation.includes(ORGANISATIONS.retailer.nameZh), true);
  });
});

describe("writeKdeCsv", () => {
  it("writes RFC 4180 CSV with a byte-order mark that reads back to the rows", async () => {
    const rows = kdeRows(teaFixture().input);
    const out = new Collector();
    await writeKdeCsv(rows, out);
    const bytes = out.bytes();
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8").slice(1);
    const records = parseCsv(text);
    assert.deepEqual(
      records[0],
      KDE_COLUMNS.map((column) => column.header),
    );
    assert.equal(KDE_COLUMNS[0]?.header, "追溯批次码 / Traceability lot code");
    assert.deepEqual(
      records.slice(1),
      rows.map((r) => KDE_COLUMNS.map((column) => neutraliseFormula(r[column.key]))),
    );
  });

  it("quotes commas, quotes and line breaks and defuses formulas", async () => {
    const out = new Collector();
    await writeKdeCsv(
      [
        row({
          productDescription: '=HYPERLINK("http://evil.example","点我")',
          quantity: "12.5",
          locationName: "+86 571 1234",
          organisation: "@SUM(A1:A2)",
          referenceDocument: "-2+3",
          eventType: 'say "hi", then\r\nleave',
          txHash: "\t=1",
        }),
      ],
      out,
    );
    const lines = out.bytes().toString("utf8").split("\r\n");
    const record = parseCsv(lines.slice(1).join("\r\n"))[0];
    assert.ok(record !== undefined);
    const cell = (key: string): string => record[KDE_COLUMNS.findIndex((column) => column.key === key)] ?? "";
    assert.equal(cell("productDescription"), `'=HYPERLINK("http://evil.example","点我")`);
    assert.equal(cell("locationName"), "'+86 571 1234");
    assert.equal(cell("organisation"), "'@SUM(A1:A2)");
    assert.equal(cell("referenceDocument"), "'-2+3");
    assert.equal(cell("txHash"), "'\t=1");
    assert.equal(cell("eventType"), 'say "hi", then\r\nleave');
    assert.equal(cell("quantity"), "12.5");
    // The exact text of the quoted fields.
    assert.ok(lines[1]?.includes(`"'=HYPERLINK(""http://evil.example"",""点我"")"`));
    assert.ok(lines[1]?.includes(`"say ""hi"", then`));
  });
});

async function readXlsx(bytes: Buffer): Promise<ExcelJS.Worksheet> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = workbook.getWorksheet("KDE");
  assert.ok(sheet !== undefined, "no KDE sheet");
  return sheet;
}

describe("writeKdeXlsx", () => {
  it("writes a sheet with a frozen header, an autofilter, numbers and real dates", async () => {
    const rows = kdeRows(teaFixture().input);
    const out = new Collector();
    await writeKdeXlsx(rows, out);
    const sheet = await readXlsx(out.bytes());

    assert.equal(sheet.rowCount, rows.length + 1);
    assert.deepEqual(
      KDE_COLUMNS.map((_, i) => sheet.getRow(1).getCell(i + 1).value),
      KDE_COLUMNS.map((column) => column.header),
    );
    const [view] = sheet.views;
    assert.ok(view?.state === "frozen", "the header is not frozen");
    assert.equal(view.ySplit, 1);
    // Every column of the header: A to N.
    assert.equal(sheet.autoFilter, "A1:N1");

    for (const index of [2, 6, 10]) {
      const expected = rows[index];
      assert.ok(expected !== undefined);
      const cells = sheet.getRow(index + 2);
      KDE_COLUMNS.forEach((column, c) => {
        const value = cells.getCell(c + 1).value;
        if (column.key === "quantity") {
          assert.equal(value, Number(expected.quantity), `row ${index} quantity`);
        } else if (column.key === "eventDate") {
          assert.ok(value instanceof Date, `row ${index} date is a date cell`);
          // China's wall-clock time, written as the cell's (zone-less) time.
          assert.equal(value.toISOString().slice(0, 19), expected.eventDate.slice(0, 19));
          assert.equal(cells.getCell(c + 1).numFmt, "yyyy-mm-dd hh:mm:ss");
        } else {
          assert.equal(value ?? "", expected[column.key], `row ${index} ${column.key}`);
        }
      });
    }
  });

  it("keeps a formula-looking text a string cell, not a formula", async () => {
    const out = new Collector();
    await writeKdeXlsx([row({ productDescription: "=1+2" })], out);
    const sheet = await readXlsx(out.bytes());
    const column = KDE_COLUMNS.findIndex((c) => c.key === "productDescription") + 1;
    assert.equal(sheet.getRow(2).getCell(column).value, "=1+2");
    assert.equal(sheet.getRow(2).getCell(column).type, ExcelJS.ValueType.String);
  });
});

describe("10,000 events", () => {
  const rows = kdeRows(largeExportInput(100, 100));

  it("make 10,000 rows of CSV", async () => {
    assert.equal(rows.length, 10_000);
    const out = new Collector();
    await writeKdeCsv(rows, out);
    assert.equal(parseCsv(out.bytes().toString("utf8").slice(1)).length, 10_001);
  });

  it("make a 10,000-row workbook", async () => {
    const out = new Collector();
    await writeKdeXlsx(rows, out);
    const sheet = await readXlsx(out.bytes());
    assert.equal(sheet.rowCount, 10_001);
    assert.equal(sheet.getRow(10_001).getCell(1).value, rows[9_999]?.traceabilityLotCode);
  });
});
