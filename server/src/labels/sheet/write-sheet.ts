/**
 * A4 sheets of item labels, written as a streaming PDF: a page is drawn, handed to the
 * output and forgotten before the next is drawn, and the writer waits for the output to
 * drain when it is slow, so a 100,000-item batch never holds more than a page in memory.
 *
 * Each label has the item's QR code (its GS1 Digital Link URI, level M, 4-module quiet
 * zone, drawn as vector rectangles: crisp at any printer resolution and a small PDF),
 * the product name in Chinese, the lot and serial as GS1 human-readable text
 * (`(10) …`, `(21) …`), and, when the item has a hidden verification code, an empty box
 * captioned "刮开涂层 / scratch here" where that code is printed and covered later.
 *
 * The rest of this folder: `geometry.ts` (where labels go), `fonts.ts`, `text-fit.ts`,
 * `context.ts` (what a sheet's labels share), `draw.ts` (one label) and `output.ts`
 * (backpressure).
 */
import { normalizeGtin, validateLot } from "../../domain/gs1.ts";
import { AppError } from "../../errors/app-error.ts";
import { checkItem, sheetContext } from "./context.ts";
import { drawHeading, drawLabel } from "./draw.ts";
import { registerLabelFonts, resolveLabelFont } from "./fonts.ts";
import { labelGeometry, type LabelSheetLayout } from "./geometry.ts";
import { BackpressuredOutput } from "./output.ts";
import type { LabelItem, LabelSheetHeading, LabelSheetOptions, LabelSheetResult } from "./types.ts";
import { loadPdfDocument } from "../pdf-document.ts";

/**
 * Writes a PDF of label sheets for `items` to `out`, page by page, and ends `out`. Pages
 * hold `columns × rows` labels in reading order; an empty `items` gives one page with
 * the heading only (a PDF needs a page).
 *
 * Throws before writing anything for a bad layout (`labels.layout`), a missing CJK font
 * (`labels.font_missing`), or a bad heading GTIN or lot (`AppError`). While writing, an
 * item that is not a Digital Link of this GTIN and lot (`AppError`,
 * `labels.item_mismatch`), a QR too dense for the label (`labels.layout`), an error of
 * `out` or of `items`, or `signal` aborting stops the sheet: nothing more is written and
 * `out` is not ended, so no truncated PDF passes for a whole one; the caller destroys it.
 */
export async function writeLabelSheet(
  items: AsyncIterable<LabelItem> | Iterable<LabelItem>,
  heading: LabelSheetHeading,
  layout: LabelSheetLayout,
  out: NodeJS.WritableStream,
  options: LabelSheetOptions = {},
): Promise<LabelSheetResult> {
  const geometry = labelGeometry(layout);
  const font = resolveLabelFont(options);
  const gtin = normalizeGtin(heading.gtin);
  const lot = validateLot(heading.lot);
  if (heading.productName.zh.trim() === "") throw new AppError("labels.heading", { field: "productName.zh" });
  const PDFDocument = await loadPdfDocument();
  options.signal?.throwIfAborted();

  const doc = new PDFDocument({
    autoFirstPage: false,
    size: "A4",
    margin: 0,
    compress: true,
    info: { Title: `Labels ${gtin} ${lot}`, Creator: "one item, one code" },
  });
  registerLabelFonts(doc, font);
  const context = sheetContext(doc, geometry, heading, gtin, lot);

  const output = new BackpressuredOutput(out, options.signal);
  let pages = 0;
  let labels = 0;
  let slot = geometry.labelsPerPage;
  const newPage = async (): Promise<void> => {
    // Adding a page writes out the one before it; wait here if `out` is full.
    doc.addPage({ size: "A4", margin: 0 });
    pages++;
    slot = 0;
    output.pump(doc);
    await output.ready();
    drawHeading(context, pages);
  };
  try {
    for await (const item of items) {
      output.check();
      checkItem(item, context, labels);
      if (slot === geometry.labelsPerPage) await newPage();
      drawLabel(context, item, slot);
      slot++;
      labels++;
    }
    if (pages === 0) await newPage();
    output.check();
    doc.end();
    output.pump(doc);
    await output.ready();
    await output.end();
    return { pages, labels };
  } finally {
    output.detach();
  }
}
