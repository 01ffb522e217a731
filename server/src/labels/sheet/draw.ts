/** Drawing one page's heading and one label: its cut guide, QR code, text lines and scratch-off box. */
import { QR_QUIET_ZONE_MODULES, qrMatrix, type QrMatrix } from "../qr.ts";
import { hriTooWide, type SheetContext } from "./context.ts";
import { MONO_FONT, TEXT_FONT } from "./fonts.ts";
import {
  A4_WIDTH_MM,
  CAPTION_PT,
  HEADING_BAND_MM,
  HRI_PT,
  LABEL_PADDING_MM,
  LINE_HEIGHT,
  NAME_PT,
  PT_PER_MM,
  QR_MIN_MM,
  QR_MIN_MODULE_MM,
  SCRATCH_BOX_MAX_MM,
  layoutError,
  mm,
  round2,
} from "./geometry.ts";
import { fitSize } from "./text-fit.ts";
import type { LabelItem } from "./types.ts";

export function drawHeading(context: SheetContext, page: number): void {
  const { doc, geometry } = context;
  const x = mm(geometry.layout.marginMm);
  const y = mm(geometry.layout.marginMm);
  const width = mm(A4_WIDTH_MM - 2 * geometry.layout.marginMm);
  const pageText = `第 ${page} 页 / page ${page}`;
  doc.fillColor("#000000").font(TEXT_FONT).fontSize(context.headingLine.sizePt);
  doc.text(context.headingLine.text, x, y, { lineBreak: false });
  doc.text(pageText, x + width - doc.widthOfString(pageText), y, { lineBreak: false });
}

function drawQr(doc: PDFKit.PDFDocument, matrix: QrMatrix, xPt: number, yPt: number, modulePt: number): void {
  doc.save().translate(xPt, yPt).scale(modulePt);
  // One rectangle per horizontal run of dark modules: a third of the path operators of one per module.
  for (let row = 0; row < matrix.size; row++) {
    let column = 0;
    while (column < matrix.size) {
      if (!matrix.isDark(row, column)) {
        column++;
        continue;
      }
      const start = column;
      while (column < matrix.size && matrix.isDark(row, column)) column++;
      doc.rect(start, row, column - start, 1);
    }
  }
  doc.fill("#000000").restore();
}

export function drawLabel(context: SheetContext, item: LabelItem, slot: number): void {
  const { doc, geometry } = context;
  const { columns, marginMm, gapMm } = geometry.layout;
  const column = slot % columns;
  const row = Math.floor(slot / columns);
  const x = mm(marginMm + column * (geometry.labelWidthMm + gapMm));
  const y = mm(marginMm + HEADING_BAND_MM + row * (geometry.labelHeightMm + gapMm));
  const width = mm(geometry.labelWidthMm);
  const height = mm(geometry.labelHeightMm);

  // A hairline cut guide; light enough not to read as part of the code.
  doc.rect(x, y, width, height).lineWidth(0.25).strokeColor("#b0b0b0").stroke();

  const matrix = qrMatrix(item.uri);
  const squarePt = mm(context.qrSquareMm);
  const modulePt = squarePt / (matrix.size + 2 * QR_QUIET_ZONE_MODULES);
  const symbolMm = (modulePt * matrix.size) / PT_PER_MM;
  if (symbolMm < QR_MIN_MM || modulePt / PT_PER_MM < QR_MIN_MODULE_MM) {
    throw layoutError(
      `the QR of ${item.uri} (version ${matrix.version}, ${matrix.size} modules) would be ${round2(symbolMm)} mm with ` +
        `${round2(modulePt / PT_PER_MM)} mm modules; labels need at least ${QR_MIN_MM} mm and ${QR_MIN_MODULE_MM} mm`,
      { qrSquareMm: round2(context.qrSquareMm) },
    );
  }
  const quietPt = QR_QUIET_ZONE_MODULES * modulePt;
  drawQr(doc, matrix, x + quietPt, y + (height - squarePt) / 2 + quietPt, modulePt);

  const textX = x + squarePt;
  const padding = mm(LABEL_PADDING_MM);
  let textY = y + padding;
  doc.fillColor("#000000");
  doc.font(TEXT_FONT).fontSize(context.name.sizePt).text(context.name.text, textX, textY, { lineBreak: false });
  textY += NAME_PT * LINE_HEIGHT;
  doc.font(MONO_FONT).fontSize(context.lotLine.sizePt).text(context.lotLine.text, textX, textY, { lineBreak: false });
  textY += HRI_PT * LINE_HEIGHT;

  const serialLine = `(21) ${item.serial}`;
  let serialPt = context.serialSizeByLength.get(serialLine.length);
  if (serialPt === undefined) {
    const fitted = fitSize(doc, MONO_FONT, serialLine, context.textColumnPt, HRI_PT);
    if (fitted === null) throw hriTooWide("the serial", serialLine, context);
    serialPt = fitted;
    context.serialSizeByLength.set(serialLine.length, serialPt);
  }
  doc.font(MONO_FONT).fontSize(serialPt).text(serialLine, textX, textY, { lineBreak: false });
  textY += HRI_PT * LINE_HEIGHT;

  if (item.hasHiddenCode) {
    doc.font(TEXT_FONT).fontSize(context.caption.sizePt).text(context.caption.text, textX, textY, { lineBreak: false });
    textY += CAPTION_PT * LINE_HEIGHT;
    const boxHeight = Math.min(mm(SCRATCH_BOX_MAX_MM), y + height - padding - textY);
    doc.rect(textX, textY, context.textColumnPt, boxHeight).lineWidth(0.6).strokeColor("#000000").stroke();
    if (item.hiddenCode !== undefined) {
      const codePt = Math.min(HRI_PT, boxHeight * 0.6);
      doc
        .font(MONO_FONT)
        .fontSize(codePt)
        .text(item.hiddenCode, textX, textY + (boxHeight - codePt) / 2, {
          width: context.textColumnPt,
          align: "center",
          lineBreak: false,
        });
    }
  }
}
