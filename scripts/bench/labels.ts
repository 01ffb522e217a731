/**
 * Label sheets: how fast a 10,000-label A4 PDF is drawn (QR symbol, vector modules, text,
 * deflate) and how many bytes a label costs, written to a sink that only counts, so the
 * figure is the writer's and not a disk's. Serials and links are built before the clock
 * starts; half the labels carry a scratch-off box, as a typical batch would.
 */
import { Writable } from "node:stream";

import { buildDigitalLink } from "../../server/src/domain/gs1.ts";
import { generateSerials } from "../../server/src/domain/serials.ts";
import { DEFAULT_LAYOUT } from "../../server/src/labels/sheet/geometry.ts";
import type { LabelItem, LabelSheetHeading } from "../../server/src/labels/sheet/types.ts";
import { writeLabelSheet } from "../../server/src/labels/sheet/write-sheet.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const LABELS = 10_000;
const WARM_UP_LABELS = 500;

const heading: LabelSheetHeading = {
  productName: { zh: "丽江高原红富士苹果", en: "Lijiang Fuji apples" },
  gtin: "06901234567892",
  lot: "LJ2026-04",
  complianceCertificateNumber: "YN-LJ-2026-000123",
};

function labelItems(count: number): LabelItem[] {
  return generateSerials(count).map((serial, index) => ({
    serial,
    hasHiddenCode: index % 2 === 0,
    uri: buildDigitalLink({ host: "trace.example.cn", gtin: heading.gtin, lot: heading.lot, serial }),
  }));
}

async function sheet(items: readonly LabelItem[]): Promise<{ ms: number; bytes: number; pages: number }> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  const started = performance.now();
  const { pages, labels } = await writeLabelSheet(items, heading, DEFAULT_LAYOUT, sink);
  const ms = performance.now() - started;
  if (labels !== items.length) throw new Error(`labels bench: ${labels} of ${items.length} labels written`);
  return { ms, bytes, pages };
}

export const labelsSuite: BenchSuite = {
  name: "labels",
  run: async () => {
    // Font loading and JIT warm-up would otherwise land in the figure.
    await sheet(labelItems(WARM_UP_LABELS));
    const { ms, bytes, pages } = await sheet(labelItems(LABELS));
    const count = LABELS.toLocaleString("en-US");
    const rows: BenchRow[] = [
      { metric: `label sheet PDF, ${count} labels (${pages} A4 pages)`, value: Math.round(ms), unit: "ms" },
      { metric: "label sheet PDF speed", value: Math.round((LABELS / ms) * 1000), unit: "labels/s" },
      { metric: "label sheet PDF size per label", value: Math.round(bytes / LABELS), unit: "bytes" },
    ];
    return rows;
  },
};
