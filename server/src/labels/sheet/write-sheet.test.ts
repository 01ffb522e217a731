import assert from "node:assert/strict";
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { after, before, describe, it } from "node:test";

import { isAppError } from "../../errors/app-error.ts";
import { buildDigitalLink } from "../../domain/gs1.ts";
import { generateSerials } from "../../domain/serials.ts";
import {
  POPPLER,
  WQY_FONT,
  ZBAR,
  cropPgm,
  decodeQrCodes,
  haveTools,
  parsePgm,
  run,
} from "../../../../test/support/label-tools.ts";
import {
  DEFAULT_LAYOUT,
  HEADING_BAND_MM,
  QR_MIN_MM,
  labelGeometry,
  labelSheetLayoutQuerySchema,
  type LabelSheetLayout,
} from "./geometry.ts";
import type { LabelItem, LabelSheetHeading } from "./types.ts";
import { writeLabelSheet } from "./write-sheet.ts";

const HOST = "trace.example.cn";
const heading: LabelSheetHeading = {
  productName: { zh: "丽江高原红富士苹果", en: "Lijiang Fuji apples" },
  gtin: "06901234567892",
  lot: "LJ2026-04",
  complianceCertificateNumber: "YN-LJ-2026-000123",
};

function item(serial: string, hasHiddenCode: boolean, lot = heading.lot): LabelItem {
  return { serial, hasHiddenCode, uri: buildDigitalLink({ host: HOST, gtin: heading.gtin, lot, serial }) };
}

/**
 * Runs a full garbage collection, so heap figures count what is still referenced, not
 * garbage the collector has not got to yet.
 */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  const gc: unknown = vm.runInNewContext("gc");
  if (typeof gc !== "function") throw new Error("gc() is not available");
  (gc as () => void)();
}

/** Counts bytes and keeps the tail, acknowledging each chunk on a later turn of the event loop like a socket. */
class CountingSink extends Writable {
  bytes = 0;
  chunks = 0;
  maxBuffered = 0;
  tail = "";
  /** Every `/Count n` of a page tree node seen in the output; the root's is the page count. */
  pageCounts: number[] = [];

  constructor() {
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    this.chunks++;
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    // Search across chunk boundaries: the last few characters of the previous chunk go first.
    const carried = this.tail.slice(-64);
    const window = carried + chunk.toString("latin1");
    for (const match of window.matchAll(/\/Type \/Pages\s*\/Count (\d+)\D/g)) {
      // Count a match once: in the chunk where it ends.
      if (match.index + match[0].length > carried.length) this.pageCounts.push(Number(match[1]));
    }
    this.tail = window.slice(-4096);
    setImmediate(callback);
  }
}

describe("label sheets", () => {
  let dir = "";
  let font = false;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "oioc-labels-"));
    font = await haveTools([WQY_FONT], "printing label sheets (CJK font)");
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints labels whose QR codes each scan back to exactly their item's link", async (t) => {
    if (!font || !(await haveTools([ZBAR, POPPLER], "scanning printed label sheets"))) {
      t.skip("tools missing");
      return;
    }
    const geometry = labelGeometry(DEFAULT_LAYOUT);
    const count = geometry.labelsPerPage + 18; // two pages, the second part-filled
    const items = generateSerials(count).map((serial, index) => item(serial, index % 3 !== 0));
    const pdf = path.join(dir, "sheet.pdf");
    const result = await writeLabelSheet(items, heading, DEFAULT_LAYOUT, createWriteStream(pdf));
    assert.deepEqual(result, { pages: 2, labels: count });
    assert.match((await run("pdfinfo", [pdf])).stdout, /^Pages:\s+2$/m);

    // A phone frames one label, so each cell is cut out of the page and scanned on its own.
    const dpi = 150;
    const px = (valueMm: number) => Math.round((valueMm / 25.4) * dpi);
    assert.equal((await run("pdftoppm", ["-r", String(dpi), "-gray", pdf, path.join(dir, "page")])).code, 0);
    const decoded: string[] = [];
    for (let index = 0; index < count; index++) {
      const page = Math.floor(index / geometry.labelsPerPage) + 1;
      const slot = index % geometry.labelsPerPage;
      const { columns, marginMm, gapMm } = geometry.layout;
      const image = parsePgm(readFileSync(path.join(dir, `page-${page}.pgm`)));
      const xMm = marginMm + (slot % columns) * (geometry.labelWidthMm + gapMm);
      const yMm = marginMm + HEADING_BAND_MM + Math.floor(slot / columns) * (geometry.labelHeightMm + gapMm);
      const cell = path.join(dir, `cell-${index}.pgm`);
      writeFileSync(cell, cropPgm(image, px(xMm), px(yMm), px(geometry.labelWidthMm), px(geometry.labelHeightMm)));
      const found = await decodeQrCodes(cell);
      assert.equal(found.length, 1, `label ${index} (page ${page}, slot ${slot}) holds one readable QR`);
      decoded.push(...found);
    }
    // In place, one for one: each label carries its own item's link...
    assert.deepEqual(
      decoded,
      items.map((entry) => entry.uri),
    );
    // ...so the decoded set is exactly the items' links, none twice, none missing.
    assert.equal(new Set(decoded).size, count);

    // The text is real text in a CJK font (pdftotext maps it back to Unicode), not tofu.
    const text = (await run("pdftotext", ["-layout", pdf, "-"])).stdout;
    for (const entry of items) assert.ok(text.includes(`(21) ${entry.serial}`), entry.serial);
    assert.equal(text.split("刮开涂层").length - 1, items.filter((entry) => entry.hasHiddenCode).length);
    assert.ok(text.includes("丽江高原红富士苹果"));
    assert.ok(text.includes("第 2 页 / page 2"));

    mkdirSync("test-results", { recursive: true });
    const png = path.join(dir, "page1");
    await run("pdftoppm", ["-r", String(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", pdf, png]);
    copyFileSync(`${png}.png`, path.join("test-results", "labels-page1.png"));
  });

  it("streams 20,000 labels from a generator with bounded memory, waiting for a slow output", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const count = 20_000;
    const serials = generateSerials(count);
    function* items(): Generator<LabelItem> {
      for (const [index, serial] of serials.entries()) yield item(serial, index % 2 === 0);
    }
    const sink = new CountingSink();
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await writeLabelSheet(items(), heading, DEFAULT_LAYOUT, sink);
    collectGarbage();
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

    t.diagnostic(
      `${sink.bytes} bytes, heap growth after GC ${heapGrowthMb.toFixed(1)} MB, sink buffer peak ${sink.maxBuffered} bytes`,
    );
    const perPage = labelGeometry(DEFAULT_LAYOUT).labelsPerPage;
    assert.deepEqual(result, { pages: Math.ceil(count / perPage), labels: count });
    assert.ok(sink.writableFinished, "the output was ended and flushed");
    assert.ok(sink.tail.trimEnd().endsWith("%%EOF"));
    assert.deepEqual(sink.pageCounts, [result.pages]);
    // The whole sheet is about 8 MB of PDF and far more of drawing state; what stays is the font subset and bookkeeping.
    assert.ok(heapGrowthMb < 64, `heap grew by ${heapGrowthMb.toFixed(1)} MB`);
    // Without waiting for 'drain' the whole PDF would pile up in the sink's buffer.
    assert.ok(sink.bytes > 2 * 1024 * 1024, `the sheet is ${sink.bytes} bytes`);
    assert.ok(sink.maxBuffered < 512 * 1024, `the sink buffered up to ${sink.maxBuffered} bytes`);
  });

  it("gives one heading-only page for no items", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const sink = new CountingSink();
    assert.deepEqual(await writeLabelSheet([], heading, DEFAULT_LAYOUT, sink), { pages: 1, labels: 0 });
    assert.deepEqual(sink.pageCounts, [1]);
  });

  it("accepts an async iterable", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const serials = generateSerials(40);
    async function* items(): AsyncGenerator<LabelItem> {
      for (const serial of serials) {
        await new Promise((resolve) => setImmediate(resolve));
        yield item(serial, false);
      }
    }
    const layout = { columns: 3, rows: 7, marginMm: 8, gapMm: 2 };
    const sink = new CountingSink();
    assert.deepEqual(await writeLabelSheet(items(), heading, layout, sink), { pages: 2, labels: 40 });
  });

  it("refuses layouts that do not fit, naming the limit", () => {
    const bad: [Partial<LabelSheetLayout>, RegExp][] = [
      [{ columns: 0 }, /columns/],
      [{ rows: 0 }, /rows/],
      [{ columns: 2.5 }, /columns/],
      [{ marginMm: -1 }, /marginMm/],
      [{ gapMm: Number.NaN }, /gapMm/],
      [{ columns: 6 }, /wide; a 15 mm QR/],
      [{ rows: 14 }, /high; a 15 mm QR/],
      [{ marginMm: 110 }, /wide/],
    ];
    for (const [change, reason] of bad) {
      assert.throws(
        () => labelGeometry({ ...DEFAULT_LAYOUT, ...change }),
        (error) => isAppError(error, "labels.layout") && reason.test(String(error.details.reason)),
        JSON.stringify(change),
      );
    }
    const geometry = labelGeometry(DEFAULT_LAYOUT);
    assert.equal(geometry.labelsPerPage, 32);
    assert.ok(geometry.qrSquareMm >= QR_MIN_MM);
    assert.ok(labelGeometry({ columns: 1, rows: 1, marginMm: 0, gapMm: 0 }).labelsPerPage === 1);
  });

  it("parses layout query parameters with defaults and bounds", () => {
    assert.deepEqual(labelSheetLayoutQuerySchema.parse({}), DEFAULT_LAYOUT);
    assert.deepEqual(labelSheetLayoutQuerySchema.parse({ columns: "3", rows: "7", marginMm: "8.5", gapMm: "0" }), {
      columns: 3,
      rows: 7,
      marginMm: 8.5,
      gapMm: 0,
    });
    for (const query of [{ columns: "0" }, { rows: "abc" }, { columns: "2.5" }, { marginMm: "-1" }, { gapMm: "99" }]) {
      assert.equal(labelSheetLayoutQuerySchema.safeParse(query).success, false, JSON.stringify(query));
    }
  });

  it("refuses bad headings, fonts and items with typed errors", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const [serial = "", other = ""] = generateSerials(2);
    const write = (items: LabelItem[], changes: Partial<LabelSheetHeading> = {}, fontPath?: string) =>
      writeLabelSheet(items, { ...heading, ...changes }, DEFAULT_LAYOUT, new CountingSink(), { fontPath });

    await assert.rejects(write([], { gtin: "06901234567891" }), (error) => isAppError(error, "gs1.check_digit"));
    await assert.rejects(write([], { lot: "批次1" }), (error) => isAppError(error, "gs1.lot_charset"));
    await assert.rejects(write([], { productName: { zh: " ", en: null } }), (error) =>
      isAppError(error, "labels.heading"),
    );
    await assert.rejects(write([], {}, path.join(dir, "no-such-font.ttf")), (error) =>
      isAppError(error, "labels.font_missing"),
    );
    await assert.rejects(write([item(serial, false, "OTHER-LOT")]), (error) =>
      isAppError(error, "labels.item_mismatch"),
    );
    await assert.rejects(write([{ ...item(serial, false), serial: other }]), (error) =>
      isAppError(error, "labels.item_mismatch"),
    );
    await assert.rejects(
      write([{ uri: "https://trace.example.cn/not-a-link", serial, hasHiddenCode: false }]),
      (error) => isAppError(error),
    );
    // A link long enough to need modules thinner than a printer and a phone manage on a small label.
    const tight = { columns: 4, rows: 8, marginMm: 10, gapMm: 10 };
    const longLink: LabelItem = {
      serial,
      hasHiddenCode: false,
      uri: buildDigitalLink({
        host: HOST,
        gtin: heading.gtin,
        lot: heading.lot,
        serial,
        params: [["note", "x".repeat(380)]],
      }),
    };
    await assert.rejects(
      writeLabelSheet([longLink], heading, tight, new CountingSink()),
      (error) => isAppError(error, "labels.layout") && /modules/.test(String(error.details.reason)),
    );
  });

  it("prints with a font at a configured path, naming the face inside an unknown collection", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const fontPath = path.join(dir, "our-cjk.ttc");
    copyFileSync(WQY_FONT.probe, fontPath);
    const items = generateSerials(3).map((serial) => item(serial, true));
    await assert.rejects(
      writeLabelSheet(items, heading, DEFAULT_LAYOUT, new CountingSink(), { fontPath }),
      (error) => isAppError(error, "labels.font_missing") && /fontFace/.test(String(error.details.reason)),
    );
    await assert.rejects(
      writeLabelSheet(items, heading, DEFAULT_LAYOUT, new CountingSink(), { fontPath, fontFace: "NoSuchFace" }),
      (error) => isAppError(error, "labels.font_missing"),
    );
    const sink = new CountingSink();
    const result = await writeLabelSheet(items, heading, DEFAULT_LAYOUT, sink, {
      fontPath,
      fontFace: "WenQuanYiMicroHei",
    });
    assert.deepEqual(result, { pages: 1, labels: 3 });
    assert.match(sink.tail, /%%EOF\s*$/);
  });

  it("stops when aborted and leaves the output unfinished", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const controller = new AbortController();
    const serials = generateSerials(2_000);
    function* items(): Generator<LabelItem> {
      for (const [index, serial] of serials.entries()) {
        if (index === 100) controller.abort();
        yield item(serial, false);
      }
    }
    const sink = new CountingSink();
    await assert.rejects(
      writeLabelSheet(items(), heading, DEFAULT_LAYOUT, sink, { signal: controller.signal }),
      (error) => error instanceof Error && error.name === "AbortError",
    );
    assert.equal(sink.writableEnded, false);
    sink.destroy();
  });

  it("stops when the output fails", async (t) => {
    if (!font) {
      t.skip("CJK font missing");
      return;
    }
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("disk full"));
      },
    });
    await assert.rejects(
      writeLabelSheet(
        generateSerials(500).map((serial) => item(serial, false)),
        heading,
        DEFAULT_LAYOUT,
        failing,
      ),
      /disk full/,
    );
    await assert.rejects(finished(failing));
  });
});
