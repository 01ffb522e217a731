/**
 * Where labels go on A4 paper. Labels sit in a grid of equal cells derived from A4 minus
 * the margins, a heading band and the gaps. The QR takes as much of a cell as the text
 * column leaves, and is never smaller than `QR_MIN_MM` nor made of modules thinner than
 * `QR_MIN_MODULE_MM`: below that, phones stop reading it.
 */
import { z } from "zod";

import { AppError } from "../../errors/app-error.ts";
import { QR_QUIET_ZONE_MODULES } from "../qr.ts";

/** A grid on A4 paper; the label size follows from it. */
export interface LabelSheetLayout {
  columns: number;
  rows: number;
  /** White border on every side of the page, which most printers need. */
  marginMm: number;
  /** Space between neighbouring labels, for cutting. */
  gapMm: number;
}

export const A4_WIDTH_MM = 210;
const A4_HEIGHT_MM = 297;
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
const TEXT_MIN_WIDTH_MM = 20;

export const PT_PER_MM = 72 / 25.4;
export const LABEL_PADDING_MM = 1.2;
export const NAME_PT = 7;
export const HRI_PT = 6.5;
export const CAPTION_PT = 5;
/** Text shrinks to fit its column down to this size; below it, it is truncated (name) or refused (lot, serial). */
export const MIN_TEXT_PT = 4.5;
export const LINE_HEIGHT = 1.25;
const SCRATCH_BOX_MIN_MM = 5;
export const SCRATCH_BOX_MAX_MM = 9;
export const HEADING_PT = 8.5;

/** Height the text column needs: name, lot, serial, the scratch caption and the smallest scratch box. */
const TEXT_MIN_HEIGHT_MM =
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

export function layoutError(reason: string, details: Record<string, unknown>): AppError {
  return new AppError("labels.layout", { reason, ...details });
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

/** Millimetres to PDF points. */
export const mm = (value: number): number => value * PT_PER_MM;

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
