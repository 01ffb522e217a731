/**
 * Regulator exports of 10,000 critical tracking events (100 batches of 100, shipments
 * with a day's temperature log): the EPCIS 2.0 JSON-LD document built in memory and
 * validated against GS1's official schema, the same document streamed, and the KDE
 * spreadsheet as CSV and as XLSX (exceljs' streaming writer). Output goes to a writer
 * that only counts bytes, so the figures are the export's own work, not a disk's.
 */
import { Writable } from "node:stream";

import { buildEpcisDocument, writeEpcisDocument, type EpcisOptions } from "../../server/src/exports/epcis.ts";
import { loadEpcisValidator } from "../../test/support/epcis-schema.ts";
import { largeExportInput } from "../../test/support/export-fixtures.ts";
import { kdeRows, writeKdeCsv, writeKdeXlsx } from "../../server/src/exports/kde-spreadsheet.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const BATCHES = 100;
const EVENTS_PER_BATCH = 100;
const RUNS = 3;
const OPTIONS: EpcisOptions = { creationDate: new Date(), publicOrigin: "https://trace.example.cn" };

class ByteCounter extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await work();
    runs.push(performance.now() - started);
  }
  return Math.round(median(runs));
}

export const exportsSuite: BenchSuite = {
  name: "exports",
  run: async () => {
    const input = largeExportInput(BATCHES, EVENTS_PER_BATCH);
    const events = (BATCHES * EVENTS_PER_BATCH).toLocaleString("en-US");
    const validate = loadEpcisValidator();
    // Warm every path up once on a small export so compilation is not in the figures.
    const small = largeExportInput(2, 10);
    validate(buildEpcisDocument(small, OPTIONS));
    await writeKdeXlsx(kdeRows(small), new ByteCounter());

    const document = buildEpcisDocument(input, OPTIONS);
    const verdict = validate(document);
    if (!verdict.valid) throw new Error("exports bench: the EPCIS document fails the official schema");

    const buildMs = await timed(() => Promise.resolve(buildEpcisDocument(input, OPTIONS)));
    const validateMs = await timed(() => Promise.resolve(validate(document)));
    const epcisOut = new ByteCounter();
    const streamMs = await timed(() => writeEpcisDocument(input, OPTIONS, epcisOut));
    const rows = kdeRows(input);
    const csvOut = new ByteCounter();
    const csvMs = await timed(() => writeKdeCsv(rows, csvOut));
    let xlsxBytes = 0;
    const xlsxMs = await timed(async () => {
      const out = new ByteCounter();
      await writeKdeXlsx(rows, out);
      xlsxBytes = out.bytes;
    });
    const mb = (bytes: number): number => Math.round((bytes / RUNS / 1_048_576) * 10) / 10;

    const result: BenchRow[] = [
      { metric: `EPCIS 2.0 document, ${events} events: build in memory`, value: buildMs, unit: "ms" },
      {
        metric: `EPCIS 2.0 document, ${events} events: validate (official schema, ajv)`,
        value: validateMs,
        unit: "ms",
      },
      { metric: `EPCIS 2.0 document, ${events} events: stream to a writer`, value: streamMs, unit: "ms" },
      { metric: `EPCIS 2.0 document, ${events} events: size`, value: mb(epcisOut.bytes), unit: "MiB" },
      { metric: `KDE spreadsheet, ${events} rows: CSV`, value: csvMs, unit: "ms" },
      { metric: `KDE spreadsheet, ${events} rows: XLSX (streaming writer)`, value: xlsxMs, unit: "ms" },
      {
        metric: `KDE spreadsheet, ${events} rows: XLSX size`,
        value: Math.round((xlsxBytes / 1_048_576) * 10) / 10,
        unit: "MiB",
      },
    ];
    return result;
  },
};
