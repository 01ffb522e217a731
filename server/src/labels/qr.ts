/**
 * QR codes of item links: SVG and PNG for the consoles and the HTTP API, text for a
 * terminal (the demo shows a code a phone can scan off the screen), and the bare module
 * matrix that the PDF label sheet draws as vector rectangles.
 *
 * Error correction is level M by default (about 15 % of the symbol may be lost): labels
 * on produce get scuffed, wet and creased, and M keeps the symbol small enough to stay
 * scannable at 15 mm. Every rendering has the 4-module quiet zone ISO/IEC 18004 asks for.
 */
import QRCode, { type QRCodeSegment } from "qrcode";

import { AppError } from "../errors/app-error.ts";

export type QrErrorCorrectionLevel = "L" | "M" | "Q" | "H";

const QR_DEFAULT_ERROR_CORRECTION: QrErrorCorrectionLevel = "M";

/** ISO/IEC 18004: a light margin of 4 modules on every side. */
export const QR_QUIET_ZONE_MODULES = 4;

/**
 * The longest text we put in a label QR, in UTF-8 bytes. A GS1 Digital Link of ours is
 * under 100 bytes; 512 bytes at level M is already a version-17 symbol (85 modules), whose
 * modules at 20 mm are a quarter of a millimetre, about the limit of a phone camera and a
 * thermal printer. Longer text is a mistake upstream, not something to print.
 */
export const QR_TEXT_MAX_BYTES = 512;

/** PNG edge lengths we render, in pixels: big enough to hold any symbol, small enough to be a label. */
const QR_PNG_MIN_PX = 64;
const QR_PNG_MAX_PX = 4096;
const QR_PNG_DEFAULT_PX = 512;

export interface QrOptions {
  errorCorrectionLevel?: QrErrorCorrectionLevel;
}

export interface QrPngOptions extends QrOptions {
  /** Edge length of the square image, quiet zone included. */
  sizePx?: number;
}

/** A QR symbol's modules without quiet zone: `isDark(row, column)` for 0 ≤ row, column < size. */
export interface QrMatrix {
  /** Modules per side (21 for version 1, 4 more per version). */
  size: number;
  version: number;
  isDark: (row: number, column: number) => boolean;
}

function checkText(text: string): void {
  if (text.length === 0) throw new AppError("labels.qr_text_empty");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > QR_TEXT_MAX_BYTES) {
    throw new AppError("labels.qr_text_too_long", { bytes, maxBytes: QR_TEXT_MAX_BYTES });
  }
}

/** The trailing run of characters QR's alphanumeric mode can carry: digits, capitals, space and `$%*+-./:`. */
const ALPHANUMERIC_TAIL = /[0-9A-Z $%*+\-./:]*$/;
/** Below this many characters, a second segment's header (about 17 bits) costs more than alphanumeric mode saves. */
const ALPHANUMERIC_TAIL_MIN_CHARS = 8;

/**
 * The text as QR segments: a Digital Link is a lower-case scheme and host followed by a
 * path of digits, capitals and `/` (`/01/0690…/10/LJ2026-04/21/7KX2…`), which QR's
 * alphanumeric mode packs in 5.5 bits a character instead of 8. One byte segment for the
 * head and one alphanumeric segment for the tail gives the same symbol version as the
 * library's general optimiser (version 4 instead of 5 for our usual links) in under half
 * its time, which matters at 100,000 labels a sheet.
 */
export function qrSegments(text: string): QRCodeSegment[] {
  const tail = ALPHANUMERIC_TAIL.exec(text)?.[0] ?? "";
  if (tail.length < ALPHANUMERIC_TAIL_MIN_CHARS) return [{ data: new TextEncoder().encode(text), mode: "byte" }];
  const head = text.slice(0, text.length - tail.length);
  const segments: QRCodeSegment[] = head === "" ? [] : [{ data: new TextEncoder().encode(head), mode: "byte" }];
  segments.push({ data: tail, mode: "alphanumeric" });
  return segments;
}

function level(options: QrOptions | undefined): QrErrorCorrectionLevel {
  return options?.errorCorrectionLevel ?? QR_DEFAULT_ERROR_CORRECTION;
}

/** The module matrix of `text` (level M unless told). Throws `labels.qr_text_empty` / `labels.qr_text_too_long`. */
export function qrMatrix(text: string, options?: QrOptions): QrMatrix {
  checkText(text);
  const symbol = QRCode.create(qrSegments(text), { errorCorrectionLevel: level(options) });
  const { size, data } = symbol.modules;
  return {
    size,
    version: symbol.version,
    isDark: (row, column) => data[row * size + column] === 1,
  };
}

/** An SVG image of the QR code, quiet zone included, scalable to any size. */
export async function qrSvg(uri: string, options?: QrOptions): Promise<string> {
  checkText(uri);
  return QRCode.toString(qrSegments(uri), {
    type: "svg",
    errorCorrectionLevel: level(options),
    margin: QR_QUIET_ZONE_MODULES,
  });
}

/** A square PNG of the QR code, `sizePx` on a side (512 unless told), quiet zone included. */
export async function qrPng(uri: string, options?: QrPngOptions): Promise<Buffer> {
  checkText(uri);
  const sizePx = options?.sizePx ?? QR_PNG_DEFAULT_PX;
  if (!Number.isInteger(sizePx) || sizePx < QR_PNG_MIN_PX || sizePx > QR_PNG_MAX_PX) {
    throw new AppError("labels.qr_size", { sizePx, minPx: QR_PNG_MIN_PX, maxPx: QR_PNG_MAX_PX });
  }
  return QRCode.toBuffer(qrSegments(uri), {
    type: "png",
    errorCorrectionLevel: level(options),
    margin: QR_QUIET_ZONE_MODULES,
    width: sizePx,
  });
}

const ANSI_BLACK_ON_WHITE = "\u001b[47m\u001b[30m";
const ANSI_RESET = "\u001b[0m";

/**
 * The QR code as text for a terminal: two modules per character cell (half blocks), the
 * full 4-module quiet zone, and each line painted black on white with ANSI colours, so a
 * phone reads it from a dark or a light terminal theme alike.
 */
export async function qrTerminal(uri: string, options?: QrOptions): Promise<string> {
  checkText(uri);
  const blocks = await QRCode.toString(qrSegments(uri), {
    type: "utf8",
    errorCorrectionLevel: level(options),
    margin: QR_QUIET_ZONE_MODULES,
  });
  return blocks
    .split("\n")
    .map((line) => `${ANSI_BLACK_ON_WHITE}${line}${ANSI_RESET}`)
    .join("\n");
}
