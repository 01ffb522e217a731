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
 * Labels sit in a grid of equal cells derived from A4 minus the margins, a heading band
 * and the gaps. The QR takes as much of a cell as the text column leaves, and is never
 * smaller than `QR_MIN_MM` nor made of modules thinner than `QR_MIN_MODULE_MM`: below
 * that, phones stop reading it.
 */
import { existsSync } from "node:fs";
import path from "node:path";

import PDFDocument from "pdfkit";
import { z } from "zod";

import { normalizeGtin, parseDigitalLink, validateLot } from "../domain/gs1.ts";
import { LabelError } from "./errors.ts";
import { QR_QUIET_ZONE_MODULES, qrMatrix, type QrMatrix } from "./qr.ts";

export interface LabelItem {
  /** The item's GS1 Digital Link URI; it must carry the sheet's GTIN and lot and this serial. */
  uri: string;
  serial: string;
  /** Whether a verification code is printed under a scratch-off later: the label leaves a box for it. */
  hasHiddenCode: boolean;
  /**
   * The code itself, when the sheet is printed by the platform: it goes inside the box, and the
   * scratch-off coating is applied over it. Without it the box is left empty for a later pass.
   */
  hiddenCode?: string;
}

/** A grid on A4 paper; the label size follows from it. */
export interface LabelSheetLayout {
  columns: number;
  rows: number;
  /** White border on every side of the page, which most printers need. */
  marginMm: number;
  /** Space between neighbouring labels, for cutting. */
  gapMm: number;
}

/** What every page says above its labels. */
export interface LabelSheetHeading {
  productName: { zh: string; en: string | null };
  gtin: string;
  lot: string;
  /** The batch's 承诺达标合格证 number, when it has one. */
  complianceCertificateNumber: string | null;
}

export interface LabelSheetOptions {
  /** A font with Chinese glyphs (.ttf, .otf, or .ttc); Debian's CJK fonts are tried when absent. */
  fontPath?: string;
  /** The PostScript name of the face to use inside a .ttc collection we do not know, e.g. `NotoSansCJKsc-Regular`. */
  fontFace?: string;
  /** Stops the sheet between labels; the output is then left unfinished (not ended) for the caller to destroy. */
  signal?: AbortSignal;
}

export interface LabelSheetResult {
  pages: number;
  labels: number;
}

// ------------------------------------------------------------------ geometry

export const A4_WIDTH_MM = 210;
export const A4_HEIGHT_MM = 297;
/** The band above the grid that holds the sheet heading. */
export const HEADING_BAND_MM = 8;
/** The smallest QR symbol (quiet zone not counted) we print: about what a phone camera reads at arm's length. */
export const QR_MIN_MM = 15;
/** The thinnest module we print; thinner ones blur on thermal and inkjet printers and phone cameras miss them. */
export const QR_MIN_MODULE_MM = 0.25;
/**
 * Modules per side of the smallest symbol a GS1 Digital Link can need at level M: even
 * `https://a.b/01/…/10/A/21/B` is over 34 bytes, so version 3 (29 modules) or more. The
 * layout check uses it; each label is then checked against its own symbol.
 */
const SMALLEST_LINK_SYMBOL_MODULES = 29;
/**
 * The text column beside the QR: `(21)` and a 13-character serial in a fixed-width face
 * (0.6 em a character) at the smallest text size, plus padding. A longer lot widens the
 * column of its sheet, at the QR's expense, as far as the QR minimum allows.
 */
export const TEXT_MIN_WIDTH_MM = 20;

const PT_PER_MM = 72 / 25.4;
const LABEL_PADDING_MM = 1.2;
const NAME_PT = 7;
const HRI_PT = 6.5;
const CAPTION_PT = 5;
/** Text shrinks to fit its column down to this size; below it, it is truncated (name) or refused (lot, serial). */
const MIN_TEXT_PT = 4.5;
const LINE_HEIGHT = 1.25;
const SCRATCH_BOX_MIN_MM = 5;
const SCRATCH_BOX_MAX_MM = 9;
const HEADING_PT = 8.5;
const SCRATCH_CAPTION = "刮开涂层 / scratch here";

/** Height the text column needs: name, lot, serial, the scratch caption and the smallest scratch box. */
export const TEXT_MIN_HEIGHT_MM =
  2 * LABEL_PADDING_MM + ((NAME_PT + 2 * HRI_PT + CAPTION_PT) * LINE_HEIGHT) / PT_PER_MM + SCRATCH_BOX_MIN_MM;

/** The QR square (quiet zone included) a 15 mm symbol of the smallest Digital Link needs. */
const QR_SQUARE_MIN_MM =
  (QR_MIN_MM * (SMALLEST_LINK_SYMBOL_MODULES + 2 * QR_QUIET_ZONE_MODULES)) / SMALLEST_LINK_SYMBOL_MODULES;

export const DEFAULT_LAYOUT: Readonly<LabelSheetLayout> = Object.freeze({
  columns: 4,
  rows: 8,
  marginMm: 10,
  gapMm: 3,
});

/**
 * Layout query parameters (`?columns=3&rows=7&marginMm=8&gapMm=2`), each optional with
 * the default layout's value. The bounds keep requests sane; whether the labels then fit
 * is `labelGeometry`'s question, which names the limit that was missed.
 */
export const labelSheetLayoutQuerySchema = z.object({
  columns: z.coerce.number().int().min(1).max(12).default(DEFAULT_LAYOUT.columns),
  rows: z.coerce.number().int().min(1).max(24).default(DEFAULT_LAYOUT.rows),
  marginMm: z.coerce.number().min(0).max(40).default(DEFAULT_LAYOUT.marginMm),
  gapMm: z.coerce.number().min(0).max(20).default(DEFAULT_LAYOUT.gapMm),
});

export interface LabelGeometry {
  layout: Readonly<LabelSheetLayout>;
  labelsPerPage: number;
  labelWidthMm: number;
  labelHeightMm: number;
  /** Edge of the square holding the QR and its quiet zone, with the narrowest text column. */
  qrSquareMm: number;
  /** The largest square the QR may shrink to when a sheet's lot needs a wider text column. */
  qrSquareMinMm: number;
}

function layoutError(reason: string, details: Record<string, unknown>): LabelError {
  return new LabelError("labels.layout", { reason, ...details });
}

/**
 * The label size of a layout, or `labels.layout` naming the limit it misses: at least
 * one column and row, margins and gaps that leave room, and labels big enough for a
 * `QR_MIN_MM` QR with its quiet zone beside a `TEXT_MIN_WIDTH_MM` × `TEXT_MIN_HEIGHT_MM`
 * text column.
 */
export function labelGeometry(layout: LabelSheetLayout): LabelGeometry {
  const { columns, rows, marginMm, gapMm } = layout;
  if (!Number.isInteger(columns) || columns < 1) throw layoutError("columns must be a whole number ≥ 1", { columns });
  if (!Number.isInteger(rows) || rows < 1) throw layoutError("rows must be a whole number ≥ 1", { rows });
  if (!Number.isFinite(marginMm) || marginMm < 0) throw layoutError("marginMm must be ≥ 0", { marginMm });
  if (!Number.isFinite(gapMm) || gapMm < 0) throw layoutError("gapMm must be ≥ 0", { gapMm });

  const labelWidthMm = (A4_WIDTH_MM - 2 * marginMm - (columns - 1) * gapMm) / columns;
  const labelHeightMm = (A4_HEIGHT_MM - 2 * marginMm - HEADING_BAND_MM - (rows - 1) * gapMm) / rows;
  const minWidthMm = round2(QR_SQUARE_MIN_MM + TEXT_MIN_WIDTH_MM);
  const minHeightMm = round2(Math.max(QR_SQUARE_MIN_MM, TEXT_MIN_HEIGHT_MM));
  const sizes = { labelWidthMm: round2(labelWidthMm), labelHeightMm: round2(labelHeightMm), minWidthMm, minHeightMm };
  if (labelWidthMm < minWidthMm) {
    throw layoutError(
      `labels would be ${sizes.labelWidthMm} mm wide; a ${QR_MIN_MM} mm QR with its quiet zone and the text need ${minWidthMm} mm`,
      { ...sizes, columns, marginMm, gapMm },
    );
  }
  if (labelHeightMm < minHeightMm) {
    throw layoutError(
      `labels would be ${sizes.labelHeightMm} mm high; a ${QR_MIN_MM} mm QR with its quiet zone and the text need ${minHeightMm} mm`,
      { ...sizes, rows, marginMm, gapMm },
    );
  }
  return {
    layout: Object.freeze({ columns, rows, marginMm, gapMm }),
    labelsPerPage: columns * rows,
    labelWidthMm,
    labelHeightMm,
    qrSquareMm: Math.min(labelHeightMm, labelWidthMm - TEXT_MIN_WIDTH_MM),
    qrSquareMinMm: QR_SQUARE_MIN_MM,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

// ----------------------------------------------------------------------- fonts

export interface LabelFont {
  path: string;
  /** PostScript names of the faces inside a collection (.ttc); undefined for a single-face file. */
  textFace: string | undefined;
  /** A fixed-width face for serials and lots (easier to read and compare), or the text face. */
  monoFace: string | undefined;
}

/** Debian's CJK fonts, in order of preference, with their package for the error message. */
export const DEBIAN_CJK_FONTS: readonly (LabelFont & { debianPackage: string })[] = [
  {
    path: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    textFace: "WenQuanYiMicroHei",
    monoFace: "WenQuanYiMicroHeiMono",
    debianPackage: "fonts-wqy-microhei",
  },
  {
    path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    textFace: "NotoSansCJKsc-Regular",
    monoFace: "NotoSansMonoCJKsc-Regular",
    debianPackage: "fonts-noto-cjk",
  },
];

/**
 * The font to print with: `fontPath` when given (it must exist), else the first Debian
 * CJK font present. Throws `labels.font_missing` naming the Debian packages to install;
 * we never fall back to a Latin font, which would print empty boxes for 中文.
 */
export function resolveLabelFont(options: { fontPath?: string; fontFace?: string } = {}): LabelFont {
  const install = DEBIAN_CJK_FONTS.map((font) => font.debianPackage);
  if (options.fontPath !== undefined) {
    if (!existsSync(options.fontPath)) {
      throw new LabelError("labels.font_missing", { fontPath: options.fontPath, reason: "no such file" });
    }
    const known = DEBIAN_CJK_FONTS.find((font) => path.basename(font.path) === path.basename(options.fontPath ?? ""));
    if (options.fontFace !== undefined) {
      return { path: options.fontPath, textFace: options.fontFace, monoFace: options.fontFace };
    }
    if (known !== undefined) return { path: options.fontPath, textFace: known.textFace, monoFace: known.monoFace };
    if (options.fontPath.toLowerCase().endsWith(".ttc")) {
      throw new LabelError("labels.font_missing", {
        fontPath: options.fontPath,
        reason: "a font collection (.ttc) needs fontFace, the PostScript name of the face to use",
      });
    }
    return { path: options.fontPath, textFace: undefined, monoFace: undefined };
  }
  const found = DEBIAN_CJK_FONTS.find((font) => existsSync(font.path));
  if (found === undefined) {
    throw new LabelError("labels.font_missing", {
      searched: DEBIAN_CJK_FONTS.map((font) => font.path),
      install: `apt-get install ${install.join(" or ")}`,
    });
  }
  return { path: found.path, textFace: found.textFace, monoFace: found.monoFace };
}

// ---------------------------------------------------------------------- output

/**
 * Moves PDF bytes from pdfkit to `out` and remembers when `out` asked us to wait;
 * `ready()` is where the writer waits, between pages.
 *
 * The bytes are pulled (`doc.read()`) rather than taken from 'data' events: pdfkit pushes
 * into its Readable, which may defer 'data' to `process.nextTick`, and a loop over a
 * synchronous iterable is one unbroken chain of microtasks that nextTick never gets
 * between. Events would then pile the whole PDF up in pdfkit's buffer unseen by
 * `out.write`'s answer; pulling after each page keeps both buffers to about a page.
 */
class BackpressuredOutput {
  private needDrain = false;
  private failure: Error | undefined = undefined;
  private wake: (() => void) | undefined;
  private readonly out: NodeJS.WritableStream;
  private readonly signal: AbortSignal | undefined;

  constructor(out: NodeJS.WritableStream, signal: AbortSignal | undefined) {
    this.out = out;
    this.signal = signal;
    out.on("drain", this.onDrain);
    out.on("error", this.onError);
    signal?.addEventListener("abort", this.onAbort);
  }

  /** Writes out whatever pdfkit has produced so far. */
  pump(doc: PDFKit.PDFDocument): void {
    for (let chunk: unknown = doc.read(); chunk !== null; chunk = doc.read()) {
      if (this.failure !== undefined) return;
      if (!(chunk instanceof Uint8Array)) throw new TypeError("pdfkit produced something other than bytes");
      if (!this.out.write(chunk)) this.needDrain = true;
    }
  }

  /** Resolves once `out` has room again; throws what went wrong with `out` or the abort reason. */
  async ready(): Promise<void> {
    // Give the event loop a turn at every page even when `out` never pushes back, so a big
    // sheet does not starve the server's other requests.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.needDrain && this.failure === undefined && this.signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.check();
  }

  check(): void {
    this.signal?.throwIfAborted();
    if (this.failure !== undefined) {
      throw this.failure;
    }
  }

  /** Ends `out` and resolves when it has flushed everything. */
  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.wake = () => {
        reject(this.failure ?? new Error("the output failed"));
      };
      this.out.end(() => {
        resolve();
      });
    });
  }

  detach(): void {
    this.out.removeListener("drain", this.onDrain);
    this.out.removeListener("error", this.onError);
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.wake?.();
  };

  private readonly onError = (error: unknown): void => {
    this.failure ??= error instanceof Error ? error : new Error("the output failed", { cause: error });
    this.wake?.();
  };

  private readonly onAbort = (): void => {
    this.wake?.();
  };
}

// --------------------------------------------------------------------- drawing

const mm = (value: number): number => value * PT_PER_MM;

interface SheetContext {
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

const TEXT_FONT = "label-text";
const MONO_FONT = "label-mono";

/** The largest size ≤ `maxPt` (and ≥ `MIN_TEXT_PT`) at which `text` fits `widthPt`, or null. */
function fitSize(doc: PDFKit.PDFDocument, font: string, text: string, widthPt: number, maxPt: number): number | null {
  const width = doc.font(font).fontSize(maxPt).widthOfString(text);
  const size = width <= widthPt ? maxPt : (maxPt * widthPt) / width;
  return size >= MIN_TEXT_PT ? size : null;
}

/** `text` at the largest size that fits, else cut with an ellipsis at the smallest size. */
function fitOrTruncate(
  doc: PDFKit.PDFDocument,
  font: string,
  text: string,
  widthPt: number,
  maxPt: number,
): { text: string; sizePt: number } {
  const size = fitSize(doc, font, text, widthPt, maxPt);
  if (size !== null) return { text, sizePt: size };
  // Cut between user-perceived characters, never inside one.
  const characters = Array.from(
    new Intl.Segmenter("zh", { granularity: "grapheme" }).segment(text),
    (part) => part.segment,
  );
  doc.font(font).fontSize(MIN_TEXT_PT);
  while (characters.length > 1 && doc.widthOfString(`${characters.join("")}…`) > widthPt) characters.pop();
  return { text: `${characters.join("")}…`, sizePt: MIN_TEXT_PT };
}

function hriTooWide(what: string, text: string, context: SheetContext): LabelError {
  return layoutError(`${what} "${text}" does not fit the text column even at ${MIN_TEXT_PT} pt`, {
    textColumnMm: round2(context.textColumnPt / PT_PER_MM),
  });
}

function drawHeading(context: SheetContext, page: number): void {
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

function drawLabel(context: SheetContext, item: LabelItem, slot: number): void {
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

function sheetContext(
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
function checkItem(item: LabelItem, context: SheetContext, index: number): void {
  const link = parseDigitalLink(item.uri);
  if (link.gtin !== context.gtin || link.lot !== context.lot || link.serial !== item.serial) {
    throw new LabelError("labels.item_mismatch", {
      index,
      uri: item.uri,
      serial: item.serial,
      expected: { gtin: context.gtin, lot: context.lot, serial: item.serial },
      found: { gtin: link.gtin, lot: link.lot, serial: link.serial },
    });
  }
}

// ---------------------------------------------------------------------- writer

/**
 * Writes a PDF of label sheets for `items` to `out`, page by page, and ends `out`. Pages
 * hold `columns × rows` labels in reading order; an empty `items` gives one page with
 * the heading only (a PDF needs a page).
 *
 * Throws before writing anything for a bad layout (`labels.layout`), a missing CJK font
 * (`labels.font_missing`), or a bad heading GTIN or lot (`DomainError`). While writing, an
 * item that is not a Digital Link of this GTIN and lot (`DomainError`,
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
  if (heading.productName.zh.trim() === "") throw new LabelError("labels.heading", { field: "productName.zh" });
  options.signal?.throwIfAborted();

  const doc = new PDFDocument({
    autoFirstPage: false,
    size: "A4",
    margin: 0,
    compress: true,
    info: { Title: `Labels ${gtin} ${lot}`, Creator: "one item, one code" },
  });
  doc.registerFont(TEXT_FONT, font.path, font.textFace);
  doc.registerFont(MONO_FONT, font.path, font.monoFace);
  try {
    doc.font(TEXT_FONT).font(MONO_FONT);
  } catch (error) {
    throw new LabelError(
      "labels.font_missing",
      { fontPath: font.path, fontFace: font.textFace, reason: "not a font file pdfkit reads, or no face of that name" },
      { cause: error },
    );
  }
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
