/**
 * What every label of a sheet shares, worked out once before the first page: the text
 * column's width and the QR square it leaves, and the fitted name, lot, caption and
 * heading lines. Also the check that an item belongs on the sheet.
 */
import { parseDigitalLink } from "../../domain/gs1.ts";
import { AppError } from "../../errors/app-error.ts";
import { MONO_FONT, TEXT_FONT } from "./fonts.ts";
import {
  A4_WIDTH_MM,
  CAPTION_PT,
  HEADING_PT,
  HRI_PT,
  LABEL_PADDING_MM,
  MIN_TEXT_PT,
  NAME_PT,
  PT_PER_MM,
  layoutError,
  mm,
  round2,
  type LabelGeometry,
} from "./geometry.ts";
import { fitOrTruncate, fitSize } from "./text-fit.ts";
import type { LabelItem, LabelSheetHeading } from "./types.ts";

const SCRATCH_CAPTION = "刮开涂层 / scratch here";

export interface SheetContext {
  doc: PDFKit.PDFDocument;
  geometry: LabelGeometry;
  gtin: string;
  lot: string;
  /** The product name as it fits the label's text column, and its size. */
  name: { text: string; sizePt: number };
  lotLine: { text: string; sizePt: number };
  caption: { text: string; sizePt: number };
  headingLine: { text: string; sizePt: number };
  /** Serial lines fitted by length: the mono face makes width a function of length alone. */
  serialSizeByLength: Map<number, number>;
  textColumnPt: number;
  /** The QR square of this sheet: the layout's, less what a long lot takes for the text. */
  qrSquareMm: number;
}

export function hriTooWide(what: string, text: string, context: SheetContext): AppError {
  return layoutError(`${what} "${text}" does not fit the text column even at ${MIN_TEXT_PT} pt`, {
    textColumnMm: round2(context.textColumnPt / PT_PER_MM),
  });
}

export function sheetContext(
  doc: PDFKit.PDFDocument,
  geometry: LabelGeometry,
  heading: LabelSheetHeading,
  gtin: string,
  lot: string,
): SheetContext {
  const lotLine = `(10) ${lot}`;
  const lotMinWidthMm = doc.font(MONO_FONT).fontSize(MIN_TEXT_PT).widthOfString(lotLine) / PT_PER_MM;
  const qrSquareMm = Math.min(geometry.qrSquareMm, geometry.labelWidthMm - lotMinWidthMm - LABEL_PADDING_MM);
  if (qrSquareMm < geometry.qrSquareMinMm) {
    throw layoutError(
      `the lot "${lot}" needs a ${round2(lotMinWidthMm + LABEL_PADDING_MM)} mm text column, which leaves the QR ` +
        `${round2(qrSquareMm)} mm of the ${round2(geometry.qrSquareMinMm)} mm it needs; use fewer columns`,
      { labelWidthMm: round2(geometry.labelWidthMm) },
    );
  }
  const textColumnPt = mm(geometry.labelWidthMm - qrSquareMm - LABEL_PADDING_MM);
  const lotPt = fitSize(doc, MONO_FONT, lotLine, textColumnPt, HRI_PT);
  const headingParts = [
    heading.productName.en === null || heading.productName.en === ""
      ? heading.productName.zh
      : `${heading.productName.zh}（${heading.productName.en}）`,
    `GTIN ${gtin}`,
    `批号/Lot ${lot}`,
  ];
  if (heading.complianceCertificateNumber !== null && heading.complianceCertificateNumber !== "") {
    headingParts.push(`合格证/Certificate ${heading.complianceCertificateNumber}`);
  }
  // Leave the right-hand room for "第 n 页 / page n".
  const headingWidthPt = mm(A4_WIDTH_MM - 2 * geometry.layout.marginMm) - mm(30);
  const context: SheetContext = {
    doc,
    geometry,
    gtin,
    lot,
    name: fitOrTruncate(doc, TEXT_FONT, heading.productName.zh, textColumnPt, NAME_PT),
    lotLine: { text: lotLine, sizePt: lotPt ?? MIN_TEXT_PT },
    caption: fitOrTruncate(doc, TEXT_FONT, SCRATCH_CAPTION, textColumnPt, CAPTION_PT),
    headingLine: fitOrTruncate(doc, TEXT_FONT, headingParts.join("   "), headingWidthPt, HEADING_PT),
    serialSizeByLength: new Map(),
    textColumnPt,
    qrSquareMm,
  };
  if (lotPt === null) throw hriTooWide("the lot", lotLine, context);
  return context;
}

/** Refuses an item whose link does not carry the sheet's GTIN and lot and the item's own serial. */
export function checkItem(item: LabelItem, context: SheetContext, index: number): void {
  const link = parseDigitalLink(item.uri);
  if (link.gtin !== context.gtin || link.lot !== context.lot || link.serial !== item.serial) {
    throw new AppError("labels.item_mismatch", {
      index,
      uri: item.uri,
      serial: item.serial,
      expected: { gtin: context.gtin, lot: context.lot, serial: item.serial },
      found: { gtin: link.gtin, lot: link.lot, serial: link.serial },
    });
  }
}
